// Router: turns a prompt analysis into a ranked list of models. Hard constraints first (the
// prompt and its answer fit the context window, required capabilities, privacy, the key's
// allowed models, the model is available and under its concurrency cap), then a score over
// quality for the task, cost, live latency, error rate and load, plus a bonus for the models
// the first matching policy rule prefers (the seed's default policy is such a rule list).
// The result is a ranked candidate list, not one model: the failover loop walks it.
// The router knows models by index into the catalog it was built with; it depends on no
// config or server type (the gateway builds its ModelProfiles from the config).
// Thread safety: a Router is immutable after construction; rank() and chain() are const and
// run on any number of threads at once. Live statistics come in with each query.
// Failure: none; an empty ranking (every model rejected, with reasons) is a value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/routing/prompt_analyzer.hpp"

namespace switchyard::routing {

enum class Capability : uint8_t {
    kChat,
    kCode,
    kReasoning,
    kTools,
    kJson,
    kVision,
    kEmbeddings,
    kFast,
    kPrivate,
};
inline constexpr int kCapabilityCount = 9;
std::string_view to_string(Capability cap);
std::optional<Capability> parse_capability(std::string_view name);
std::optional<TaskType> parse_task_type(std::string_view name);
std::optional<Complexity> parse_complexity(std::string_view name);
std::optional<PrivacyLevel> parse_privacy_level(std::string_view name);

inline constexpr uint32_t capability_bit(Capability c) {
    return 1u << static_cast<int>(c);
}
inline constexpr uint32_t task_bit(TaskType t) {
    return 1u << static_cast<int>(t);
}

// What the router knows about one catalog model.
struct ModelProfile {
    std::string name;
    bool local = false;
    int64_t context_window = 0;  // prompt + answer; 0 = unknown (not checked)
    double input_per_1m_usd = 0;
    double output_per_1m_usd = 0;
    uint32_t capabilities = 0;  // capability_bit() per Capability
    // Quality 0..1 per TaskType (indexed by its value). Unset entries are derived from the
    // capabilities by default_quality().
    std::array<float, kTaskTypeCount> quality{};
    int64_t max_concurrency = 0;  // in-flight calls over all deployments; 0 = unlimited

