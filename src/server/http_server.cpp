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
    }
    ~Worker() {
        guard.reset();
        // Pooled upstream sockets must die before the io_context they belong to.
        http.reset();
    }

    int index;
    std::thread thread;
    std::shared_ptr<HttpClient> http;
    std::unordered_set<Session*> sessions;  // touched only on this worker's thread
    std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
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
        : server_(server), worker_(worker), stream_(std::move(socket)), deadline_(worker.ioc) {}

    awaitable<void> run();

    // Closes an idle connection (between requests) during drain.
    void close_if_idle() {
        if (idle_) {
            beast::error_code ec;
            stream_.socket().cancel(ec);
        }
    }

private:
    // Watches the client socket while a request is handled, to abort the upstream call if
    // the client leaves. Armed only once the request has run for kWatchDelay, so quick
    // requests pay no epoll re-arm.
    struct Watch {
        explicit Watch(net::io_context& ioc) : timer(ioc) {}
        net::steady_timer timer;
        bool done = false;
        bool armed = false;
        CancelSignal* cancel = nullptr;
    };
    static constexpr auto kWatchDelay = std::chrono::milliseconds(10);

    awaitable<bool> read_request(http::request_parser<http::string_body>& parser);
    awaitable<void> answer_read_error(beast::error_code ec);
    awaitable<void> send_simple_error(http::status status, std::string_view message,
                                      std::string_view code);
    awaitable<void> lingering_close();
    void start_watch(const std::shared_ptr<Watch>& w);
    void stop_watch(Watch& w);

    HttpServer::Impl& server_;
    Worker& worker_;
    // Request deadline: unlike tcp_stream's own expiry (which closes the socket), this
    // only cancels the read, so a slow client can still be told 408 before we close.
    void arm_deadline(std::chrono::milliseconds timeout) {
        timed_out_ = false;
        deadline_.expires_after(timeout);
        deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            self->timed_out_ = true;
            beast::error_code ignored;
            self->stream_.socket().cancel(ignored);
        });
    }
    void disarm_deadline() { deadline_.cancel(); }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    net::steady_timer deadline_;
    bool timed_out_ = false;
    bool idle_ = false;
};

void Session::start_watch(const std::shared_ptr<Watch>& w) {
    w->timer.expires_after(kWatchDelay);
    w->timer.async_wait([self = shared_from_this(), w](beast::error_code ec) {
        if (ec || w->done) return;
        w->armed = true;
        self->stream_.socket().async_wait(tcp::socket::wait_read, [self, w](beast::error_code ec) {
            if (w->done) return;
            if (ec) {
                if (ec != net::error::operation_aborted && w->cancel) w->cancel->cancel();
                return;
            }
            char c;
            const ssize_t n =
                ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                // The client closed or reset the connection while we worked for it.
                if (w->cancel) w->cancel->cancel();
            }
            // n > 0: the client pipelined its next request; stop watching.
        });
    });
}

void Session::stop_watch(Watch& w) {
    w.done = true;
    w.timer.cancel();
    if (w.armed) {
        beast::error_code ec;
        stream_.socket().cancel(ec);  // ends the socket wait
    }
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
    stream_.expires_after(5s);
    beast::error_code ec;
    co_await http::async_write(stream_, res, net::redirect_error(net::use_awaitable, ec));
    server_.gateway.metrics().record_request(worker_.index, "invalid", "", "",
                                             static_cast<int>(status), 0);
}

// After an error answer with unread request bytes pending, closing at once could reset the
// connection before the client reads the answer; half-close and drain briefly first.
awaitable<void> Session::lingering_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    char sink[16 * 1024];
    size_t drained = 0;
    stream_.expires_after(2s);
    while (!ec && drained < (16u << 20)) {
        const size_t n = co_await stream_.async_read_some(
            net::buffer(sink), net::redirect_error(net::use_awaitable, ec));
        drained += n;
    }
    stream_.socket().close(ec);
}

// Reads the rest of a request (the first bytes are buffered) within request_timeout_ms.
// False when the session must end: the client left, or it was answered with an error.
awaitable<bool> Session::read_request(http::request_parser<http::string_body>& parser) {
    const auto& sc = server_.gateway.config().server;
    beast::error_code ec;
    arm_deadline(std::chrono::milliseconds(sc.request_timeout_ms));
    co_await http::async_read_header(stream_, buffer_, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    if (!ec && !timed_out_) {
        if (auto len = parser.content_length(); len && *len > sc.max_body_bytes) {
            ec = http::error::body_limit;  // refuse before reading a byte of it
        }
    }
    if (!ec && !timed_out_ && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
        co_await http::async_write(stream_, cont, net::redirect_error(net::use_awaitable, ec));
    }
    if (!ec && !timed_out_) {
        co_await http::async_read(stream_, buffer_, parser,
                                  net::redirect_error(net::use_awaitable, ec));
    }
    disarm_deadline();
    if (!ec && !timed_out_) co_return true;
    co_await answer_read_error(ec);
    co_return false;
}

// Answers a request that could not be read (408, 413, 431 or 400), or just closes when the
// client went away.
awaitable<void> Session::answer_read_error(beast::error_code ec) {
    const auto& sc = server_.gateway.config().server;
    if (timed_out_) {
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
            s->disarm_deadline();
        }
    } unregister{worker_, this};
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);

    for (;;) {
        if (server_.draining.load()) break;
        http::request_parser<http::string_body> parser;
        parser.header_limit(sc.max_header_bytes);
        parser.body_limit(sc.max_body_bytes);

        // Wait for the next request's first bytes (idle: idle_timeout_ms, and drain may
        // close us), then give the client request_timeout_ms to send all of it.
        if (buffer_.size() == 0) {
            idle_ = true;
            stream_.expires_after(std::chrono::milliseconds(sc.idle_timeout_ms));
            const size_t n = co_await stream_.async_read_some(
                buffer_.prepare(4096), net::redirect_error(net::use_awaitable, ec));
            idle_ = false;
            if (ec || server_.draining.load()) break;
            buffer_.commit(n);
        }
        stream_.expires_never();
        const bool received = co_await read_request(parser);
        if (!received) co_return;
        auto req = parser.release();
        stream_.expires_never();
        const bool keep_alive = req.keep_alive();
        bool response_keep_alive = false;
        {
            ResponseWriter writer(stream_, req.version(), keep_alive && !server_.draining.load(),
                                  std::chrono::milliseconds(sc.request_timeout_ms));
            RequestContext ctx(server_.gateway, *worker_.http, worker_.index, req, writer,
                               random_id(24));
            ctx.draining = server_.draining.load();
            auto watch = std::make_shared<Watch>(worker_.ioc);
            watch->cancel = &ctx.cancel;
            start_watch(watch);
            server_.gateway.metrics().add_in_flight(1);
            co_await dispatch(ctx);
            server_.gateway.metrics().add_in_flight(-1);
            stop_watch(*watch);
            const double seconds = std::chrono::duration<double>(Clock::now() - ctx.start).count();
            server_.gateway.metrics().record_request(
                worker_.index, ctx.endpoint, ctx.model, ctx.provider,
                writer.status() ? writer.status() : 499, seconds);
            if (server_.draining.load()) writer.force_close();
            response_keep_alive = writer.keep_alive() && !ctx.cancel.cancelled();
        }
        if (!response_keep_alive) break;
    }
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
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
