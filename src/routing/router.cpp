// Router: hard constraints (check_model), then the score, then a sort. Everything a ranking
// needs is on the stack or in the result vectors; reason strings are built only for rejections.
#include "switchyard/routing/router.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace switchyard::routing {

std::string_view to_string(Capability cap) {
    switch (cap) {
        case Capability::kChat:
            return "chat";
        case Capability::kCode:
            return "code";
        case Capability::kReasoning:
            return "reasoning";
        case Capability::kTools:
            return "tools";
        case Capability::kJson:
            return "json";
        case Capability::kVision:
            return "vision";
        case Capability::kEmbeddings:
            return "embeddings";
        case Capability::kFast:
            return "fast";
        case Capability::kPrivate:
            return "private";
    }
    return "unknown";
}

namespace {

// The value of Enum whose to_string() is `name`, for enums numbered 0..count-1.
template <typename Enum>
std::optional<Enum> parse_enum(std::string_view name, int count) {
    for (int v = 0; v < count; ++v) {
        const auto e = static_cast<Enum>(v);
        if (to_string(e) == name) return e;
    }
    return std::nullopt;
}

}  // namespace

std::optional<Capability> parse_capability(std::string_view name) {
    return parse_enum<Capability>(name, kCapabilityCount);
}
std::optional<TaskType> parse_task_type(std::string_view name) {
    return parse_enum<TaskType>(name, kTaskTypeCount);
}
std::optional<Complexity> parse_complexity(std::string_view name) {
    return parse_enum<Complexity>(name, 3);
}
std::optional<PrivacyLevel> parse_privacy_level(std::string_view name) {
    return parse_enum<PrivacyLevel>(name, 4);
}

float default_quality(uint32_t capabilities, TaskType task) {
    Capability matching = Capability::kChat;
    switch (task) {
        case TaskType::kCode:
            matching = Capability::kCode;
            break;
        case TaskType::kReasoning:
            matching = Capability::kReasoning;
            break;
        case TaskType::kExtraction:
            matching = Capability::kJson;
            break;
        default:
            break;
    }
    if (capabilities & capability_bit(matching)) return 0.8f;
    if (capabilities & capability_bit(Capability::kChat)) return 0.6f;
    return 0.3f;
}

