// The gateway pipeline the HTTP routes call: resolve the requested model in the catalog and
// call its provider. Later stages (auth, budgets, cache, routing, failover, quality, ledger)
// are wired here, in one place, each behind its own interface.
// Thread safety: immutable after construction; shared by all worker threads.
// Failure: unknown models are a kModelNotFound Error; provider failures pass through.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/providers/provider.hpp"
#include "switchyard/server/metrics.hpp"

namespace switchyard {

class Gateway {
public:
    explicit Gateway(Config config);

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

private:
    Config config_;
    std::vector<std::unique_ptr<Provider>> providers_;  // parallel to config_.models
    Metrics metrics_;
    UpstreamTimeouts timeouts_;
    int64_t started_unix_ = 0;
};

int resolved_thread_count(const ServerConfig& server);

}  // namespace switchyard
