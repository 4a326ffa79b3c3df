// CircuitBreaker: one per upstream deployment. Closed: calls flow and outcomes are counted
// over a rolling window. It opens when, within the window, the failure rate reaches a
// threshold over a minimum volume, or after N consecutive failures. Open: calls fail fast
// until the open period (jittered, so breakers opened together do not probe together) has
// passed. Half-open: a few probe calls go through; enough successes close the breaker, any
// failure opens it again.
// Thread safety: all methods may be called from any thread; one mutex per breaker, held for a
// few comparisons (a breaker is per deployment, so unrelated deployments never contend).
// Failure: none; decisions are values. Time comes from the caller (injected clock).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/rolling_window.hpp"

namespace switchyard::resilience {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
std::string_view to_string(BreakerState state);

struct BreakerConfig {
    double failure_rate = 0.5;         // open at this failure fraction over the window ...
    int64_t minimum_calls = 10;        // ... once the window holds at least this many calls
    int64_t consecutive_failures = 5;  // or after this many failures in a row (0 = off)
    int64_t window_ms = 30'000;        // rolling window, kept as 10 buckets
    int64_t open_ms = 30'000;          // how long it stays open before probing
    double open_jitter = 0.2;          // open_ms is stretched by up to this fraction
    int64_t half_open_probes = 3;      // concurrent probes allowed, and successes to close
};

class CircuitBreaker {
public:
    // `jitter_seed` makes the open-period jitter reproducible in tests.
    CircuitBreaker(std::string name, BreakerConfig config, uint64_t jitter_seed = 0);

    // Whether a call may go now. A half-open breaker admits at most half_open_probes calls at
    // a time; each admitted call must report on_success/on_failure (or on_abandoned).
    struct Admission {
        bool allowed = false;
        bool probe = false;       // a half-open probe
        int64_t retry_in_ms = 0;  // when refused: time until the next probe may go
    };
    Admission allow(int64_t now_ms);

    // A state change caused by a reported outcome, for incidents and metrics.
    struct Transition {
        BreakerState from;
        BreakerState to;
        std::string reason;  // "failure rate 60% over 10 calls", "5 consecutive failures", ...
    };
    std::optional<Transition> on_success(int64_t now_ms, bool probe);
    std::optional<Transition> on_failure(int64_t now_ms, bool probe);
    // An admitted call that ended without an upstream verdict (client left): frees a probe.
    void on_abandoned(bool probe);

    struct Snapshot {
        BreakerState state = BreakerState::kClosed;
        int64_t calls = 0;     // in the window
        int64_t failures = 0;  // in the window
        int64_t consecutive_failures = 0;
        int64_t opened_at_ms = -1;
        int64_t next_probe_at_ms = -1;
        int64_t times_opened = 0;
    };
    Snapshot snapshot(int64_t now_ms);
    const std::string& name() const { return name_; }
    const BreakerConfig& config() const { return config_; }

private:
    struct Counts {
        int64_t calls = 0;
        int64_t failures = 0;
    };
    Counts sums(int64_t now_ms) const;  // requires mu_
    void open(int64_t now_ms);          // requires mu_
    void reset_window();                // requires mu_

    const std::string name_;
    const BreakerConfig config_;
    std::mutex mu_;
    BreakerState state_ = BreakerState::kClosed;  // guarded by mu_
    RollingWindow<Counts, 10> window_;            // guarded by mu_
    int64_t consecutive_ = 0;                     // guarded by mu_
    int64_t opened_at_ms_ = -1;                   // guarded by mu_
    int64_t next_probe_at_ms_ = -1;               // guarded by mu_
    int64_t probes_in_flight_ = 0;                // guarded by mu_
    int64_t probe_successes_ = 0;                 // guarded by mu_
    int64_t times_opened_ = 0;                    // guarded by mu_
    uint64_t rng_;                                // guarded by mu_ (jitter)
};

}  // namespace switchyard::resilience