    bool has(Capability c) const { return (capabilities & capability_bit(c)) != 0; }
};

// Quality a model gets for `task` when the config gives none: 0.8 when it has the matching
// capability (code for kCode, reasoning for kReasoning, ...), 0.6 for a general chat model.
float default_quality(uint32_t capabilities, TaskType task);

// A model's live state, aggregated over its deployments by the caller.
struct ModelLive {
    double ttft_ms = -1;    // EWMA of time to first token; < 0 = no samples yet
    double total_ms = -1;   // EWMA of whole-call time; < 0 = no samples yet
    double error_rate = 0;  // recent failures / calls, 0..1
    int64_t in_flight = 0;  // calls now running
    bool available = true;  // false: every deployment's circuit breaker is open
};

struct RouterWeights {
    double quality = 1.0;  // times the task quality (0..1), scaled by complexity
    double cost = 0.3;     // times the cost score (1 = free, 0 = the dearest model)
    double latency = 0.2;  // times the latency score (1 = instant, 0 = latency_reference_ms)
    double errors = 1.0;   // minus this times the error rate
    double load = 0.2;     // minus this times the load (in-flight / cap or reference)
    double policy = 1.0;   // added for models the matching policy rule prefers
};

// One rule of the policy: when a request matches, its `prefer` models get the policy bonus
// (the first preferred gets the full bonus, later ones slightly less), and `local_only`
// turns remote models into rejections. First matching rule wins.
struct PolicyRule {
    std::string name;                          // shown as the route reason
    uint32_t tasks = 0;                        // task_bit() per TaskType; 0 = any task
    std::optional<PrivacyLevel> min_privacy;   // privacy >= this; unset = any
    std::optional<Complexity> max_complexity;  // complexity <= this; unset = any
    std::optional<Complexity> min_complexity;  // complexity >= this; unset = any
    int64_t max_prompt_tokens = 0;             // prompt tokens <= this; 0 = any
    std::vector<size_t> prefer;                // model indices, best first
    bool local_only = false;
};

// "auto", or a named route alias from the config (e.g. "route/cheap").
struct RouteProfile {
    std::string name = "auto";
    std::vector<size_t> models;  // candidate set, by index; empty = the whole catalog
    bool local_only = false;
    bool use_policy = true;
    RouterWeights weights;
};

struct RouterOptions {
    // Prompts whose privacy level is at or above this never go to a remote model.
    PrivacyLevel local_only_at = PrivacyLevel::kPersonal;
    double latency_reference_ms = 10'000;  // an EWMA this slow scores 0 on latency
    int64_t load_reference = 32;           // in-flight count of full load when max_concurrency is 0
    std::vector<PolicyRule> policy;
};

// Per-request prompt sizes: the prompt's token count in model `index`'s own vocabulary.
// The caller memoises per vocabulary, so each vocabulary counts the prompt at most once;
// the router asks only for models whose context window could be too small.
class PromptTokens {
public:
    virtual ~PromptTokens() = default;
    virtual int64_t for_model(size_t index) = 0;
    // A cheap upper bound for every model (e.g. UTF-8 bytes + framing): when the bound fits,
    // the router does not count.
    virtual int64_t upper_bound() = 0;
};

struct RouteQuery {
    const PromptAnalysis* analysis = nullptr;
    int64_t completion_tokens = 0;  // max_tokens, or the allowance reserved for the answer
    PromptTokens* prompt_tokens = nullptr;
    std::span<const ModelLive> live;   // per catalog model; empty = no live data
    std::span<const uint8_t> allowed;  // per catalog model, 0 = the key may not; empty = all
    // Count exactly only where it decides the outcome: rank() verifies the context window of
    // the ranked candidates top down until one certainly fits; those below it keep
    // context_verified = false and the caller checks them before calling them. false: every
    // candidate whose window the upper bound cannot clear is counted.
    bool lazy_context = false;
};

struct ScoreParts {
    double quality = 0;
    double cost = 0;
    double latency = 0;
    double errors = 0;  // already negative
    double load = 0;    // already negative
    double policy = 0;
};

struct RankedModel {
    size_t model = 0;
    double score = 0;
    ScoreParts parts;
    bool preferred = false;        // named by the matching policy rule
    bool context_verified = true;  // false: the window may be too small (lazy_context)
};

struct RejectedModel {
    size_t model = 0;
    std::string reason;  // "context window 4096 < 5210 tokens", "circuit open", ...
};

struct RouteDecision {
    std::vector<RankedModel> ranked;  // best first
    std::vector<RejectedModel> rejected;
    std::string rule;    // the matching policy rule's name; empty when none matched
    std::string reason;  // short, header-safe: "policy code-and-reasoning", "privacy personal:
                         // local only", "score"
    bool local_only = false;
};

class Router {
public:
    Router(std::vector<ModelProfile> models, RouterOptions options);

    // Ranks the route's candidate models for a request.
    RouteDecision rank(const RouteProfile& route, const RouteQuery& query) const;

    // The chain for an explicitly named model: `ordered` (the model, then its configured
    // fallbacks) kept in order, minus those failing hard constraints. The named model itself
    // is only dropped for the key's allow-list and capabilities (the caller asked for it);
    // fallbacks also obey the context window and privacy. Scores are computed with the default
    // weights and no policy (for display); `reason` is "requested", or "fallback" when the
    // named model was dropped.
    RouteDecision chain(std::span<const size_t> ordered, const RouteQuery& query) const;

    // Whether model `index` can take the request (nullopt) or why not.
    std::optional<std::string> check(size_t index, const RouteQuery& query, bool local_only) const;

    const std::vector<ModelProfile>& models() const { return models_; }
    const RouterOptions& options() const { return options_; }

private:
    const PolicyRule* match_policy(const PromptAnalysis& analysis) const;
    void verify_top(RouteDecision& decision, const RouteQuery& query,
                    const PromptAnalysis& analysis) const;

    std::vector<ModelProfile> models_;
    RouterOptions options_;
    double max_price_ = 0;  // dearest blended price in the catalog, for the cost score
};

}  // namespace switchyard::routing
