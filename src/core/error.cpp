// Error kinds -> HTTP status and OpenAI/Anthropic error bodies.
#include "switchyard/core/error.hpp"

#include "switchyard/core/json_writer.hpp"

namespace switchyard {

Error Error::invalid_request(std::string message, std::string param, std::string code) {
    Error e;
    e.kind = ErrorKind::kInvalidRequest;
    e.message = std::move(message);
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

Error Error::internal(std::string message) {
    Error e;
    e.kind = ErrorKind::kInternal;
    e.message = std::move(message);
    return e;
}

Error upstream_status_error(int status, std::string message) {
    Error e;
    e.upstream_status = status;
    switch (status) {
        case 400:
        case 422:
            e.kind = ErrorKind::kInvalidRequest;
            break;
        case 401:
        case 403:
            e.kind = ErrorKind::kUpstream;
            message.insert(0, "upstream rejected the gateway's credentials: ");
            break;
        case 404:
            e.kind = ErrorKind::kInvalidRequest;
            e.code = "model_not_found";
            break;
        case 408:
        case 504:
            e.kind = ErrorKind::kUpstreamTimeout;
            break;
        case 413:
            e.kind = ErrorKind::kRequestTooLarge;
            break;
        case 429:
            e.kind = ErrorKind::kRateLimited;
            break;
        case 503:
        case 529:
            e.kind = ErrorKind::kUnavailable;
            break;
        default:
            e.kind =
                status >= 500 || status < 400 ? ErrorKind::kUpstream : ErrorKind::kInvalidRequest;
    }
    e.message = std::move(message);
    return e;
}

std::string_view to_string(UpstreamCause cause) {
    switch (cause) {
        case UpstreamCause::kNone:
            return "none";
        case UpstreamCause::kConnect:
            return "connect_failed";
        case UpstreamCause::kConnectTimeout:
            return "connect_timeout";
        case UpstreamCause::kFirstByteTimeout:
            return "first_byte_timeout";
        case UpstreamCause::kBetweenChunksTimeout:
            return "between_chunks_timeout";
        case UpstreamCause::kTotalTimeout:
            return "total_timeout";
        case UpstreamCause::kConnectionReset:
            return "connection_reset";
        case UpstreamCause::kRateLimited:
            return "rate_limited";
        case UpstreamCause::kOverloaded:
            return "overloaded";
        case UpstreamCause::kServerError:
            return "server_error";
        case UpstreamCause::kAuth:
            return "upstream_auth";
        case UpstreamCause::kClientError:
            return "client_error";
        case UpstreamCause::kContextLength:
            return "context_length";
        case UpstreamCause::kContentFilter:
            return "content_filter";
        case UpstreamCause::kMalformed:
            return "malformed_response";
        case UpstreamCause::kCancelled:
            return "cancelled";
    }
    return "none";
}

namespace {

bool contains(std::string_view text, std::string_view what) {
    return text.find(what) != std::string_view::npos;
}

}  // namespace

UpstreamCause upstream_cause(const Error& e) {
    if (e.cause != UpstreamCause::kNone) return e.cause;
    if (e.code == "context_length_exceeded" || contains(e.message, "maximum context length") ||
        contains(e.message, "prompt is too long") || contains(e.message, "context length")) {
        if (e.upstream_status == 0 || (e.upstream_status >= 400 && e.upstream_status < 500))
            return UpstreamCause::kContextLength;
    }
    if (e.code == "content_filter" || e.code == "content_policy_violation") {
        return UpstreamCause::kContentFilter;
    }
    const int s = e.upstream_status;
    if (s == 429) return UpstreamCause::kRateLimited;
    if (s == 503 || s == 529) return UpstreamCause::kOverloaded;
    if (s >= 500 || s == 408) return UpstreamCause::kServerError;
    if (s == 401 || s == 403) return UpstreamCause::kAuth;
    if (s >= 400) return UpstreamCause::kClientError;
    if (e.code == "upstream_key_missing") return UpstreamCause::kAuth;
    switch (e.kind) {
        case ErrorKind::kUpstream:
            return UpstreamCause::kMalformed;
        case ErrorKind::kUpstreamTimeout:
            return UpstreamCause::kTotalTimeout;
        case ErrorKind::kRateLimited:
            return UpstreamCause::kRateLimited;
        case ErrorKind::kUnavailable:
            return UpstreamCause::kOverloaded;
        default:
            return UpstreamCause::kNone;
    }
}

int http_status(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidRequest:
            return 400;
        case ErrorKind::kAuthentication:
            return 401;
        case ErrorKind::kPermission:
            return 403;
        case ErrorKind::kNotFound:
            return 404;
        case ErrorKind::kModelNotFound:
            return 404;
        case ErrorKind::kRequestTooLarge:
            return 413;
        case ErrorKind::kRateLimited:
            return 429;
        case ErrorKind::kInternal:
            return 500;
        case ErrorKind::kNotImplemented:
            return 501;
        case ErrorKind::kUpstream:
            return 502;
        case ErrorKind::kUnavailable:
            return 503;
        case ErrorKind::kUpstreamTimeout:
            return 504;
    }
    return 500;
}

std::string_view openai_error_type(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidRequest:
        case ErrorKind::kModelNotFound:
        case ErrorKind::kRequestTooLarge:
            return "invalid_request_error";
        case ErrorKind::kAuthentication:
            return "authentication_error";
        case ErrorKind::kPermission:
            return "permission_error";
        case ErrorKind::kNotFound:
            return "not_found_error";
        case ErrorKind::kRateLimited:
            return "rate_limit_error";
        case ErrorKind::kInternal:
            return "server_error";
        case ErrorKind::kNotImplemented:
            return "not_implemented_error";
        case ErrorKind::kUpstream:
            return "upstream_error";
        case ErrorKind::kUnavailable:
            return "service_unavailable_error";
        case ErrorKind::kUpstreamTimeout:
            return "timeout_error";
    }
    return "server_error";
}

std::string_view anthropic_error_type(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidRequest:
            return "invalid_request_error";
        case ErrorKind::kAuthentication:
            return "authentication_error";
        case ErrorKind::kPermission:
            return "permission_error";
        case ErrorKind::kNotFound:
        case ErrorKind::kModelNotFound:
            return "not_found_error";
        case ErrorKind::kRequestTooLarge:
            return "request_too_large";
        case ErrorKind::kRateLimited:
            return "rate_limit_error";
        case ErrorKind::kUnavailable:
            return "overloaded_error";
        case ErrorKind::kInternal:
        case ErrorKind::kNotImplemented:
        case ErrorKind::kUpstream:
        case ErrorKind::kUpstreamTimeout:
            return "api_error";
    }
    return "api_error";
}

std::string to_openai_json(const Error& error) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("error").begin_object();
    w.kv("message", error.message).kv("type", openai_error_type(error.kind));
    if (error.param.empty()) {
        w.kv_null("param");
    } else {
        w.kv("param", error.param);
    }
    if (!error.code.empty()) {
        w.kv("code", error.code);
    } else if (error.kind == ErrorKind::kModelNotFound) {
        w.kv("code", "model_not_found");
    } else {
        w.kv_null("code");
    }
    w.end_object().end_object();
    return out;
}

std::string to_anthropic_json(const Error& error) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("type", "error").key("error").begin_object();
    w.kv("type", anthropic_error_type(error.kind)).kv("message", error.message);
    w.end_object().end_object();
    return out;
}

}  // namespace switchyard
