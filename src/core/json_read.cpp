// simdjson DOM helpers shared by the codecs.
#include "json_read.hpp"

#include <fmt/format.h>

namespace switchyard::json {

Result<element> parse(std::string_view body, std::string_view what) {
    thread_local simdjson::dom::parser parser;
    element doc;
    auto err = parser.parse(body.data(), body.size(), true).get(doc);
    if (err) {
        if (err == simdjson::UTF8_ERROR) {
            return Error::invalid_request(fmt::format("{} is not valid UTF-8", what));
        }
        if (err == simdjson::EMPTY) {
            return Error::invalid_request(fmt::format("{} is empty; expected a JSON object", what));
        }
        if (err == simdjson::DEPTH_ERROR) {
            return Error::invalid_request(fmt::format("{} is nested too deeply", what));
        }
        return Error::invalid_request(
            fmt::format("{} is not valid JSON: {}", what, simdjson::error_message(err)));
    }
    return doc;
}

std::string_view type_name(const element& e) {
    switch (e.type()) {
        case simdjson::dom::element_type::ARRAY:
            return "array";
        case simdjson::dom::element_type::OBJECT:
            return "object";
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
            return "integer";
        case simdjson::dom::element_type::DOUBLE:
            return "number";
        case simdjson::dom::element_type::STRING:
            return "string";
        case simdjson::dom::element_type::BOOL:
            return "boolean";
        case simdjson::dom::element_type::NULL_VALUE:
            return "null";
    }
    return "value";
}

Error wrong_type(std::string_view param, std::string_view expected) {
    return Error::invalid_request(fmt::format("'{}' must be {}", param, expected),
                                  std::string(param));
}

Error missing(std::string_view param) {
    return Error::invalid_request(fmt::format("'{}' is required", param), std::string(param));
}

std::string minify(const element& e) {
    return simdjson::minify(e);
}

}  // namespace switchyard::json
