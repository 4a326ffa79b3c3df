// The mock's endpoints: routing, auth, fault playback, the stream driver and the admin API.
// Every co_await result is bound to a named local before it is tested: GCC 12 miscompiles a
// co_await inside a condition whose operand builds a temporary (the frame resumes corrupted).

#include "endpoints.hpp"

#include <ctime>

#include "anthropic_format.hpp"
#include "json_writer.hpp"
#include "openai_embeddings.hpp"
#include "openai_format.hpp"

namespace mock_llm {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kEventStream = "text/event-stream";

enum class Dialect { kOpenAi, kAnthropic };

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 529:
            return "Site Overloaded";
        default:
            return "Unknown";
    }
}

// Status line and headers. `length` nullopt means a chunked body (an SSE stream).
std::string make_head(int status, std::string_view content_type, std::optional<size_t> length,
                      std::string_view extra_headers, bool keep_alive) {
    std::string head;
    head.reserve(192 + extra_headers.size());
    head += "HTTP/1.1 ";
    head += std::to_string(status);
    head += ' ';
    head += reason_phrase(status);
    head += "\r\nServer: mock-llm\r\nContent-Type: ";
    head += content_type;
    if (length) {
        head += "\r\nContent-Length: ";
        head += std::to_string(*length);
    } else {
        head += "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache";
    }
    head += "\r\n";
    head += extra_headers;
    head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return head;
}

std::string render_error(Dialect dialect, const ApiError& error) {
    return dialect == Dialect::kAnthropic ? render_anthropic_error(error)
                                          : render_openai_error(error);
}

ApiError error_for_status(Dialect dialect, int status, std::string_view model) {
    return dialect == Dialect::kAnthropic ? anthropic_error_for_status(status, model)
                                          : openai_error_for_status(status, model);
}

// The error an injected status answers with: the status's usual body, or the prompt-too-long
// body for code=context_length_exceeded, with `code` (OpenAI only: Anthropic has none) replaced.
ApiError injected_error(Dialect dialect, const FaultPlan& plan, std::string_view model,
                        int64_t prompt_tokens) {
    if (plan.code == kContextLengthExceeded) {
        const int64_t window = plan.context_window.value_or(kDefaultContextWindow);
        return dialect == Dialect::kAnthropic
                   ? anthropic_prompt_too_long_error(plan.status, prompt_tokens, window)
                   : openai_context_length_error(plan.status, prompt_tokens, window);
    }
    ApiError error = error_for_status(dialect, plan.status, model);
    if (!plan.code.empty()) error.code = plan.code;
    return error;
}

// The context_window fault on its own: a prompt longer than the window is refused with 400,
// as a real model with that window would refuse it.
void check_context_window(FaultPlan& plan, int64_t prompt_tokens) {
    if (plan.status != 0 || !plan.context_window || prompt_tokens <= *plan.context_window) return;
    plan.status = 400;
    plan.code = std::string(kContextLengthExceeded);
}

// The content_filter fault: the answer is withheld, with no text and no tool call.
void withhold(Reply& reply) {
    reply.text.clear();
    reply.tool_name.clear();
    reply.tool_arguments.clear();
    reply.completion_tokens = 0;
    reply.finish = Finish::kContentFilter;
}

ApiError bad_fault(std::string message) {
    return ApiError{400, std::move(message), "invalid_request_error", {}, {}};
}

}  // namespace

// One /v1 request being answered.
struct MockService::Exchange {
    Dialect dialect = Dialect::kOpenAi;
    bool keep_alive = true;
    std::string request_id_header;  // "x-request-id: req_mock_<n>\r\n" or Anthropic's
    std::string model;
    uint64_t serial = 0;        // the <n> of this request's ids
    int64_t prompt_tokens = 0;  // named in context_length_exceeded errors
};

// How an answer ended, for the stats and for the connection.
struct MockService::Done {
    Ending ending = Ending::kCompleted;
    Outcome outcome = Outcome::kKeepAlive;
};

MockService::MockService(MockConfig config, FaultBook& faults, Stats& stats, size_t workers)
    : config_(std::move(config)), faults_(faults), stats_(stats) {
    for (size_t i = 0; i < workers; ++i) {
        parsers_.push_back(std::make_unique<simdjson::dom::parser>());
    }
}

net::awaitable<Outcome> MockService::handle(std::shared_ptr<HttpRequest> request,
                                            ClientChannel& client, size_t worker) {
    const std::string_view target = request->target();
    const std::string_view path = target.substr(0, target.find('?'));

    if (path == "/healthz") {
        const std::string head = make_head(200, "text/plain", 2, {}, request->keep_alive());
        const bool sent = co_await client.write(head, "ok");
        co_return sent && request->keep_alive() ? Outcome::kKeepAlive : Outcome::kClose;
    }
    if (path.starts_with("/_mock/")) co_return co_await serve_admin(*request, path, client);

    if (path.starts_with("/v1/")) stats_.remember(worker, request);
    const Done done = co_await serve_api(*request, path, client, worker);
    stats_.on_end(worker, done.ending);
    co_return done.outcome;
}

