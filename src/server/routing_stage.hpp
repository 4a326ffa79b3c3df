// Private to the server: the routing stage of a chat request. Turns the requested `model`
// (a catalog model, "auto" or a route alias) into the ordered candidate models the failover
// loop walks, with the prompt analysis when one was needed and the router's reasons.
// Thread safety: one per request, on the request's worker thread.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "request_context.hpp"
#include "switchyard/routing/router.hpp"

namespace switchyard {

// Prompt token counts per vocabulary, counted at most once each per request.
class RequestPromptTokens : public routing::PromptTokens {
public:
    RequestPromptTokens(Gateway& gateway, const ChatRequest& request)
        : gateway_(gateway), request_(request) {}
    int64_t for_model(size_t index) override;
    int64_t upper_bound() override;

private:
    Gateway& gateway_;
    const ChatRequest& request_;
    std::vector<std::pair<const tokens::Tokenizer*, int64_t>> counted_;
    int64_t bound_ = -1;
};

struct RoutePlan {
    std::vector<size_t> candidates;  // catalog indices, in the order to try
    // Per catalog model: 1 when its context window was checked against the exact prompt
    // count. The failover loop checks the others (fits()) before calling them.
    std::vector<uint8_t> context_verified;
    std::unique_ptr<RequestPromptTokens> counts;  // shared with admission (one count each)
    std::string route = "explicit";               // "explicit", "auto" or the alias
    std::string reason;   // for x-switchyard-route and the ledger; header-safe
    std::string subject;  // incident subject: the route, or the requested model
    bool routed = false;  // auto or an alias
    std::optional<routing::PromptAnalysis> analysis;
    routing::RouteDecision decision;
};

// Whether the prompt and `completion` tokens fit model `index`'s window (exact count).
bool fits(const Gateway& gateway, RequestPromptTokens& counts, size_t index, int64_t completion);

// Builds the plan. Errors: unknown model (404), a key that may not use the model (403), a
// prompt with PII for an explicit remote model under explicit_remote_pii: deny (403), or no
// model able to take the request (400 no_eligible_model, or 503 no_model_available when
// breakers or concurrency caps are the reason). `always_analyze` also analyses explicit
// requests (the explain endpoint).
Result<RoutePlan> plan_route(RequestContext& ctx, const ChatRequest& req, bool always_analyze);

// A key may be limited to some models: 403 model_not_allowed (counted) when not.
Result<Ok> check_model_allowed(RequestContext& ctx, const ModelConfig& model);

}  // namespace switchyard
