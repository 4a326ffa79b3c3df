// HttpServer: listener, worker threads, per-connection coroutines, shutdown.
#include "switchyard/server/http_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "request_context.hpp"
#include "switchyard/core/deadline.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

}  // namespace

class Session;

struct Worker {
    Worker(int i, net::ssl::context& tls, const UpstreamConfig& upstream) : index(i), ioc(1) {
        guard.emplace(net::make_work_guard(ioc));
        http = std::make_shared<HttpClient>(ioc, tls, upstream);
        watch_tick.emplace(ioc);
    }
    ~Worker() {
        guard.reset();
        watch_tick.reset();  // a timer must die before its io_context
        // Pooled upstream sockets must die before the io_context they belong to.
        http.reset();
    }

    int index;
    std::thread thread;
    std::shared_ptr<HttpClient> http;
    std::unordered_set<Session*> sessions;  // touched only on this worker's thread
    std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
    // Client-disconnect watches: sessions with a request in flight. One ticker per worker
    // (not a timer per request) arms a session's socket watch once its request has run for
    // Session::kWatchDelay. Touched only on this worker's thread.
    std::vector<Session*> watching;
    std::optional<net::steady_timer> watch_tick;
    bool ticking = false;
    void tick_watches();
    // Declared last, destroyed first: pending coroutine frames (sessions) die while the
    // members above are still alive.
    net::io_context ioc;
};

struct HttpServer::Impl {
    explicit Impl(Config c) : gateway(std::move(c)) {}

    Gateway gateway;
    std::unique_ptr<net::ssl::context> tls;
    std::vector<std::unique_ptr<Worker>> workers;
    std::optional<tcp::acceptor> acceptor;
    std::atomic<bool> draining{false};
    std::atomic<int64_t> connections{0};
    std::atomic<bool> stopped{false};
    size_t next_worker = 0;
    std::mutex mu;  // guards `joined`
    bool joined = false;

    awaitable<void> accept_loop();
    void begin_drain();
    void stop_all();
};

// One client connection: reads requests, dispatches them, writes responses, until the
// client closes, a limit is hit, or the server drains.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(HttpServer::Impl& server, Worker& worker, tcp::socket socket)
        : server_(server),
          worker_(worker),
          socket_(std::move(socket)),
          deadline_(SocketDeadline::make(socket_, deadline_granularity(server))) {}
    ~Session() {
        deadline_->detach();
        end_watch();
    }

    awaitable<void> run();

    // Closes an idle connection (between requests) during drain.
    void close_if_idle() {
        if (idle_) {
            beast::error_code ec;
            socket_.cancel(ec);
        }
    }

    // Watches the client socket while a request is handled, to abort the upstream call if
    // the client leaves. The worker's ticker arms the socket wait only once the request
    // has run for kWatchDelay (10-20 ms), so quick requests pay no epoll re-arm and no
    // timer of their own.
    static constexpr auto kWatchDelay = std::chrono::milliseconds(10);
    void begin_watch(CancelSignal* cancel);
    void end_watch();
    // Called by the worker's ticker; true while this session still waits to be armed.
    bool maybe_arm_watch(Clock::time_point now);

private:
    static Clock::duration deadline_granularity(const HttpServer::Impl& server);

    awaitable<bool> read_request(http::request_parser<http::string_body>& parser);
    awaitable<void> answer_read_error(beast::error_code ec);
    awaitable<void> send_simple_error(http::status status, std::string_view message,
                                      std::string_view code);
    awaitable<void> lingering_close();

    HttpServer::Impl& server_;
    Worker& worker_;
    tcp::socket socket_;
    // Idle, request-read (answers 408: cancels only the read) and write deadlines, one
    // lazily re-armed timer per connection.
    std::shared_ptr<SocketDeadline> deadline_;
    beast::flat_buffer buffer_;
    bool idle_ = false;
    // Client-disconnect watch state (see begin_watch).
    CancelSignal* watch_cancel_ = nullptr;
    Clock::time_point watch_start_;
    size_t watch_slot_ = 0;  // index in worker_.watching while watching_
    uint64_t watch_gen_ = 0;
    bool watching_ = false;
    bool watch_armed_ = false;
};

void Session::begin_watch(CancelSignal* cancel) {
    watch_cancel_ = cancel;
    watch_start_ = Clock::now();
    watch_armed_ = false;
    watching_ = true;
    ++watch_gen_;
    watch_slot_ = worker_.watching.size();
    worker_.watching.push_back(this);
    if (!worker_.ticking) {
        worker_.ticking = true;
        worker_.watch_tick->expires_after(kWatchDelay);
        worker_.watch_tick->async_wait([w = &worker_](beast::error_code ec) {
            if (!ec) w->tick_watches();
        });
    }
}

