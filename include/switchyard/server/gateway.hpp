// The gateway pipeline the HTTP routes call: resolve the requested model in the catalog and
// call its provider. Later stages (auth, budgets, cache, routing, failover, quality, ledger)
// are wired here, in one place, each behind its own interface.
// Thread safety: immutable after construction; shared by all worker threads.
// Failure: unknown models are a kModelNotFound Error; provider failures pass through.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/providers/provider.hpp"
#include "switchyard/server/keys.hpp"
#include "switchyard/server/metrics.hpp"
#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/ledger.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"

namespace switchyard {

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

    // The model named `model` (404 model_not_found naming the served models if unknown).
    Result<Target> resolve(std::string_view model) const;

    // How the catalog's model at `index` counts tokens.
    struct ModelTokens {
        std::string_view vocabulary;
        const tokens::Tokenizer* tokenizer = nullptr;
        tokens::ChatFamily family = tokens::ChatFamily::kOpenAI;
    };
    const ModelTokens& model_tokens(size_t index) const { return model_tokens_[index]; }

    int64_t now_ms() const { return clock_(); }
    tokens::UsageLedger& ledger() { return *ledger_; }
    KeyRing& keys() { return *keys_; }
    tokens::Budget* global_budget() { return global_budget_.get(); }  // null when none
    // Threads for blocking work (SQLite queries of admin endpoints), never the io threads.
    net::thread_pool& blocking_pool() { return blocking_pool_; }

private:
    void render_accounting_gauges(std::string& out);

    Config config_;
    Clock clock_;
    std::vector<std::unique_ptr<Provider>> providers_;  // parallel to config_.models
    tokens::TokenizerRegistry tokenizers_;
    std::vector<ModelTokens> model_tokens_;  // parallel to config_.models
    std::unique_ptr<tokens::UsageLedger> ledger_;
    std::unique_ptr<KeyRing> keys_;
    std::unique_ptr<tokens::Budget> global_budget_;
    net::thread_pool blocking_pool_{2};
    Metrics metrics_;
    UpstreamTimeouts timeouts_;
    int64_t started_unix_ = 0;
};

int resolved_thread_count(const ServerConfig& server);

}  // namespace switchyard
