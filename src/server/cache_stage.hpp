// Private to the server: the response-cache stage of a chat request. Decides whether the
// cache applies (temperature, Cache-Control, the `cache` extension field), computes the key
// in the tenant's namespace, replays cached answers as JSON or SSE, and stores complete
// answers.
// Thread safety: one CachePlan per request, on the request's worker thread; the cache itself
// is shared (see cache/response_cache.hpp).
#pragma once

#include <string>

#include "request_context.hpp"
#include "switchyard/cache/response_cache.hpp"

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
};

// The plan; 400 for a malformed `cache` field or Cache-Control value.
Result<CachePlan> plan_cache(RequestContext& ctx, const ChatRequest& req);

// Answers from a cached entry (JSON, or SSE when req.stream), with x-switchyard-cache set
// to `how` ("hit" or "stale").
awaitable<void> replay_cached(RequestContext& ctx, const ChatRequest& req, ErrorStyle style,
                              const cache::ResponseCache::Hit& hit, std::string_view how);

// Stores a complete answer (finish_reason stop or length) when the plan allows.
void store_answer(RequestContext& ctx, const CachePlan& plan, const ChatRequest& req,
                  const cache::CachedAnswer& answer, int64_t cost_nusd);

}  // namespace switchyard
