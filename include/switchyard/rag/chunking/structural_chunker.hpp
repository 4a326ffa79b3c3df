// StructuralChunker: chunks that follow a document's structure.
//  - Markdown: blocks are headings, fenced code, lists, tables and paragraphs; blocks are
//    packed whole into chunks of at most `size` and a chunk never crosses into the next
//    heading's section (a heading with nothing under it stays with its first subsection).
//    A block larger than the size is split by the recursive splitter. Every chunk carries
//    its heading path ("Guide" > "Install" > "Debian").
//  - Source code: blocks end at blank lines and before a top-level line that follows a
//    closing brace (function boundaries); packed like Markdown blocks; oversized blocks use
//    LangChain's separators for the language (python, cpp, go, js, rust, java).
//  - Plain text: paragraphs, packed.
// The format comes from Document::source's extension (.md/.markdown/.mdx: Markdown; code
// extensions: code; else plain text) unless set explicitly. Overlap repeats whole blocks.
// Thread safety and failure: see chunk.hpp.
#pragma once

#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/recursive_chunker.hpp"
#include "switchyard/rag/chunking/text_units.hpp"

namespace switchyard::rag {

enum class TextFormat { kAuto, kMarkdown, kCode, kPlain };

enum class BlockKind { kHeading, kFence, kList, kTable, kParagraph, kCode };

struct Block {
    BlockKind kind;
    TextSpan span;  // contiguous with its neighbours; includes trailing blank lines
};

// Markdown blocks of `text`, covering it.
std::vector<Block> markdown_blocks(std::string_view text);
// Source-code blocks of `text`, covering it.
std::vector<Block> code_blocks(std::string_view text);

class StructuralChunker final : public Chunker {
public:
    explicit StructuralChunker(ChunkSize size, TextFormat format = TextFormat::kAuto);

    std::string_view name() const override { return "structural"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

private:
    ChunkSize size_;
    Sizer sizer_;
    TextFormat format_;
    RecursiveChunker prose_splitter_;

    void pack_section(std::string_view text, const std::vector<TextSpan>& blocks,
                      const RecursiveChunker& splitter, std::vector<TextSpan>& out) const;
};

}  // namespace switchyard::rag
