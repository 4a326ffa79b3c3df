// Transport: accept, read HTTP/1.1 requests with Beast, hand them to the application, and the
// client-facing primitives (gather writes, chunks, disconnect-aware waits, RST).

#include "http_server.hpp"

#include <array>
#include <charconv>
#include <thread>

namespace mock_llm {
namespace {

using boost::system::error_code;
using std::chrono::milliseconds;

constexpr milliseconds kAcceptRetryDelay{10};  // after EMFILE and the like

std::string_view transport_error_body(int status) {
    return status == 413
               ? R"({"error":{"message":"Request body too large","type":"invalid_request_error","param":null,"code":null}})"
               : R"({"error":{"message":"Malformed HTTP request","type":"invalid_request_error","param":null,"code":null}})";
}

}  // namespace

ClientChannel::ClientChannel(tcp::socket& socket, net::steady_timer& timer)
    : socket_(socket), timer_(timer) {}

net::awaitable<bool> ClientChannel::write(std::string_view head, std::string_view body) {
    const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
    error_code ec;
    co_await net::async_write(socket_, buffers, net::redirect_error(net::use_awaitable, ec));
    co_return !ec;
}

net::awaitable<bool> ClientChannel::write_chunk(std::string_view data) {
    if (data.empty()) co_return true;  // an empty chunk would end the body
    char size_line[20];
    auto result = std::to_chars(size_line, size_line + 16, data.size(), 16);
    *result.ptr++ = '\r';
    *result.ptr++ = '\n';
    const std::array<net::const_buffer, 3> buffers{
        net::buffer(size_line, static_cast<size_t>(result.ptr - size_line)), net::buffer(data),
        net::buffer("\r\n", 2)};
    error_code ec;
    co_await net::async_write(socket_, buffers, net::redirect_error(net::use_awaitable, ec));
    co_return !ec;
}

net::awaitable<bool> ClientChannel::write_last_chunk() {
    error_code ec;
    co_await net::async_write(socket_, net::buffer("0\r\n\r\n", 5),
                              net::redirect_error(net::use_awaitable, ec));
    co_return !ec;
}

net::awaitable<WaitResult> ClientChannel::wait(std::optional<milliseconds> duration) {
    const auto deadline = duration ? std::chrono::steady_clock::now() + *duration
                                   : net::steady_timer::time_point::max();
    timer_.expires_at(deadline);
    error_code ec;
    if (peer_sent_data_) {
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        co_return WaitResult::kElapsed;
    }

    // Race the timer against the socket becoming readable. The socket handler may run after
    // this coroutine moved on, so it touches only `watch` once `done` is set.
    struct Watch {
        bool done = false;
        bool fired = false;
        error_code ec;
    };
    for (;;) {
        auto watch = std::make_shared<Watch>();
        socket_.async_wait(tcp::socket::wait_read, [watch, &timer = timer_](const error_code& e) {
            if (watch->done) return;
            watch->fired = true;
            watch->ec = e;
            timer.cancel();
        });
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        watch->done = true;
        if (!watch->fired) {
            error_code ignored;
            socket_.cancel(ignored);  // the pending wait completes later, aborted
            co_return WaitResult::kElapsed;
        }
        if (watch->ec) co_return WaitResult::kClientGone;

        // Readable: the client closed (EOF), reset, or sent more bytes.
        char byte = 0;
        error_code peek_ec;
        const size_t n = socket_.receive(net::buffer(&byte, 1), tcp::socket::message_peek, peek_ec);
        if (peek_ec == net::error::would_block) continue;  // spurious wake-up: watch again
        if (peek_ec || n == 0) co_return WaitResult::kClientGone;
        break;
    }
    peer_sent_data_ = true;
    timer_.expires_at(deadline);
    co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    co_return WaitResult::kElapsed;
}

void ClientChannel::reset() {
    error_code ignored;
    socket_.set_option(net::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
}

HttpServer::HttpServer(ServerOptions options, RequestHandler& handler)
    : options_(std::move(options)),
      handler_(handler),
      contexts_([n = std::max<size_t>(options_.threads, 1)] {
          std::vector<std::unique_ptr<net::io_context>> contexts;
          for (size_t i = 0; i < n; ++i)
              contexts.push_back(std::make_unique<net::io_context>(1));
          return contexts;
      }()),
      acceptor_(*contexts_[0]),
      signals_(*contexts_[0], SIGINT, SIGTERM) {
    for (auto& context : contexts_)
        guards_.push_back(net::make_work_guard(*context));
}

HttpServer::~HttpServer() = default;

std::string HttpServer::listen() {
    error_code ec;
    const auto address = net::ip::make_address(options_.host, ec);
    if (ec) return "invalid --host '" + options_.host + "': " + ec.message();
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        return "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
               ec.message();
    }
    return {};
}

void HttpServer::run() {
    signals_.async_wait([this](const error_code& ec, int) {
        if (!ec) stop();
    });
    net::co_spawn(*contexts_[0], accept_loop(), net::detached);
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts_.size(); ++i) {
        threads.emplace_back([context = contexts_[i].get()] { context->run(); });
    }
    contexts_[0]->run();
    for (auto& thread : threads)
        thread.join();
}

