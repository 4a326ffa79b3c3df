#include "attempt.hpp"

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

awaitable<void> sleep_ms(int64_t ms) {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex, std::chrono::milliseconds(ms));
    beast::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
}

}  // namespace switchyard
