// Private to the server: the per-request context handed to route handlers, and the writer
// that sends a complete or a streamed (chunked) response on the client connection.
// Both live on one worker thread for the duration of one request.
#pragma once

#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "switchyard/core/asio.hpp"
#include "switchyard/core/deadline.hpp"
#include "switchyard/core/error.hpp"
#include "switchyard/providers/http_client.hpp"
#include "switchyard/server/gateway.hpp"

namespace switchyard {

class ResponseWriter {
public:
    // Writes on `socket`; each write must finish within `write_timeout` (enforced through
    // the connection's `deadline`, which closes the socket when due).
    ResponseWriter(tcp::socket& socket, SocketDeadline& deadline, unsigned http_version,
                   bool keep_alive, std::chrono::milliseconds write_timeout)
        : socket_(socket),
          deadline_(deadline),
          version_(http_version),
          keep_alive_(keep_alive),
          write_timeout_(write_timeout) {
        header_lines_.reserve(192);  // x-request-id and the model headers: one allocation
    }

    // Sets a response header (replacing an earlier one of the same name). The lines are
    // kept preformatted ("name: value\r\n") in one string: no allocation per header.
    void set_header(std::string_view name, std::string_view value);
    // Sends a complete response. False when the client is gone.
    awaitable<bool> send(http::status status, std::string_view content_type, std::string body);
    // Sends the head of a streamed 200 response (chunked). False when the client is gone.
    awaitable<bool> begin_stream(std::string_view content_type);
    // Writes one chunk and flushes it. False when the client is gone.
    awaitable<bool> write_chunk(std::string_view data);
    // Writes the terminating chunk.
    awaitable<bool> end_stream();

    int status() const { return status_; }
    bool started() const { return started_; }
    bool failed() const { return failed_; }
    bool keep_alive() const { return keep_alive_ && !failed_; }
    void force_close() { keep_alive_ = false; }

private:
    void apply_headers(http::fields& fields) const;
    awaitable<bool> write(std::array<net::const_buffer, 2> buffers);

    tcp::socket& socket_;
    SocketDeadline& deadline_;
    unsigned version_;
    bool keep_alive_;
    std::chrono::milliseconds write_timeout_;
    std::string header_lines_;  // "name: value\r\n"...
    int status_ = 0;
    bool started_ = false;
    bool failed_ = false;
};

// How a route answers errors: OpenAI's shape, or Anthropic's on /v1/messages.
enum class ErrorStyle { kOpenAI, kAnthropic };

struct RequestContext {
    RequestContext(Gateway& g, HttpClient& h, int worker, const http::request<http::string_body>& r,
                   ResponseWriter& w, std::string request_id)
        : gateway(g),
          http(h),
          worker_index(worker),
          request(r),
          response(w),
          id(std::move(request_id)),
          start(std::chrono::steady_clock::now()) {}

    Gateway& gateway;
    HttpClient& http;
    int worker_index = 0;
    const http::request<http::string_body>& request;
    ResponseWriter& response;
    CancelSignal cancel;
    std::string id;  // x-request-id
    std::chrono::steady_clock::time_point start;
    // Metric labels, filled in by the handler.
    std::string_view endpoint = "other";
    std::string model;
    std::string provider;
    bool draining = false;
    // The caller's API key (null under open access), set by the auth stage in dispatch().
    std::shared_ptr<KeyState> key;
    // The chat `rag` field's result: {"collection":..,"citations":[..]}, added to JSON answers.
    std::string rag_json;
};

// Runs blocking work (SQLite, embedding) on the gateway's blocking pool and resumes on this
// worker; an exception thrown by `f` is rethrown here. (Plain handlers, not a coroutine
// lambda: GCC 12 destroys a coroutine lambda's captures twice.)
template <class F>
awaitable<std::invoke_result_t<F>> run_blocking(Gateway& gateway, F f) {
    using R = std::invoke_result_t<F>;
    auto ex = co_await net::this_coro::executor;
    co_return co_await net::async_initiate<decltype(net::use_awaitable),
                                           void(std::exception_ptr, R)>(
        [&gateway, ex](auto handler, F work) {
            net::post(gateway.blocking_pool(),
                      [handler = std::move(handler), work = std::move(work), ex]() mutable {
                          std::exception_ptr error;
                          R result{};
                          try {
                              result = work();
                          } catch (...) {
                              error = std::current_exception();
                          }
                          net::post(ex, [handler = std::move(handler), error,
                                         result = std::move(result)]() mutable {
                              handler(error, std::move(result));
                          });
                      });
        },
        net::use_awaitable, std::move(f));
}

// Sends a complete application/json response.
awaitable<void> send_json(RequestContext& ctx, http::status status, std::string body);
// %XX-decoded `v` ('+' as a space in query strings), or nullopt when an escape is broken.
std::optional<std::string> percent_decode(std::string_view v, bool plus_is_space);
// Query string value of `name` in a request target (percent-decoded), or nullopt; "\x01"
// when the value's percent-encoding is broken.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

// Sends `error` as a JSON error body with its status (and Retry-After when known).
awaitable<void> send_error(RequestContext& ctx, const Error& error, ErrorStyle style);

// The auth stage: resolves the presented API key into ctx.key. False (after answering 401)
// when a key is required and missing, unknown or revoked.
awaitable<bool> authenticate(RequestContext& ctx, ErrorStyle style);
// True when the caller may use admin endpoints; otherwise answers 401/403 and returns false.
awaitable<bool> require_admin(RequestContext& ctx);
// GET /v1/usage and /v1/keys[/...].
awaitable<void> handle_admin(RequestContext& ctx, std::string_view path);

// /v1/router/{models,explain,circuits} and /v1/incidents; `target` keeps the query.
awaitable<void> handle_router(RequestContext& ctx, std::string_view path, std::string_view target);

// GET /v1/cache/stats, POST /v1/cache/invalidate.
awaitable<void> handle_cache_admin(RequestContext& ctx, std::string_view path);

// /v1/rag/collections[/...] (rag_routes.cpp).
awaitable<void> handle_rag(RequestContext& ctx, std::string_view path);

// Route handlers.
awaitable<void> dispatch(RequestContext& ctx);
awaitable<void> handle_chat_completions(RequestContext& ctx);
awaitable<void> handle_messages(RequestContext& ctx);
awaitable<void> handle_embeddings(RequestContext& ctx);

// A fresh random id of `n` base62 characters.
std::string random_id(size_t n);

}  // namespace switchyard
