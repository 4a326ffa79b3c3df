// A small append-only JSON writer for the mock's response bodies, plus base64.
// Not thread-safe: one writer per output string. Never fails; the caller keeps calls balanced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mock_llm {

// Appends `text` JSON-escaped, without the surrounding quotes.
void append_json_escaped(std::string& out, std::string_view text);

// Appends `bytes` as standard base64 with padding.
void append_base64(std::string& out, std::string_view bytes);

// Writes commas and quotes so callers only state the structure:
//   JsonWriter(out).begin_object().key("a").number(1).end_object();
class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);
    JsonWriter& string(std::string_view text);
    JsonWriter& number(int64_t value);
    JsonWriter& number(float value);
    JsonWriter& boolean(bool value);
    JsonWriter& null();
    // A value that is already JSON text (for example a request body being echoed).
    JsonWriter& raw(std::string_view json);

private:
    void before_value();

    std::string& out_;
    uint64_t has_items_ = 0;  // bit d: the container at depth d already holds an item
    int depth_ = 0;           // at most 63 levels, far more than any mock body needs
    bool after_key_ = false;
};

}  // namespace mock_llm
