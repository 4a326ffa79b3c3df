#include "switchyard/resilience/circuit_breaker.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace switchyard::resilience {
namespace {

// splitmix64: a small, fast, seedable generator for jitter.
uint64_t next_random(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

std::string_view to_string(BreakerState state) {
    switch (state) {
        case BreakerState::kClosed:
            return "closed";
        case BreakerState::kOpen:
            return "open";
        case BreakerState::kHalfOpen:
            return "half_open";
    }
    return "closed";
}

CircuitBreaker::CircuitBreaker(std::string name, BreakerConfig config, uint64_t jitter_seed)
    : name_(std::move(name)), config_(config), window_(config.window_ms), rng_(jitter_seed) {}

CircuitBreaker::Counts CircuitBreaker::sums(int64_t now_ms) const {
    Counts total;
    window_.for_each(now_ms, [&](int64_t, const Counts& c) {
        total.calls += c.calls;
        total.failures += c.failures;
    });
    return total;
}

void CircuitBreaker::reset_window() {
    window_.clear();
    consecutive_ = 0;
}

void CircuitBreaker::open(int64_t now_ms) {
    state_ = BreakerState::kOpen;
    opened_at_ms_ = now_ms;
    const double unit = static_cast<double>(next_random(rng_) >> 11) * 0x1.0p-53;  // [0, 1)
    const auto jitter =
        static_cast<int64_t>(static_cast<double>(config_.open_ms) * config_.open_jitter * unit);
    next_probe_at_ms_ = now_ms + config_.open_ms + jitter;
    probes_in_flight_ = 0;
    probe_successes_ = 0;
    ++times_opened_;
}

CircuitBreaker::Admission CircuitBreaker::allow(int64_t now_ms) {
    std::lock_guard lock(mu_);
    if (state_ == BreakerState::kClosed) return {true, false, 0};
    if (state_ == BreakerState::kOpen) {
        if (now_ms < next_probe_at_ms_) return {false, false, next_probe_at_ms_ - now_ms};
        state_ = BreakerState::kHalfOpen;  // the open period is over: probe
        probes_in_flight_ = 0;
        probe_successes_ = 0;
    }
    // Probes are out: the verdict is at most one call away; ask callers to come back soon
    // rather than at once.
    if (probes_in_flight_ >= config_.half_open_probes) {
        return {false, false, std::max<int64_t>(1, config_.open_ms / 10)};
    }
    ++probes_in_flight_;
    return {true, true, 0};
}

std::optional<CircuitBreaker::Transition> CircuitBreaker::on_success(int64_t now_ms, bool probe) {
    std::lock_guard lock(mu_);
    if (probe) {
        probes_in_flight_ = std::max<int64_t>(0, probes_in_flight_ - 1);
        if (state_ != BreakerState::kHalfOpen) return std::nullopt;
        if (++probe_successes_ >= config_.half_open_probes) {
            state_ = BreakerState::kClosed;
            reset_window();
            return Transition{BreakerState::kHalfOpen, BreakerState::kClosed,
                              fmt::format("{} probes succeeded", probe_successes_)};
        }
        return std::nullopt;
    }
    if (state_ != BreakerState::kClosed) return std::nullopt;  // a straggler from before
    ++window_.at(now_ms).calls;
    consecutive_ = 0;
    return std::nullopt;
}

std::optional<CircuitBreaker::Transition> CircuitBreaker::on_failure(int64_t now_ms, bool probe) {
    std::lock_guard lock(mu_);
    if (probe) {
        probes_in_flight_ = std::max<int64_t>(0, probes_in_flight_ - 1);
        if (state_ != BreakerState::kHalfOpen) return std::nullopt;
        open(now_ms);
        return Transition{BreakerState::kHalfOpen, BreakerState::kOpen, "a probe failed"};
    }
    if (state_ != BreakerState::kClosed) return std::nullopt;
    Counts& b = window_.at(now_ms);
    ++b.calls;
    ++b.failures;
    ++consecutive_;
    if (config_.consecutive_failures > 0 && consecutive_ >= config_.consecutive_failures) {
        const int64_t n = consecutive_;
        open(now_ms);
        reset_window();
        return Transition{BreakerState::kClosed, BreakerState::kOpen,
                          fmt::format("{} consecutive failures", n)};
    }
    const auto [calls, failures] = sums(now_ms);
    if (calls >= config_.minimum_calls &&
        static_cast<double>(failures) >= config_.failure_rate * static_cast<double>(calls)) {
        open(now_ms);
        reset_window();
        return Transition{
            BreakerState::kClosed, BreakerState::kOpen,
            fmt::format("failure rate {:.0f}% over {} calls",
                        100.0 * static_cast<double>(failures) / static_cast<double>(calls), calls)};
    }
    return std::nullopt;
}

void CircuitBreaker::on_abandoned(bool probe) {
    if (!probe) return;
    std::lock_guard lock(mu_);
    probes_in_flight_ = std::max<int64_t>(0, probes_in_flight_ - 1);
}

CircuitBreaker::Snapshot CircuitBreaker::snapshot(int64_t now_ms) {
    std::lock_guard lock(mu_);
    Snapshot s;
    s.state = state_;
    if (state_ == BreakerState::kOpen && now_ms >= next_probe_at_ms_) {
        s.state = BreakerState::kHalfOpen;  // the next allow() will probe
    }
    const Counts c = sums(now_ms);
    s.calls = c.calls;
    s.failures = c.failures;
    s.consecutive_failures = consecutive_;
    s.opened_at_ms = opened_at_ms_;
    s.next_probe_at_ms = next_probe_at_ms_;
    s.times_opened = times_opened_;
    return s;
}

}  // namespace switchyard::resilience
