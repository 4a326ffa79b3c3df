// Building blocks the chunkers share: UTF-8 and grapheme boundaries, measuring a span in the
// configured unit (Sizer), packing consecutive units (sentences, paragraphs, words, blocks)
// into size-bounded chunks with overlap, and turning byte spans into Chunks with offsets,
// heading paths and metadata (ChunkEmitter).
// Thread safety: Sizer is immutable after construction; ChunkEmitter is per call.
// Failure: none; callers pass valid UTF-8 (the chunkers check it first).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"

namespace switchyard::rag {

// A byte range [begin, end) of the document text.
struct TextSpan {
    size_t begin = 0;
    size_t end = 0;
    size_t size() const { return end - begin; }
};

// Decodes the code point at `pos` (valid UTF-8 assumed) and sets `len` to its byte length.
char32_t decode_utf8(std::string_view text, size_t pos, size_t& len);
// The code point ending just before `pos` (valid UTF-8 assumed); `len` as above.
char32_t decode_utf8_before(std::string_view text, size_t pos, size_t& len);

// JavaScript's \s (what String.prototype.trim removes): Unicode Zs, \t \n \v \f \r,
// U+2028, U+2029 and U+FEFF.
bool is_space(char32_t c);

// `span` without leading and trailing is_space characters (may become empty).
TextSpan trim(std::string_view text, TextSpan span);

size_t count_code_points(std::string_view text);
size_t count_utf16_units(std::string_view text);

// True when `pos` (a code point boundary) is also an extended grapheme cluster boundary.
// Looks back at most 64 code points for context (longer emoji ZWJ chains are cut there).
bool is_grapheme_boundary(std::string_view text, size_t pos);

// Measures text in the unit of a ChunkSize and finds the longest prefix that fits a budget.
class Sizer {
public:
    explicit Sizer(const ChunkSize& size);

    size_t measure(std::string_view text) const;
    const ChunkSize& size() const { return size_; }

    // Largest end in (begin, limit] on a grapheme boundary with measure(text[begin, end))
    // <= budget; at least one whole grapheme even if that alone is over the budget.
    size_t fit_forward(std::string_view text, size_t begin, size_t limit, size_t budget) const;
    // Smallest start in (floor, end] on a grapheme boundary with measure(text[start, end))
    // <= budget (end itself when nothing fits).
    size_t fit_backward(std::string_view text, size_t floor, size_t end, size_t budget) const;

private:
    ChunkSize size_;
};

// Cuts `span` into pieces of at most size.size (in its unit), with size.overlap repeated
// between neighbours, never inside a grapheme cluster. With prefer_space, a cut moves back to
// the last whitespace in the second half of a piece when there is one.
std::vector<TextSpan> hard_split(std::string_view text, TextSpan span, const Sizer& sizer,
                                 bool prefer_space);

// Packs consecutive units (contiguous: each begins where the previous ends) into chunks measuring
// at most size.size; each chunk after the first starts with the previous chunk's last whole units
// measuring at most size.overlap. A unit too large on its own is cut by hard_split (prefer_space).
// Returned spans are trimmed of whitespace; empty ones are dropped.
std::vector<TextSpan> pack_units(std::string_view text, const std::vector<TextSpan>& units,
                                 const Sizer& sizer);

// Markdown ATX headings ("# Title" .. "###### Title", outside ``` / ~~~ fences) of a text,
// to give each chunk the heading path in force where it begins.
class HeadingIndex {
public:
    explicit HeadingIndex(std::string_view text);
    std::vector<std::string> path_at(size_t byte_offset) const;

private:
    struct Heading {
        size_t offset;
        int level;
        std::string title;
        size_t parent;  // index of the enclosing heading, or npos
    };
    std::vector<Heading> headings_;
};

// True when `source` names a source-code file by its extension (.cpp, .py, .go, ...).
bool is_code_source(std::string_view source);

// Builds Chunks from byte spans of one document, in order, computing code-point offsets
// incrementally (spans may overlap and step back) and heading paths (skipped for code).
class ChunkEmitter {
public:
    ChunkEmitter(const Document& document, const ChunkSize& size);

    void emit(TextSpan span);
    void reserve(size_t chunks) { chunks_.reserve(chunks); }
    std::vector<Chunk> take() { return std::move(chunks_); }

private:
    const Document& document_;
    const ChunkSize& size_;
    HeadingIndex headings_;
    bool with_headings_;
    size_t cursor_byte_ = 0;  // a code point boundary and its code point offset
    size_t cursor_char_ = 0;
    std::vector<Chunk> chunks_;

    size_t char_offset(size_t byte_offset);
};

// The invalid_request Error for a document that is not valid UTF-8, or an empty Status.
Status check_utf8(const Document& document);

}  // namespace switchyard::rag
