// make_chunker: one of the six chunkers from a plain config (the CLI's `switchyard chunk
// --strategy`, the HTTP ingest options), with misconfiguration returned as an Error rather
// than thrown, so a request carrying a bad chunk_size gets a 400.
// Thread safety: make_chunker is reentrant; the chunker it returns is as in chunk.hpp.
// Failure: invalid_request naming the field (strategy, chunk_size, chunk_overlap, embedder).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/semantic_chunker.hpp"
#include "switchyard/rag/chunking/structural_chunker.hpp"

namespace switchyard::rag {

enum class ChunkStrategy {
    kCharacter,
    kSentence,
    kParagraph,
    kRecursive,   // LangChain-compatible recursive splitter
    kStructural,  // Markdown / code / text structure
    kSemantic,
    kSlidingWindow,
};

// "character", "sentence", "paragraph", "recursive", "structural", "semantic",
// "sliding_window" (also "sliding-window").
std::optional<ChunkStrategy> parse_chunk_strategy(std::string_view name);
std::string_view to_string(ChunkStrategy strategy);

struct ChunkerConfig {
    ChunkStrategy strategy = ChunkStrategy::kRecursive;
    ChunkSize size;                         // for kSemantic: the optional maximum (size 0: none)
    std::vector<std::string> separators;    // kRecursive; empty: LangChain's defaults
    TextFormat format = TextFormat::kAuto;  // kStructural
    const Embedder* embedder = nullptr;     // kSemantic (required); must outlive the chunker
    SemanticOptions semantic;               // kSemantic; its max_size is taken from `size`
};

Result<std::unique_ptr<Chunker>> make_chunker(const ChunkerConfig& config);

}  // namespace switchyard::rag