namespace {

const PromptAnalysis kNoAnalysis{};

// Why remote models are rejected, if they are; formatted only when one is.
struct LocalOnly {
    enum class Why : uint8_t { kNo, kPrivacy, kRoute, kPolicy };
    Why why = Why::kNo;
    PrivacyLevel privacy = PrivacyLevel::kNone;
    const std::string* rule = nullptr;  // kPolicy
};

enum class CheckScope : uint8_t {
    kFull,
    kRequested,  // a model the caller named: allow-list and capabilities only
};

// PromptTokens::upper_bound(), asked at most once per decision.
class LazyBound {
public:
    LazyBound(PromptTokens* tokens, int64_t estimate) : tokens_(tokens), value_(estimate) {}
    int64_t get() {
        if (tokens_ != nullptr && !known_) {
            value_ = tokens_->upper_bound();
            known_ = true;
        }
        return value_;
    }

private:
    PromptTokens* tokens_;
    int64_t value_;
    bool known_ = false;
};

bool privacy_forces_local(PrivacyLevel privacy, const RouterOptions& options) {
    return privacy != PrivacyLevel::kNone && privacy >= options.local_only_at;
}

std::string context_reason(int64_t window, int64_t needed) {
    std::string r = "context window ";
    r += std::to_string(window);
    r += " < ";
    r += std::to_string(needed);
    r += " tokens";
    return r;
}

std::optional<std::string> check_model(const ModelProfile& m, size_t index, const RouteQuery& q,
                                       const PromptAnalysis& a, const LocalOnly& local,
                                       CheckScope scope, LazyBound& bound,
                                       bool* unverified = nullptr) {
    if (!q.allowed.empty() && (index >= q.allowed.size() || q.allowed[index] == 0))
        return std::string("not allowed for this API key");
    const bool full = scope == CheckScope::kFull;
    if (full && index < q.live.size()) {
        const ModelLive& live = q.live[index];
        if (!live.available) return std::string("circuit open");
        if (m.max_concurrency > 0 && live.in_flight >= m.max_concurrency)
            return "at max concurrency " + std::to_string(m.max_concurrency);
    }
    if (m.has(Capability::kEmbeddings) && !m.has(Capability::kChat))
        return std::string("not a chat model");
    if (a.needs_tools && !m.has(Capability::kTools)) return std::string("lacks capability tools");
    if (a.needs_vision && !m.has(Capability::kVision))
        return std::string("lacks capability vision");
    if (!full) return std::nullopt;
    if (local.why != LocalOnly::Why::kNo && !m.local) {
        std::string r = "remote model; ";
        switch (local.why) {
            case LocalOnly::Why::kPrivacy:
                r += "prompt privacy ";
                r += to_string(local.privacy);
                break;
            case LocalOnly::Why::kPolicy:
                r += "policy ";
                r += *local.rule;
                r += " is local-only";
                break;
            default:
                r += "route is local-only";
                break;
        }
        return r;
    }
    if (m.context_window > 0) {
        const int64_t window = m.context_window;
        const int64_t answer = q.completion_tokens;
        // Every prompt has at least one token: an answer allowance that fills the window
        // leaves no room, whatever the prompt (and saves a count).
        if (answer >= window) return context_reason(window, answer + 1);
        if (bound.get() + answer > window) {
            if (unverified != nullptr) {
                *unverified = true;  // counted later, only if it ranks high enough to matter
                return std::nullopt;
            }
            const int64_t n =
                q.prompt_tokens != nullptr ? q.prompt_tokens->for_model(index) : a.prompt_tokens;
            if (n + answer > window) return context_reason(window, n + answer);
        }
    }
    return std::nullopt;
}

double complexity_factor(Complexity c) {
    switch (c) {
        case Complexity::kLow:
            return 0.6;
        case Complexity::kMedium:
            return 1.0;
        case Complexity::kHigh:
            return 1.4;
    }
    return 1.0;
}

// The score of one model; the policy part is added by the caller.
class Scorer {
public:
    Scorer(const RouterOptions& options, const RouterWeights& weights, const PromptAnalysis& a,
           double max_price)
        : options_(options),
          w_(weights),
          task_(static_cast<size_t>(a.task)),
          complexity_(complexity_factor(a.complexity)),
          log_max_price_(max_price > 0 ? std::log1p(max_price) : 0) {}

    RankedModel score(const ModelProfile& m, size_t index, std::span<const ModelLive> live) const {
        RankedModel r;
        r.model = index;
        r.parts.quality = w_.quality * static_cast<double>(m.quality[task_]) * complexity_;
        const double blended = m.input_per_1m_usd + m.output_per_1m_usd;
        const double cost =
            log_max_price_ > 0 ? 1.0 - std::log1p(std::max(0.0, blended)) / log_max_price_ : 1.0;
        r.parts.cost = w_.cost * cost;
        double latency = 0.5;  // no samples yet: neither rewarded nor punished much
        double error_rate = 0;
        double load = 0;
        if (index < live.size()) {
            const ModelLive& l = live[index];
            if (l.total_ms >= 0 && options_.latency_reference_ms > 0)
                latency = 1.0 - std::min(1.0, l.total_ms / options_.latency_reference_ms);
            error_rate = std::clamp(l.error_rate, 0.0, 1.0);
            const int64_t full =
                m.max_concurrency > 0 ? m.max_concurrency : options_.load_reference;
            if (full > 0 && l.in_flight > 0)
                load = std::min(1.0, static_cast<double>(l.in_flight) / static_cast<double>(full));
        }
        r.parts.latency = w_.latency * latency;
        r.parts.errors = -w_.errors * error_rate;
        r.parts.load = -w_.load * load;
        r.score = r.parts.quality + r.parts.cost + r.parts.latency + r.parts.errors + r.parts.load;
        // A NaN (a bad quality or EWMA from the caller) would break the sort's ordering: such a
        // model ranks last instead.
        if (std::isnan(r.score)) r.score = -std::numeric_limits<double>::infinity();
        return r;
    }

private:
    const RouterOptions& options_;
    const RouterWeights& w_;
    size_t task_;
    double complexity_;
    double log_max_price_;
};

// Best first; ties keep catalog order, so equal scores rank the same on every call.
bool better(const RankedModel& x, const RankedModel& y) {
    if (x.score != y.score) return x.score > y.score;
    return x.model < y.model;
}

// "policy <name>", the name reduced to header-safe characters (printable ASCII, no comma).
std::string policy_reason(std::string_view rule) {
    std::string r = "policy ";
    r.reserve(r.size() + rule.size());
    for (const char c : rule) {
        const bool safe = c > ' ' && c < 0x7f && c != ',' && c != ';';
        r += safe ? c : '-';
    }
    return r;
}

std::string privacy_reason(PrivacyLevel level) {
    std::string r = "privacy ";
    r += to_string(level);
    r += ": local only";
    return r;
}

}  // namespace

