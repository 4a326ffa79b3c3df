// Retries: how long to wait before the next attempt (exponential backoff with full jitter,
// at least what the upstream's Retry-After asks, never past the request's deadline), and a
// retry budget so retries cannot multiply load during an outage (retries may add at most a
// fraction of the recent first attempts, plus a small floor per second).
// Thread safety: RetryPolicy is immutable; backoff_ms() takes the caller's random source.
// RetryBudget may be used from any thread (one mutex, a few operations).
// Failure: none; decisions are values.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

#include "switchyard/core/rolling_window.hpp"

namespace switchyard::resilience {

struct RetryConfig {
    int64_t max_attempts = 3;      // attempts per model, first one included
    int64_t base_delay_ms = 100;   // backoff before retry n: uniform in [0, min(cap, base*2^n))
    int64_t max_delay_ms = 5'000;  // cap of one backoff
    int64_t max_retry_after_ms = 30'000;  // a longer Retry-After means: fail over instead
    double budget_ratio = 0.2;            // retries may add at most this fraction of first attempts
    int64_t budget_min_per_s = 3;         // ... plus this many per second regardless
    int64_t budget_window_ms = 10'000;
};

class RetryPolicy {
public:
    explicit RetryPolicy(RetryConfig config) : config_(config) {}

    // The wait before attempt number `attempt` (1 = the first retry), given a uniform random
    // `unit` in [0, 1) and the upstream's Retry-After (ms) if it sent one. nullopt: do not wait
    // here (the attempts are used up, the wait would pass `deadline_ms`, or Retry-After is
    // longer than max_retry_after_ms); the caller fails over to the next candidate instead.
    std::optional<int64_t> backoff_ms(int64_t attempt, double unit,
                                      std::optional<int64_t> retry_after_ms, int64_t now_ms,
                                      int64_t deadline_ms) const;
    const RetryConfig& config() const { return config_; }

private:
    RetryConfig config_;
};

class RetryBudget {
public:
    explicit RetryBudget(RetryConfig config) : config_(config), window_(config.budget_window_ms) {}

    // Counts a first attempt (a new request).
    void on_request(int64_t now_ms);
    // Takes one retry from the budget if there is one.
    bool try_retry(int64_t now_ms);

    struct Snapshot {
        int64_t requests = 0;
        int64_t retries = 0;
        int64_t refused = 0;  // retries the budget refused, ever
    };
    Snapshot snapshot(int64_t now_ms);

private:
    struct Counts {
        int64_t requests = 0;
        int64_t retries = 0;
    };
    Counts sums(int64_t now_ms) const;  // requires mu_

    const RetryConfig config_;
    std::mutex mu_;
    RollingWindow<Counts, 10> window_;  // guarded by mu_
    int64_t refused_ = 0;               // guarded by mu_
};

}  // namespace switchyard::resilience
