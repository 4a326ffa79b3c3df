// Anthropic wire format: /v1/messages requests and answers (JSON and the typed SSE event
// sequence) and Anthropic-shaped errors, validated the way api.anthropic.com validates them.
// Thread-safe given one simdjson parser per thread; results own their data; errors are values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "reply.hpp"
#include "wire.hpp"

namespace mock_llm {

// Validates a Messages API request and extracts what decides the answer.
std::optional<ApiError> parse_anthropic_messages(simdjson::dom::parser& parser,
                                                 const std::string& body, ChatCall& call);
std::string render_anthropic_message(const Reply& reply);
// message_start, content_block_start, ping, deltas, content_block_stop, message_delta,
// message_stop.
std::unique_ptr<SseStream> make_anthropic_stream(Reply reply);

// {"type":"error","error":{"type":..,"message":..}}
std::string render_anthropic_error(const ApiError& error);
// The realistic error for an injected status (429 rate_limit_error, 529 overloaded_error, ...).
ApiError anthropic_error_for_status(int status, std::string_view model);
// The prompt-too-long error ("prompt is too long: N tokens > W maximum").
ApiError anthropic_prompt_too_long_error(int status, int64_t prompt_tokens, int64_t context_window);

}  // namespace mock_llm
