// Private to the server: one upstream attempt of a request (class Attempt) and the retry
// helpers the chat and embeddings handlers share: what to do after a failure (decide), the
// jitter source, and a backoff sleep.
// Thread safety: everything here lives on the request's worker thread.
#pragma once

#include <chrono>
#include <cstdint>

#include "request_context.hpp"

namespace switchyard {

// One upstream call on a picked deployment: counted in the in-flight gauges for its
// lifetime, and reported to the deployment (breaker, statistics) exactly once. Lives on the
// request's worker thread. A call that
// ends without a verdict (the request coroutine is torn down, the client left) is reported
// abandoned, so a half-open breaker's probe slot is never lost.
class Attempt {
public:
    Attempt(Gateway& g, Deployment& d, bool probe, int worker)
        : g_(g), d_(d), probe_(probe), worker_(worker) {
        g_.metrics().add_model_in_flight(d_.model, 1);
        d_.in_flight.fetch_add(1, std::memory_order_relaxed);
    }
    ~Attempt() {
        g_.metrics().add_model_in_flight(d_.model, -1);
        d_.in_flight.fetch_sub(1, std::memory_order_relaxed);
        if (!reported_ && !breaker_done_) g_.report_abandoned(d_, probe_);
    }
    Attempt(const Attempt&) = delete;
    Attempt& operator=(const Attempt&) = delete;

    // Time since the attempt started, with sub-millisecond resolution: a local upstream
    // answers in well under 1 ms, and whole milliseconds would record that as 0.
    double elapsed_ms() const {
        const auto d = std::chrono::steady_clock::now() - start_;
        return std::chrono::duration<double, std::milli>(d).count();
    }

    // A stream's first event: the breaker's verdict now (frees a half-open probe slot).
    void first_byte() {
        breaker_done_ = true;
        g_.report_first_byte(d_, probe_, worker_);
    }
    void succeeded(double ttft_ms, double total_ms, int64_t output_tokens) {
        reported_ = true;
        g_.report_success(d_, probe_, ttft_ms, total_ms, output_tokens, worker_, breaker_done_);
    }
    void failed(const Error& error, double elapsed_ms) {
        reported_ = true;
        // After first_byte() the probe slot is already free: count it as a plain call.
        g_.report_failure(d_, breaker_done_ ? false : probe_, error, elapsed_ms, worker_);
    }

private:
    Gateway& g_;
    Deployment& d_;
    bool probe_;
    int worker_;
    bool reported_ = false;
    bool breaker_done_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Uniform in [0, 1), per worker thread (backoff jitter, deployment draws).
double unit_random();

// What to do after a failed attempt.
enum class Next { kAnswer, kRetrySame, kNextCandidate };
Next decide(UpstreamCause cause);

// The error for a model whose every deployment's breaker is open; the next probe goes in
// `retry_in_ms` (the Retry-After, rounded up to a second).
Error circuit_open_error(std::string_view model, int64_t retry_in_ms);

// Waits `ms` on the calling coroutine's executor (a backoff; cancellation is not awaited).
awaitable<void> sleep_ms(int64_t ms);

}  // namespace switchyard
