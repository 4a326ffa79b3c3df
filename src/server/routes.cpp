// Route table, the response writer, and the small endpoints (health, metrics, models).
#include <fmt/format.h>

#include <random>

#include "request_context.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;

template <class Body>
void stamp(http::response<Body>& res, unsigned version, bool keep_alive) {
    res.version(version);
    res.set(http::field::server, "switchyard");
    res.keep_alive(keep_alive);
}

awaitable<void> handle_models(RequestContext& ctx, std::string_view one) {
    ctx.endpoint = "models";
    const auto& cfg = ctx.gateway.config();
    std::string out;
    JsonWriter w(out);
    auto write_model = [&](const ModelConfig& m) {
        w.begin_object().kv("id", m.name).kv("object", "model");
        w.kv("created", ctx.gateway.started_unix()).kv("owned_by", m.provider_name);
        w.end_object();
    };
    if (!one.empty()) {
        auto target = ctx.gateway.resolve(one);
        if (!target) {
            co_await send_error(ctx, target.error(), ErrorStyle::kOpenAI);
            co_return;
        }
        write_model(*target->model);
    } else {
        w.begin_object().kv("object", "list").key("data").begin_array();
        for (const auto& m : cfg.models)
            write_model(m);
        w.end_array().end_object();
    }
    co_await send_json(ctx, http::status::ok, std::move(out));
}

}  // namespace

std::string random_id(size_t n) {
    static constexpr char kAlphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string out(n, '0');
    uint64_t bits = 0;
    int left = 0;
    for (auto& c : out) {
        if (left < 6) {
            bits = rng();
            left = 64;
        }
        c = kAlphabet[(bits & 63) % 62];
        bits >>= 6;
        left -= 6;
    }
    return out;
}

// ---------------------------------------------------------------- ResponseWriter

void ResponseWriter::set_header(std::string_view name, std::string_view value) {
    const std::string_view lines(header_lines_);
    for (size_t pos = 0; pos < lines.size();) {
        const size_t end = lines.find("\r\n", pos);
        const size_t colon = lines.find(':', pos);
        if (colon < end && beast::iequals(lines.substr(pos, colon - pos), name)) {
            header_lines_.erase(pos, end + 2 - pos);
            break;
        }
        pos = end + 2;
    }
    header_lines_.append(name).append(": ").append(value).append("\r\n");
}

void ResponseWriter::apply_headers(http::fields& fields) const {
    const std::string_view lines(header_lines_);
    for (size_t pos = 0; pos < lines.size();) {
        const size_t end = lines.find("\r\n", pos);
        const size_t colon = lines.find(':', pos);
        fields.set(lines.substr(pos, colon - pos), lines.substr(colon + 2, end - colon - 2));
        pos = end + 2;
    }
}

awaitable<bool> ResponseWriter::send(http::status status, std::string_view content_type,
                                     std::string body) {
    status_ = static_cast<int>(status);
    started_ = true;
    // The head is written by hand (what http::response + prepare_payload would produce:
    // status line, Server, Content-Type, the handler's headers, Connection when it differs
    // from the version's default, Content-Length), without http::fields or a serializer.
    std::string head;
    head.reserve(128 + header_lines_.size());
    head.append("HTTP/");
    head.push_back(static_cast<char>('0' + version_ / 10));
    head.push_back('.');
    head.push_back(static_cast<char>('0' + version_ % 10));
    head.push_back(' ');
    head.append(std::to_string(status_)).push_back(' ');
    head.append(std::string_view(http::obsolete_reason(status))).append("\r\n");
    head.append("Server: switchyard\r\nContent-Type: ").append(content_type).append("\r\n");
    head.append(header_lines_);
    if (version_ >= 11 && !keep_alive_) head.append("Connection: close\r\n");
    if (version_ < 11 && keep_alive_) head.append("Connection: keep-alive\r\n");
    head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
    const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
    deadline_.expire_after(write_timeout_, SocketDeadline::OnExpiry::kClose);
    beast::error_code ec;
    co_await net::async_write(socket_, buffers, net::redirect_error(net::use_awaitable, ec));
    deadline_.clear();
    if (ec) failed_ = true;
    co_return !ec;
}

awaitable<bool> ResponseWriter::begin_stream(std::string_view content_type) {
    status_ = 200;
    started_ = true;
    http::response<http::empty_body> res{http::status::ok, version_};
    stamp(res, version_, keep_alive_ && version_ >= 11);
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set("x-accel-buffering", "no");
    apply_headers(res);
    if (version_ >= 11) {
        res.chunked(true);
    } else {
        keep_alive_ = false;  // HTTP/1.0: the end of the body is the end of the connection
    }
    http::response_serializer<http::empty_body> sr{res};
    deadline_.expire_after(write_timeout_, SocketDeadline::OnExpiry::kClose);
    beast::error_code ec;
    co_await http::async_write_header(socket_, sr, net::redirect_error(net::use_awaitable, ec));
    deadline_.clear();
    if (ec) failed_ = true;
    co_return !ec;
}

awaitable<bool> ResponseWriter::write_chunk(std::string_view data) {
    if (failed_) co_return false;
    if (data.empty()) co_return true;  // an empty chunk would end a chunked body
    beast::error_code ec;
    deadline_.expire_after(write_timeout_, SocketDeadline::OnExpiry::kClose);
    if (version_ >= 11) {
        co_await net::async_write(socket_,
                                  http::make_chunk(net::const_buffer(data.data(), data.size())),
                                  net::redirect_error(net::use_awaitable, ec));
    } else {
        co_await net::async_write(socket_, net::const_buffer(data.data(), data.size()),
                                  net::redirect_error(net::use_awaitable, ec));
    }
    deadline_.clear();
    if (ec) failed_ = true;
    co_return !ec;
}

