#include "switchyard/resilience/upstream_stats.hpp"

#include <algorithm>
#include <cmath>

namespace switchyard::resilience {
namespace {

double ewma(double current, double sample, double alpha) {
    return current < 0 ? sample : current + alpha * (sample - current);
}

}  // namespace

int UpstreamStats::bucket(double ms) {
    if (ms <= 1) return 0;
    const int i = static_cast<int>(std::ceil(4.0 * std::log2(ms)));
    return std::clamp(i, 0, kBuckets - 1);
}

double UpstreamStats::bucket_upper_ms(int index) {
    return std::exp2(static_cast<double>(index) / 4.0);
}

void UpstreamStats::on_success(double ttft_ms, double total_ms, int64_t output_tokens) {
    std::lock_guard lock(mu_);
    ttft_ = ewma(ttft_, ttft_ms, alpha_);
    total_ = ewma(total_, total_ms, alpha_);
    error_rate_ += alpha_ * (0.0 - error_rate_);
    const double gen_ms = total_ms - ttft_ms;
    if (output_tokens > 1 && gen_ms > 0) {
        tokens_per_s_ =
            ewma(tokens_per_s_, static_cast<double>(output_tokens) * 1000.0 / gen_ms, alpha_);
    }
    ++successes_;
    ++histogram_[static_cast<size_t>(bucket(total_ms))];
}

void UpstreamStats::on_failure(double) {
    std::lock_guard lock(mu_);
    error_rate_ += alpha_ * (1.0 - error_rate_);
    ++failures_;
}

double UpstreamStats::percentile(double q) const {
    int64_t n = 0;
    for (int64_t c : histogram_)
        n += c;
    if (n == 0) return -1;
    const auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(n)));
    int64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        seen += histogram_[static_cast<size_t>(i)];
        if (seen >= rank) return bucket_upper_ms(i);
    }
    return bucket_upper_ms(kBuckets - 1);
}

UpstreamStats::Snapshot UpstreamStats::snapshot() const {
    std::lock_guard lock(mu_);
    Snapshot s;
    s.ttft_ms = ttft_;
    s.total_ms = total_;
    s.error_rate = error_rate_;
    s.tokens_per_s = tokens_per_s_;
    s.successes = successes_;
    s.failures = failures_;
    s.p50_ms = percentile(0.50);
    s.p95_ms = percentile(0.95);
    s.p99_ms = percentile(0.99);
    return s;
}

}  // namespace switchyard::resilience
