// Private helpers over simdjson's DOM API for the codecs: typed field access that reports
// errors as values naming the field. Not a public header.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/error.hpp"

namespace switchyard::json {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Parses `body` with this thread's parser. The returned element lives until the next
// parse() on the same thread.
Result<element> parse(std::string_view body, std::string_view what);

std::string_view type_name(const element& e);

// Error helpers: "`param` must be a string", etc.
Error wrong_type(std::string_view param, std::string_view expected);
Error missing(std::string_view param);

// Minified JSON text of `e`.
std::string minify(const element& e);

}  // namespace switchyard::json
