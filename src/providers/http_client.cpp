// Upstream HTTP client: pooled keep-alive connections, TLS, phase deadlines, cancellation.
#include "switchyard/providers/http_client.hpp"

#include "switchyard/core/deadline.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

namespace switchyard {

struct UpstreamConnection {
    UpstreamConnection(net::io_context& ioc, std::chrono::steady_clock::duration granularity)
        : plain(std::make_unique<tcp::socket>(ioc)),
          deadline(SocketDeadline::make(*plain, granularity)) {}
    ~UpstreamConnection() { deadline->detach(); }
    UpstreamConnection(const UpstreamConnection&) = delete;
    UpstreamConnection& operator=(const UpstreamConnection&) = delete;

    tcp::socket& lowest() { return tls ? tls->next_layer() : *plain; }

    // Closes the socket so pending operations finish with an error.
    void abort() {
        beast::error_code ec;
        lowest().shutdown(tcp::socket::shutdown_both, ec);
        lowest().close(ec);
    }

    // An operation's error, as a timeout when this connection's deadline caused it.
    beast::error_code timed(beast::error_code ec) const {
        if (ec && deadline->expired()) return beast::error::timeout;
        return ec;
    }

    // A pooled connection is stale if the peer closed it (readable with EOF) or broke it.
    bool looks_alive() {
        auto& sock = lowest();
        if (!sock.is_open()) return false;
        char c;
        const ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) return false;                                   // orderly close
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;  // nothing to read: fine
        return false;  // unsolicited bytes on an idle connection: do not trust it
    }

    std::unique_ptr<tcp::socket> plain;
    std::unique_ptr<beast::ssl_stream<tcp::socket>> tls;
    // Connect, first byte, between chunks and total, enforced by one lazily re-armed timer
    // (closes the socket when due) instead of a timer per read and write.
    std::shared_ptr<SocketDeadline> deadline;
    beast::flat_buffer buffer;
    // Body read buffer, kept with the connection so pooled reuse allocates nothing.
    static constexpr size_t kChunkBytes = 16 * 1024;
    std::unique_ptr<char[]> chunk{new char[kChunkBytes]};
    size_t pool = 0;  // HttpClient::pools_ index
    std::chrono::steady_clock::time_point idle_since;
};

namespace {

using Clock = std::chrono::steady_clock;

// Time left until `deadline`, capped at `phase`.
Clock::duration budget(Clock::time_point deadline, std::chrono::milliseconds phase) {
    const auto left = deadline - Clock::now();
    return std::max<Clock::duration>(std::min<Clock::duration>(left, phase),
                                     std::chrono::milliseconds(1));
}

bool same_name(std::string_view a, std::string_view b) {
    return beast::iequals(a, b);
}

Error upstream_error(ErrorKind kind, std::string message,
                     UpstreamCause cause = UpstreamCause::kNone) {
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    e.cause = cause;
    return e;
}

Error cancelled_error() {
    return upstream_error(ErrorKind::kUpstream, "request cancelled: the client disconnected",
                          UpstreamCause::kCancelled);
}

}  // namespace

// ---------------------------------------------------------------- HttpExchange

HttpExchange::~HttpExchange() {
    if (cancel_) cancel_->clear();
    if (!conn_) return;
    auto client = client_.lock();
    if (client && !failed_ && parser_ && parser_->is_done() && parser_->keep_alive()) {
        client->put_idle(std::move(conn_));
    } else {
        conn_->abort();
    }
}

std::string_view HttpExchange::header(http::field name) const {
    if (!parser_) return {};
    auto it = parser_->get().find(name);
    return it == parser_->get().end() ? std::string_view{} : it->value();
}