void Session::end_watch() {
    if (!watching_) return;
    watching_ = false;
    ++watch_gen_;  // a socket wait still pending is stale from now on
    auto& list = worker_.watching;
    if (watch_slot_ < list.size() && list[watch_slot_] == this) {
        list[watch_slot_] = list.back();
        list[watch_slot_]->watch_slot_ = watch_slot_;
        list.pop_back();
    }
    if (watch_armed_) {
        beast::error_code ec;
        socket_.cancel(ec);  // ends the socket wait
    }
}

bool Session::maybe_arm_watch(Clock::time_point now) {
    if (watch_armed_) return false;
    if (now - watch_start_ < kWatchDelay) return true;
    watch_armed_ = true;
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                gen = watch_gen_](beast::error_code ec) {
        if (!self->watching_ || self->watch_gen_ != gen) return;
        CancelSignal* cancel = self->watch_cancel_;
        if (ec) {
            if (ec != net::error::operation_aborted && cancel) cancel->cancel();
            return;
        }
        char c;
        const ssize_t n = ::recv(self->socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            // The client closed or reset the connection while we worked for it.
            if (cancel) cancel->cancel();
        }
        // n > 0: the client pipelined its next request; stop watching.
    });
    return false;
}

void Worker::tick_watches() {
    const auto now = Clock::now();
    bool pending = false;
    // maybe_arm_watch() never changes `watching` (a session leaves it only in end_watch()).
    for (Session* s : watching)
        pending = s->maybe_arm_watch(now) || pending;
    if (!pending) {
        ticking = false;
        return;
    }
    watch_tick->expires_after(Session::kWatchDelay);
    watch_tick->async_wait([this](beast::error_code ec) {
        if (!ec) tick_watches();
    });
}

Clock::duration Session::deadline_granularity(const HttpServer::Impl& server) {
    const auto& sc = server.gateway.config().server;
    // The shortest timeout the session sets (the 408 answer's 5 s and the lingering close's
    // 2 s are rare paths that just re-arm).
    return std::chrono::milliseconds(std::min(sc.request_timeout_ms, sc.idle_timeout_ms));
}

awaitable<void> Session::send_simple_error(http::status status, std::string_view message,
                                           std::string_view code) {
    Error e;
    e.kind = status == http::status::payload_too_large ? ErrorKind::kRequestTooLarge
                                                       : ErrorKind::kInvalidRequest;
    e.message = std::string(message);
    e.code = std::string(code);
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "switchyard");
    res.keep_alive(false);
    res.body() = to_openai_json(e);
    res.prepare_payload();
    deadline_->expire_after(5s, SocketDeadline::OnExpiry::kClose);
    beast::error_code ec;
    co_await http::async_write(socket_, res, net::redirect_error(net::use_awaitable, ec));
    deadline_->clear();
    server_.gateway.metrics().record_request(worker_.index, "invalid", "", "",
                                             static_cast<int>(status), 0);
}

// After an error answer with unread request bytes pending, closing at once could reset the
// connection before the client reads the answer; half-close and drain briefly first.
awaitable<void> Session::lingering_close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    char sink[16 * 1024];
    size_t drained = 0;
    deadline_->expire_after(2s, SocketDeadline::OnExpiry::kClose);
    while (!ec && drained < (16u << 20)) {
        const size_t n = co_await socket_.async_read_some(
            net::buffer(sink), net::redirect_error(net::use_awaitable, ec));
        drained += n;
    }
    deadline_->clear();
    socket_.close(ec);
}