awaitable<bool> ResponseWriter::end_stream() {
    if (failed_) co_return false;
    if (version_ < 11) co_return true;
    beast::error_code ec;
    deadline_.expire_after(write_timeout_, SocketDeadline::OnExpiry::kClose);
    co_await net::async_write(socket_, http::make_chunk_last(),
                              net::redirect_error(net::use_awaitable, ec));
    deadline_.clear();
    if (ec) failed_ = true;
    co_return !ec;
}

// ---------------------------------------------------------------- errors and dispatch

awaitable<void> send_error(RequestContext& ctx, const Error& error, ErrorStyle style) {
    if (error.retry_after_s >= 0) {
        ctx.response.set_header("retry-after", std::to_string(error.retry_after_s));
    }
    // (GCC 12 double-destroys class temporaries of a ?: inside co_await: build first.)
    std::string body;
    if (style == ErrorStyle::kAnthropic) {
        body = to_anthropic_json(error);
    } else {
        body = to_openai_json(error);
    }
    co_await ctx.response.send(static_cast<http::status>(http_status(error.kind)),
                               "application/json", std::move(body));
}

awaitable<void> dispatch(RequestContext& ctx) {
    const auto& req = ctx.request;
    ctx.response.set_header("x-request-id", ctx.id);
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    const auto method = req.method();

    auto wrong_method = [&](std::string_view allowed) -> awaitable<void> {
        Error e;
        e.kind = ErrorKind::kInvalidRequest;
        e.code = "method_not_allowed";
        e.message = fmt::format("{} does not accept {}; use {}", target,
                                std::string_view(req.method_string()), allowed);
        ctx.response.set_header("allow", std::string(allowed));
        co_await ctx.response.send(http::status::method_not_allowed, "application/json",
                                   to_openai_json(e));
    };

    // The auth stage: every /v1 endpoint needs a gateway key (unless open access).
    const bool needs_key =
        target.starts_with("/v1/") || target == "/chat/completions" || target == "/embeddings";
    if (needs_key) {
        const ErrorStyle style =
            target == "/v1/messages" ? ErrorStyle::kAnthropic : ErrorStyle::kOpenAI;
        const bool authenticated = co_await authenticate(ctx, style);
        if (!authenticated) co_return;
    }
    if (target == "/v1/usage" || target == "/v1/keys" || target.starts_with("/v1/keys/")) {
        co_await handle_admin(ctx, target);
        co_return;
    }
    if (target.starts_with("/v1/cache/")) {
        co_await handle_cache_admin(ctx, target);
        co_return;
    }
    if (target.starts_with("/v1/rag/")) {
        co_await handle_rag(ctx, target);
        co_return;
    }
    if (target.starts_with("/v1/router/") || target == "/v1/incidents") {
        co_await handle_router(ctx, target, req.target());
        co_return;
    }
    if (target == "/v1/chat/completions" || target == "/chat/completions") {
        if (method != http::verb::post) {
            co_await wrong_method("POST");
            co_return;
        }
        {
            co_await handle_chat_completions(ctx);
            co_return;
        }
    }
    if (target == "/v1/messages") {
        if (method != http::verb::post) {
            co_await wrong_method("POST");
            co_return;
        }
        {
            co_await handle_messages(ctx);
            co_return;
        }
    }
    if (target == "/v1/embeddings" || target == "/embeddings") {
        if (method != http::verb::post) {
            co_await wrong_method("POST");
            co_return;
        }
        {
            co_await handle_embeddings(ctx);
            co_return;
        }
    }
    if (target == "/v1/models" || target.starts_with("/v1/models/")) {
        if (method != http::verb::get) {
            co_await wrong_method("GET");
            co_return;
        }
        const std::string_view one = target.size() > 11 ? target.substr(11) : std::string_view{};
        {
            co_await handle_models(ctx, one);
            co_return;
        }
    }
    if (target == "/healthz") {
        ctx.endpoint = "healthz";
        if (ctx.draining) {
            co_await send_json(ctx, http::status::service_unavailable, R"({"status":"draining"})");
            co_return;
        }
        {
            co_await send_json(ctx, http::status::ok, R"({"status":"ok"})");
            co_return;
        }
    }
    if (target == "/metrics") {
        ctx.endpoint = "metrics";
        co_await ctx.response.send(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                   ctx.gateway.metrics().render());
        co_return;
    }
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.code = "unknown_url";
    e.message = fmt::format(
        "Unknown request URL: {} {}. Endpoints: POST /v1/chat/completions, "
        "POST /v1/messages, POST /v1/embeddings, GET /v1/models, GET /v1/usage, "
        "GET|POST /v1/keys, DELETE /v1/keys/{{id}}, GET /v1/keys/self, GET /v1/router/models, "
        "POST /v1/router/explain, GET /v1/router/circuits, GET /v1/incidents, "
        "GET /v1/cache/stats, POST /v1/cache/invalidate, /v1/rag/collections[/{{c}}[/documents"
        "[/{{id}}]|/query]], GET /healthz, "
        "GET /metrics",
        std::string_view(req.method_string()), target);
    co_await send_error(ctx, e, ErrorStyle::kOpenAI);
}

}  // namespace switchyard