Error HttpExchange::phase_error(const beast::error_code& ec, std::string_view phase) const {
    if (cancel_ && cancel_->cancelled()) return cancelled_error();
    if (ec == beast::error::timeout) {
        const bool total = Clock::now() >= deadline_;
        return upstream_error(
            ErrorKind::kUpstreamTimeout,
            total ? fmt::format("upstream {} exceeded the total timeout ({} ms)", host_,
                                timeouts_.total.count())
                  : fmt::format("upstream {} timed out {} ({} ms)", host_, phase,
                                timeouts_.between_chunks.count()),
            total ? UpstreamCause::kTotalTimeout : UpstreamCause::kBetweenChunksTimeout);
    }
    if (ec == http::error::body_limit) {
        return upstream_error(ErrorKind::kUpstream,
                              fmt::format("upstream {} response exceeds the size limit", host_),
                              UpstreamCause::kMalformed);
    }
    return upstream_error(
        ErrorKind::kUpstream,
        fmt::format("upstream {} connection failed {}: {}", host_, phase, ec.message()),
        UpstreamCause::kConnectionReset);
}

std::optional<Error> HttpExchange::before_read() {
    if (cancel_ && cancel_->cancelled()) {
        failed_ = true;
        return cancelled_error();
    }
    auto& body = parser_->get().body();
    body.data = conn_->chunk.get();
    body.size = UpstreamConnection::kChunkBytes;
    conn_->deadline->expire_after(budget(deadline_, timeouts_.between_chunks),
                                  SocketDeadline::OnExpiry::kClose);
    return std::nullopt;
}

Result<size_t> HttpExchange::after_read(beast::error_code ec) {
    conn_->deadline->clear();
    ec = conn_->timed(ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
        failed_ = true;
        return phase_error(ec, "between chunks");
    }
    return UpstreamConnection::kChunkBytes - parser_->get().body().size;
}

// (The reads are written out in read_some() and read_all() rather than in a shared
// coroutine: each nested coroutine costs a frame allocation per call.)
awaitable<Result<std::string_view>> HttpExchange::read_some() {
    if (failed_ || !conn_) co_return upstream_error(ErrorKind::kUpstream, "exchange failed");
    auto& p = *parser_;
    while (!p.is_done()) {
        if (auto e = before_read()) co_return std::move(*e);
        beast::error_code ec;
        if (conn_->tls) {
            co_await http::async_read_some(*conn_->tls, conn_->buffer, p,
                                           net::redirect_error(net::use_awaitable, ec));
        } else {
            co_await http::async_read_some(*conn_->plain, conn_->buffer, p,
                                           net::redirect_error(net::use_awaitable, ec));
        }
        auto n = after_read(ec);
        if (!n) co_return n.error();
        if (*n > 0) co_return std::string_view(conn_->chunk.get(), *n);
    }
    co_return std::string_view{};
}

awaitable<void> HttpExchange::drain(uint64_t max_bytes) {
    // Only what is already in flight is worth waiting for: an upstream that holds the body
    // open after its last event costs its connection, never the client's time.
    timeouts_.between_chunks = std::chrono::milliseconds(100);
    uint64_t seen = 0;
    while (!failed_ && conn_ && !parser_->is_done()) {
        auto piece = co_await read_some();
        if (!piece || piece->empty()) break;
        seen += piece->size();
        if (seen > max_bytes) {
            failed_ = true;  // more than a terminator: not worth keeping the connection
            break;
        }
    }
}

awaitable<Result<std::string>> HttpExchange::read_all(uint64_t max_bytes) {
    if (failed_ || !conn_) co_return upstream_error(ErrorKind::kUpstream, "exchange failed");
    std::string out;
    auto& p = *parser_;
    while (!p.is_done()) {
        if (auto e = before_read()) co_return std::move(*e);
        beast::error_code ec;
        if (conn_->tls) {
            co_await http::async_read_some(*conn_->tls, conn_->buffer, p,
                                           net::redirect_error(net::use_awaitable, ec));
        } else {
            co_await http::async_read_some(*conn_->plain, conn_->buffer, p,
                                           net::redirect_error(net::use_awaitable, ec));
        }
        auto n = after_read(ec);
        if (!n) co_return n.error();
        if (out.size() + *n > max_bytes) {
            failed_ = true;
            co_return upstream_error(
                ErrorKind::kUpstream,
                fmt::format("upstream {} response exceeds {} bytes", host_, max_bytes));
        }
        out.append(conn_->chunk.get(), *n);
    }
    co_return out;
}

