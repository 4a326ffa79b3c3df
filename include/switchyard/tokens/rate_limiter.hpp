// RateLimiter: requests per minute and tokens per minute for one API key, over a sliding
// 60-second window kept as 60 one-second buckets (so the window slides in 1 s steps: a
// request is counted for between 59 and 60 seconds).
// Tokens are taken at admission from the request's estimate (prompt + max_tokens) and
// corrected with the real count when the request ends.
// Thread safety: all methods may be called from any thread (one mutex per limiter).
// Failure: admit() returns a 429 Error with Retry-After: the seconds until enough of the
// window has slid by for this request to fit.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "switchyard/core/error.hpp"
#include "switchyard/core/rolling_window.hpp"

namespace switchyard::tokens {

class RateLimiter {
public:
    // 0 means no limit.
    RateLimiter(std::string label, int64_t requests_per_minute, int64_t tokens_per_minute);

    // Admits one request expected to use `tokens` at `now_ms`, or says when to retry.
    Result<Ok> admit(int64_t tokens, int64_t now_ms);
    // Corrects the tokens taken at admission (`estimated`, admitted at `admitted_ms`) with
    // the real count: in the admission's bucket while it is still in the window, otherwise
    // only an excess is charged, to the current second.
    void settle(int64_t estimated, int64_t actual, int64_t admitted_ms, int64_t now_ms);

    int64_t rpm() const { return rpm_; }
    int64_t tpm() const { return tpm_; }

private:
    struct Counts {
        int64_t requests = 0;
        int64_t tokens = 0;
    };
    // Seconds until enough of the window has slid by for `need` more requests (or tokens)
    // to fit under `limit`.
    int64_t wait_seconds(int64_t now_ms, int64_t limit, int64_t need, bool tokens) const;

    const std::string label_;
    const int64_t rpm_;
    const int64_t tpm_;
    std::mutex mu_;
    RollingWindow<Counts, 60> window_{60'000};  // one-second buckets; guarded by mu_
};

}  // namespace switchyard::tokens
