// Circuit breakers, backoff and the retry budget, driven by a hand-moved clock.
#include <gtest/gtest.h>

#include "switchyard/core/error.hpp"
#include "switchyard/resilience/circuit_breaker.hpp"
#include "switchyard/resilience/retry.hpp"
#include "switchyard/resilience/upstream_stats.hpp"

using namespace switchyard::resilience;

namespace {

BreakerConfig config() {
    BreakerConfig c;
    c.failure_rate = 0.5;
    c.minimum_calls = 10;
    c.consecutive_failures = 5;
    c.window_ms = 10'000;
    c.open_ms = 1'000;
    c.open_jitter = 0;
    c.half_open_probes = 2;
    return c;
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresAndFailsFast) {
    CircuitBreaker b("mock-gpt@http://127.0.0.1", config());
    int64_t t = 1'000'000;
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(b.allow(t).allowed);
        EXPECT_FALSE(b.on_failure(t, false));
    }
    auto tr = b.on_failure(t, false);
    ASSERT_TRUE(tr);
    EXPECT_EQ(tr->from, BreakerState::kClosed);
    EXPECT_EQ(tr->to, BreakerState::kOpen);
    EXPECT_EQ(tr->reason, "5 consecutive failures");
    auto refused = b.allow(t + 400);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_in_ms, 600);
    EXPECT_EQ(b.snapshot(t + 400).state, BreakerState::kOpen);
}

TEST(CircuitBreaker, OpensOnFailureRateOnlyOverTheMinimumVolume) {
    auto c = config();
    c.consecutive_failures = 0;
    CircuitBreaker b("d", c);
    int64_t t = 0;
    // 4 failures of 8 calls: 50 %, but under the minimum of 10 calls.
    for (int i = 0; i < 8; ++i) {
        auto tr = i % 2 ? b.on_failure(t, false) : b.on_success(t, false);
        EXPECT_FALSE(tr);
    }
    EXPECT_FALSE(b.on_success(t, false));  // 9 calls, 4 failures
    auto tr = b.on_failure(t, false);      // 10 calls, 5 failures: 50 %
    ASSERT_TRUE(tr);
    EXPECT_EQ(tr->reason, "failure rate 50% over 10 calls");
}

