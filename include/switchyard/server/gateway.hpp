// The gateway pipeline the HTTP routes call: resolve the requested model in the catalog and
// call its provider. Later stages (auth, budgets, cache, routing, failover, quality, ledger)
// are wired here, in one place, each behind its own interface.
// Thread safety: immutable after construction; shared by all worker threads.
// Failure: unknown models are a kModelNotFound Error; provider failures pass through.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "switchyard/cache/response_cache.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/providers/provider.hpp"
#include "switchyard/resilience/circuit_breaker.hpp"
#include "switchyard/resilience/incidents.hpp"
#include "switchyard/resilience/retry.hpp"
#include "switchyard/resilience/upstream_stats.hpp"
#include "switchyard/routing/prompt_analyzer.hpp"
#include "switchyard/routing/router.hpp"
#include "switchyard/server/keys.hpp"
#include "switchyard/server/metrics.hpp"
#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/ledger.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"

namespace switchyard {

// One endpoint serving a catalog model: its provider, circuit breaker, live statistics and
// in-flight count. Shared by all worker threads (breaker and stats lock internally).
struct Deployment {
    Deployment(size_t model_index, std::string deployment_name, ModelConfig deployment_config,
               const Config& config, uint64_t seed);

    std::string name;
    size_t model = 0;    // catalog index
    ModelConfig config;  // the model's config with this deployment's base_url and key
    std::unique_ptr<Provider> provider;
    resilience::CircuitBreaker breaker;
    resilience::UpstreamStats stats;
    std::atomic<int64_t> in_flight{0};
    double weight = 1.0;
};

// pick_deployment() considers at most this many deployments per model (config refuses more).
inline constexpr size_t kMaxDeployments = 64;

class SingleFlight;  // server-private (src/server/single_flight.hpp)
class RagService;    // server-private (src/server/rag_service.hpp)

class Gateway {
public:
    using Clock = std::function<int64_t()>;  // unix milliseconds

    // Loads the tokenizers the catalog needs, opens the ledger and the key table. Throws
    // std::runtime_error (missing vocabulary data, unusable database) at start-up.
    explicit Gateway(Config config, Clock clock = {});
    ~Gateway();  // flushes the ledger

    struct Target {
        const ModelConfig* model = nullptr;
        Provider* provider = nullptr;
        size_t index = 0;  // position in the catalog (metrics)
    };

    const Config& config() const { return config_; }
    Metrics& metrics() { return metrics_; }
    UpstreamTimeouts timeouts() const { return timeouts_; }
    int64_t started_unix() const { return started_unix_; }

    // The model named `model` (404 model_not_found naming the served models if unknown),
    // with its first deployment's provider.
    Result<Target> resolve(std::string_view model) const;
    // The target for a call on deployment `d`.
    static Target target_of(Deployment& d) { return Target{&d.config, d.provider.get(), d.model}; }

    // ---- routing and failover
    // "auto" or a route alias; null for anything else.
    const routing::RouteProfile* route(std::string_view name) const;
    // The failover chain of an explicitly named model: itself, then its fallbacks.
    std::span<const size_t> chain_of(size_t model) const { return chains_[model]; }
    const routing::Router& router() const { return *router_; }
    const routing::PromptAnalyzer& analyzer() const { return analyzer_; }
    // Live state per catalog model, aggregated over its deployments.
    void live_models(std::vector<routing::ModelLive>& out);