net::awaitable<MockService::Done> MockService::serve_api(const HttpRequest& request,
                                                         std::string_view path,
                                                         ClientChannel& client, size_t worker) {
    Exchange ex;
    ex.keep_alive = request.keep_alive();
    ex.dialect = path.starts_with("/v1/messages") ? Dialect::kAnthropic : Dialect::kOpenAi;
    ex.serial = serial_.fetch_add(1, std::memory_order_relaxed) + 1;
    ex.request_id_header =
        ex.dialect == Dialect::kAnthropic ? "request-id: req_mock_" : "x-request-id: req_mock_";
    ex.request_id_header += std::to_string(ex.serial);
    ex.request_id_header += "\r\n";

    const auto method = request.method();
    const bool post = method == http::verb::post;
    if (post && path == "/v1/chat/completions") {
        stats_.on_request(worker, "/v1/chat/completions");
        co_return co_await serve_chat(ex, request, client, worker);
    }
    if (post && path == "/v1/messages") {
        stats_.on_request(worker, "/v1/messages");
        co_return co_await serve_chat(ex, request, client, worker);
    }
    if (post && path == "/v1/embeddings") {
        stats_.on_request(worker, "/v1/embeddings");
        co_return co_await serve_embeddings(ex, request, client, worker);
    }
    if (method == http::verb::get && path == "/v1/models") {
        stats_.on_request(worker, "/v1/models");
        co_return co_await serve_models(ex, request, client);
    }
    stats_.on_request(worker, "other");
    ApiError error;
    error.status = 404;
    if (ex.dialect == Dialect::kAnthropic) {
        error.type = "not_found_error";
        error.message = "Not Found";
    } else {
        error.message =
            "Invalid URL (" + std::string(request.method_string()) + " " + std::string(path) + ")";
    }
    co_return co_await send_error(ex, error, {}, client);
}

std::optional<ApiError> MockService::check_auth(const Exchange& ex,
                                                const HttpRequest& request) const {
    if (ex.dialect == Dialect::kAnthropic) {
        if (!config_.require_key.empty() && request["x-api-key"] != config_.require_key) {
            return ApiError{401, "invalid x-api-key", "authentication_error", {}, {}};
        }
        if (request["anthropic-version"].empty()) {
            return ApiError{
                400, "anthropic-version: header is required", "invalid_request_error", {}, {}};
        }
        return std::nullopt;
    }
    if (config_.require_key.empty()) return std::nullopt;
    const std::string_view auth = request[http::field::authorization];
    if (auth.size() != config_.require_key.size() + 7 || !auth.starts_with("Bearer ") ||
        auth.substr(7) != config_.require_key) {
        return ApiError{
            401, "Incorrect API key provided", "invalid_request_error", {}, "invalid_api_key"};
    }
    return std::nullopt;
}

std::optional<ApiError> MockService::plan_faults(const HttpRequest& request, std::string_view model,
                                                 std::string_view directive, FaultPlan& plan) {
    FaultSpec header;
    const auto header_it = request.find("x-mock-fault");
    if (header_it != request.end()) {
        std::string error = parse_fault_spec(header_it->value(), header);
        if (!error.empty()) return bad_fault(std::move(error));
    }
    FaultSpec in_text;
    if (!directive.empty()) {
        std::string error = parse_fault_spec(directive, in_text);
        if (!error.empty()) return bad_fault(std::move(error));
    }
    plan = faults_.plan(model, header, in_text);
    return std::nullopt;
}

