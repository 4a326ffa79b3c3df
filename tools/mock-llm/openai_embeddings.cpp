// OpenAI /v1/embeddings (deterministic unit vectors, float or base64) and /v1/models.

#include "openai_embeddings.hpp"

#include <cmath>
#include <cstring>

#include "json_writer.hpp"
#include "reply.hpp"

namespace mock_llm {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr int64_t kModelsCreated = 1'700'000'000;
constexpr int64_t kMaxDimensions = 8192;

// splitmix64: a tiny, well-mixed generator for the embedding components.
uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

// Appends token ids as hash material; returns false if an element is not an integer.
bool append_tokens(const array& tokens, std::string& material, int64_t& n_tokens) {
    material = "\x01tokens:";
    for (element t : tokens) {
        int64_t id = 0;
        if (t.get(id) != simdjson::SUCCESS) return false;
        char bytes[sizeof id];
        std::memcpy(bytes, &id, sizeof id);
        material.append(bytes, sizeof bytes);
        ++n_tokens;
    }
    return true;
}

}  // namespace

std::optional<ApiError> parse_openai_embeddings(simdjson::dom::parser& parser,
                                                const std::string& body, EmbeddingsCall& call) {
    object root;
    if (auto error = parse_openai_body(parser, body, root)) return error;
    if (auto error = parse_openai_model(root, call.model)) return error;

    element input;
    if (root["input"].get(input) != simdjson::SUCCESS) {
        return openai_invalid("Missing required parameter: 'input'.", "input",
                              "missing_required_parameter");
    }
    std::string_view text;
    array items;
    if (input.get(text) == simdjson::SUCCESS) {
        call.inputs.emplace_back(text);
        call.prompt_tokens = count_words(text);
    } else if (input.get(items) == simdjson::SUCCESS && items.size() > 0) {
        element first;
        if (items.at(0).get(first) == simdjson::SUCCESS &&
            (first.is_int64() || first.is_uint64())) {  // one token array
            std::string material;
            if (!append_tokens(items, material, call.prompt_tokens)) {
                return openai_invalid("'$.input' is invalid.", "input");
            }
            call.inputs.push_back(std::move(material));
        } else {
            for (element item : items) {
                array tokens;
                if (item.get(text) == simdjson::SUCCESS) {
                    call.inputs.emplace_back(text);
                    call.prompt_tokens += count_words(text);
                } else if (item.get(tokens) == simdjson::SUCCESS) {
                    std::string material;
                    if (!append_tokens(tokens, material, call.prompt_tokens)) {
                        return openai_invalid("'$.input' is invalid.", "input");
                    }
                    call.inputs.push_back(std::move(material));
                } else {
                    return openai_invalid("'$.input' is invalid.", "input");
                }
            }
        }
    } else {
        return openai_invalid("'$.input' is invalid.", "input");
    }

    element dims;
    if (root["dimensions"].get(dims) == simdjson::SUCCESS && !dims.is_null()) {
        if (dims.get(call.dimensions) != simdjson::SUCCESS || call.dimensions < 1 ||
            call.dimensions > kMaxDimensions) {
            return openai_invalid("Invalid 'dimensions': expected an integer from 1 to " +
                                      std::to_string(kMaxDimensions) + ".",
                                  "dimensions", "invalid_value");
        }
    }
    element format;
    if (root["encoding_format"].get(format) == simdjson::SUCCESS && !format.is_null()) {
        std::string_view name;
        if (format.get(name) != simdjson::SUCCESS || (name != "float" && name != "base64")) {
            return openai_invalid(
                "Invalid value for 'encoding_format': expected 'float' or 'base64'.",
                "encoding_format", "invalid_value");
        }
        call.base64 = name == "base64";
    }
    return std::nullopt;
}

std::string render_openai_embeddings(const EmbeddingsCall& call) {
    std::string out;
    out.reserve(128 + call.inputs.size() * static_cast<size_t>(call.dimensions) * 12);
    JsonWriter w(out);
    w.begin_object().key("object").string("list").key("data").begin_array();
    std::vector<float> vec(static_cast<size_t>(call.dimensions));
    std::string packed;
    for (size_t i = 0; i < call.inputs.size(); ++i) {
        uint64_t state = fnv1a(call.inputs[i]);
        double norm = 0;
        for (float& x : vec) {
            // Top 24 bits -> [-1, 1).
            x = static_cast<float>(static_cast<double>(splitmix64(state) >> 40) / 8388608.0 - 1.0);
            norm += static_cast<double>(x) * x;
        }
        const double scale = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
        for (float& x : vec)
            x = static_cast<float>(x * scale);

        w.begin_object().key("object").string("embedding");
        w.key("index").number(static_cast<int64_t>(i));
        w.key("embedding");
        if (call.base64) {
            // Little-endian float32, as the SDKs decode it (this machine is little-endian).
            packed.assign(reinterpret_cast<const char*>(vec.data()), vec.size() * sizeof(float));
            std::string encoded;
            append_base64(encoded, packed);
            w.string(encoded);
        } else {
            w.begin_array();
            for (const float x : vec)
                w.number(x);
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();
    w.key("model").string(call.model);
    w.key("usage").begin_object();
    w.key("prompt_tokens").number(call.prompt_tokens);
    w.key("total_tokens").number(call.prompt_tokens);
    w.end_object().end_object();
    return out;
}

std::string render_openai_models() {
    static constexpr std::string_view kModels[] = {"mock-gpt", "mock-gpt-mini", "mock-claude",
                                                   "mock-embed"};
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("object").string("list").key("data").begin_array();
    for (const std::string_view id : kModels) {
        w.begin_object();
        w.key("id").string(id);
        w.key("object").string("model");
        w.key("created").number(kModelsCreated);
        w.key("owned_by").string("mock");
        w.end_object();
    }
    w.end_array().end_object();
    return out;
}

}  // namespace mock_llm
