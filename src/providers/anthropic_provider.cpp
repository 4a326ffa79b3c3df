// Adapter for Anthropic's Messages API: POST {base}/messages with x-api-key and
// anthropic-version, SSE events decoded into the gateway's chunks.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <vector>

#include "providers.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "upstream_call.hpp"

namespace switchyard {
namespace {

constexpr std::string_view kAnthropicVersion = "2023-06-01";

class AnthropicStream final : public ChatStream {
public:
    AnthropicStream(std::unique_ptr<HttpExchange> ex, std::string model_name)
        : reader_(std::move(ex)), model_name_(std::move(model_name)) {}

    const StreamMeta& meta() const override { return meta_; }

    awaitable<Result<std::optional<ChatChunk>>> next() override {
        while (pending_.empty()) {
            if (decoder_.done()) {
                if (!finished_) {
                    finished_ = true;
                    co_await reader_.finish();
                }
                co_return std::optional<ChatChunk>{};
            }
            auto ev = co_await reader_.next();
            if (!ev) co_return ev.error();
            if (!ev->has_value()) {
                co_return detail::upstream_malformed(fmt::format(
                    "upstream stream for model '{}' ended before message_stop", model_name_));
            }
            decoded_.clear();
            if (auto s = decoder_.on_event((*ev)->event, (*ev)->data, meta_, decoded_); !s) {
                co_return s.error();
            }
            meta_.prompt_tokens = decoder_.usage().prompt_tokens;
            for (auto& c : decoded_)
                pending_.push_back(std::move(c));
        }
        ChatChunk c = std::move(pending_.front());
        pending_.pop_front();
        co_return std::optional<ChatChunk>(std::move(c));
    }

private:
    detail::SseReader reader_;
    std::string model_name_;
    AnthropicStreamDecoder decoder_;
    std::vector<ChatChunk> decoded_;
    std::deque<ChatChunk> pending_;
    StreamMeta meta_;
    bool finished_ = false;
};

class AnthropicProvider final : public Provider {
public:
    explicit AnthropicProvider(const ModelConfig& model)
        : api_key_(detail::read_api_key(model)), model_(&model) {
        // The upstream request heads of this model, built once (not per request).
        target_ = model.url.path + "/messages";
        append_header_lines(json_block_, header_list(model, false));
        append_header_lines(stream_block_, header_list(model, true));
    }

    awaitable<Result<ChatResponse>> chat(const ChatRequest& request, const ModelConfig& model,
                                         CallContext& ctx) override {
        auto spec = make_spec(model, ctx, false);
        if (!spec) co_return spec.error();
        spec->body =
            write_anthropic_request(request, model.upstream_model, model.default_max_tokens, false);
        auto ex = co_await ctx.http.start(*spec, ctx.cancel);
        if (!ex) co_return detail::with_model(ex.error(), model);
        if ((*ex)->status() / 100 != 2) {
            Error e = co_await detail::read_upstream_error(**ex, model, ctx, parse_anthropic_error);
            co_return e;
        }
        auto body = co_await (*ex)->read_all(64 << 20);
        if (!body) co_return body.error();
        auto response = parse_anthropic_response(*body);
        if (!response) {
            spdlog::warn("request {}: model {}: {}: {}", ctx.request_id, model.name,
                         response.error().message, body->substr(0, 512));
        }
        co_return response;
    }

    awaitable<Result<std::unique_ptr<ChatStream>>> chat_stream(const ChatRequest& request,
                                                               const ModelConfig& model,
                                                               CallContext& ctx) override {
        auto spec = make_spec(model, ctx, true);
        if (!spec) co_return spec.error();
        spec->body =
            write_anthropic_request(request, model.upstream_model, model.default_max_tokens, true);
        auto ex = co_await detail::open_event_stream(*spec, model, ctx, parse_anthropic_error);
        if (!ex) co_return ex.error();
        co_return std::unique_ptr<ChatStream>(
            std::make_unique<AnthropicStream>(std::move(ex).value(), model.name));
    }

    awaitable<Result<EmbeddingResponse>> embed(const EmbeddingRequest&, const ModelConfig& model,
                                               CallContext&) override {
        Error e;
        e.kind = ErrorKind::kInvalidRequest;
        e.param = "model";
        e.message = fmt::format(
            "model '{}' is served by Anthropic, which has no embeddings API; use an "
            "OpenAI-compatible embeddings model",
            model.name);
        co_return e;
    }

private:
    // Content type, key, version, the model's extra headers (which may replace those), and
    // for streams Accept, in the order http::fields::set() would apply them.
    std::vector<std::pair<std::string, std::string>> header_list(const ModelConfig& model,
                                                                 bool stream) const {
        std::vector<std::pair<std::string, std::string>> h;
        h.emplace_back("content-type", "application/json");
        h.emplace_back("x-api-key", api_key_);
        h.emplace_back("anthropic-version", std::string(kAnthropicVersion));
        for (const auto& extra : model.headers)
            h.push_back(extra);
        if (stream) h.emplace_back("accept", "text/event-stream");
        return h;
    }

    Result<HttpRequestSpec> make_spec(const ModelConfig& model, const CallContext& ctx,
                                      bool stream) const {
        if (api_key_.empty()) return detail::missing_key_error(model);
        HttpRequestSpec spec;
        spec.url = &model.url;
        spec.timeouts = ctx.timeouts;
        if (&model == model_) {  // the model this adapter was made for: prebuilt head
            spec.fixed_target = target_;
            spec.header_block = stream ? stream_block_ : json_block_;
            return spec;
        }
        spec.target = model.url.path + "/messages";
        spec.headers = header_list(model, stream);
        return spec;
    }

    std::string api_key_;
    const ModelConfig* model_;
    std::string target_;
    std::string json_block_;
    std::string stream_block_;
};

}  // namespace

std::unique_ptr<Provider> make_anthropic_provider(const ModelConfig& model) {
    return std::make_unique<AnthropicProvider>(model);
}

}  // namespace switchyard
