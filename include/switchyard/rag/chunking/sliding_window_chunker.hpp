// SlidingWindowChunker: a window of at most `size` (characters or tokens) slid over the
// words of the text; each window starts `overlap` before the previous one ended, so
// consecutive chunks share their edge words. Windows begin and end at word boundaries
// (whitespace); a word longer than the window is cut at grapheme boundaries. Text without
// spaces (Chinese, Japanese) counts each character as a word.
// Thread safety and failure: see chunk.hpp.
#pragma once

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/text_units.hpp"

namespace switchyard::rag {

class SlidingWindowChunker final : public Chunker {
public:
    explicit SlidingWindowChunker(ChunkSize size);

    std::string_view name() const override { return "sliding_window"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

private:
    ChunkSize size_;
    Sizer sizer_;
};

}  // namespace switchyard::rag
