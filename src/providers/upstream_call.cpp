// Shared upstream plumbing for the provider adapters.
#include "upstream_call.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

namespace switchyard::detail {

std::string read_api_key(const ModelConfig& model) {
    if (model.api_key_env.empty()) return {};
    const char* key = std::getenv(model.api_key_env.c_str());
    return key ? std::string(key) : std::string();
}

Error with_model(Error error, const ModelConfig& model) {
    error.message =
        fmt::format("{} (model '{}', provider {})", error.message, model.name, model.provider_name);
    return error;
}

Error upstream_malformed(std::string message) {
    Error e;
    e.kind = ErrorKind::kUpstream;
    e.message = std::move(message);
    return e;
}

int parse_retry_after_s(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    if (value.empty()) return -1;
    int64_t s = -1;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (ec != std::errc() || p != value.data() + value.size() || value.front() == '-' || s < 0 ||
        s > kRetryAfterTooLongS) {
        return kRetryAfterTooLongS;
    }
    return static_cast<int>(s);
}

awaitable<Error> read_upstream_error(HttpExchange& ex, const ModelConfig& model,
                                     const CallContext& ctx, ErrorParser parse) {
    const int status = ex.status();
    auto body = co_await ex.read_all(1 << 20);
    std::string text;
    if (body) text = std::move(body).value();
    Error e = parse(status, text);
    e.upstream_status = status;
    if (const int s = parse_retry_after_s(ex.header(http::field::retry_after)); s >= 0)
        e.retry_after_s = s;
    // The provider's original error is kept in the log (first 2 KiB).
    spdlog::warn("request {}: model {} provider {} answered HTTP {}: {}", ctx.request_id,
                 model.name, model.provider_name, status, std::string_view(text).substr(0, 2048));
    if (e.message.find(model.name) == std::string::npos) {
        e.message =
            fmt::format("{} (model '{}', provider {})", e.message, model.name, model.provider_name);
    }
    co_return e;
}

awaitable<Result<std::unique_ptr<HttpExchange>>> open_event_stream(const HttpRequestSpec& spec,
                                                                   const ModelConfig& model,
                                                                   CallContext& ctx,
                                                                   ErrorParser parse) {
    auto ex = co_await ctx.http.start(spec, ctx.cancel);
    if (!ex) co_return with_model(ex.error(), model);
    if ((*ex)->status() / 100 != 2) {
        Error e = co_await read_upstream_error(**ex, model, ctx, parse);
        co_return e;
    }
    const auto type = (*ex)->header(http::field::content_type);
    if (type.find("text/event-stream") == std::string_view::npos) {
        co_return upstream_malformed(
            fmt::format("upstream for model '{}' answered a stream request with content-type '{}'",
                        model.name, type));
    }
    co_return ex;
}

awaitable<void> SseReader::finish() {
    pending_.clear();
    co_await ex_->drain(64 * 1024);
}

awaitable<Result<std::optional<SseEvent>>> SseReader::next() {
    while (pending_.empty()) {
        auto piece = co_await ex_->read_some();
        if (!piece) co_return piece.error();
        if (piece->empty()) co_return std::optional<SseEvent>{};
        if (!parser_.feed(*piece, parsed_)) {
            co_return upstream_malformed("upstream stream event exceeds the size limit");
        }
        for (auto& e : parsed_)
            pending_.push_back(std::move(e));
        parsed_.clear();
    }
    SseEvent ev = std::move(pending_.front());
    pending_.pop_front();
    co_return std::optional<SseEvent>(std::move(ev));
}

Error missing_key_error(const ModelConfig& model) {
    Error e;
    e.kind = ErrorKind::kUnavailable;
    e.code = "upstream_key_missing";
    e.message = fmt::format(
        "model '{}' is not usable: its provider key is missing (set the environment variable "
        "{} for the gateway)",
        model.name, model.api_key_env);
    return e;
}

}  // namespace switchyard::detail
