// CharacterChunker: fixed-size chunks of `size` characters (or tokens), each repeating the
// last `overlap` of the previous one. Cuts anywhere, but never inside a UTF-8 sequence or an
// extended grapheme cluster (an emoji with modifiers, a letter with combining marks), so a
// chunk may be a little shorter than the size; a single grapheme larger than the size is a
// chunk of its own. Chunks are not trimmed: concatenated without their overlaps they give the
// document back byte for byte.
// Thread safety and failure: see chunk.hpp.
#pragma once

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/text_units.hpp"

namespace switchyard::rag {

class CharacterChunker final : public Chunker {
public:
    explicit CharacterChunker(ChunkSize size);

    std::string_view name() const override { return "character"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

private:
    ChunkSize size_;
    Sizer sizer_;
};

}  // namespace switchyard::rag
