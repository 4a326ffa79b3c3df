// Response cache endpoints (admin key): GET /v1/cache/stats and POST /v1/cache/invalidate.
#include <fmt/format.h>
#include <simdjson.h>

#include "request_context.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace {

awaitable<void> handle_stats(RequestContext& ctx) {
    const cache::ResponseCache* c = ctx.gateway.response_cache();
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "cache.stats").kv("enabled", c != nullptr);
    if (c != nullptr) {
        const auto s = c->stats();
        const int64_t lookups = s.hits + s.stale_hits + s.misses;
        w.kv("entries", s.entries).kv("bytes", s.bytes);
        w.kv("max_bytes", static_cast<int64_t>(c->options().max_bytes));
        w.kv("policy", c->options().policy == cache::EvictionPolicy::kLru ? "lru" : "gdsf");
        w.key("lookups").begin_object();
        w.kv("hits", s.hits).kv("stale_hits", s.stale_hits).kv("misses", s.misses);
        w.kv("hit_rate",
             lookups > 0 ? static_cast<double>(s.hits + s.stale_hits) / static_cast<double>(lookups)
                         : 0.0);
        w.end_object();
        w.kv("stores", s.stores).kv("evictions", s.evictions).kv("expirations", s.expirations);
        w.kv("too_large", s.too_large).kv("invalidated", s.invalidated);
        w.kv("saved_usd", static_cast<double>(s.saved_nusd) / 1e9);
    }
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

// {"namespace":..,"model":..,"older_than_s":..,"prompt_regex":..}; at least one, or
// {"all":true}.
Result<cache::InvalidateFilter> parse_filter(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request("expected a JSON object");
    }
    cache::InvalidateFilter f;
    bool all = false;
    for (auto field : obj) {
        const std::string_view k = field.key;
        std::string_view sv;
        if (k == "namespace" || k == "model") {
            if (field.value.get(sv) != simdjson::SUCCESS) {
                return Error::invalid_request(fmt::format("{} must be a string", k),
                                              std::string(k));
            }
            (k == "namespace" ? f.ns : f.model) = std::string(sv);
        } else if (k == "older_than_s") {
            int64_t v = 0;
            if (field.value.get(v) != simdjson::SUCCESS || v < 0) {
                return Error::invalid_request("older_than_s must be a non-negative integer",
                                              "older_than_s");
            }
            f.older_than_ms = v * 1000;
        } else if (k == "prompt_regex") {
            if (field.value.get(sv) != simdjson::SUCCESS || sv.size() > 1024) {
                return Error::invalid_request("prompt_regex must be a string (<= 1024 bytes)",
                                              "prompt_regex");
            }
            try {
                f.prompt.emplace(std::string(sv), std::regex::ECMAScript | std::regex::optimize);
            } catch (const std::regex_error& e) {
                return Error::invalid_request(
                    fmt::format("prompt_regex is not a valid regular expression: {}", e.what()),
                    "prompt_regex");
            }
        } else if (k == "all") {
            if (field.value.get(all) != simdjson::SUCCESS) {
                return Error::invalid_request("all must be a boolean", "all");
            }
        } else {
            return Error::invalid_request(
                fmt::format("unknown field '{}' (expected namespace, model, older_than_s, "
                            "prompt_regex or all)",
                            k),
                std::string(k));
        }
    }
    if (!all && !f.ns && !f.model && !f.older_than_ms && !f.prompt) {
        return Error::invalid_request(
            "name what to invalidate (namespace, model, older_than_s, prompt_regex) or send "
            "{\"all\":true}");
    }
    return f;
}

awaitable<void> handle_invalidate(RequestContext& ctx) {
    cache::ResponseCache* c = ctx.gateway.response_cache();
    auto filter = parse_filter(ctx.request.body());
    if (!filter) {
        co_await send_error(ctx, filter.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    const size_t n = c == nullptr ? 0 : c->invalidate(*filter, ctx.gateway.now_ms());
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "cache.invalidation").kv("removed", static_cast<int64_t>(n));
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

}  // namespace

awaitable<void> handle_cache_admin(RequestContext& ctx, std::string_view path) {
    ctx.endpoint = "cache";
    const auto method = ctx.request.method();
    const bool stats = path == "/v1/cache/stats";
    const bool invalidate = path == "/v1/cache/invalidate";
    if (!stats && !invalidate) {
        Error e;
        e.kind = ErrorKind::kNotFound;
        e.code = "unknown_url";
        e.message = fmt::format(
            "Unknown cache URL {}; use GET /v1/cache/stats or POST /v1/cache/invalidate", path);
        co_await send_error(ctx, e, ErrorStyle::kOpenAI);
        co_return;
    }
    if ((stats && method != http::verb::get) || (invalidate && method != http::verb::post)) {
        const Error e = Error::invalid_request(
            stats ? "GET /v1/cache/stats only" : "POST /v1/cache/invalidate only", {},
            "method_not_allowed");
        co_await send_error(ctx, e, ErrorStyle::kOpenAI);
        co_return;
    }
    const bool admin = co_await require_admin(ctx);
    if (!admin) co_return;
    if (stats) {
        co_await handle_stats(ctx);
    } else {
        co_await handle_invalidate(ctx);
    }
}

}  // namespace switchyard