// ---------------------------------------------------------------- HttpClient

HttpClient::HttpClient(net::io_context& ioc, net::ssl::context& tls, const UpstreamConfig& config)
    : ioc_(ioc), tls_(tls), config_(config) {
    // The shortest phase timeout: requests in steady state then never re-arm the timer.
    const int64_t shortest = std::min({config.connect_timeout_ms, config.first_byte_timeout_ms,
                                       config.between_chunks_timeout_ms, config.total_timeout_ms});
    deadline_granularity_ = std::chrono::milliseconds(std::max<int64_t>(shortest, 1));
}

void append_header_lines(std::string& out,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
    for (size_t i = 0; i < headers.size(); ++i) {
        bool replaced = false;
        for (size_t j = i + 1; j < headers.size() && !replaced; ++j)
            replaced = same_name(headers[i].first, headers[j].first);
        if (replaced) continue;
        out.append(headers[i].first).append(": ").append(headers[i].second).append("\r\n");
    }
}

HttpClient::~HttpClient() = default;

std::unique_ptr<net::ssl::context> HttpClient::make_tls_context(const UpstreamConfig& config) {
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) spdlog::warn("cannot load the system CA store: {}", ec.message());
    if (!config.ca_file.empty()) {
        ctx->load_verify_file(config.ca_file, ec);
        if (ec) {
            throw ConfigError("upstream.ca_file", 0, "upstream.ca_file",
                              fmt::format("cannot load '{}': {}", config.ca_file, ec.message()));
        }
    }
    ctx->set_verify_mode(config.verify_tls ? net::ssl::verify_peer : net::ssl::verify_none);
    return ctx;
}

size_t HttpClient::idle_connections() const {
    size_t n = 0;
    for (const auto& p : pools_)
        n += p.idle.size();
    return n;
}

size_t HttpClient::pool_index(const Url& url) {
    for (size_t i = 0; i < pools_.size(); ++i) {
        const Pool& p = pools_[i];
        if (p.port == url.port && p.tls == url.tls && p.host == url.host) return i;
    }
    Pool& p = pools_.emplace_back();
    p.tls = url.tls;
    p.host = url.host;
    p.port = url.port;
    p.host_header = url.host_header();
    return pools_.size() - 1;
}

std::unique_ptr<UpstreamConnection> HttpClient::take_idle(size_t pool) {
    auto& list = pools_[pool].idle;
    const auto now = Clock::now();
    while (!list.empty()) {
        auto conn = std::move(list.back());
        list.pop_back();
        // Servers commonly close idle keep-alive connections after 5-75 s. A connection idle
        // for under a second is trusted without a peek (a syscall); if the server did close
        // it, the request fails before any response byte and start() retries once.
        const auto idle = now - conn->idle_since;
        if (idle < std::chrono::seconds(1)) return conn;
        if (idle < std::chrono::seconds(30) && conn->looks_alive()) return conn;
        conn->abort();
    }
    return nullptr;
}

void HttpClient::put_idle(std::unique_ptr<UpstreamConnection> conn) {
    auto& list = pools_[conn->pool].idle;
    if (list.size() >= config_.max_idle_connections_per_host) {
        conn->abort();
        return;
    }
    conn->deadline->clear();
    conn->idle_since = Clock::now();
    list.push_back(std::move(conn));
}

