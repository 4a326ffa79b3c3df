// OpenAI /v1/embeddings and /v1/models: request validation and deterministic answers.
// Thread-safe given one simdjson parser per thread; results own their data; errors are values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "openai_format.hpp"
#include "wire.hpp"

namespace mock_llm {

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