net::awaitable<MockService::Done> MockService::serve_chat(Exchange& ex, const HttpRequest& request,
                                                          ClientChannel& client, size_t worker) {
    if (auto error = check_auth(ex, request)) co_return co_await send_error(ex, *error, {}, client);

    ChatCall call;
    simdjson::dom::parser& parser = *parsers_[worker];
    const auto parse_error = ex.dialect == Dialect::kAnthropic
                                 ? parse_anthropic_messages(parser, request.body(), call)
                                 : parse_openai_chat(parser, request.body(), call);
    if (parse_error) co_return co_await send_error(ex, *parse_error, {}, client);
    stats_.on_model(worker, call.model);
    ex.model = call.model;
    ex.prompt_tokens = call.prompt_tokens;

    FaultPlan plan;
    if (auto error = plan_faults(request, call.model, call.directive, plan)) {
        co_return co_await send_error(ex, *error, {}, client);
    }
    check_context_window(plan, call.prompt_tokens);
    const std::optional<Done> done = co_await play_prelude(ex, plan, call.stream, client);
    if (done) co_return *done;

    const std::optional<int64_t> words = plan.words ? plan.words : config_.reply_words;
    Reply reply = make_reply(call, words, ex.serial, static_cast<int64_t>(std::time(nullptr)));
    if (plan.content_filter) withhold(reply);
    if (call.stream) {
        const auto stream =
            ex.dialect == Dialect::kAnthropic
                ? make_anthropic_stream(std::move(reply))
                : make_openai_stream(std::move(reply), call.include_usage && !plan.no_usage);
        co_return co_await play_stream(ex, plan, *stream, client);
    }
    std::string body = ex.dialect == Dialect::kAnthropic
                           ? render_anthropic_message(reply)
                           : render_openai_completion(reply, !plan.no_usage);
    if (plan.malformed) body.resize(body.size() / 2);
    co_return co_await send(ex, 200, body, {}, client);
}

net::awaitable<MockService::Done> MockService::serve_embeddings(Exchange& ex,
                                                                const HttpRequest& request,
                                                                ClientChannel& client,
                                                                size_t worker) {
    if (auto error = check_auth(ex, request)) co_return co_await send_error(ex, *error, {}, client);
    EmbeddingsCall call;
    if (auto error = parse_openai_embeddings(*parsers_[worker], request.body(), call)) {
        co_return co_await send_error(ex, *error, {}, client);
    }
    stats_.on_model(worker, call.model);
    ex.model = call.model;
    ex.prompt_tokens = call.prompt_tokens;
    FaultPlan plan;
    if (auto error = plan_faults(request, call.model, {}, plan)) {
        co_return co_await send_error(ex, *error, {}, client);
    }
    const std::optional<Done> done = co_await play_prelude(ex, plan, false, client);
    if (done) co_return *done;
    std::string body = render_openai_embeddings(call);
    if (plan.malformed) body.resize(body.size() / 2);
    co_return co_await send(ex, 200, body, {}, client);
}

net::awaitable<MockService::Done> MockService::serve_models(Exchange& ex,
                                                            const HttpRequest& request,
                                                            ClientChannel& client) {
    if (auto error = check_auth(ex, request)) co_return co_await send_error(ex, *error, {}, client);
    FaultPlan plan;
    if (auto error = plan_faults(request, {}, {}, plan)) {
        co_return co_await send_error(ex, *error, {}, client);
    }
    const std::optional<Done> done = co_await play_prelude(ex, plan, false, client);
    if (done) co_return *done;
    std::string body = render_openai_models();
    if (plan.malformed) body.resize(body.size() / 2);
    co_return co_await send(ex, 200, body, {}, client);
}

net::awaitable<std::optional<MockService::Done>> MockService::play_prelude(const Exchange& ex,
                                                                           const FaultPlan& plan,
                                                                           bool streaming,
                                                                           ClientChannel& client) {
    if (plan.latency_ms > 0) {
        const WaitResult waited = co_await client.wait(milliseconds(plan.latency_ms));
        if (waited == WaitResult::kClientGone) co_return Done{Ending::kCancelled, Outcome::kClose};
    }
    if (plan.hang) {
        co_await client.wait(std::nullopt);  // returns only when the client goes away
        co_return Done{Ending::kCancelled, Outcome::kClose};
    }
    if (plan.status != 0) {
        const ApiError error = injected_error(ex.dialect, plan, ex.model, ex.prompt_tokens);
        co_return co_await send_error(ex, error, plan.retry_after, client);
    }
    if (plan.reset_after_chunks >= 0 && !streaming) {
        client.reset();
        co_return Done{Ending::kCompleted, Outcome::kClose};
    }
    co_return std::nullopt;
}

net::awaitable<MockService::Done> MockService::play_stream(const Exchange& ex,
                                                           const FaultPlan& plan, SseStream& stream,
                                                           ClientChannel& client) {
    constexpr Done kGone{Ending::kCancelled, Outcome::kClose};
    const std::string head =
        make_head(200, kEventStream, std::nullopt, ex.request_id_header, ex.keep_alive);
    bool sent = co_await client.write(head);
    if (!sent) co_return kGone;

    SseEvent event;
    int64_t content_sent = 0;
    bool first = true;
    while (stream.next(event)) {
        if (plan.reset_after_chunks >= 0 && event.kind != EventKind::kPreamble &&
            content_sent >= plan.reset_after_chunks) {
            client.reset();
            co_return Done{Ending::kCompleted, Outcome::kClose};
        }
        if (!first && plan.chunk_delay_ms > 0) {
            const WaitResult waited = co_await client.wait(milliseconds(plan.chunk_delay_ms));
            if (waited == WaitResult::kClientGone) co_return kGone;
        }
        first = false;
        sent = co_await client.write_chunk(event.bytes);
        if (!sent) co_return kGone;
        if (event.kind != EventKind::kContent || ++content_sent != 1) continue;
        if (plan.error_event) {
            const std::string error = stream.error_event();
            sent = co_await client.write_chunk(error);
            if (sent) sent = co_await client.write_last_chunk();
            if (!sent) co_return kGone;
            co_return Done{Ending::kCompleted,
                           ex.keep_alive ? Outcome::kKeepAlive : Outcome::kClose};
        }
        if (plan.malformed) {
            const std::string broken = malform_event(event.bytes);
            sent = co_await client.write_chunk(broken);
            if (!sent) co_return kGone;
        }
    }
    sent = co_await client.write_last_chunk();
    if (!sent) co_return kGone;
    co_return Done{Ending::kCompleted, ex.keep_alive ? Outcome::kKeepAlive : Outcome::kClose};
}

