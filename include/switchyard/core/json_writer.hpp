// A small, fast JSON emitter that appends to a std::string; used for every body we send.
// Strings are escaped per RFC 8259; invalid UTF-8 in input is replaced with U+FFFD so the
// output is always valid JSON. Not thread-safe (one writer per output buffer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(int64_t v);
    JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(double v);
    JsonWriter& value(bool v);
    JsonWriter& null();
    // Appends already-serialised JSON verbatim (the caller guarantees it is valid).
    JsonWriter& raw(std::string_view json);

    // Shorthands for key + value.
    template <class T>
    JsonWriter& kv(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }
    JsonWriter& kv_null(std::string_view k) {
        key(k);
        return null();
    }
    JsonWriter& kv_raw(std::string_view k, std::string_view json) {
        key(k);
        return raw(json);
    }

private:
    void separator();

    std::string& out_;
    // Whether the next value at the current nesting level needs a leading comma.
    bool need_comma_ = false;
    bool after_key_ = false;
};

// Appends `s` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);

// True if `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

}  // namespace switchyard
