#include "attempt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace switchyard {

// Uniform in [0, 1), per worker thread (backoff jitter, deployment draws).
double unit_random() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

Next decide(UpstreamCause cause) {
    switch (cause) {
        case UpstreamCause::kClientError:
        case UpstreamCause::kContentFilter:
        case UpstreamCause::kNone:
            return Next::kAnswer;  // the request itself is at fault: no other model helps
        case UpstreamCause::kContextLength:
        case UpstreamCause::kRateLimited:
        case UpstreamCause::kAuth:
            return Next::kNextCandidate;  // (429 may still wait out a short Retry-After)
        default:
            return Next::kRetrySame;
    }
}

Error circuit_open_error(std::string_view model, int64_t retry_in_ms) {
    Error e;
    e.kind = ErrorKind::kUnavailable;
    e.code = "circuit_open";
    e.retry_after_s = static_cast<int>((std::max<int64_t>(retry_in_ms, 1) + 999) / 1000);
    e.message = fmt::format(
        "Model '{}' is unavailable: its circuit breaker is open after repeated upstream "
        "failures; the next probe goes in {} ms.",
        model, retry_in_ms);
    return e;
}

awaitable<void> sleep_ms(int64_t ms) {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex, std::chrono::milliseconds(ms));
    beast::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
}

}  // namespace switchyard