awaitable<Result<std::unique_ptr<UpstreamConnection>>> HttpClient::connect(
    const Url& url, Clock::time_point deadline, const UpstreamTimeouts& t, CancelSignal* cancel) {
    auto conn = std::make_unique<UpstreamConnection>(ioc_, deadline_granularity_);
    conn->pool = pool_index(url);
    const auto connect_deadline = std::min(deadline, Clock::now() + t.connect);
    auto timed_out = [&](std::string_view what) {
        return upstream_error(ErrorKind::kUpstreamTimeout,
                              fmt::format("upstream {}:{} {} timed out ({} ms)", url.host, url.port,
                                          what, t.connect.count()),
                              UpstreamCause::kConnectTimeout);
    };

    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    // The resolver has no deadline of its own; the connect phase bounds it via cancel.
    net::steady_timer resolve_timer(ioc_);
    resolve_timer.expires_at(connect_deadline);
    resolve_timer.async_wait([&resolver](beast::error_code e) {
        if (!e) resolver.cancel();
    });
    if (cancel) cancel->on_cancel([&resolver] { resolver.cancel(); });
    auto results = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                   net::redirect_error(net::use_awaitable, ec));
    resolve_timer.cancel();
    if (cancel) cancel->clear();
    if (cancel && cancel->cancelled()) co_return cancelled_error();
    if (ec == net::error::operation_aborted) co_return timed_out("DNS lookup");
    if (ec) {
        co_return upstream_error(
            ErrorKind::kUpstream,
            fmt::format("cannot resolve upstream {}: {}", url.host, ec.message()),
            UpstreamCause::kConnect);
    }

    auto* raw = conn.get();
    if (cancel) cancel->on_cancel([raw] { raw->abort(); });
    raw->deadline->expire_at(connect_deadline, SocketDeadline::OnExpiry::kClose);
    co_await net::async_connect(*raw->plain, results, net::redirect_error(net::use_awaitable, ec));
    ec = raw->timed(ec);
    if (cancel && cancel->cancelled()) co_return cancelled_error();
    if (ec == beast::error::timeout) co_return timed_out("connect");
    if (ec) {
        co_return upstream_error(
            ErrorKind::kUpstream,
            fmt::format("cannot connect to upstream {}:{}: {}", url.host, url.port, ec.message()),
            UpstreamCause::kConnect);
    }
    raw->plain->set_option(tcp::no_delay(true), ec);

    if (url.tls) {
        raw->tls = std::make_unique<beast::ssl_stream<tcp::socket>>(std::move(*raw->plain), tls_);
        raw->deadline->retarget(raw->tls->next_layer());
        raw->plain.reset();
        if (!SSL_set_tlsext_host_name(raw->tls->native_handle(), url.host.c_str())) {
            co_return upstream_error(ErrorKind::kUpstream, "cannot set TLS SNI host name",
                                     UpstreamCause::kConnect);
        }
        raw->tls->set_verify_callback(net::ssl::host_name_verification(url.host));
        co_await raw->tls->async_handshake(net::ssl::stream_base::client,
                                           net::redirect_error(net::use_awaitable, ec));
        ec = raw->timed(ec);
        if (cancel && cancel->cancelled()) co_return cancelled_error();
        if (ec == beast::error::timeout) co_return timed_out("TLS handshake");
        if (ec) {
            co_return upstream_error(
                ErrorKind::kUpstream,
                fmt::format("TLS handshake with upstream {} failed: {}", url.host, ec.message()),
                UpstreamCause::kConnect);
        }
    }
    raw->deadline->clear();
    co_return conn;
}

