// The gateway's HTTP server: Boost.Beast over Asio, one io_context per worker thread,
// HTTP/1.1 keep-alive, bounded reads (header and body limits, deadlines), and staged
// shutdown (stop accepting, let in-flight requests finish within the grace period, then
// stop hard).
// Thread safety: start/shutdown/wait may be called from any one controlling thread.
// Failure: start() throws std::runtime_error if the address cannot be bound.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "switchyard/config/config.hpp"

namespace switchyard {

class HttpServer {
public:
    explicit HttpServer(Config config);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds, starts the worker threads and returns the bound port (useful with port 0).
    uint16_t start();
    // Begins the graceful shutdown; returns at once. Safe to call more than once.
    void shutdown();
    // Blocks until every worker thread has stopped.
    void wait();
    // start(), then shut down on SIGINT/SIGTERM and wait. `on_listening` is called with the
    // bound port once the server accepts connections. Returns the process exit code.
    int run(const std::function<void(uint16_t)>& on_listening = {});

    struct Impl;  // opaque; public so the server's internal classes can name it

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard
