// Writing committed chat streams (see chat_stream.hpp).
#include "chat_stream.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/openai_codec.hpp"

namespace switchyard {
namespace {

bool is_empty(const ChatChunk& c) {
    return !c.role && c.content.empty() && c.tool_calls.empty() &&
           c.finish_reason == FinishReason::kNone && c.logprobs_json.empty() && !c.usage;
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

}  // namespace

int64_t now_unix() {
    return static_cast<int64_t>(std::time(nullptr));
}

// Counts a failed upstream call in the metrics.
void note_upstream_failure(RequestContext& ctx, const Error& error) {
    ctx.gateway.metrics().record_upstream_error(ctx.worker_index, ctx.model, ctx.provider,
                                                openai_error_type(error.kind));
}

// Streams an answer whose first event (`next`, a success) was already read.
awaitable<StreamEnd> stream_openai(RequestContext& ctx, const ChatRequest& req, ChatStream& stream,
                                   RequestAccount& acct, FirstEvent next) {
    StreamEnd end;
    StreamMeta meta{"chatcmpl-" + ctx.id, now_unix(), ctx.model, {}, 0};
    const bool started = co_await ctx.response.begin_stream("text/event-stream");
    if (!started) {
        end.client_gone = true;
        co_return end;
    }
    std::string buf;
    bool role_sent = false;
    std::optional<Usage> usage;
    for (;;) {
        buf.clear();
        if (!next) {
            if (ctx.cancel.cancelled()) {
                end.client_gone = true;
                break;
            }
            note_upstream_failure(ctx, next.error());
            acct.set_partial();
            spdlog::warn("request {}: stream from model {} failed: {}", ctx.id, ctx.model,
                         next.error().message);
            append_openai_error_sse(buf, next.error());
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            ctx.response.force_close();
            end.upstream_failed = true;
            end.error = next.error();
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
        end.take(chunk);
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
            ++end.chunks;
        }
        bool delivered = true;
        if (!buf.empty()) delivered = co_await ctx.response.write_chunk(buf);
        if (!delivered) {
            ctx.cancel.cancel();  // the client went away: abort the upstream call
            acct.set_partial();
            end.client_gone = true;
            break;
        }
        next = co_await stream.next();
    }
    co_return end;
}

awaitable<StreamEnd> stream_anthropic(RequestContext& ctx, ChatStream& stream, RequestAccount& acct,
                                      FirstEvent next) {
    StreamEnd end;
    StreamMeta meta{"msg_" + ctx.id, now_unix(), ctx.model, {}, 0};
    const bool started = co_await ctx.response.begin_stream("text/event-stream");
    if (!started) {
        end.client_gone = true;
        co_return end;
    }
    AnthropicStreamEncoder encoder;
    std::string buf;
    // message_start carries the prompt tokens when the upstream reported them up front
    // (Anthropic does, in its first event).
    encoder.begin(meta, stream.meta().prompt_tokens, buf);
    for (;;) {
        if (!next) {
            if (ctx.cancel.cancelled()) {
                end.client_gone = true;
                break;
            }
            note_upstream_failure(ctx, next.error());
            acct.set_partial();
            spdlog::warn("request {}: stream from model {} failed: {}", ctx.id, ctx.model,
                         next.error().message);
            encoder.fail(next.error(), buf);
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            ctx.response.force_close();
            end.upstream_failed = true;
            end.error = next.error();
            break;
        }
        if (!next->has_value()) {
            encoder.finish(buf);
            const bool written = co_await ctx.response.write_chunk(buf);
            if (written) co_await ctx.response.end_stream();
            break;
        }
        note_output(acct, **next);
        end.take(**next);
        encoder.on_chunk(**next, buf);
        ++end.chunks;
        bool delivered = true;
        if (!buf.empty()) delivered = co_await ctx.response.write_chunk(buf);
        if (!delivered) {
            ctx.cancel.cancel();  // the client went away: abort the upstream call
            acct.set_partial();
            end.client_gone = true;
            break;
        }
        buf.clear();
        next = co_await stream.next();
    }
    co_return end;
}

}  // namespace switchyard
