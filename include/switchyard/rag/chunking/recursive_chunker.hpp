// RecursiveChunker: LangChain's RecursiveCharacterTextSplitter, chunk for chunk. Splits on
// the first separator of the list that occurs in the text (keeping it at the start of the
// following piece, LangChain's keepSeparator default), merges pieces up to the size with the
// overlap, and splits pieces still too large with the rest of the list. In characters
// (SizeUnit::kUtf16 counts as JavaScript does) it gives LangChain's chunks for the same
// separators, size and overlap (tests/rag/langchain_parity_test.mjs); in tokens, LangChain's
// algorithm with a token length function.
// Deliberate difference: LangChain's "" separator splits UTF-16 code units (it can cut a
// surrogate pair); here it splits code points, so a UTF-8 sequence never breaks. Like
// LangChain it may cut a grapheme cluster (a combining mark, a ZWJ emoji) there; with
// `graphemes` set (the structural chunker) it splits grapheme clusters instead, which is no
// longer LangChain's output on such text.
// Chunks are trimmed of whitespace like LangChain's (JavaScript's trim()), except a piece
// that no separator can split, which is emitted as is (as LangChain does).
// Thread safety and failure: see chunk.hpp.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/text_units.hpp"

namespace switchyard::rag {

// LangChain's default separators: paragraphs, lines, words, characters.
std::vector<std::string> default_separators();
// LangChain's RecursiveCharacterTextSplitter.getSeparatorsForLanguage(language) for
// "markdown", "python", "cpp", "go", "js", "rust", "java"; empty for others.
std::vector<std::string> separators_for_language(std::string_view language);

class RecursiveChunker final : public Chunker {
public:
    explicit RecursiveChunker(ChunkSize size,
                              std::vector<std::string> separators = default_separators(),
                              bool graphemes = false);

    std::string_view name() const override { return "recursive"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

    // The chunk spans of `span` of `text` (valid UTF-8), as split() makes them; the
    // structural chunker uses it for blocks that are too large.
    void split_span(std::string_view text, TextSpan span, std::vector<TextSpan>& out) const;

private:
    struct Piece {
        size_t begin;
        size_t end;
        size_t length;
    };

    ChunkSize size_;
    Sizer sizer_;
    std::vector<std::string> separators_;
    bool graphemes_;

    // LangChain's _splitText(text, separators.slice(first_separator)).
    void split_recursive(std::string_view text, TextSpan span, size_t first_separator,
                         std::vector<TextSpan>& out) const;
    // LangChain's mergeSplits with an empty join separator (keepSeparator).
    void merge(std::string_view text, std::span<const Piece> pieces,
               std::vector<TextSpan>& out) const;
};

}  // namespace switchyard::rag
