// OpenAI wire format: /v1/chat/completions (JSON and SSE chunks) and OpenAI-shaped errors, as
// small named conversion functions (embeddings and models are in openai_embeddings.hpp).
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

// Validates a chat completion request and extracts what decides the answer.
std::optional<ApiError> parse_openai_chat(simdjson::dom::parser& parser, const std::string& body,
                                          ChatCall& call);
// `with_usage` false leaves the usage object out (fault no_usage: servers that report none).
std::string render_openai_completion(const Reply& reply, bool with_usage = true);
std::unique_ptr<SseStream> make_openai_stream(Reply reply, bool include_usage);

// {"error":{"message":..,"type":..,"param":..,"code":..}}
std::string render_openai_error(const ApiError& error);
// The realistic error for an injected status (429 rate_limit_exceeded, 500 server_error, ...).
ApiError openai_error_for_status(int status, std::string_view model);
// The context_length_exceeded error ("This model's maximum context length is ...").
ApiError openai_context_length_error(int status, int64_t prompt_tokens, int64_t context_window);

// Shared by the OpenAI endpoints: a 400 invalid_request_error, a type mismatch, the body as
// an object, and the required "model".
ApiError openai_invalid(std::string message, std::string param = {}, std::string code = {});
ApiError openai_invalid_type(std::string param, std::string_view expected,
                             const simdjson::dom::element& got);
std::optional<ApiError> parse_openai_body(simdjson::dom::parser& parser, const std::string& body,
                                          simdjson::dom::object& root);
std::optional<ApiError> parse_openai_model(const simdjson::dom::object& root, std::string& model);

}  // namespace mock_llm
