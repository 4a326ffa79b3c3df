#include "switchyard/tokens/rate_limiter.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace switchyard::tokens {

RateLimiter::RateLimiter(std::string label, int64_t requests_per_minute, int64_t tokens_per_minute)
    : label_(std::move(label)), rpm_(requests_per_minute), tpm_(tokens_per_minute) {}

RateLimiter::Bucket& RateLimiter::bucket(int64_t now_s) {
    Bucket& b = buckets_[static_cast<size_t>(now_s % kBuckets)];
    if (b.second != now_s) b = Bucket{now_s, 0, 0};
    return b;
}

void RateLimiter::sums(int64_t now_s, int64_t& requests, int64_t& tokens) const {
    requests = 0;
    tokens = 0;
    for (const auto& b : buckets_) {
        if (b.second > now_s - kBuckets && b.second <= now_s) {
            requests += b.requests;
            tokens += b.tokens;
        }
    }
}

int64_t RateLimiter::wait_seconds(int64_t now_s, int64_t limit, int64_t need, bool tokens) const {
    // Walk forward second by second: at now_s + w, buckets older than now_s + w - 59 expire.
    int64_t in_window = 0;
    for (const auto& b : buckets_) {
        if (b.second > now_s - kBuckets && b.second <= now_s) {
            in_window += tokens ? b.tokens : b.requests;
        }
    }
    for (int64_t w = 1; w <= kBuckets; ++w) {
        const int64_t expiring_second = now_s - kBuckets + w;
        for (const auto& b : buckets_) {
            if (b.second == expiring_second) in_window -= tokens ? b.tokens : b.requests;
        }
        if (in_window + need <= limit) return w;
    }
    return kBuckets;
}

Result<Ok> RateLimiter::admit(int64_t tokens, int64_t now_ms) {
    const int64_t now_s = now_ms / 1000;
    tokens = std::max<int64_t>(tokens, 0);
    std::lock_guard lock(mu_);
    int64_t requests_in_window = 0;
    int64_t tokens_in_window = 0;
    sums(now_s, requests_in_window, tokens_in_window);
    Error e;
    e.kind = ErrorKind::kRateLimited;
    if (rpm_ > 0 && requests_in_window + 1 > rpm_) {
        e.code = "rate_limit_requests";
        e.retry_after_s = static_cast<int>(wait_seconds(now_s, rpm_, 1, false));
        e.message =
            fmt::format("Rate limit reached for {}: {} requests per minute. Retry after {} s.",
                        label_, rpm_, e.retry_after_s);
        return e;
    }
    if (tpm_ > 0 && tokens > tpm_) {
        e.code = "rate_limit_tokens";
        e.kind = ErrorKind::kInvalidRequest;
        e.message = fmt::format(
            "Request too large for {}: it may use {} tokens (prompt + max_tokens) but the limit "
            "is {} tokens per minute. Lower max_tokens or shorten the prompt.",
            label_, tokens, tpm_);
        return e;
    }
    if (tpm_ > 0 && tokens_in_window + tokens > tpm_) {
        e.code = "rate_limit_tokens";
        e.retry_after_s = static_cast<int>(wait_seconds(now_s, tpm_, tokens, true));
        e.message = fmt::format(
            "Rate limit reached for {}: {} tokens per minute ({} used in the last minute, this "
            "request may use {}). Retry after {} s.",
            label_, tpm_, tokens_in_window, tokens, e.retry_after_s);
        return e;
    }
    Bucket& b = bucket(now_s);
    ++b.requests;
    b.tokens += tokens;
    return Ok{};
}

void RateLimiter::settle(int64_t estimated, int64_t actual, int64_t admitted_ms, int64_t now_ms) {
    if (tpm_ <= 0 || estimated == actual) return;
    std::lock_guard lock(mu_);
    const int64_t admitted_s = admitted_ms / 1000;
    Bucket& at = buckets_[static_cast<size_t>(admitted_s % kBuckets)];
    if (at.second == admitted_s) {
        at.tokens = std::max<int64_t>(0, at.tokens + (actual - estimated));
    } else if (actual > estimated) {
        bucket(now_ms / 1000).tokens += actual - estimated;
    }
}

}  // namespace switchyard::tokens