Router::Router(std::vector<ModelProfile> models, RouterOptions options)
    : models_(std::move(models)), options_(std::move(options)) {
    for (auto& m : models_) {
        for (int t = 0; t < kTaskTypeCount; ++t) {
            if (m.quality[t] == 0)
                m.quality[t] = default_quality(m.capabilities, static_cast<TaskType>(t));
        }
        max_price_ = std::max(max_price_, m.input_per_1m_usd + m.output_per_1m_usd);
    }
}

const PolicyRule* Router::match_policy(const PromptAnalysis& a) const {
    for (const PolicyRule& rule : options_.policy) {
        if (rule.tasks != 0 && (rule.tasks & task_bit(a.task)) == 0) continue;
        if (rule.min_privacy && a.privacy < *rule.min_privacy) continue;
        if (rule.max_complexity && a.complexity > *rule.max_complexity) continue;
        if (rule.min_complexity && a.complexity < *rule.min_complexity) continue;
        if (rule.max_prompt_tokens > 0 && a.prompt_tokens > rule.max_prompt_tokens) continue;
        return &rule;
    }
    return nullptr;
}

std::optional<std::string> Router::check(size_t index, const RouteQuery& query,
                                         bool local_only) const {
    if (index >= models_.size()) return std::string("unknown model");
    const PromptAnalysis& a = query.analysis != nullptr ? *query.analysis : kNoAnalysis;
    LocalOnly local;
    if (local_only) {
        local.why = privacy_forces_local(a.privacy, options_) ? LocalOnly::Why::kPrivacy
                                                              : LocalOnly::Why::kRoute;
        local.privacy = a.privacy;
    }
    LazyBound bound(query.prompt_tokens, a.prompt_tokens);
    return check_model(models_[index], index, query, a, local, CheckScope::kFull, bound);
}

// Counts exactly for the unverified candidates ranked above the first one that fits for
// sure, dropping those that do not fit; the rest stay unverified.
void Router::verify_top(RouteDecision& d, const RouteQuery& q, const PromptAnalysis& a) const {
    size_t k = 0;
    while (k < d.ranked.size() && !d.ranked[k].context_verified) {
        const size_t i = d.ranked[k].model;
        const int64_t window = models_[i].context_window;
        const int64_t n =
            q.prompt_tokens != nullptr ? q.prompt_tokens->for_model(i) : a.prompt_tokens;
        if (n + q.completion_tokens > window) {
            d.rejected.push_back({i, context_reason(window, n + q.completion_tokens)});
            d.ranked.erase(d.ranked.begin() + static_cast<ptrdiff_t>(k));
            continue;
        }
        d.ranked[k].context_verified = true;
        return;
    }
}