TEST(CircuitBreaker, OldFailuresLeaveTheWindow) {
    auto c = config();
    c.consecutive_failures = 0;
    CircuitBreaker b("d", c);
    for (int i = 0; i < 9; ++i)
        EXPECT_FALSE(b.on_failure(0, false));
    // Eleven seconds later the old failures are out of the 10 s window.
    EXPECT_FALSE(b.on_failure(11'000, false));
    EXPECT_EQ(b.snapshot(11'000).calls, 1);
}

TEST(CircuitBreaker, HalfOpenLetsAFewProbesThroughThenClosesOrReopens) {
    CircuitBreaker b("d", config());
    for (int i = 0; i < 5; ++i)
        b.on_failure(0, false);
    ASSERT_FALSE(b.allow(999).allowed);
    auto p1 = b.allow(1'000);
    auto p2 = b.allow(1'000);
    auto p3 = b.allow(1'000);
    EXPECT_TRUE(p1.allowed && p1.probe);
    EXPECT_TRUE(p2.allowed && p2.probe);
    EXPECT_FALSE(p3.allowed);  // two probes at a time
    EXPECT_FALSE(b.on_success(1'010, true));
    auto closed = b.on_success(1'020, true);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->to, BreakerState::kClosed);
    EXPECT_TRUE(b.allow(1'030).allowed);
    EXPECT_FALSE(b.allow(1'030).probe);

    // Open again; this time a probe fails and it reopens for another period.
    for (int i = 0; i < 5; ++i)
        b.on_failure(2'000, false);
    auto probe = b.allow(3'000);
    ASSERT_TRUE(probe.probe);
    auto reopened = b.on_failure(3'010, true);
    ASSERT_TRUE(reopened);
    EXPECT_EQ(reopened->from, BreakerState::kHalfOpen);
    EXPECT_EQ(reopened->to, BreakerState::kOpen);
    EXPECT_FALSE(b.allow(3'500).allowed);
    EXPECT_EQ(b.snapshot(3'500).times_opened, 3);  // t=0, t=2000, and the failed probe
}

TEST(CircuitBreaker, AbandonedProbesFreeTheirSlot) {
    CircuitBreaker b("d", config());
    for (int i = 0; i < 5; ++i)
        b.on_failure(0, false);
    ASSERT_TRUE(b.allow(1'000).probe);
    ASSERT_TRUE(b.allow(1'000).probe);
    ASSERT_FALSE(b.allow(1'000).allowed);
    b.on_abandoned(true);
    EXPECT_TRUE(b.allow(1'000).allowed);
}

TEST(CircuitBreaker, OpenPeriodIsJitteredWithinItsBound) {
    auto c = config();
    c.open_jitter = 0.5;
    for (uint64_t seed = 1; seed < 50; ++seed) {
        CircuitBreaker b("d", c, seed);
        for (int i = 0; i < 5; ++i)
            b.on_failure(0, false);
        const auto s = b.snapshot(0);
        EXPECT_GE(s.next_probe_at_ms, 1'000);
        EXPECT_LT(s.next_probe_at_ms, 1'500);
    }
}

TEST(RetryPolicy, FullJitterBackoffGrowsToTheCap) {
    RetryConfig c;
    c.max_attempts = 10;
    c.base_delay_ms = 100;
    c.max_delay_ms = 1'000;
    RetryPolicy p(c);
    const int64_t far = 1'000'000;
    EXPECT_EQ(p.backoff_ms(1, 0.0, {}, 0, far), 0);
    EXPECT_EQ(p.backoff_ms(1, 0.5, {}, 0, far), 50);
    EXPECT_EQ(p.backoff_ms(2, 0.5, {}, 0, far), 100);
    EXPECT_EQ(p.backoff_ms(3, 0.5, {}, 0, far), 200);
    EXPECT_EQ(p.backoff_ms(9, 0.5, {}, 0, far), 500);  // capped at 1000
    EXPECT_LT(*p.backoff_ms(9, 0.999999, {}, 0, far), 1'000);
}

TEST(RetryPolicy, HonoursRetryAfterAttemptsAndTheDeadline) {
    RetryConfig c;
    c.max_attempts = 3;
    c.max_retry_after_ms = 10'000;
    RetryPolicy p(c);
    EXPECT_EQ(p.backoff_ms(1, 0.1, 2'000, 0, 60'000), 2'000);  // at least Retry-After
    EXPECT_FALSE(p.backoff_ms(1, 0.1, 20'000, 0, 60'000));     // too long: fail over
    EXPECT_FALSE(p.backoff_ms(1, 0.1, 2'000, 0, 1'500));       // would pass the deadline
    EXPECT_TRUE(p.backoff_ms(2, 0.1, {}, 0, 60'000));
    EXPECT_FALSE(p.backoff_ms(3, 0.1, {}, 0, 60'000));  // 3 attempts used
}

TEST(RetryBudget, RetriesAreCappedToAFractionOfTrafficPlusAFloor) {
    RetryConfig c;
    c.budget_ratio = 0.2;
    c.budget_min_per_s = 1;
    c.budget_window_ms = 10'000;
    RetryBudget b(c);
    for (int i = 0; i < 100; ++i)
        b.on_request(0);
    // 0.2 * 100 + 1/s * 10 s = 30 retries in the window.
    int granted = 0;
    for (int i = 0; i < 100; ++i)
        granted += b.try_retry(0) ? 1 : 0;
    EXPECT_EQ(granted, 30);
    EXPECT_EQ(b.snapshot(0).refused, 70);
    // Once the window has moved on, the budget is available again.
    for (int i = 0; i < 10; ++i)
        b.on_request(20'000);
    EXPECT_TRUE(b.try_retry(20'000));
}

TEST(UpstreamStats, EwmasPercentilesAndErrorRate) {
    UpstreamStats s(0.5);
    auto snap = s.snapshot();
    EXPECT_LT(snap.total_ms, 0);  // no samples yet: the router scores it neutral
    EXPECT_LT(snap.p50_ms, 0);
    s.on_success(10, 100, 91);  // 90 tokens after the first in 90 ms
    snap = s.snapshot();
    EXPECT_DOUBLE_EQ(snap.ttft_ms, 10);
    EXPECT_DOUBLE_EQ(snap.total_ms, 100);
    EXPECT_NEAR(snap.tokens_per_s, 1011.1, 0.1);
    s.on_success(30, 300, 0);
    snap = s.snapshot();
    EXPECT_DOUBLE_EQ(snap.total_ms, 200);  // halfway with alpha 0.5
    EXPECT_DOUBLE_EQ(snap.error_rate, 0);
    s.on_failure(5);
    s.on_failure(5);
    snap = s.snapshot();
    EXPECT_DOUBLE_EQ(snap.error_rate, 0.75);
    EXPECT_EQ(snap.failures, 2);
    EXPECT_EQ(snap.successes, 2);
    for (int i = 0; i < 98; ++i)
        s.on_success(1, 50, 0);
    snap = s.snapshot();
    // 98 calls at 50 ms, one at 100, one at 300: p50 ~50 ms (bucket bound <= 19 % above).
    EXPECT_GE(snap.p50_ms, 50);
    EXPECT_LT(snap.p50_ms, 60);
    EXPECT_GE(snap.p99_ms, 100);
}

}  // namespace

namespace switchyard {
namespace {

Error status_error(int status, std::string message = "x", std::string code = {}) {
    Error e = upstream_status_error(status, std::move(message));
    if (!code.empty()) e.code = std::move(code);
    return e;
}

TEST(UpstreamCause, DerivedFromStatusCodeAndMessage) {
    EXPECT_EQ(upstream_cause(status_error(429)), UpstreamCause::kRateLimited);
    EXPECT_EQ(upstream_cause(status_error(503)), UpstreamCause::kOverloaded);
    EXPECT_EQ(upstream_cause(status_error(529)), UpstreamCause::kOverloaded);
    EXPECT_EQ(upstream_cause(status_error(500)), UpstreamCause::kServerError);
    EXPECT_EQ(upstream_cause(status_error(408)), UpstreamCause::kServerError);
    EXPECT_EQ(upstream_cause(status_error(401)), UpstreamCause::kAuth);
    EXPECT_EQ(upstream_cause(status_error(422)), UpstreamCause::kClientError);
    EXPECT_EQ(upstream_cause(status_error(400, "bad", "context_length_exceeded")),
              UpstreamCause::kContextLength);
    EXPECT_EQ(upstream_cause(status_error(400, "prompt is too long: 5000 tokens > 4096 maximum")),
              UpstreamCause::kContextLength);
    EXPECT_EQ(upstream_cause(status_error(400, "flagged", "content_filter")),
              UpstreamCause::kContentFilter);
    // A 5xx that mentions context length is still a server error.
    EXPECT_EQ(upstream_cause(status_error(500, "context length service down")),
              UpstreamCause::kServerError);
    Error key;
    key.kind = ErrorKind::kUnavailable;
    key.code = "upstream_key_missing";
    EXPECT_EQ(upstream_cause(key), UpstreamCause::kAuth);
    Error set;
    set.kind = ErrorKind::kUpstream;
    set.cause = UpstreamCause::kConnect;
    EXPECT_EQ(upstream_cause(set), UpstreamCause::kConnect);
    EXPECT_EQ(upstream_cause(Error::invalid_request("no")), UpstreamCause::kNone);
    EXPECT_EQ(to_string(UpstreamCause::kFirstByteTimeout), "first_byte_timeout");
}

}  // namespace
}  // namespace switchyard
