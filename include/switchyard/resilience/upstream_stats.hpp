// UpstreamStats: live numbers of one deployment for the router and the operators: EWMAs of
// time to first token and whole-call time, a recent error rate, output tokens per second, and
// latency percentiles from a log-bucketed histogram of the calls since start.
// Thread safety: all methods may be called from any thread (one mutex per deployment, held
// for a few arithmetic operations).
// Failure: none.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

namespace switchyard::resilience {

class UpstreamStats {
public:
    // `alpha`: weight of the newest sample in the EWMAs (0 < alpha <= 1).
    explicit UpstreamStats(double alpha = 0.2) : alpha_(alpha) {}

    // A call that answered: time to its first token (= total for non-streamed calls), whole
    // time, and the output tokens it produced (0 = unknown, no tokens/s sample).
    void on_success(double ttft_ms, double total_ms, int64_t output_tokens);
    // A call that failed upstream (timeouts, 5xx, resets, 429s...).
    void on_failure(double elapsed_ms);

    struct Snapshot {
        double ttft_ms = -1;  // EWMA; -1 before the first success
        double total_ms = -1;
        double error_rate = 0;  // EWMA of failure (1) / success (0)
        double tokens_per_s = -1;
        int64_t successes = 0;
        int64_t failures = 0;
        double p50_ms = -1;  // whole-call time of successes since start
        double p95_ms = -1;
        double p99_ms = -1;
    };
    Snapshot snapshot() const;

private:
    static constexpr int kBuckets = 64;  // 2^(i/4) ms upper bounds: 1 ms .. ~65 s
    static int bucket(double ms);
    static double bucket_upper_ms(int index);
    double percentile(double q) const;  // requires mu_

    const double alpha_;
    mutable std::mutex mu_;
    double ttft_ = -1;                           // guarded by mu_
    double total_ = -1;                          // guarded by mu_
    double error_rate_ = 0;                      // guarded by mu_
    double tokens_per_s_ = -1;                   // guarded by mu_
    int64_t successes_ = 0;                      // guarded by mu_
    int64_t failures_ = 0;                       // guarded by mu_
    std::array<int64_t, kBuckets> histogram_{};  // guarded by mu_
};

}  // namespace switchyard::resilience
