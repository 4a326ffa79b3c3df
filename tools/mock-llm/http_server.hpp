// Transport: the listener, one io_context per worker thread, and one coroutine per HTTP/1.1
// keep-alive connection; the acceptor hands sockets to the workers round-robin.
// listen/run/stop are for main; stop() is thread-safe. A connection lives on one worker thread.
// Failure: socket errors end one connection, never the process; listen() reports bind errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asio.hpp"

namespace mock_llm {

enum class WaitResult { kElapsed, kClientGone };

// What a handler can do with the client while answering one request. Bound to the connection's
// socket and thread; not thread-safe. Every call reports a vanished client as a value.
class ClientChannel {
public:
    ClientChannel(tcp::socket& socket, net::steady_timer& timer);

    // Writes `head` then `body` in one gather write; false if the client is gone.
    net::awaitable<bool> write(std::string_view head, std::string_view body = {});
    // Writes one HTTP/1.1 chunk carrying `data`, flushed as it is written.
    net::awaitable<bool> write_chunk(std::string_view data);
    net::awaitable<bool> write_last_chunk();
    // Sleeps `duration` (forever when nullopt) without blocking the thread; returns early with
    // kClientGone if the client closes or resets the connection meanwhile. (If the client
    // pipelines its next request instead, the rest of the wait can no longer see a close.)
    net::awaitable<WaitResult> wait(std::optional<std::chrono::milliseconds> duration);
    // Aborts the connection with a TCP RST (SO_LINGER 0, then close).
    void reset();

    // Called by the server before each request.
    void begin_request() { peer_sent_data_ = false; }

private:
    tcp::socket& socket_;
    net::steady_timer& timer_;
    bool peer_sent_data_ = false;
};

// Whether the connection may carry another request after this one.
enum class Outcome { kKeepAlive, kClose };

// The application: one call per parsed request.
class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    virtual net::awaitable<Outcome> handle(std::shared_ptr<HttpRequest> request,
                                           ClientChannel& client, size_t worker) = 0;
    // A client connection was accepted on `worker` (counted in /_mock/stats, so tests can
    // tell whether a client reuses its connections).
    virtual void on_connection(size_t worker) { (void)worker; }
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 0;  // 0: the kernel picks a free port
    size_t threads = 1;
    uint64_t body_limit_bytes = 32ull << 20;
    uint32_t header_limit_bytes = 64u << 10;
};

class HttpServer {
public:
    HttpServer(ServerOptions options, RequestHandler& handler);
    ~HttpServer();

    // Binds and listens. Returns an error message, or an empty string.
    std::string listen();
    tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    // Serves until stop() or SIGINT/SIGTERM; the calling thread is worker 0.
    void run();
    // Stops accepting and stops every worker; requests still open are dropped.
    void stop();

private:
    net::awaitable<void> accept_loop();
    net::awaitable<void> serve(tcp::socket socket, size_t worker);

    ServerOptions options_;
    RequestHandler& handler_;
    std::vector<std::unique_ptr<net::io_context>> contexts_;  // one per worker
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
    tcp::acceptor acceptor_;   // on worker 0
    net::signal_set signals_;  // on worker 0
};

}  // namespace mock_llm
