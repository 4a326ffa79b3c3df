// Async HTTP/1.1 client for upstream providers: keep-alive connection pool per host (one
// client per worker thread, so pools need no lock), TLS with certificate and host-name
// verification, and four deadlines: connect, first byte, between chunks, total.
// Thread safety: an HttpClient and its exchanges belong to one io_context thread.
// Failure: every error is a Result (kind kUpstream / kUpstreamTimeout with the phase named);
// a CancelSignal aborts an exchange by closing its socket (the connection is not reused).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/core/asio.hpp"
#include "switchyard/core/error.hpp"

namespace switchyard {

// Aborts work when the client that asked for it goes away. Single-threaded: set and fired
// on the owning io_context thread.
class CancelSignal {
public:
    void cancel() {
        if (cancelled_) return;
        cancelled_ = true;
        if (handler_) {
            auto h = std::move(handler_);
            handler_ = nullptr;
            h();
        }
    }
    bool cancelled() const { return cancelled_; }
    // Called (once) on cancel(); replaces any earlier handler.
    void on_cancel(std::function<void()> handler) { handler_ = std::move(handler); }
    void clear() { handler_ = nullptr; }

private:
    bool cancelled_ = false;
    std::function<void()> handler_;
};

struct UpstreamTimeouts {
    std::chrono::milliseconds connect{5'000};
    std::chrono::milliseconds first_byte{60'000};
    std::chrono::milliseconds between_chunks{30'000};
    std::chrono::milliseconds total{300'000};
};

struct HttpRequestSpec {
    const Url* url = nullptr;  // scheme, host, port
    std::string target;        // path + query, e.g. "/v1/chat/completions"
    // Used instead of `target` when not empty: a target the caller keeps alive (e.g. built
    // once per model), so nothing is copied per request.
    std::string_view fixed_target;
    http::verb method = http::verb::post;
    // Preformatted header lines ("name: value\r\n"...) that the caller keeps alive, sent
    // after Host and User-Agent; e.g. a provider's per-model content type, key and extra
    // headers, built once. A name here must not also appear in `headers`.
    std::string_view header_block;
    // Further headers; a later entry replaces an earlier one of the same name (as do entries
    // named Host or User-Agent).
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    UpstreamTimeouts timeouts;
};

// Appends `headers` as "name: value\r\n" lines, a later entry replacing an earlier one of
// the same name (case-insensitive), as http::fields::set() would.
void append_header_lines(std::string& out,
                         const std::vector<std::pair<std::string, std::string>>& headers);

class HttpClient;
struct UpstreamConnection;

// One request/response on a pooled connection. Read the body with read_some() until it
// returns an empty view; the connection returns to the pool only if the body was read to
// the end and the server allows keep-alive.
class HttpExchange {
public:
    ~HttpExchange();
    HttpExchange(const HttpExchange&) = delete;
    HttpExchange& operator=(const HttpExchange&) = delete;

    int status() const { return status_; }
    // Response header value, or empty.
    std::string_view header(http::field name) const;
    // Next piece of the body (de-chunked); an empty view at the end of the body.
    awaitable<Result<std::string_view>> read_some();
    // The rest of the body, up to `max_bytes`.
    awaitable<Result<std::string>> read_all(uint64_t max_bytes);
    // Reads and discards what is left of the body (at most `max_bytes`, waiting at most
    // 100 ms per read), so the connection can go back to the pool; e.g. the chunked
    // terminator after a stream's last event. On failure the connection is just not reused.
    awaitable<void> drain(uint64_t max_bytes);

private:
    friend class HttpClient;
    HttpExchange() = default;
    Error phase_error(const beast::error_code& ec, std::string_view phase) const;
    // Around one body read: arm the between-chunks deadline (or fail if cancelled), then
    // the bytes read into the connection's chunk buffer, or the error.
    std::optional<Error> before_read();
    Result<size_t> after_read(beast::error_code ec);

    std::weak_ptr<HttpClient> client_;
    std::unique_ptr<UpstreamConnection> conn_;
    std::optional<http::response_parser<http::buffer_body>> parser_;
    CancelSignal* cancel_ = nullptr;
    UpstreamTimeouts timeouts_;
    std::chrono::steady_clock::time_point deadline_;
    std::string host_;
    int status_ = 0;
    bool failed_ = false;
};

class HttpClient : public std::enable_shared_from_this<HttpClient> {
public:
    HttpClient(net::io_context& ioc, net::ssl::context& tls, const UpstreamConfig& config);
    ~HttpClient();

    // Connects (or reuses a pooled connection), sends the request and reads the response
    // head. A request that fails on a reused connection before any response byte arrives
    // is retried once on a fresh connection (the server may have closed an idle one).
    awaitable<Result<std::unique_ptr<HttpExchange>>> start(const HttpRequestSpec& spec,
                                                           CancelSignal* cancel);

    size_t idle_connections() const;
    net::io_context& io_context() { return ioc_; }

    // Builds the TLS context every client on every thread shares: TLS 1.2+, system trust
    // store plus `ca_file`, peer verification unless `verify` is false.
    static std::unique_ptr<net::ssl::context> make_tls_context(const UpstreamConfig& config);

private:
    friend class HttpExchange;
    using Clock = std::chrono::steady_clock;

    awaitable<Result<std::unique_ptr<UpstreamConnection>>> connect(const Url& url,
                                                                   Clock::time_point deadline,
                                                                   const UpstreamTimeouts& t,
                                                                   CancelSignal* cancel);
    // Keep-alive pool of one upstream origin (scheme, host, port).
    struct Pool {
        bool tls = false;
        std::string host;
        uint16_t port = 0;
        std::string host_header;  // "host" or "host:port"
        std::vector<std::unique_ptr<UpstreamConnection>> idle;
    };
    // The pool for `url`'s origin (created on first use; pools are never removed, and
    // there is one per upstream origin, so a linear scan without building a key is cheap).
    size_t pool_index(const Url& url);
    std::unique_ptr<UpstreamConnection> take_idle(size_t pool);
    void put_idle(std::unique_ptr<UpstreamConnection> conn);

    net::io_context& ioc_;
    net::ssl::context& tls_;
    UpstreamConfig config_;
    std::deque<Pool> pools_;  // a deque: pools stay put as more are added
    std::chrono::steady_clock::duration deadline_granularity_;
};

}  // namespace switchyard
