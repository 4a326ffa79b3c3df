// Adapter for OpenAI and OpenAI-compatible servers (Ollama /v1, llama.cpp server, vLLM):
// POST {base}/chat/completions and {base}/embeddings, SSE streaming.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "providers.hpp"
#include "switchyard/core/openai_codec.hpp"
#include "upstream_call.hpp"

namespace switchyard {
namespace {

class OpenAIStream final : public ChatStream {
public:
    OpenAIStream(std::unique_ptr<HttpExchange> ex, std::string model_name)
        : reader_(std::move(ex)), model_name_(std::move(model_name)) {}

    const StreamMeta& meta() const override { return meta_; }

    awaitable<Result<std::optional<ChatChunk>>> next() override {
        if (done_) co_return std::optional<ChatChunk>{};
        auto ev = co_await reader_.next();
        if (!ev) co_return ev.error();
        if (!ev->has_value()) {
            // Some OpenAI-compatible servers end without [DONE]; accept a clean end of body
            // only after a finished choice.
            done_ = true;
            if (saw_finish_) co_return std::optional<ChatChunk>{};
            co_return detail::upstream_malformed(
                fmt::format("upstream stream for model '{}' ended before the answer was complete",
                            model_name_));
        }
        if ((*ev)->data == "[DONE]") {
            done_ = true;
            co_await reader_.finish();
            co_return std::optional<ChatChunk>{};
        }
        auto chunk = parse_openai_chunk((*ev)->data, meta_);
        if (!chunk) co_return chunk.error();
        if (chunk->finish_reason != FinishReason::kNone) saw_finish_ = true;
        co_return std::optional<ChatChunk>(std::move(chunk).value());
    }

private:
    detail::SseReader reader_;
    std::string model_name_;
    StreamMeta meta_;
    bool done_ = false;
    bool saw_finish_ = false;
};

class OpenAIProvider final : public Provider {
public:
    explicit OpenAIProvider(const ModelConfig& model)
        : api_key_(detail::read_api_key(model)),
          key_required_(model.provider == ProviderKind::kOpenAI),
          model_(&model) {
        // The upstream request heads of this model, built once (not per request).
        chat_target_ = model.url.path + "/chat/completions";
        embed_target_ = model.url.path + "/embeddings";
        append_header_lines(json_block_, header_list(model, false));
        append_header_lines(stream_block_, header_list(model, true));
    }

    awaitable<Result<ChatResponse>> chat(const ChatRequest& request, const ModelConfig& model,
                                         CallContext& ctx) override {
        auto spec = make_spec(model, "/chat/completions", ctx, false);
        if (!spec) co_return spec.error();
        spec->body = write_openai_chat_request(request, model.upstream_model, false);
        auto body = co_await fetch(*spec, model, ctx, 64 << 20);
        if (!body) co_return body.error();
        auto response = parse_openai_chat_response(*body);
        if (!response) {
            spdlog::warn("request {}: model {}: {}: {}", ctx.request_id, model.name,
                         response.error().message, body->substr(0, 512));
        }
        co_return response;
    }

    awaitable<Result<std::unique_ptr<ChatStream>>> chat_stream(const ChatRequest& request,
                                                               const ModelConfig& model,
                                                               CallContext& ctx) override {
        auto spec = make_spec(model, "/chat/completions", ctx, true);
        if (!spec) co_return spec.error();
        spec->body = write_openai_chat_request(request, model.upstream_model, true);
        auto ex = co_await detail::open_event_stream(*spec, model, ctx, parse_openai_error);
        if (!ex) co_return ex.error();
        co_return std::unique_ptr<ChatStream>(
            std::make_unique<OpenAIStream>(std::move(ex).value(), model.name));
    }

    awaitable<Result<EmbeddingResponse>> embed(const EmbeddingRequest& request,
                                               const ModelConfig& model,
                                               CallContext& ctx) override {
        auto spec = make_spec(model, "/embeddings", ctx, false);
        if (!spec) co_return spec.error();
        spec->body = write_openai_embedding_request(request, model.upstream_model);
        auto body = co_await fetch(*spec, model, ctx, 256 << 20);
        if (!body) co_return body.error();
        co_return parse_openai_embedding_response(*body);
    }

private:
    // One non-streaming exchange: the 2xx body, or the provider's error.
    static awaitable<Result<std::string>> fetch(const HttpRequestSpec& spec,
                                                const ModelConfig& model, CallContext& ctx,
                                                uint64_t max_bytes) {
        auto ex = co_await ctx.http.start(spec, ctx.cancel);
        if (!ex) co_return detail::with_model(ex.error(), model);
        if ((*ex)->status() / 100 != 2) {
            Error e = co_await detail::read_upstream_error(**ex, model, ctx, parse_openai_error);
            co_return e;
        }
        co_return co_await (*ex)->read_all(max_bytes);
    }

    // Content type, key, the model's extra headers (which may replace the first two), and
    // for streams Accept, in the order http::fields::set() would apply them.
    std::vector<std::pair<std::string, std::string>> header_list(const ModelConfig& model,
                                                                 bool stream) const {
        std::vector<std::pair<std::string, std::string>> h;
        h.emplace_back("content-type", "application/json");
        if (!api_key_.empty()) h.emplace_back("authorization", "Bearer " + api_key_);
        for (const auto& extra : model.headers)
            h.push_back(extra);
        if (stream) h.emplace_back("accept", "text/event-stream");
        return h;
    }

    Result<HttpRequestSpec> make_spec(const ModelConfig& model, std::string_view path,
                                      const CallContext& ctx, bool stream) const {
        if (key_required_ && api_key_.empty()) return detail::missing_key_error(model);
        HttpRequestSpec spec;
        spec.url = &model.url;
        spec.timeouts = ctx.timeouts;
        if (&model == model_) {  // the model this adapter was made for: prebuilt head
            spec.fixed_target = path == "/embeddings" ? embed_target_ : chat_target_;
            spec.header_block = stream ? stream_block_ : json_block_;
            return spec;
        }
        spec.target = model.url.path + std::string(path);
        spec.headers = header_list(model, stream);
        return spec;
    }

    std::string api_key_;
    bool key_required_ = true;
    const ModelConfig* model_;
    std::string chat_target_;
    std::string embed_target_;
    std::string json_block_;
    std::string stream_block_;
};

}  // namespace

std::unique_ptr<Provider> make_openai_provider(const ModelConfig& model) {
    return std::make_unique<OpenAIProvider>(model);
}

}  // namespace switchyard
