#include "routing_stage.hpp"

#include <fmt/format.h>

#include "switchyard/tokens/chat_tokens.hpp"

namespace switchyard {

int64_t RequestPromptTokens::for_model(size_t index) {
    const auto& mt = gateway_.model_tokens(index);
    for (const auto& [tok, n] : counted_) {
        if (tok == mt.tokenizer) return n;
    }
    const int64_t n = tokens::count_chat_prompt(*mt.tokenizer, mt.family, request_);
    counted_.emplace_back(mt.tokenizer, n);
    return n;
}

// No vocabulary makes more tokens than bytes (byte-level BPE and SentencePiece with byte
// fallback both cover every byte with at most one token); chat templates add a few per
// message.
int64_t RequestPromptTokens::upper_bound() {
    if (bound_ >= 0) return bound_;
    int64_t bytes = 64;
    for (const auto& m : request_.messages) {
        bytes += 32 + static_cast<int64_t>(m.text.size() + m.name.size());
        for (const auto& p : m.parts)
            bytes += static_cast<int64_t>(p.text.size()) +
                     (p.type == ContentPart::Type::kImage ? 1600 : 0);
        for (const auto& t : m.tool_calls)
            bytes += 16 + static_cast<int64_t>(t.name.size() + t.arguments.size());
    }
    for (const auto& t : request_.tools) {
        bytes += 32 + static_cast<int64_t>(t.name.size() + t.description.size() +
                                           t.parameters_json.size());
    }
    bound_ = bytes;
    return bound_;
}

Result<Ok> check_model_allowed(RequestContext& ctx, const ModelConfig& model) {
    if (!ctx.key || ctx.key->key.allows_model(model.name)) return Ok{};
    ctx.gateway.metrics().count_event(ctx.worker_index, "switchyard_auth_failures_total",
                                      {{"reason", "model_not_allowed"}});
    Error e;
    e.kind = ErrorKind::kPermission;
    e.code = "model_not_allowed";
    e.param = "model";
    e.message =
        fmt::format("The API key '{}' may not use the model '{}'.", ctx.key->key.name, model.name);
    return e;
}

namespace {

int64_t completion_allowance(const Gateway& g, const ChatRequest& req) {
    if (req.max_tokens) return *req.max_tokens;
    // Without max_tokens the answer fills what the window leaves: only the prompt must fit.
    (void)g;
    return 0;
}

Error no_candidate_error(const Gateway& g, const routing::RouteDecision& d,
                         std::string_view route) {
    std::string reasons;
    bool availability = false;
    for (const auto& r : d.rejected) {
        if (!reasons.empty()) reasons += "; ";
        reasons += fmt::format("{}: {}", g.config().models[r.model].name, r.reason);
        if (r.reason.find("circuit open") != std::string::npos ||
            r.reason.find("max concurrency") != std::string::npos) {
            availability = true;
        }
    }
    Error e;
    if (availability) {
        e.kind = ErrorKind::kUnavailable;
        e.code = "no_model_available";
    } else {
        e.kind = ErrorKind::kInvalidRequest;
        e.code = "no_eligible_model";
        e.param = "model";
    }
    e.message = fmt::format("No model of route '{}' can take this request ({}).", route,
                            reasons.empty() ? "the route has no models" : reasons);
    return e;
}

}  // namespace

bool fits(const Gateway& gateway, RequestPromptTokens& counts, size_t index, int64_t completion) {
    const int64_t window = gateway.config().models[index].context_window;
    if (window <= 0) return true;
    if (counts.upper_bound() + completion <= window) return true;
    return counts.for_model(index) + completion <= window;
}

Result<RoutePlan> plan_route(RequestContext& ctx, const ChatRequest& req, bool always_analyze) {
    Gateway& g = ctx.gateway;
    RoutePlan plan;
    plan.counts = std::make_unique<RequestPromptTokens>(g, req);
    RequestPromptTokens& counts = *plan.counts;
    plan.context_verified.assign(g.config().models.size(), 0);
    std::vector<uint8_t> allowed;
    if (ctx.key && !ctx.key->key.models.empty()) {
        allowed.resize(g.config().models.size());
        for (size_t i = 0; i < allowed.size(); ++i)
            allowed[i] = ctx.key->key.allows_model(g.config().models[i].name) ? 1 : 0;
    }
    std::vector<routing::ModelLive> live;
    auto query_for = [&](const routing::PromptAnalysis* analysis) {
        routing::RouteQuery q;
        q.analysis = analysis;
        q.completion_tokens = completion_allowance(g, req);
        q.prompt_tokens = &counts;
        q.live = live;
        q.allowed = allowed;
        q.lazy_context = !always_analyze;
        return q;
    };

    if (const routing::RouteProfile* route = g.route(req.model)) {
        plan.routed = true;
        plan.route = route->name;
        plan.subject = route->name;
        // The analysis counts the prompt in cl100k_base-compatible terms for its length
        // rules; the exact per-model counts come later, only where a window could be tight.
        const int64_t tokens = counts.for_model(route->models.empty() ? 0 : route->models.front());
        plan.analysis = g.analyzer().analyze(req, tokens);
        g.live_models(live);
        plan.decision = g.router().rank(*route, query_for(&*plan.analysis));
        if (plan.decision.ranked.empty() && !always_analyze)
            return no_candidate_error(g, plan.decision, route->name);
        for (const auto& r : plan.decision.ranked) {
            plan.candidates.push_back(r.model);
            plan.context_verified[r.model] = r.context_verified ? 1 : 0;
        }
        plan.reason = plan.decision.reason;
        return plan;
    }

    auto target = g.resolve(req.model);
    if (!target) return target.error();
    if (auto ok = check_model_allowed(ctx, *target->model); !ok) return ok.error();
    plan.subject = target->model->name;
    plan.reason = "explicit";
    const auto chain = g.chain_of(target->index);
    const bool deny_pii = g.config().routing.explicit_remote_pii == "deny";
    if (chain.size() == 1 && !deny_pii && !always_analyze) {
        plan.candidates.push_back(target->index);  // the hot path: no analysis needed
        plan.context_verified[target->index] = 1;  // admission checks it
        return plan;
    }
    plan.analysis = g.analyzer().analyze(req, counts.for_model(target->index));
    if (deny_pii && !always_analyze && !target->model->local &&
        plan.analysis->privacy != routing::PrivacyLevel::kNone &&
        plan.analysis->privacy >= g.router().options().local_only_at) {
        ctx.gateway.metrics().count_event(ctx.worker_index, "switchyard_auth_failures_total",
                                          {{"reason", "pii_blocked"}});
        Error e;
        e.kind = ErrorKind::kPermission;
        e.code = "pii_blocked";
        e.param = "messages";
        e.message = fmt::format(
            "The prompt contains {} data, and this gateway does not send such prompts to the "
            "remote model '{}'. Use a local model or model \"auto\".",
            routing::to_string(plan.analysis->privacy), target->model->name);
        return e;
    }
    g.live_models(live);
    plan.decision = g.router().chain(chain, query_for(&*plan.analysis));
    if (plan.decision.ranked.empty() && !always_analyze)
        return no_candidate_error(g, plan.decision, plan.subject);
    for (const auto& r : plan.decision.ranked) {
        plan.candidates.push_back(r.model);
        plan.context_verified[r.model] = r.context_verified ? 1 : 0;
    }
    return plan;
}

}  // namespace switchyard