// Reads the rest of a request (the first bytes are buffered) within request_timeout_ms.
// False when the session must end: the client left, or it was answered with an error.
awaitable<bool> Session::read_request(http::request_parser<http::string_body>& parser) {
    const auto& sc = server_.gateway.config().server;
    beast::error_code ec;
    // On expiry the deadline only cancels the read (unlike a close), so a slow client can
    // still be told 408 before we close.
    deadline_->expire_after(std::chrono::milliseconds(sc.request_timeout_ms),
                            SocketDeadline::OnExpiry::kCancel);
    co_await http::async_read_header(socket_, buffer_, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    if (!ec && !deadline_->expired()) {
        if (auto len = parser.content_length(); len && *len > sc.max_body_bytes) {
            ec = http::error::body_limit;  // refuse before reading a byte of it
        }
    }
    if (!ec && !deadline_->expired() &&
        beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
        co_await http::async_write(socket_, cont, net::redirect_error(net::use_awaitable, ec));
    }
    if (!ec && !deadline_->expired() && !parser.is_done()) {
        co_await http::async_read(socket_, buffer_, parser,
                                  net::redirect_error(net::use_awaitable, ec));
    }
    const bool timed_out = deadline_->expired();
    deadline_->clear();
    if (!ec && !timed_out) co_return true;
    co_await answer_read_error(ec);
    co_return false;
}

// Answers a request that could not be read (408, 413, 431 or 400), or just closes when the
// client went away.
awaitable<void> Session::answer_read_error(beast::error_code ec) {
    const auto& sc = server_.gateway.config().server;
    if (deadline_->expired()) {
        co_await send_simple_error(http::status::request_timeout,
                                   "the request was not received in time", "request_timeout");
        co_return;
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted ||
        ec == http::error::partial_message) {
        co_return;
    }
    if (ec == http::error::header_limit) {
        co_await send_simple_error(http::status::request_header_fields_too_large,
                                   "request headers exceed the limit", "headers_too_large");
    } else if (ec == http::error::body_limit) {
        co_await send_simple_error(
            http::status::payload_too_large,
            fmt::format("request body exceeds the limit of {} bytes", sc.max_body_bytes),
            "request_too_large");
    } else {
        co_await send_simple_error(http::status::bad_request,
                                   fmt::format("malformed HTTP request: {}", ec.message()),
                                   "bad_http_request");
    }
    co_await lingering_close();
}

awaitable<void> Session::run() {
    const auto& sc = server_.gateway.config().server;
    worker_.sessions.insert(this);
    struct Unregister {
        Worker& w;
        Session* s;
        ~Unregister() {
            w.sessions.erase(s);
            s->deadline_->detach();
            s->end_watch();
        }
    } unregister{worker_, this};
    beast::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);

    for (;;) {
        if (server_.draining.load()) break;
        http::request_parser<http::string_body> parser;
        parser.header_limit(sc.max_header_bytes);
        parser.body_limit(sc.max_body_bytes);

        // Wait for the next request's first bytes (idle: idle_timeout_ms, and drain may
        // close us), then give the client request_timeout_ms to send all of it.
        if (buffer_.size() == 0) {
            idle_ = true;
            deadline_->expire_after(std::chrono::milliseconds(sc.idle_timeout_ms),
                                    SocketDeadline::OnExpiry::kClose);
            const size_t n = co_await socket_.async_read_some(
                buffer_.prepare(4096), net::redirect_error(net::use_awaitable, ec));
            idle_ = false;
            deadline_->clear();
            if (ec || server_.draining.load()) break;
            buffer_.commit(n);
        }
        const bool received = co_await read_request(parser);
        if (!received) co_return;
        auto req = parser.release();
        const bool keep_alive = req.keep_alive();
        bool response_keep_alive = false;
        {
            ResponseWriter writer(socket_, *deadline_, req.version(),
                                  keep_alive && !server_.draining.load(),
                                  std::chrono::milliseconds(sc.request_timeout_ms));
            RequestContext ctx(server_.gateway, *worker_.http, worker_.index, req, writer,
                               random_id(24));
            ctx.draining = server_.draining.load();
            begin_watch(&ctx.cancel);
            server_.gateway.metrics().add_in_flight(1);
            co_await dispatch(ctx);
            server_.gateway.metrics().add_in_flight(-1);
            end_watch();
            const double seconds = std::chrono::duration<double>(Clock::now() - ctx.start).count();
            server_.gateway.metrics().record_request(
                worker_.index, ctx.endpoint, ctx.model, ctx.provider,
                writer.status() ? writer.status() : 499, seconds);
            if (server_.draining.load()) writer.force_close();
            response_keep_alive = writer.keep_alive() && !ctx.cancel.cancelled();
        }
        if (!response_keep_alive) break;
    }
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
}

awaitable<void> HttpServer::Impl::accept_loop() {
    const auto max_conns = gateway.config().server.max_connections;
    for (;;) {
        auto& worker = *workers[next_worker];
        next_worker = (next_worker + 1) % workers.size();
        beast::error_code ec;
        tcp::socket socket(worker.ioc);
        co_await acceptor->async_accept(socket, net::redirect_error(net::use_awaitable, ec));
        if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
        if (ec) {
            // EMFILE and friends: back off briefly instead of spinning.
            spdlog::warn("accept failed: {}", ec.message());
            net::steady_timer t(co_await net::this_coro::executor, 50ms);
            co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
            continue;
        }
        if (connections.load() >= static_cast<int64_t>(max_conns)) {
            socket.close(ec);  // over the connection limit: refuse
            continue;
        }
        connections.fetch_add(1);
        gateway.metrics().add_connections(1);
        net::post(worker.ioc, [this, &worker, s = std::move(socket)]() mutable {
            auto session = std::make_shared<Session>(*this, worker, std::move(s));
            net::co_spawn(
                worker.ioc, [session]() -> awaitable<void> { co_await session->run(); },
                [this](std::exception_ptr e) {
                    connections.fetch_sub(1);
                    gateway.metrics().add_connections(-1);
                    if (e) {
                        try {
                            std::rethrow_exception(e);
                        } catch (const std::exception& ex) {
                            spdlog::error("session ended by exception: {}", ex.what());
                        }
                    }
                    if (draining.load() && connections.load() == 0) stop_all();
                });
        });
    }
}