net::awaitable<MockService::Done> MockService::send(const Exchange& ex, int status,
                                                    std::string_view body,
                                                    std::string_view extra_headers,
                                                    ClientChannel& client) {
    std::string extra;
    if (extra_headers.empty()) {
        extra_headers = ex.request_id_header;
    } else {
        extra.reserve(extra_headers.size() + ex.request_id_header.size());
        extra += extra_headers;
        extra += ex.request_id_header;
        extra_headers = extra;
    }
    const std::string head = make_head(status, kJson, body.size(), extra_headers, ex.keep_alive);
    const bool sent = co_await client.write(head, body);
    if (!sent) co_return Done{Ending::kCancelled, Outcome::kClose};
    co_return Done{Ending::kCompleted, ex.keep_alive ? Outcome::kKeepAlive : Outcome::kClose};
}

net::awaitable<MockService::Done> MockService::send_error(const Exchange& ex, const ApiError& error,
                                                          std::string_view retry_after,
                                                          ClientChannel& client) {
    std::string extra;
    if (!retry_after.empty()) {
        extra = "Retry-After: ";
        extra += retry_after;
        extra += "\r\n";
    }
    if (ex.dialect == Dialect::kAnthropic && error.status == 529) {
        extra += "x-should-retry: true\r\n";
    }
    co_return co_await send(ex, error.status, render_error(ex.dialect, error), extra, client);
}

net::awaitable<Outcome> MockService::serve_admin(const HttpRequest& request, std::string_view path,
                                                 ClientChannel& client) {
    const auto method = request.method();
    int status = 200;
    std::string body;
    if (path == "/_mock/stats" && method == http::verb::get) {
        body = stats_.render_stats();
    } else if (path == "/_mock/stats" && method == http::verb::delete_) {
        stats_.reset();
        body = stats_.render_stats();
    } else if (path == "/_mock/last_request" && method == http::verb::get) {
        body = stats_.render_last_request();
    } else if (path == "/_mock/faults" && method == http::verb::get) {
        body = faults_.render_rules();
    } else if (path == "/_mock/faults" && method == http::verb::delete_) {
        faults_.clear();
        body = faults_.render_rules();
    } else if (path == "/_mock/faults" && method == http::verb::post) {
        // {"fault":"status=500","model":"mock-a","count":2}
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        std::string_view fault_text;
        std::string error;
        FaultSpec rule;
        if (parser.parse(request.body()).get(root) != simdjson::SUCCESS ||
            root["fault"].get(fault_text) != simdjson::SUCCESS) {
            error = "expected a JSON object with a string 'fault'";
        } else {
            error = parse_fault_spec(fault_text, rule);
        }
        std::string_view model;
        if (error.empty() && root["model"].get(model) == simdjson::SUCCESS) {
            rule.model = std::string(model);
        }
        int64_t count = 0;
        if (error.empty() && root["count"].get(count) == simdjson::SUCCESS) {
            if (count < 1) {
                error = "'count' must be at least 1";
            } else {
                rule.count = count;
            }
        }
        if (error.empty()) {
            faults_.add_rule(std::move(rule));
            body = faults_.render_rules();
        } else {
            status = 400;
            JsonWriter w(body);
            w.begin_object().key("error").begin_object().key("message").string(error);
            w.key("type").string("invalid_request_error").end_object().end_object();
        }
    } else {
        status = 404;
        body =
            R"({"error":{"message":"unknown mock admin endpoint","type":"invalid_request_error"}})";
    }
    const bool keep_alive = request.keep_alive();
    const std::string head = make_head(status, kJson, body.size(), {}, keep_alive);
    const bool sent = co_await client.write(head, body);
    co_return sent&& keep_alive ? Outcome::kKeepAlive : Outcome::kClose;
}

}  // namespace mock_llm