    const std::vector<std::unique_ptr<Deployment>>& deployments() const { return deployments_; }
    std::span<Deployment* const> deployments_of(size_t model) const { return by_model_[model]; }
    // Calls in flight over all deployments of `model`.
    int64_t model_in_flight(size_t model) const {
        int64_t n = 0;
        for (const Deployment* d : by_model_[model])
            n += d->in_flight.load(std::memory_order_relaxed);
        return n;
    }
    // A deployment of `model` whose breaker admits a call now, skipping those whose position
    // bit is set in `skip`: the least loaded by in-flight / weight, ties broken by a weighted
    // draw with `unit` in [0, 1). No deployment: every breaker is open (retry_in_ms says when
    // the first probe may go) or all are skipped.
    struct Pick {
        Deployment* deployment = nullptr;
        size_t position = 0;
        bool probe = false;
        int64_t retry_in_ms = -1;  // -1 when nothing was refused by a breaker
    };
    Pick pick_deployment(size_t model, uint64_t skip, double unit, int worker);
    // Outcome of a call on a picked deployment: breaker, live stats, incidents, metrics.
    // `breaker_reported`: the breaker already had this call's verdict (report_first_byte).
    void report_success(Deployment& d, bool probe, double ttft_ms, double total_ms,
                        int64_t output_tokens, int worker, bool breaker_reported = false);
    // A stream's first event arrived: the breaker's verdict (a half-open probe slot is freed
    // now, not when a long stream ends). Statistics follow with report_success/failure.
    void report_first_byte(Deployment& d, bool probe, int worker);
    void report_failure(Deployment& d, bool probe, const Error& error, double elapsed_ms,
                        int worker);
    void report_abandoned(Deployment& d, bool probe);

    const resilience::RetryPolicy& retry_policy() const { return retry_policy_; }
    resilience::RetryBudget& retry_budget() { return retry_budget_; }
    resilience::IncidentLog& incidents() { return *incidents_; }
    int64_t steady_ms() const;  // monotonic milliseconds, for breakers and deadlines

    // The exact response cache; null when cache.enabled is false.
    cache::ResponseCache* response_cache() const { return cache_.get(); }
    SingleFlight& flights() { return *flights_; }
    // The RAG engine (/v1/rag/*, the chat `rag` field); null when rag.enabled is false.
    RagService* rag() const { return rag_.get(); }

    // How the catalog's model at `index` counts tokens.
    struct ModelTokens {
        std::string_view vocabulary;
        const tokens::Tokenizer* tokenizer = nullptr;
        tokens::ChatFamily family = tokens::ChatFamily::kOpenAI;
    };
    const ModelTokens& model_tokens(size_t index) const { return model_tokens_[index]; }
    // Every vocabulary, loaded on first use (thread-safe).
    tokens::TokenizerRegistry& tokenizers() { return tokenizers_; }

    int64_t now_ms() const { return clock_(); }
    tokens::UsageLedger& ledger() { return *ledger_; }
    KeyRing& keys() { return *keys_; }
    tokens::Budget* global_budget() { return global_budget_.get(); }  // null when none
    // Threads for blocking work (SQLite queries of admin endpoints), never the io threads.
    net::thread_pool& blocking_pool() { return blocking_pool_; }

private:
    void render_accounting_gauges(std::string& out);
    void render_routing_gauges(std::string& out);
    void build_routing();
    // Loads the persisted response cache (cache.persist_path) and re-indexes its prompts in
    // the semantic cache. Start-up only.
    void warm_cache();
    void note_transition(Deployment& d, const resilience::CircuitBreaker::Transition& t,
                         int worker);

    Config config_;
    Clock clock_;
    tokens::TokenizerRegistry tokenizers_;
    std::vector<ModelTokens> model_tokens_;  // parallel to config_.models
    std::unique_ptr<tokens::UsageLedger> ledger_;
    std::unique_ptr<KeyRing> keys_;
    std::unique_ptr<tokens::Budget> global_budget_;
    net::thread_pool blocking_pool_{2};
    Metrics metrics_;
    std::vector<std::unique_ptr<Deployment>> deployments_;
    std::vector<std::vector<Deployment*>> by_model_;  // parallel to config_.models
    std::vector<std::vector<size_t>> chains_;         // parallel to config_.models
    routing::PromptAnalyzer analyzer_;
    std::unique_ptr<routing::Router> router_;
    std::vector<routing::RouteProfile> routes_;  // [0] = auto, then the aliases
    resilience::RetryPolicy retry_policy_;
    resilience::RetryBudget retry_budget_;
    std::unique_ptr<resilience::IncidentLog> incidents_;
    std::unique_ptr<cache::ResponseCache> cache_;
    std::unique_ptr<SingleFlight> flights_;
    std::unique_ptr<RagService> rag_;
    UpstreamTimeouts timeouts_;
    int64_t started_unix_ = 0;
};

int resolved_thread_count(const ServerConfig& server);

}  // namespace switchyard