void HttpServer::Impl::stop_all() {
    if (stopped.exchange(true)) return;
    for (auto& w : workers) {
        if (w->guard) w->guard->reset();
        w->ioc.stop();
    }
}

void HttpServer::Impl::begin_drain() {
    if (draining.exchange(true)) return;
    spdlog::info("shutting down: no new connections; {} request(s) in flight",
                 gateway.metrics().in_flight());
    net::post(workers[0]->ioc, [this] {
        beast::error_code ec;
        if (acceptor) acceptor->close(ec);
    });
    for (auto& w : workers) {
        net::post(w->ioc, [worker = w.get()] {
            for (auto* s : worker->sessions)
                s->close_if_idle();
        });
    }
    if (connections.load() == 0) {
        stop_all();
        return;
    }
    // Hard stop after the grace period.
    const auto grace = std::chrono::milliseconds(gateway.config().server.shutdown_grace_ms);
    auto timer = std::make_shared<net::steady_timer>(workers[0]->ioc, grace);
    timer->async_wait([this, timer](beast::error_code) {
        if (!stopped.load()) {
            spdlog::warn("shutdown grace period over; {} connection(s) cut", connections.load());
        }
        stop_all();
    });
}

HttpServer::HttpServer(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

HttpServer::~HttpServer() {
    shutdown();
    wait();
}

uint16_t HttpServer::start() {
    auto& im = *impl_;
    const auto& cfg = im.gateway.config();
    im.tls = HttpClient::make_tls_context(cfg.upstream);
    const int n = resolved_thread_count(cfg.server);
    for (int i = 0; i < n; ++i)
        im.workers.push_back(std::make_unique<Worker>(i, *im.tls, cfg.upstream));

    beast::error_code ec;
    auto address = net::ip::make_address(cfg.server.host, ec);
    if (ec) throw std::runtime_error(fmt::format("invalid server.host '{}'", cfg.server.host));
    tcp::endpoint endpoint(address, cfg.server.port);
    im.acceptor.emplace(im.workers[0]->ioc);
    im.acceptor->open(endpoint.protocol());
    im.acceptor->set_option(net::socket_base::reuse_address(true));
    im.acceptor->bind(endpoint, ec);
    if (ec) {
        throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", cfg.server.host,
                                             cfg.server.port, ec.message()));
    }
    im.acceptor->listen(net::socket_base::max_listen_connections);
    const uint16_t port = im.acceptor->local_endpoint().port();
    net::co_spawn(im.workers[0]->ioc, im.accept_loop(), net::detached);
    for (auto& w : im.workers) {
        w->thread = std::thread([worker = w.get()] {
            for (;;) {
                try {
                    worker->ioc.run();
                    break;
                } catch (const std::exception& e) {
                    spdlog::error("worker {}: unexpected exception: {}", worker->index, e.what());
                }
            }
        });
    }
    spdlog::info("switchyard listening on {}:{} with {} worker thread(s), {} model(s)",
                 cfg.server.host, port, n, cfg.models.size());
    return port;
}

void HttpServer::shutdown() {
    if (impl_->workers.empty()) return;
    impl_->begin_drain();
}

void HttpServer::wait() {
    std::lock_guard lock(impl_->mu);
    if (impl_->joined) return;
    for (auto& w : impl_->workers) {
        if (w->thread.joinable()) w->thread.join();
    }
    impl_->joined = true;
}

int HttpServer::run(const std::function<void(uint16_t)>& on_listening) {
    const uint16_t port = start();
    net::signal_set signals(impl_->workers[0]->ioc, SIGINT, SIGTERM);
    signals.async_wait([this](beast::error_code ec, int sig) {
        if (ec) return;
        spdlog::info("received signal {}", sig);
        impl_->begin_drain();
    });
    if (on_listening) on_listening(port);
    wait();
    spdlog::info("switchyard stopped");
    return 0;
}

}  // namespace switchyard
