// SentenceChunker: whole sentences packed into chunks of at most `size`, with the last whole
// sentences of a chunk (at most `overlap`) repeated at the start of the next. A sentence
// longer than the size is cut at whitespace (or, failing that, at a grapheme boundary).
// split_sentences() is the segmenter, also used by the paragraph and semantic chunkers:
//  - ends at . ! ? … ‼ ⁇ ⁈ ⁉ (then closing quotes and brackets) followed by whitespace, at
//    CJK 。！？｡ (no space needed), at Arabic ؟ ۔ and Devanagari । ॥, and at a blank line;
//  - does not end after an abbreviation (Mr. Dr. Prof. e.g. i.e. etc. vs. U.S. ...), a single
//    initial ("J. Smith"), inside a number (3.14, 1,000.5) or before a lowercase word.
// Thread safety and failure: see chunk.hpp.
#pragma once

#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/text_units.hpp"

namespace switchyard::rag {

// Sentences of `text` (valid UTF-8) as contiguous spans covering it: each sentence keeps the
// whitespace that follows it.
std::vector<TextSpan> split_sentences(std::string_view text, TextSpan span);

class SentenceChunker final : public Chunker {
public:
    explicit SentenceChunker(ChunkSize size);

    std::string_view name() const override { return "sentence"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

private:
    ChunkSize size_;
    Sizer sizer_;
};

}  // namespace switchyard::rag
