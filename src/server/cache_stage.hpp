// Private to the server: the response-cache stage of a chat request. Decides whether the
// cache applies (temperature, Cache-Control, the `cache` extension field), computes the key
// in the tenant's namespace, replays cached answers as JSON or SSE, and stores complete
// answers.
// Thread safety: one CachePlan per request, on the request's worker thread; the cache itself
// is shared (see cache/response_cache.hpp).
#pragma once

#include <optional>
#include <string>

#include "request_context.hpp"
#include "switchyard/cache/response_cache.hpp"
#include "switchyard/cache/semantic_cache.hpp"

namespace switchyard {

struct CachePlan {
    bool active = false;  // the cache is on and this request may use it
    bool lookup = false;  // not Cache-Control: no-cache
    bool store = false;   // not no-store; eligible by temperature or opt-in
    int64_t ttl_ms = 0;
    int64_t max_age_ms = -1;  // Cache-Control: max-age
    std::string ns;
    std::string prompt_text;
    cache::CacheKey key;
    // Set when the semantic cache is on and the request is eligible (see semantic_cache.hpp);
    // its vector is filled by the lookup and reused by the store.
    std::optional<cache::SemanticQuery> semantic;
};

// A cached answer found for a similar prompt.
struct SemanticHit {
    cache::ResponseCache::Hit hit;
    cache::SemanticCache::Match match;
};

// The gateway's semantic cache, made on first use from cache.semantic (loading the GloVe
// vectors takes ~70 ms once); null when off or when the embedder cannot be opened (logged).
cache::SemanticCache* semantic_cache(Gateway& gateway);

// After an exact miss: a fresh cached answer to a similar prompt, if any. Counts the outcome
// in switchyard_cache_semantic_lookups_total; a match whose exact entry is gone (expired,
// evicted, invalidated) has its vector removed and is a miss.
std::optional<SemanticHit> semantic_lookup(RequestContext& ctx, CachePlan& plan);

// Remembers a semantic hit under the response id it is served with, for
// POST /v1/cache/feedback.
void remember_semantic_hit(RequestContext& ctx, const CachePlan& plan, const SemanticHit& hit,
                           ErrorStyle style);

// The plan; 400 for a malformed `cache` field or Cache-Control value.
Result<CachePlan> plan_cache(RequestContext& ctx, const ChatRequest& req);

// Answers from a cached entry (JSON, or SSE when req.stream), with x-switchyard-cache set
// to `how` ("hit", "stale" or "semantic").
awaitable<void> replay_cached(RequestContext& ctx, const ChatRequest& req, ErrorStyle style,
                              const cache::ResponseCache::Hit& hit, std::string_view how);

// Stores a complete answer (finish_reason stop or length) when the plan allows, and indexes
// its prompt in the semantic cache when the plan has a semantic query.
void store_answer(RequestContext& ctx, const CachePlan& plan, const ChatRequest& req,
                  const cache::CachedAnswer& answer, int64_t cost_nusd);

}  // namespace switchyard
