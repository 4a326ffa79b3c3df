// POST /v1/chat/completions, POST /v1/messages and POST /v1/embeddings: decode, resolve the
// model, call its provider, encode (JSON or SSE, flushed chunk by chunk).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "accounting.hpp"
#include "request_context.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/openai_codec.hpp"

namespace switchyard {
namespace {

// Counts an upstream call in the per-model in-flight gauge for its lifetime.
class InFlight {
public:
    InFlight(Metrics& m, size_t index) : m_(m), index_(index) { m_.add_model_in_flight(index_, 1); }
    ~InFlight() { m_.add_model_in_flight(index_, -1); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

private:
    Metrics& m_;
    size_t index_;
};

int64_t now_unix() {
    return static_cast<int64_t>(std::time(nullptr));
}

bool is_empty(const ChatChunk& c) {
    return !c.role && c.content.empty() && c.tool_calls.empty() &&
           c.finish_reason == FinishReason::kNone && c.logprobs_json.empty() && !c.usage;
}

// A key may be limited to some models.
Result<Ok> check_model_allowed(RequestContext& ctx, const ModelConfig& model) {
    if (!ctx.key || ctx.key->key.allows_model(model.name)) return Ok{};
    ctx.gateway.metrics().count_event(ctx.worker_index, "switchyard_auth_failures_total",
                                      {{"reason", "model_not_allowed"}});
    Error e;
    e.kind = ErrorKind::kPermission;
    e.code = "model_not_allowed";
    e.param = "model";
    e.message =
        fmt::format("The API key '{}' may not use the model '{}'.", ctx.key->key.name, model.name);
    return e;
}

// Counts a failed upstream call in the metrics.
void note_upstream_failure(RequestContext& ctx, const Error& error) {
    ctx.gateway.metrics().record_upstream_error(ctx.worker_index, ctx.model, ctx.provider,
                                                openai_error_type(error.kind));
}

// Reports a failed upstream call: counts it, and answers the client unless it left.
awaitable<void> fail_call(RequestContext& ctx, const Error& error, ErrorStyle style) {
    note_upstream_failure(ctx, error);
    if (ctx.cancel.cancelled()) co_return;  // the client is gone; nobody to answer
    co_await send_error(ctx, error, style);
}

// What a chunk adds to the answer's text, for counting when the provider reports no usage.
void note_output(RequestAccount& acct, const ChatChunk& chunk) {
    acct.on_output_text(chunk.content);
    for (const auto& t : chunk.tool_calls) {
        acct.on_output_text(t.name);
        acct.on_output_text(t.arguments);
    }
    if (chunk.usage) acct.on_usage(*chunk.usage);
}

awaitable<void> stream_openai(RequestContext& ctx, const ChatRequest& req, ChatStream& stream,
                              RequestAccount& acct) {
    StreamMeta meta{"chatcmpl-" + ctx.id, now_unix(), req.model, {}, 0};
    // The first upstream event is read before the response head is sent: a failure up to
    // there is still a plain HTTP error (and, later, a transparent failover point).
    auto next = co_await stream.next();
    if (!next) {
        note_upstream_failure(ctx, next.error());
        if (!ctx.cancel.cancelled()) co_await send_error(ctx, next.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    const bool started = co_await ctx.response.begin_stream("text/event-stream");
    if (!started) co_return;
    std::string buf;
    bool role_sent = false;
    std::optional<Usage> usage;
    uint64_t n_chunks = 0;
    for (;;) {
        buf.clear();
        if (!next) {
            if (ctx.cancel.cancelled()) break;
            note_upstream_failure(ctx, next.error());
            acct.set_partial();
            spdlog::warn("request {}: stream from model {} failed: {}", ctx.id, ctx.model,
                         next.error().message);
            append_openai_error_sse(buf, next.error());
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            ctx.response.force_close();
            break;
        }
        if (!next->has_value()) {
            if (!role_sent) {
                ChatChunk role;
                role.role = true;
                append_openai_chunk_sse(buf, meta, role, req.include_usage);
            }
            if (req.include_usage) {
                ChatChunk u;
                u.usage = usage.value_or(Usage{});
                append_openai_chunk_sse(buf, meta, u, true);
            }
            append_openai_done_sse(buf);
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            break;
        }
        ChatChunk& chunk = **next;
        note_output(acct, chunk);
        if (meta.system_fingerprint.empty())
            meta.system_fingerprint = stream.meta().system_fingerprint;
        if (chunk.usage) {
            usage = chunk.usage;
            chunk.usage.reset();
        }
        if (!role_sent) {
            role_sent = true;
            if (!chunk.role) {
                ChatChunk role;
                role.role = true;
                append_openai_chunk_sse(buf, meta, role, req.include_usage);
            }
        }
        if (!is_empty(chunk)) {
            append_openai_chunk_sse(buf, meta, chunk, req.include_usage);
            ++n_chunks;
        }
        bool delivered = true;
        if (!buf.empty()) delivered = co_await ctx.response.write_chunk(buf);
        if (!delivered) {
            ctx.cancel.cancel();  // the client went away: abort the upstream call
            acct.set_partial();
            break;
        }
        next = co_await stream.next();
    }
    ctx.gateway.metrics().record_stream_chunks(ctx.worker_index, ctx.model, n_chunks);
}

awaitable<void> stream_anthropic(RequestContext& ctx, const ChatRequest& req, ChatStream& stream,
                                 RequestAccount& acct) {
    StreamMeta meta{"msg_" + ctx.id, now_unix(), req.model, {}, 0};
    // Read the upstream's first event before answering, so message_start can carry the
    // prompt tokens when the upstream reports them up front (Anthropic does).
    auto first = co_await stream.next();
    if (!first) {
        note_upstream_failure(ctx, first.error());
        if (!ctx.cancel.cancelled())
            co_await send_error(ctx, first.error(), ErrorStyle::kAnthropic);
        co_return;
    }
    const bool started = co_await ctx.response.begin_stream("text/event-stream");
    if (!started) co_return;
    AnthropicStreamEncoder encoder;
    std::string buf;
    encoder.begin(meta, stream.meta().prompt_tokens, buf);
    uint64_t n_chunks = 0;
    Result<std::optional<ChatChunk>> next = std::move(first);
    for (;;) {
        if (!next) {
            if (ctx.cancel.cancelled()) break;
            note_upstream_failure(ctx, next.error());
            acct.set_partial();
            spdlog::warn("request {}: stream from model {} failed: {}", ctx.id, ctx.model,
                         next.error().message);
            encoder.fail(next.error(), buf);
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            ctx.response.force_close();
            break;
        }
        if (!next->has_value()) {
            encoder.finish(buf);
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            break;
        }
        note_output(acct, **next);
        encoder.on_chunk(**next, buf);
        ++n_chunks;
        bool delivered = true;
        if (!buf.empty()) delivered = co_await ctx.response.write_chunk(buf);
        if (!delivered) {
            ctx.cancel.cancel();  // the client went away: abort the upstream call
            acct.set_partial();
            break;
        }
        buf.clear();
        next = co_await stream.next();
    }
    ctx.gateway.metrics().record_stream_chunks(ctx.worker_index, ctx.model, n_chunks);
}

awaitable<void> run_chat(RequestContext& ctx, ChatRequest& req, ErrorStyle style) {
    auto target = ctx.gateway.resolve(req.model);
    if (!target) {
        co_await send_error(ctx, target.error(), style);
        co_return;
    }
    const ModelConfig& model = *target->model;
    ctx.model = model.name;
    ctx.provider = model.provider_name;
    if (auto allowed = check_model_allowed(ctx, model); !allowed) {
        co_await send_error(ctx, allowed.error(), style);
        co_return;
    }
    RequestAccount acct(ctx, *target);
    if (auto admitted = acct.admit_chat(req); !admitted) {
        co_await send_error(ctx, admitted.error(), style);
        co_return;
    }
    ctx.response.set_header("x-switchyard-model", model.name);
    ctx.response.set_header("x-switchyard-provider", model.provider_name);
    CallContext call{ctx.http, &ctx.cancel, ctx.gateway.timeouts(), ctx.id};
    InFlight in_flight(ctx.gateway.metrics(), target->index);

    if (!req.stream) {
        auto response = co_await target->provider->chat(req, model, call);
        if (!response) {
            co_await fail_call(ctx, response.error(), style);
            co_return;
        }
        if (response->usage) {
            acct.on_usage(*response->usage);
        } else {
            acct.on_output_text(response->message.joined_text());
            for (const auto& t : response->message.tool_calls) {
                acct.on_output_text(t.name);
                acct.on_output_text(t.arguments);
            }
        }
        response->id = (style == ErrorStyle::kOpenAI ? "chatcmpl-" : "msg_") + ctx.id;
        response->created = now_unix();
        response->model = model.name;
        // (GCC 12 double-destroys class temporaries of a ?: inside co_await: build first.)
        std::string body;
        if (style == ErrorStyle::kOpenAI) {
            body = write_openai_chat_response(*response);
        } else {
            body = write_anthropic_response(*response);
        }
        co_await ctx.response.send(http::status::ok, "application/json", std::move(body));
        co_return;
    }
    auto stream = co_await target->provider->chat_stream(req, model, call);
    if (!stream) {
        co_await fail_call(ctx, stream.error(), style);
        co_return;
    }
    acct.set_streamed();
    if (style == ErrorStyle::kOpenAI) {
        co_await stream_openai(ctx, req, **stream, acct);
    } else {
        co_await stream_anthropic(ctx, req, **stream, acct);
    }
}

}  // namespace

awaitable<void> handle_chat_completions(RequestContext& ctx) {
    ctx.endpoint = "chat_completions";
    auto req = parse_openai_chat_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    co_await run_chat(ctx, *req, ErrorStyle::kOpenAI);
}

awaitable<void> handle_messages(RequestContext& ctx) {
    ctx.endpoint = "messages";
    auto req = parse_anthropic_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kAnthropic);
        co_return;
    }
    co_await run_chat(ctx, *req, ErrorStyle::kAnthropic);
}

awaitable<void> handle_embeddings(RequestContext& ctx) {
    ctx.endpoint = "embeddings";
    auto req = parse_openai_embedding_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    auto target = ctx.gateway.resolve(req->model);
    if (!target) {
        co_await send_error(ctx, target.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    const ModelConfig& model = *target->model;
    ctx.model = model.name;
    ctx.provider = model.provider_name;
    if (auto allowed = check_model_allowed(ctx, model); !allowed) {
        co_await send_error(ctx, allowed.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    RequestAccount acct(ctx, *target);
    if (auto admitted = acct.admit_embeddings(*req); !admitted) {
        co_await send_error(ctx, admitted.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    ctx.response.set_header("x-switchyard-model", model.name);
    CallContext call{ctx.http, &ctx.cancel, ctx.gateway.timeouts(), ctx.id};
    InFlight in_flight(ctx.gateway.metrics(), target->index);
    auto response = co_await target->provider->embed(*req, model, call);
    if (!response) {
        co_await fail_call(ctx, response.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    acct.on_usage(response->usage);
    response->model = model.name;
    co_await ctx.response.send(http::status::ok, "application/json",
                               write_openai_embedding_response(*response));
}

}  // namespace switchyard