void HttpServer::stop() {
    net::post(*contexts_[0], [this] {
        error_code ignored;
        acceptor_.close(ignored);
        signals_.cancel(ignored);
    });
    for (auto& context : contexts_)
        context->stop();
}

net::awaitable<void> HttpServer::accept_loop() {
    size_t next = 0;
    net::steady_timer backoff(*contexts_[0]);
    while (acceptor_.is_open()) {
        tcp::socket socket(*contexts_[next]);
        error_code ec;
        co_await acceptor_.async_accept(socket, net::redirect_error(net::use_awaitable, ec));
        if (ec == net::error::operation_aborted) co_return;
        if (ec) {
            backoff.expires_after(kAcceptRetryDelay);
            co_await backoff.async_wait(net::redirect_error(net::use_awaitable, ec));
            continue;
        }
        net::co_spawn(*contexts_[next], serve(std::move(socket), next),
                      [](const std::exception_ptr&) {});
        next = (next + 1) % contexts_.size();
    }
}

net::awaitable<void> HttpServer::serve(tcp::socket socket, size_t worker) {
    handler_.on_connection(worker);
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    socket.non_blocking(true, ec);
    boost::beast::flat_buffer buffer;
    net::steady_timer timer(socket.get_executor());
    ClientChannel client(socket, timer);

    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(options_.header_limit_bytes);
        parser.body_limit(options_.body_limit_bytes);
        co_await http::async_read_header(socket, buffer, parser,
                                         net::redirect_error(net::use_awaitable, ec));
        if (!ec && !parser.is_done()) {
            const auto expect = parser.get()[http::field::expect];
            if (boost::beast::iequals(expect, "100-continue")) {
                static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                co_await net::async_write(socket, net::buffer(kContinue),
                                          net::redirect_error(net::use_awaitable, ec));
            }
            if (!ec) {
                co_await http::async_read(socket, buffer, parser,
                                          net::redirect_error(net::use_awaitable, ec));
            }
        }
        if (ec) {
            const bool bad_http =
                ec.category() == http::make_error_code(http::error::body_limit).category() &&
                ec != http::error::end_of_stream && ec != http::error::partial_message;
            if (bad_http) {
                const int status = ec == http::error::body_limit ? 413 : 400;
                const std::string_view body = transport_error_body(status);
                std::string head = status == 413 ? "HTTP/1.1 413 Payload Too Large\r\n"
                                                 : "HTTP/1.1 400 Bad Request\r\n";
                head += "Content-Type: application/json\r\nConnection: close\r\n";
                head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
                co_await client.write(head, body);
            }
            break;
        }
        client.begin_request();
        auto request = std::make_shared<HttpRequest>(parser.release());
        const Outcome outcome = co_await handler_.handle(std::move(request), client, worker);
        if (outcome == Outcome::kClose || !socket.is_open()) break;
    }
    if (socket.is_open()) {
        socket.shutdown(tcp::socket::shutdown_send, ec);
        socket.close(ec);
    }
}

}  // namespace mock_llm
