// Response cache endpoints: GET /v1/cache/stats and POST /v1/cache/invalidate (admin key),
// POST /v1/cache/feedback (the key a semantic hit was served to, or the admin key).
#include <fmt/format.h>
#include <simdjson.h>

#include "cache_stage.hpp"
#include "request_context.hpp"
#include "switchyard/cache/cache_store.hpp"
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
        // Every request makes one exact lookup; a semantic hit follows an exact miss.
        const int64_t lookups = s.hits + s.stale_hits + s.misses;
        const int64_t misses = std::max<int64_t>(0, s.misses - s.semantic_hits);
        w.kv("entries", s.entries).kv("bytes", s.bytes);
        w.kv("max_bytes", static_cast<int64_t>(c->options().max_bytes));
        w.kv("policy", c->options().policy == cache::EvictionPolicy::kLru ? "lru" : "gdsf");
        w.key("lookups").begin_object();
        w.kv("hits", s.hits).kv("semantic_hits", s.semantic_hits);
        w.kv("stale_hits", s.stale_hits).kv("misses", misses);
        w.kv("hit_rate", lookups > 0
                             ? static_cast<double>(s.hits + s.stale_hits + s.semantic_hits) /
                                   static_cast<double>(lookups)
                             : 0.0);
        w.end_object();
        w.kv("stores", s.stores).kv("evictions", s.evictions).kv("expirations", s.expirations);
        w.kv("too_large", s.too_large).kv("invalidated", s.invalidated);
        w.kv("saved_usd", static_cast<double>(s.saved_nusd) / 1e9);
        w.kv("saved_tokens", s.saved_tokens);
        const cache::CacheStore* store = c->store();
        w.key("persistence").begin_object().kv("enabled", store != nullptr);
        if (store != nullptr) {
            const auto ps = store->stats();
            w.kv("store", store->describe());
            w.kv("loaded", s.loaded).kv("corrupt_skipped", s.corrupt_skipped);
            w.kv("queued", ps.queued).kv("written", ps.written).kv("dropped", ps.dropped);
            w.kv("pending", ps.pending).kv("failed_commits", ps.failed_commits);
        }
        w.end_object();
        const cache::SemanticCache* sc = semantic_cache(ctx.gateway);
        w.key("semantic").begin_object().kv("enabled", sc != nullptr);
        if (sc != nullptr) {
            const auto ss = sc->stats();
            w.kv("embedder", sc->embedder().name());
            w.kv("threshold", static_cast<double>(sc->options().threshold));
            w.kv("entries", ss.entries).kv("partitions", ss.partitions);
            w.kv("hits", ss.hits).kv("misses", ss.misses).kv("vetoed", ss.vetoed);
            w.kv("tightened_misses", ss.tightened_misses);
            w.kv("inserts", ss.inserts).kv("removed", ss.removed).kv("evicted", ss.evicted);
            w.kv("expired", ss.expired);
            w.kv("veto_points", ss.veto_points);
            w.kv("feedback_bad", ss.feedback_bad).kv("feedback_good", ss.feedback_good);
            w.kv("embed_us_mean", ss.embeds > 0 ? static_cast<double>(ss.embed_ns) /
                                                      static_cast<double>(ss.embeds) / 1e3
                                                : 0.0);
        }
        w.end_object();
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
    // Semantic vectors of whole namespaces go now; those of entries removed by model, age or
    // prompt go when a lookup finds their exact entry gone.
    if (cache::SemanticCache* s = semantic_cache(ctx.gateway)) {
        if (!filter->model && !filter->older_than_ms && !filter->prompt) s->invalidate(filter->ns);
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "cache.invalidation").kv("removed", static_cast<int64_t>(n));
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

// {"id": "chatcmpl-...", "bad": true|false}
struct Feedback {
    std::string id;
    bool bad = true;
};

