// Private helpers shared by the provider adapters: API keys from the environment, reading
// an upstream SSE body event by event, checking a stream answer, and mapping a non-2xx
// answer to an Error (logging the provider's original body).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/sse.hpp"
#include "switchyard/providers/provider.hpp"

namespace switchyard::detail {

using ErrorParser = Error (*)(int status, std::string_view body);

// The key in the env var the model config names; empty if unset or not configured.
std::string read_api_key(const ModelConfig& model);

// A kUnavailable Error naming the env var a model's key should be in.
Error missing_key_error(const ModelConfig& model);

// Adds "(model 'x', provider y)" to a transport error so the client knows which
// upstream failed.
Error with_model(Error error, const ModelConfig& model);

// A kUpstream Error for an answer the gateway cannot use.
Error upstream_malformed(std::string message);

// Retry-After in seconds: the whole (trimmed) value must be digits. A value past a day, an
// HTTP-date or anything else unparseable counts as "too long" (kRetryAfterTooLongS): callers
// fail over or fail rather than retry at once. -1 for an empty value (none sent).
inline constexpr int kRetryAfterTooLongS = 86'400;
int parse_retry_after_s(std::string_view value);

// Reads an error response's body (bounded), maps it with `parse`, logs the original, and
// forwards Retry-After.
awaitable<Error> read_upstream_error(HttpExchange& ex, const ModelConfig& model,
                                     const CallContext& ctx, ErrorParser parse);

// Sends `spec` and checks the answer is a 200 event stream: a non-2xx status becomes the
// provider's Error (via `parse`), another content type a kUpstream Error.
awaitable<Result<std::unique_ptr<HttpExchange>>> open_event_stream(const HttpRequestSpec& spec,
                                                                   const ModelConfig& model,
                                                                   CallContext& ctx,
                                                                   ErrorParser parse);

// An upstream SSE body, event by event, read from the network only when no parsed event is
// pending. Not thread-safe (one per stream).
class SseReader {
public:
    explicit SseReader(std::unique_ptr<HttpExchange> exchange) : ex_(std::move(exchange)) {}

    // The next event; nullopt at the end of the body.
    awaitable<Result<std::optional<SseEvent>>> next();
    // After the stream's terminal event: reads the rest of the body (the chunked
    // terminator) so the connection returns to the keep-alive pool.
    awaitable<void> finish();

private:
    std::unique_ptr<HttpExchange> ex_;
    SseParser parser_;
    std::vector<SseEvent> parsed_;
    std::deque<SseEvent> pending_;
};

}  // namespace switchyard::detail
