// A lazily re-armed deadline for one socket: the connection's current phase (read a
// request, write a response, wait for an upstream byte) sets when it must be done by, and a
// single timer per connection enforces it. Setting a deadline is a store, not a timer
// operation: the timer is armed at most `granularity` ahead and, when it fires early,
// re-armed for what is then due. Keep `granularity` at most the shortest timeout the owner
// uses, so a steady stream of requests never re-arms it (one timer wake-up per granularity
// per busy connection instead of a timer insert and cancel per I/O operation).
// Thread safety: one io_context thread (the socket's).
// Failure: on expiry it cancels (kCancel) or closes (kClose) the socket, so the pending
// operation completes with an error; expired() then says that the deadline was the cause.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>

#include "switchyard/core/asio.hpp"

namespace switchyard {

class SocketDeadline : public std::enable_shared_from_this<SocketDeadline> {
public:
    using Clock = std::chrono::steady_clock;
    enum class OnExpiry { kCancel, kClose };

    // The owner keeps the shared_ptr and calls detach() before the socket goes away.
    static std::shared_ptr<SocketDeadline> make(tcp::socket& socket, Clock::duration granularity) {
        return std::make_shared<SocketDeadline>(socket, granularity);
    }
    SocketDeadline(tcp::socket& socket, Clock::duration granularity)
        : timer_(socket.get_executor()),
          socket_(&socket),
          granularity_(std::max<Clock::duration>(granularity, std::chrono::milliseconds(1))) {}
    SocketDeadline(const SocketDeadline&) = delete;
    SocketDeadline& operator=(const SocketDeadline&) = delete;

    void expire_after(Clock::duration timeout, OnExpiry action) {
        expire_at(Clock::now() + timeout, action);
    }
    void expire_at(Clock::time_point deadline, OnExpiry action) {
        deadline_ = deadline;
        action_ = action;
        expired_ = false;
        if (deadline_ < armed_at_) arm(Clock::now());
    }
    // No deadline until the next expire_*(); the timer, if pending, just finds nothing due.
    void clear() { deadline_ = kNever; }
    // True once the last deadline set has fired (until the next expire_*()).
    bool expired() const { return expired_; }
    // The socket moved (e.g. into a TLS stream): act on `socket` from now on.
    void retarget(tcp::socket& socket) { socket_ = &socket; }
    // The owner is going away: stop the timer; the socket is never touched again.
    void detach() {
        socket_ = nullptr;
        deadline_ = kNever;
        if (armed_at_ != kNever) {
            armed_at_ = kNever;
            timer_.cancel();
        }
    }

private:
    static constexpr Clock::time_point kNever = Clock::time_point::max();

    void arm(Clock::time_point now) {
        armed_at_ = std::min(deadline_, now + granularity_);
        timer_.expires_at(armed_at_);  // a wait still pending completes as operation_aborted
        timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
            if (!ec) self->on_timer();
        });
    }

    void on_timer() {
        armed_at_ = kNever;
        if (deadline_ == kNever || socket_ == nullptr) return;  // nothing due: sleep
        const auto now = Clock::now();
        if (now < deadline_) {
            arm(now);
            return;
        }
        deadline_ = kNever;
        expired_ = true;
        beast::error_code ec;
        if (action_ == OnExpiry::kCancel) {
            socket_->cancel(ec);
        } else {
            socket_->close(ec);
        }
    }

    net::steady_timer timer_;
    tcp::socket* socket_;
    Clock::duration granularity_;
    Clock::time_point deadline_ = kNever;
    Clock::time_point armed_at_ = kNever;  // when the pending wait fires; kNever: none pending
    OnExpiry action_ = OnExpiry::kClose;
    bool expired_ = false;
};

}  // namespace switchyard
