// OpenAI wire format: /v1/chat/completions (JSON and SSE chunks), /v1/embeddings, /v1/models
// and OpenAI-shaped errors, as small named conversion functions.
// Thread-safe given one simdjson parser per thread; results own their data; errors are values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "reply.hpp"
#include "wire.hpp"

namespace mock_llm {

// Validates a chat completion request and extracts what decides the answer.
std::optional<ApiError> parse_openai_chat(simdjson::dom::parser& parser, const std::string& body,
                                          ChatCall& call);
std::string render_openai_completion(const Reply& reply);
std::unique_ptr<SseStream> make_openai_stream(Reply reply, bool include_usage);

// {"error":{"message":..,"type":..,"param":..,"code":..}}
std::string render_openai_error(const ApiError& error);
// The realistic error for an injected status (429 rate_limit_exceeded, 500 server_error, ...).
ApiError openai_error_for_status(int status, std::string_view model);

struct EmbeddingsCall {
    std::string model;
    std::vector<std::string> inputs;  // hash material: text, or the token ids' bytes
    int64_t dimensions = 16;
    bool base64 = false;
    int64_t prompt_tokens = 0;  // words of text inputs plus token ids of token inputs
};

std::optional<ApiError> parse_openai_embeddings(simdjson::dom::parser& parser,
                                                const std::string& body, EmbeddingsCall& call);
// Deterministic unit vectors, one per input, seeded by a hash of the input.
std::string render_openai_embeddings(const EmbeddingsCall& call);

std::string render_openai_models();

}  // namespace mock_llm
