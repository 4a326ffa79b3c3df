// Chunking: what every chunker shares. A Document goes in, Chunks come out; each Chunk is an
// exact byte range of the document (text == document.text.substr(byte_begin, n)) with its
// code-point offsets, heading path, index, size and the document's user metadata.
// Sizes are measured in characters (Unicode code points), UTF-16 code units (JavaScript's
// String.length, for exact LangChain parity on text outside the BMP) or tokens of one model's
// vocabulary (switchyard::tokens::Tokenizer).
// Thread safety: a constructed chunker is immutable; split() is const and may run on any
// number of threads at once (the Tokenizer and Embedder it uses are thread-safe).
// Failure: constructing a chunker with an invalid ChunkSize (size 0, overlap >= size, tokens
// without a tokenizer) throws std::invalid_argument: that is configuration. make_chunker()
// (chunker_factory.hpp) returns the same problem as an Error instead, for request paths.
// split() never throws: an empty (or whitespace-only) document gives zero chunks; a document
// that is not valid UTF-8 gives invalid_request naming the first bad byte (call
// sanitize_utf8() first to chunk it anyway); the semantic chunker passes embedder errors on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/core/error.hpp"

namespace switchyard::tokens {
class Tokenizer;
}

namespace switchyard::rag {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct Document {
    std::string id;
    std::string source;  // a path or URL; its extension picks the structural chunker's format
    std::string text;    // UTF-8
    Metadata metadata;   // user key/values, copied to every chunk
};

struct Chunk {
    std::string text;  // document.text.substr(byte_begin, byte_end - byte_begin)
    std::string document_id;
    std::string source;
    size_t index = 0;  // 0, 1, 2, ... in document order
    size_t byte_begin = 0;
    size_t byte_end = 0;
    size_t char_begin = 0;  // code points from the start of the document
    size_t char_end = 0;
    std::vector<std::string> heading_path;  // Markdown headings in force at byte_begin
    size_t n_chars = 0;                     // code points
    size_t n_tokens = 0;  // tokens of ChunkSize::tokenizer; 0 when no tokenizer was given
    Metadata metadata;
};

enum class SizeUnit {
    kCharacters,  // Unicode code points
    kUtf16,       // UTF-16 code units, as JavaScript counts String.length
    kTokens,      // tokens of ChunkSize::tokenizer
};

struct ChunkSize {
    size_t size = 1000;  // the most a chunk may measure (a single grapheme or, for the
                         // recursive splitter, an unsplittable piece may exceed it)
    size_t overlap = 0;  // how much of the previous chunk's end a chunk repeats; < size
    SizeUnit unit = SizeUnit::kCharacters;
    const tokens::Tokenizer* tokenizer = nullptr;  // required for kTokens; when set, every
                                                   // Chunk::n_tokens is filled in any unit
};

// An empty Status when `size` is usable, else invalid_request saying why (param "chunk_size"
// or "chunk_overlap").
Status validate(const ChunkSize& size);

// Six strategies behind one interface (see chunker_factory.hpp to build one from a config).
class Chunker {
public:
    virtual ~Chunker() = default;

    virtual std::string_view name() const = 0;  // "character", "sentence", ...
    virtual Result<std::vector<Chunk>> split(const Document& document) const = 0;
};

// Offset of the first byte that is not part of a valid UTF-8 sequence (overlong forms,
// surrogates and values past U+10FFFF are invalid), or text.size() if there is none.
size_t first_invalid_utf8(std::string_view text);

// `text` with every invalid sequence replaced by U+FFFD (offsets then refer to the result).
std::string sanitize_utf8(std::string_view text);

}  // namespace switchyard::rag
