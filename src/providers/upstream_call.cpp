// Shared upstream error handling for the provider adapters.
#include "upstream_call.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace switchyard::detail {

awaitable<Error> read_upstream_error(HttpExchange& ex, const ModelConfig& model,
                                     const CallContext& ctx, ErrorParser parse) {
    const int status = ex.status();
    auto body = co_await ex.read_all(1 << 20);
    std::string text;
    if (body) text = std::move(body).value();
    Error e = parse(status, text);
    e.upstream_status = status;
    const auto retry_after = ex.header(http::field::retry_after);
    if (!retry_after.empty()) {
        int s = -1;
        auto [p, ec] =
            std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), s);
        if (ec == std::errc() && s >= 0) e.retry_after_s = s;
    }
    // The provider's original error is kept in the log (first 2 KiB).
    spdlog::warn("request {}: model {} provider {} answered HTTP {}: {}", ctx.request_id,
                 model.name, model.provider_name, status, std::string_view(text).substr(0, 2048));
    if (e.message.find(model.name) == std::string::npos) {
        e.message =
            fmt::format("{} (model '{}', provider {})", e.message, model.name, model.provider_name);
    }
    co_return e;
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
