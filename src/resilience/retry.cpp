#include "switchyard/resilience/retry.hpp"

#include <algorithm>
#include <cmath>

namespace switchyard::resilience {

std::optional<int64_t> RetryPolicy::backoff_ms(int64_t attempt, double unit,
                                               std::optional<int64_t> retry_after_ms,
                                               int64_t now_ms, int64_t deadline_ms) const {
    if (attempt < 1 || attempt >= config_.max_attempts) return std::nullopt;
    if (retry_after_ms && *retry_after_ms > config_.max_retry_after_ms) return std::nullopt;
    // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform over
    // [0, min(cap, base * 2^(attempt-1))).
    const int shift = static_cast<int>(std::min<int64_t>(attempt - 1, 30));
    const int64_t ceiling = std::min(config_.max_delay_ms, config_.base_delay_ms << shift);
    int64_t wait = static_cast<int64_t>(
        std::floor(std::clamp(unit, 0.0, 0.999999) * static_cast<double>(ceiling)));
    if (retry_after_ms) wait = std::max(wait, *retry_after_ms);
    if (now_ms + wait >= deadline_ms) return std::nullopt;
    return wait;
}

RetryBudget::Counts RetryBudget::sums(int64_t now_ms) const {
    Counts total;
    window_.for_each(now_ms, [&](int64_t, const Counts& c) {
        total.requests += c.requests;
        total.retries += c.retries;
    });
    return total;
}

void RetryBudget::on_request(int64_t now_ms) {
    std::lock_guard lock(mu_);
    ++window_.at(now_ms).requests;
}

bool RetryBudget::try_retry(int64_t now_ms) {
    std::lock_guard lock(mu_);
    const auto [requests, retries] = sums(now_ms);
    const double allowed =
        config_.budget_ratio * static_cast<double>(requests) +
        static_cast<double>(config_.budget_min_per_s * config_.budget_window_ms) / 1000.0;
    if (static_cast<double>(retries + 1) > allowed) {
        ++refused_;
        return false;
    }
    ++window_.at(now_ms).retries;
    return true;
}

RetryBudget::Snapshot RetryBudget::snapshot(int64_t now_ms) {
    std::lock_guard lock(mu_);
    Snapshot s;
    const Counts c = sums(now_ms);
    s.requests = c.requests;
    s.retries = c.retries;
    s.refused = refused_;
    return s;
}

}  // namespace switchyard::resilience
