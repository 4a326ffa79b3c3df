// One error type for the request path, mapped to OpenAI- and Anthropic-shaped JSON bodies.
// Values, not exceptions: every fallible request-path function returns Result<T>.
// Thread safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace switchyard {

// Mirrors the error types OpenAI returns; each maps to one HTTP status.
enum class ErrorKind {
    kInvalidRequest,   // 400 invalid_request_error
    kAuthentication,   // 401 authentication_error
    kPermission,       // 403 permission_error
    kNotFound,         // 404 not_found_error (paths)
    kModelNotFound,    // 404 invalid_request_error, code model_not_found
    kRequestTooLarge,  // 413 invalid_request_error, code request_too_large
    kRateLimited,      // 429 rate_limit_error
    kInternal,         // 500 server_error
    kNotImplemented,   // 501 not_implemented_error
    kUpstream,         // 502 upstream_error: the provider failed or answered garbage
    kUnavailable,      // 503 service_unavailable_error
    kUpstreamTimeout,  // 504 timeout_error
};

// Why an upstream call failed: what the failover loop decides on (retry the same model,
// fail over to another, or answer the client). Set where the failure is seen (the HTTP
// client knows a connect failure from a reset); upstream_cause() derives it otherwise.
enum class UpstreamCause : uint8_t {
    kNone,                  // not an upstream failure (the gateway's own errors)
    kConnect,               // DNS, TCP or TLS failed: refused, unreachable, bad certificate
    kConnectTimeout,        // connect (or DNS, TLS) took longer than connect_timeout_ms
    kFirstByteTimeout,      // no response head within first_byte_timeout_ms
    kBetweenChunksTimeout,  // silence inside an answer longer than between_chunks_timeout_ms
    kTotalTimeout,          // the whole exchange passed total_timeout_ms
    kConnectionReset,       // the upstream closed or reset the connection mid-exchange
    kRateLimited,           // 429
    kOverloaded,            // 503, 529 (Anthropic overloaded)
    kServerError,           // other 5xx, 408
    kAuth,                  // 401/403 or a missing provider key: the gateway's credentials
    kClientError,           // other 4xx: the request is at fault; never retried
    kContextLength,         // the prompt does not fit this model: try a larger one
    kContentFilter,         // the provider refused the content; not retried
    kMalformed,             // an answer the gateway cannot use
    kCancelled,             // the client left
};
std::string_view to_string(UpstreamCause cause);

struct Error {
    ErrorKind kind = ErrorKind::kInternal;
    std::string message;
    std::string param;        // offending request field, if any
    std::string code;         // machine-readable code, e.g. "model_not_found"
    int retry_after_s = -1;   // from an upstream Retry-After, forwarded to the client
    int upstream_status = 0;  // HTTP status the provider returned, 0 if none
    UpstreamCause cause = UpstreamCause::kNone;  // see upstream_cause()

    static Error invalid_request(std::string message, std::string param = {},
                                 std::string code = {});
    static Error internal(std::string message);
};

// The Error for an upstream's non-2xx HTTP answer, the same for every provider: the
// client's fault for 400/404/413/422, the upstream's for 5xx (502), overload (503) and
// timeouts (504); 401/403 mean the gateway's own credentials failed, so they are 502 too,
// never blamed on the client. `message` is the provider's, kept.
Error upstream_status_error(int status, std::string message);

// The cause of an upstream failure: `cause` when set, else derived from the upstream status,
// the error code and message (context length, content filter) and the kind.
UpstreamCause upstream_cause(const Error& error);

int http_status(ErrorKind kind);
std::string_view openai_error_type(ErrorKind kind);
std::string_view anthropic_error_type(ErrorKind kind);

// {"error":{"message":..,"type":..,"param":..,"code":..}}
std::string to_openai_json(const Error& error);
// {"type":"error","error":{"type":..,"message":..}}
std::string to_anthropic_json(const Error& error);

// Result<T>: a T or an Error. [[nodiscard]] so a failure cannot be dropped silently.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() { return std::get<0>(v_); }
    Error& error() { return std::get<1>(v_); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace switchyard