Result<Feedback> parse_feedback(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request(
            "expected a JSON object: {\"id\": \"<response id>\", \"bad\": true}");
    }
    Feedback f;
    bool has_id = false;
    bool has_bad = false;
    for (auto field : obj) {
        const std::string_view k = field.key;
        if (k == "id") {
            std::string_view v;
            if (field.value.get(v) != simdjson::SUCCESS || v.empty() || v.size() > 256) {
                return Error::invalid_request("id must be the response id (a non-empty string)",
                                              "id");
            }
            f.id = std::string(v);
            has_id = true;
        } else if (k == "bad") {
            if (field.value.get(f.bad) != simdjson::SUCCESS) {
                return Error::invalid_request("bad must be a boolean", "bad");
            }
            has_bad = true;
        } else {
            return Error::invalid_request(
                fmt::format("unknown field '{}' (expected id and bad)", k), std::string(k));
        }
    }
    if (!has_id) return Error::invalid_request("id is required: the response id", "id");
    if (!has_bad) return Error::invalid_request("bad is required: true or false", "bad");
    return f;
}

// Reports a semantic hit as bad (its vector is removed and the threshold tightened around
// the query) or good (counted). Allowed to the key the hit was served to, or an admin.
awaitable<void> handle_feedback(RequestContext& ctx) {
    cache::SemanticCache* s = semantic_cache(ctx.gateway);
    if (s == nullptr) {
        const Error e = Error::invalid_request(
            "The semantic cache is off (cache.semantic.enabled); there are no semantic hits to "
            "report.",
            {}, "semantic_cache_disabled");
        co_await send_error(ctx, e, ErrorStyle::kOpenAI);
        co_return;
    }
    auto parsed = parse_feedback(ctx.request.body());
    if (!parsed) {
        co_await send_error(ctx, parsed.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    std::optional<std::string> caller;  // nullopt: an admin, may report any hit
    const auto& auth = ctx.gateway.config().auth;
    const bool admin =
        (ctx.key && ctx.key->key.admin) || (!ctx.key && auth.open_access && auth.admin_key.empty());
    if (!admin) caller = ctx.key ? ctx.key->key.id : std::string();
    const auto out = s->feedback(parsed->id, parsed->bad, caller);
    if (out.result != cache::SemanticCache::FeedbackResult::kApplied) {
        Error e;
        if (out.result == cache::SemanticCache::FeedbackResult::kForbidden) {
            e.kind = ErrorKind::kPermission;
            e.code = "forbidden";
            e.message =
                "This semantic hit was served to another key; only that key or an admin "
                "may report it.";
        } else {
            e.kind = ErrorKind::kNotFound;
            e.code = "unknown_response_id";
            e.message = fmt::format(
                "No semantic cache hit with id '{}'. Only semantic hits (x-switchyard-cache: "
                "semantic) can be reported, each once, while the gateway remembers them.",
                parsed->id);
        }
        co_await send_error(ctx, e, ErrorStyle::kOpenAI);
        co_return;
    }
    std::string body;
    JsonWriter w(body);
    w.begin_object().kv("object", "cache.feedback").kv("id", parsed->id).kv("bad", parsed->bad);
    w.kv("removed", out.removed).kv("threshold", static_cast<double>(out.local_threshold));
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(body));
}

}  // namespace

awaitable<void> handle_cache_admin(RequestContext& ctx, std::string_view path) {
    ctx.endpoint = "cache";
    const auto method = ctx.request.method();
    const bool stats = path == "/v1/cache/stats";
    const bool invalidate = path == "/v1/cache/invalidate";
    if (path == "/v1/cache/feedback") {
        if (method != http::verb::post) {
            const Error e =
                Error::invalid_request("POST /v1/cache/feedback only", {}, "method_not_allowed");
            co_await send_error(ctx, e, ErrorStyle::kOpenAI);
            co_return;
        }
        co_await handle_feedback(ctx);
        co_return;
    }
    if (!stats && !invalidate) {
        Error e;
        e.kind = ErrorKind::kNotFound;
        e.code = "unknown_url";
        e.message = fmt::format(
            "Unknown cache URL {}; use GET /v1/cache/stats, POST /v1/cache/invalidate or POST "
            "/v1/cache/feedback",
            path);
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
