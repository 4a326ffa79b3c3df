#include "cache_stage.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include <spdlog/spdlog.h>

#include "rag_stage.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/openai_codec.hpp"
#include "switchyard/rag/glove_embedder.hpp"
#include "switchyard/rag/hashing_embedder.hpp"

namespace switchyard {
namespace {

Error cache_field_error(std::string message) {
    return Error::invalid_request(std::move(message), "cache", "invalid_cache_field");
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string header_value(const RequestContext& ctx, std::string_view name) {
    auto it = ctx.request.find(name);
    return it == ctx.request.end() ? std::string() : std::string(it->value());
}

// Namespaces hold only these characters, so a tenant prefix cannot be forged.
bool valid_namespace(std::string_view ns) {
    if (ns.empty() || ns.size() > 128) return false;
    return std::all_of(ns.begin(), ns.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

std::string prompt_text_of(const ChatRequest& req) {
    std::string out;
    for (const auto& m : req.messages) {
        if (!out.empty()) out += '\n';
        out += m.joined_text();
    }
    return out;
}

// Splits `text` into pieces of about `n` bytes at UTF-8 boundaries (the replayed stream's
// deltas).
std::vector<std::string_view> pieces(std::string_view text, size_t n) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        size_t cut = std::min(n, text.size());
        while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            ++cut;
        out.push_back(text.substr(0, cut));
        text.remove_prefix(cut);
    }
    return out;
}

ChatResponse response_of(const RequestContext& ctx, const cache::CachedAnswer& a,
                         ErrorStyle style) {
    ChatResponse r;
    r.id = (style == ErrorStyle::kOpenAI ? "chatcmpl-" : "msg_") + ctx.id;
    r.created = static_cast<int64_t>(std::time(nullptr));
    r.model = a.model;
    r.system_fingerprint = a.system_fingerprint;
    r.message = a.message;
    r.finish_reason = a.finish_reason;
    r.usage = a.usage;
    return r;
}

}  // namespace

Result<CachePlan> plan_cache(RequestContext& ctx, const ChatRequest& req) {
    CachePlan plan;
    const Gateway& g = ctx.gateway;
    const auto& cfg = g.config().cache;
    if (g.response_cache() == nullptr) return plan;

    bool opt_in = false;
    bool no_store = false;
    bool no_cache = false;
    int64_t ttl_s = cfg.default_ttl_s;
    std::string sub_namespace;
    if (!req.cache_json.empty()) {
        opt_in = true;
        simdjson::dom::parser parser;
        simdjson::dom::object obj;
        if (parser.parse(req.cache_json).get(obj) != simdjson::SUCCESS) {
            return cache_field_error("cache must be an object");
        }
        for (auto field : obj) {
            const std::string_view k = field.key;
            if (k == "no_store" || k == "no_cache") {
                bool b = false;
                if (field.value.get(b) != simdjson::SUCCESS) {
                    return cache_field_error(fmt::format("cache.{} must be a boolean", k));
                }
                (k == "no_store" ? no_store : no_cache) = b;
            } else if (k == "ttl_s") {
                int64_t v = 0;
                if (field.value.get(v) != simdjson::SUCCESS || v < 1 || v > 31'536'000) {
                    return cache_field_error("cache.ttl_s must be an integer from 1 to 31536000");
                }
                ttl_s = v;
            } else if (k == "namespace") {
                std::string_view v;
                if (field.value.get(v) != simdjson::SUCCESS || !valid_namespace(v)) {
                    return cache_field_error(
                        "cache.namespace must be 1-128 characters of A-Z a-z 0-9 - _ .");
                }
                sub_namespace.assign(v);
            } else {
                return cache_field_error(fmt::format(
                    "unknown cache field '{}' (expected no_store, no_cache, ttl_s, namespace)", k));
            }
        }
    }
    for (std::string_view rest = header_value(ctx, "cache-control"); !rest.empty();) {
        const size_t comma = rest.find(',');
        const std::string_view token = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (token == "no-cache") {
            no_cache = true;
        } else if (token == "no-store") {
            no_store = true;
        } else if (token.starts_with("max-age=")) {
            int64_t v = -1;
            const auto digits = token.substr(8);
            auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            if (ec != std::errc() || p != digits.data() + digits.size() || v < 0) {
                return Error::invalid_request(
                    "Cache-Control max-age must be a whole number of "
                    "seconds",
                    "cache-control", "invalid_cache_control");
            }
            plan.max_age_ms = v * 1000;
            opt_in = true;
        }
    }
    const double temperature = req.temperature.value_or(1.0);
    const bool eligible = opt_in || temperature <= cfg.max_temperature;
    if (!eligible) return plan;

    plan.active = true;
    plan.lookup = !no_cache;
    plan.store = !no_store;
    plan.ttl_ms = ttl_s * 1000;
    const bool shared = std::find(cfg.shared_models.begin(), cfg.shared_models.end(), req.model) !=
                        cfg.shared_models.end();
    plan.ns = shared ? std::string("shared") : (ctx.key ? "key:" + ctx.key->key.id : "open");
    if (!sub_namespace.empty()) plan.ns += "/" + sub_namespace;
    plan.key = cache::request_key(plan.ns, req);
    if (cache::SemanticCache* s = semantic_cache(ctx.gateway)) {
        plan.semantic = cache::semantic_query(plan.ns, req, s->options().multi_turn);
    }
    return plan;
}

cache::SemanticCache* semantic_cache(Gateway& g) {
    cache::ResponseCache* c = g.response_cache();
    const auto& cfg = g.config().cache.semantic;
    if (c == nullptr || !cfg.enabled) return nullptr;
    return c->semantic([&]() -> std::shared_ptr<cache::SemanticCache> {
        std::shared_ptr<const rag::Embedder> embedder;
        if (cfg.embedder == "hashing") {
            embedder = std::make_shared<rag::HashingEmbedder>();
        } else {
            auto opened = rag::GloveEmbedder::open();
            if (auto* error = std::get_if<std::string>(&opened)) {
                spdlog::error("semantic cache disabled: {}", *error);
                return nullptr;
            }
            embedder = std::move(std::get<std::unique_ptr<rag::GloveEmbedder>>(opened));
        }
        cache::SemanticOptions o;
        o.threshold = static_cast<float>(cfg.threshold);
        for (const auto& [model, t] : cfg.thresholds)
            o.model_thresholds.emplace_back(model, static_cast<float>(t));
        o.max_entries_per_partition = static_cast<size_t>(cfg.max_entries_per_partition);
        o.multi_turn = cfg.multi_turn;
        o.veto_radius = static_cast<float>(cfg.veto_radius);
        spdlog::info("semantic cache on: embedder {}, threshold {:.2f}", embedder->name(),
                     o.threshold);
        return std::make_shared<cache::SemanticCache>(std::move(o), std::move(embedder));
    });
}

std::optional<SemanticHit> semantic_lookup(RequestContext& ctx, CachePlan& plan) {
    Gateway& g = ctx.gateway;
    cache::SemanticCache* s = semantic_cache(g);
    if (s == nullptr || !plan.semantic) return std::nullopt;
    const auto out = s->lookup(*plan.semantic);
    std::string_view result = "miss";
    std::optional<SemanticHit> found;
    switch (out.result) {
        case cache::SemanticCache::Result::kHit: {
            auto hit = g.response_cache()->lookup(out.match->key, g.now_ms(), plan.max_age_ms,
                                                  false, true);
            if (hit) {
                result = "hit";
                found = SemanticHit{std::move(*hit), *out.match};
            } else {
                // The answer it stood for expired, was evicted or invalidated.
                result = "gone";
                s->remove(plan.semantic->partition, out.match->entry_id);
            }
            break;
        }
        case cache::SemanticCache::Result::kVetoed:
            result = "vetoed";
            break;
        case cache::SemanticCache::Result::kTightened:
            result = "tightened";
            break;
        case cache::SemanticCache::Result::kMiss:
            break;
    }
    g.metrics().count_event(ctx.worker_index, "switchyard_cache_semantic_lookups_total",
                            {{"result", result}});
    return found;
}

void remember_semantic_hit(RequestContext& ctx, const CachePlan& plan, const SemanticHit& hit,
                           ErrorStyle style) {
    cache::SemanticCache* s = semantic_cache(ctx.gateway);
    if (s == nullptr || !plan.semantic) return;
    std::string id = (style == ErrorStyle::kOpenAI ? "chatcmpl-" : "msg_") + ctx.id;
    std::string owner = ctx.key ? ctx.key->key.id : std::string();
    s->remember_hit(std::move(id), std::move(owner), *plan.semantic, hit.match);
}

awaitable<void> replay_cached(RequestContext& ctx, const ChatRequest& req, ErrorStyle style,
                              const cache::ResponseCache::Hit& hit, std::string_view how) {
    const cache::CachedAnswer& a = hit.entry->answer;
    ctx.model = a.model;
    ctx.response.set_header("x-switchyard-cache", how);
    ctx.response.set_header("x-switchyard-cache-age", std::to_string(hit.age_ms / 1000));
    ctx.response.set_header("x-switchyard-model", a.model);
    if (!req.stream) {
        const ChatResponse r = response_of(ctx, a, style);
        std::string body;
        if (style == ErrorStyle::kOpenAI) {
            body = write_openai_chat_response(r);
        } else {
            body = write_anthropic_response(r);
        }
        add_rag_field(ctx, body);
        co_await ctx.response.send(http::status::ok, "application/json", std::move(body));
        co_return;
    }
    // Replayed as the provider would stream it: role, content deltas, tool calls, finish,
    // usage (when asked), end.
    std::vector<ChatChunk> chunks;
    ChatChunk role;
    role.role = true;
    chunks.push_back(std::move(role));
    const std::string text = a.message.joined_text();  // the pieces view into it
    for (auto piece : pieces(text, 48)) {
        ChatChunk c;
        c.content.assign(piece);
        chunks.push_back(std::move(c));
    }
    for (size_t i = 0; i < a.message.tool_calls.size(); ++i) {
        const auto& t = a.message.tool_calls[i];
        ChatChunk c;
        c.tool_calls.push_back({static_cast<int>(i), t.id, t.name, t.arguments});
        chunks.push_back(std::move(c));
    }
    ChatChunk fin;
    fin.finish_reason = a.finish_reason;
    chunks.push_back(std::move(fin));

    const bool started = co_await ctx.response.begin_stream("text/event-stream");
    if (!started) co_return;
    const StreamMeta meta{(style == ErrorStyle::kOpenAI ? "chatcmpl-" : "msg_") + ctx.id,
                          static_cast<int64_t>(std::time(nullptr)), a.model, a.system_fingerprint,
                          a.usage.prompt_tokens};
    std::string buf;
    if (style == ErrorStyle::kOpenAI) {
        for (const auto& c : chunks)
            append_openai_chunk_sse(buf, meta, c, req.include_usage);
        if (req.include_usage) {
            ChatChunk u;
            u.usage = a.usage;
            append_openai_chunk_sse(buf, meta, u, true);
        }
        append_openai_done_sse(buf);
    } else {
        AnthropicStreamEncoder encoder;
        encoder.begin(meta, a.usage.prompt_tokens, buf);
        chunks.back().usage = a.usage;
        for (const auto& c : chunks)
            encoder.on_chunk(c, buf);
        encoder.finish(buf);
    }
    const bool written = co_await ctx.response.write_chunk(buf);
    if (written) co_await ctx.response.end_stream();
}

void store_answer(RequestContext& ctx, const CachePlan& plan, const ChatRequest& req,
                  const cache::CachedAnswer& answer, int64_t cost_nusd) {
    cache::ResponseCache* c = ctx.gateway.response_cache();
    if (c == nullptr || !plan.active || !plan.store) return;
    if (answer.finish_reason != FinishReason::kStop &&
        answer.finish_reason != FinishReason::kLength)
        return;
    const int64_t now = ctx.gateway.now_ms();
    cache::Entry e;
    e.answer = answer;
    e.ns = plan.ns;
    e.requested_model = req.model;
    e.prompt_text = prompt_text_of(req);
    e.created_ms = now;
    e.expires_ms = now + plan.ttl_ms;
    e.stale_until_ms = e.expires_ms + ctx.gateway.config().cache.stale_grace_s * 1000;
    e.cost_nusd = cost_nusd;
    if (plan.semantic) {
        e.semantic =
            cache::SemanticRef{plan.semantic->partition, plan.semantic->model, plan.semantic->text};
    }
    const int64_t expires_ms = e.expires_ms;
    const bool stored = c->store(plan.key, std::move(e), now);
    if (stored && plan.semantic) {
        if (cache::SemanticCache* s = semantic_cache(ctx.gateway))
            s->insert(*plan.semantic, plan.key, expires_ms, now);
    }
}

}  // namespace switchyard
