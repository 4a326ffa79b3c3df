// Private to src/rag: how the RAG store writes lists of strings, metadata and vectors into
// SQLite columns. Strings are length-prefixed ("5:alpha3:bet"), so any byte is safe;
// vectors are raw little-endian float32 (the host order; x86 and ARM are little-endian).
// Thread safety: pure functions. Failure: decoders return nullopt on malformed input.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"

namespace switchyard::rag::store_codec {

std::string encode_strings(std::span<const std::string> values);
std::optional<std::vector<std::string>> decode_strings(std::string_view encoded);

std::string encode_metadata(const Metadata& metadata);
std::optional<Metadata> decode_metadata(std::string_view encoded);

std::string_view vector_bytes(std::span<const float> vector);
// Appends the floats of `bytes` to out; false if the size is not dim * 4.
bool append_vector(std::string_view bytes, size_t dim, std::vector<float>& out);

}  // namespace switchyard::rag::store_codec
