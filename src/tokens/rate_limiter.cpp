#include "switchyard/tokens/rate_limiter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace switchyard::tokens {

RateLimiter::RateLimiter(std::string label, int64_t requests_per_minute, int64_t tokens_per_minute)
    : label_(std::move(label)), rpm_(requests_per_minute), tpm_(tokens_per_minute) {}

int64_t RateLimiter::wait_seconds(int64_t now_ms, int64_t limit, int64_t need, bool tokens) const {
    // At now + w seconds, the bucket of second (now_s - 60 + w) leaves the window.
    const int64_t now_s = now_ms / 1000;
    int64_t in_window = 0;
    std::array<int64_t, 61> leaving{};
    window_.for_each(now_ms, [&](int64_t start_ms, const Counts& c) {
        const int64_t v = tokens ? c.tokens : c.requests;
        in_window += v;
        const int64_t w = start_ms / 1000 - (now_s - 60);
        if (w >= 1 && w <= 60) leaving[static_cast<size_t>(w)] += v;
    });
    for (int64_t w = 1; w <= 60; ++w) {
        in_window -= leaving[static_cast<size_t>(w)];
        if (in_window + need <= limit) return w;
    }
    return 60;
}

Result<Ok> RateLimiter::admit(int64_t tokens, int64_t now_ms) {
    tokens = std::max<int64_t>(tokens, 0);
    std::lock_guard lock(mu_);
    int64_t requests_in_window = 0;
    int64_t tokens_in_window = 0;
    window_.for_each(now_ms, [&](int64_t, const Counts& c) {
        requests_in_window += c.requests;
        tokens_in_window += c.tokens;
    });
    Error e;
    e.kind = ErrorKind::kRateLimited;
    if (rpm_ > 0 && requests_in_window + 1 > rpm_) {
        e.code = "rate_limit_requests";
        e.retry_after_s = static_cast<int>(wait_seconds(now_ms, rpm_, 1, false));
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
        e.retry_after_s = static_cast<int>(wait_seconds(now_ms, tpm_, tokens, true));
        e.message = fmt::format(
            "Rate limit reached for {}: {} tokens per minute ({} used in the last minute, this "
            "request may use {}). Retry after {} s.",
            label_, tpm_, tokens_in_window, tokens, e.retry_after_s);
        return e;
    }
    Counts& b = window_.at(now_ms);
    ++b.requests;
    b.tokens += tokens;
    return Ok{};
}

void RateLimiter::settle(int64_t estimated, int64_t actual, int64_t admitted_ms, int64_t now_ms) {
    if (tpm_ <= 0 || estimated == actual) return;
    std::lock_guard lock(mu_);
    if (Counts* at = window_.find(admitted_ms)) {
        at->tokens = std::max<int64_t>(0, at->tokens + (actual - estimated));
    } else if (actual > estimated) {
        window_.at(now_ms).tokens += actual - estimated;
    }
}

}  // namespace switchyard::tokens