awaitable<Result<std::unique_ptr<HttpExchange>>> HttpClient::start(const HttpRequestSpec& spec,
                                                                   CancelSignal* cancel) {
    const Url& url = *spec.url;
    const auto deadline = Clock::now() + spec.timeouts.total;
    const size_t pool = pool_index(url);

    // The request head, written by hand (no http::fields, no serializer): request line,
    // Host and User-Agent (unless `headers` replace them), the caller's preformatted block,
    // its other headers, Content-Length. The body is sent from `spec` as it is.
    std::string head;
    head.reserve(256 + spec.header_block.size());
    const std::string_view target =
        spec.fixed_target.empty() ? std::string_view(spec.target) : spec.fixed_target;
    head.append(std::string_view(http::to_string(spec.method)))
        .append(" ")
        .append(target)
        .append(" HTTP/1.1\r\n");
    bool own_host = false;
    bool own_agent = false;
    for (const auto& [k, v] : spec.headers) {
        own_host = own_host || same_name(k, "host");
        own_agent = own_agent || same_name(k, "user-agent");
    }
    if (!own_host) head.append("Host: ").append(pools_[pool].host_header).append("\r\n");
    if (!own_agent) head.append("User-Agent: switchyard/0.1\r\n");
    head.append(spec.header_block);
    append_header_lines(head, spec.headers);
    if (spec.method != http::verb::get || !spec.body.empty()) {
        head.append("Content-Length: ").append(std::to_string(spec.body.size())).append("\r\n");
    }
    head.append("\r\n");
    const std::array<net::const_buffer, 2> request_buffers{
        net::buffer(head), net::buffer(spec.body.data(), spec.body.size())};

    for (int attempt = 0; attempt < 2; ++attempt) {
        if (cancel && cancel->cancelled()) co_return cancelled_error();
        auto conn = take_idle(pool);
        const bool reused = conn != nullptr;
        if (!conn) {
            auto fresh = co_await connect(url, deadline, spec.timeouts, cancel);
            if (!fresh) co_return fresh.error();
            conn = std::move(fresh).value();
        }
        auto* raw = conn.get();
        if (cancel) cancel->on_cancel([raw] { raw->abort(); });

        auto ex = std::unique_ptr<HttpExchange>(new HttpExchange());
        ex->client_ = weak_from_this();
        ex->cancel_ = cancel;
        ex->timeouts_ = spec.timeouts;
        ex->deadline_ = deadline;
        ex->host_ = pools_[pool].host_header;
        ex->parser_.emplace();
        ex->parser_->body_limit(config_.max_response_bytes);
        ex->parser_->header_limit(64 * 1024);

        raw->deadline->expire_after(budget(deadline, spec.timeouts.first_byte),
                                    SocketDeadline::OnExpiry::kClose);
        beast::error_code ec;
        // (Written out per stream type, not in a helper coroutine: a frame per call.)
        auto& parser = *ex->parser_;
        if (raw->tls) {
            co_await net::async_write(*raw->tls, request_buffers,
                                      net::redirect_error(net::use_awaitable, ec));
            if (!ec) {
                co_await http::async_read_header(*raw->tls, raw->buffer, parser,
                                                 net::redirect_error(net::use_awaitable, ec));
            }
        } else {
            co_await net::async_write(*raw->plain, request_buffers,
                                      net::redirect_error(net::use_awaitable, ec));
            if (!ec) {
                co_await http::async_read_header(*raw->plain, raw->buffer, parser,
                                                 net::redirect_error(net::use_awaitable, ec));
            }
        }
        raw->deadline->clear();
        ec = raw->timed(ec);
        ex->conn_ = std::move(conn);
        if (ec) {
            ex->failed_ = true;
            const bool nothing_received = !ex->parser_->got_some();
            const bool retryable = reused && nothing_received && ec != beast::error::timeout &&
                                   !(cancel && cancel->cancelled());
            if (retryable) continue;  // stale keep-alive connection: try a fresh one
            if (ec == beast::error::timeout) {
                const bool total = Clock::now() >= deadline;
                co_return upstream_error(
                    ErrorKind::kUpstreamTimeout,
                    total ? fmt::format("upstream {} exceeded the total timeout ({} ms)", ex->host_,
                                        spec.timeouts.total.count())
                          : fmt::format("upstream {} sent no response within the first-byte "
                                        "timeout ({} ms)",
                                        ex->host_, spec.timeouts.first_byte.count()),
                    total ? UpstreamCause::kTotalTimeout : UpstreamCause::kFirstByteTimeout);
            }
            co_return ex->phase_error(ec, "before the response");
        }
        ex->status_ = static_cast<int>(ex->parser_->get().result_int());
        co_return ex;
    }
    co_return upstream_error(ErrorKind::kUpstream, "upstream connection failed twice",
                             UpstreamCause::kConnectionReset);
}

}  // namespace switchyard
