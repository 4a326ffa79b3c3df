// ParagraphChunker: paragraphs (text between blank lines) packed into chunks of at most
// `size`, the last whole paragraphs (at most `overlap`) repeated in the next chunk. A
// paragraph larger than the size is split into its sentences, and a sentence larger than the
// size at whitespace.
// Thread safety and failure: see chunk.hpp.
#pragma once

#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/text_units.hpp"

namespace switchyard::rag {

// Paragraphs of span: contiguous spans, each ending after the blank line(s) that follow it.
std::vector<TextSpan> split_paragraphs(std::string_view text, TextSpan span);

class ParagraphChunker final : public Chunker {
public:
    explicit ParagraphChunker(ChunkSize size);

    std::string_view name() const override { return "paragraph"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

private:
    ChunkSize size_;
    Sizer sizer_;
};

}  // namespace switchyard::rag