RouteDecision Router::rank(const RouteProfile& route, const RouteQuery& query) const {
    const PromptAnalysis& a = query.analysis != nullptr ? *query.analysis : kNoAnalysis;
    RouteDecision d;
    const PolicyRule* rule = route.use_policy ? match_policy(a) : nullptr;
    const bool privacy_local = privacy_forces_local(a.privacy, options_);
    LocalOnly local;
    if (privacy_local) {
        local.why = LocalOnly::Why::kPrivacy;
        local.privacy = a.privacy;
    } else if (route.local_only) {
        local.why = LocalOnly::Why::kRoute;
    } else if (rule != nullptr && rule->local_only) {
        local.why = LocalOnly::Why::kPolicy;
        local.rule = &rule->name;
    }
    d.local_only = local.why != LocalOnly::Why::kNo;
    if (rule != nullptr) d.rule = rule->name;

    const bool all = route.models.empty();
    const size_t n = all ? models_.size() : route.models.size();
    d.ranked.reserve(n);
    LazyBound bound(query.prompt_tokens, a.prompt_tokens);
    const Scorer scorer(options_, route.weights, a, max_price_);
    for (size_t k = 0; k < n; ++k) {
        const size_t i = all ? k : route.models[k];
        if (i >= models_.size()) continue;
        const ModelProfile& m = models_[i];
        bool unverified = false;
        if (auto why = check_model(m, i, query, a, local, CheckScope::kFull, bound,
                                   query.lazy_context ? &unverified : nullptr)) {
            d.rejected.push_back({i, std::move(*why)});
            continue;
        }
        RankedModel r = scorer.score(m, i, query.live);
        r.context_verified = !unverified;
        if (rule != nullptr) {
            const auto& prefer = rule->prefer;
            const auto pos = std::find(prefer.begin(), prefer.end(), i);
            if (pos != prefer.end()) {
                const double position = static_cast<double>(pos - prefer.begin());
                r.parts.policy = route.weights.policy * std::max(0.0, 1.0 - 0.1 * position);
                r.score += r.parts.policy;
                r.preferred = true;
            }
        }
        d.ranked.push_back(r);
    }
    std::sort(d.ranked.begin(), d.ranked.end(), better);
    if (query.lazy_context) verify_top(d, query, a);

    if (rule != nullptr && !rule->prefer.empty() && !d.ranked.empty() &&
        d.ranked.front().model == rule->prefer.front()) {
        d.reason = policy_reason(rule->name);
    } else if (privacy_local) {
        d.reason = privacy_reason(a.privacy);
    } else if (rule != nullptr && !rule->prefer.empty()) {
        // The rule matched but live statistics (errors, latency, load) outweighed its bonus.
        d.reason = "score over " + policy_reason(rule->name);
    } else {
        d.reason = "score";
    }
    return d;
}

RouteDecision Router::chain(std::span<const size_t> ordered, const RouteQuery& query) const {
    const PromptAnalysis& a = query.analysis != nullptr ? *query.analysis : kNoAnalysis;
    RouteDecision d;
    LocalOnly local;
    if (privacy_forces_local(a.privacy, options_)) {
        local.why = LocalOnly::Why::kPrivacy;
        local.privacy = a.privacy;
    }
    d.local_only = local.why != LocalOnly::Why::kNo;
    d.ranked.reserve(ordered.size());
    LazyBound bound(query.prompt_tokens, a.prompt_tokens);
    const RouterWeights weights;
    const Scorer scorer(options_, weights, a, max_price_);
    for (size_t k = 0; k < ordered.size(); ++k) {
        const size_t i = ordered[k];
        if (i >= models_.size()) continue;
        const ModelProfile& m = models_[i];
        const CheckScope scope = k == 0 ? CheckScope::kRequested : CheckScope::kFull;
        // The requested model is checked by the caller's admission; fallbacks lazily when
        // asked (they are only counted if the failover loop reaches them).
        bool unverified = false;
        if (auto why = check_model(m, i, query, a, local, scope, bound,
                                   query.lazy_context && k > 0 ? &unverified : nullptr)) {
            d.rejected.push_back({i, std::move(*why)});
            continue;
        }
        RankedModel r = scorer.score(m, i, query.live);
        r.context_verified = !unverified;
        d.ranked.push_back(r);
    }
    const bool requested_first =
        !ordered.empty() && !d.ranked.empty() && d.ranked.front().model == ordered.front();
    d.reason = requested_first ? "requested" : "fallback";
    return d;
}

}  // namespace switchyard::routing
