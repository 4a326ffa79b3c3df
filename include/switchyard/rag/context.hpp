// Context assembly: retrieved chunks packed into a prompt context of at most N tokens of a
// target model, with numbered citations. Chunks are taken best first while the whole
// rendered context still fits (a chunk too large is skipped and smaller later ones may still
// fit); the kept ones are rendered in a stable order (by document id, then byte offset), not
// by score, so the same set of chunks always gives the same text. Neighbouring chunks of one
// document (consecutive chunk indexes, or overlapping byte ranges) are merged into one
// passage, their overlap written once. Each passage is headed "[n] source#chunk" (chunk
// "3", or "3-5" when merged) and listed in `citations`.
// ConversationHistory makes recent chat turns retrievable the same way (one "chunk" per
// turn, source "conversation"), so they can be packed beside document chunks.
// Thread safety: assemble_context is a pure function (the counter must be callable from
// the calling thread); a ConversationHistory is safe to share (an internal mutex).
// Failure: none. An empty input or a budget too small for any chunk gives an empty context;
// a budget of 0 gives an empty context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/rag/collection.hpp"

namespace switchyard::tokens {
class Tokenizer;
}
namespace switchyard {
class JsonWriter;
}

namespace switchyard::rag {

// Tokens of a text for the target model.
using TokenCounter = std::function<size_t(std::string_view)>;
// The counter of one vocabulary (the target model's, from tokens::TokenizerRegistry); the
// tokenizer must outlive the counter.
TokenCounter token_counter(const tokens::Tokenizer& tokenizer);

struct Citation {
    size_t number = 0;  // the n of "[n]", from 1
    std::string source{};
    std::string document_id{};
    size_t chunk_first = 0;  // chunk indexes covered, inclusive
    size_t chunk_last = 0;
    size_t byte_begin = 0;  // in the document
    size_t byte_end = 0;
    float score = 0;      // the best score of the merged chunks
    std::string label{};  // "source#3" or "source#3-5" (document id when source is empty)
};

struct ContextOptions {
    size_t budget_tokens = 2000;
    TokenCounter count_tokens{};  // required; without it the context is empty
    bool merge_neighbours = true;
    std::string separator = "\n\n";  // between passages
};

struct AssembledContext {
    std::string text{};  // "[1] a.md#0\n<text>\n\n[2] b.md#2-3\n<text>"
    std::vector<Citation> citations{};
    size_t n_tokens = 0;        // count_tokens(text), <= budget_tokens
    size_t chunks_used = 0;     // input chunks that made it in
    size_t chunks_skipped = 0;  // input chunks that did not fit
};

// {"number", "label", "source", "document_id", "chunk_first", "chunk_last", "byte_begin",
// "byte_end", "score"}: how the HTTP API and the CLI show a citation.
void write_citations_json(JsonWriter& w, std::span<const Citation> citations);

// `ranked`: best first (as Collection::query returns them). Chunks with the same chunk_id
// and document are taken once.
AssembledContext assemble_context(std::span<const RetrievedChunk> ranked,
                                  const ContextOptions& options);

struct ConversationTurn {
    std::string role{};  // "user", "assistant", ...
    std::string content{};
};

struct ConversationHistoryOptions {
    size_t max_turns = 50;  // older turns are forgotten
    std::string document_id = "conversation";
};

class ConversationHistory {
public:
    explicit ConversationHistory(ConversationHistoryOptions options = {});

    void add(ConversationTurn turn);
    size_t size() const;

    // Up to top_k of the kept turns most relevant to `query` (BM25 over "role: content"),
    // then, if fewer matched, the most recent others. Each is a RetrievedChunk with source
    // "conversation", index = turn number since the start (so consecutive turns merge in
    // assemble_context) and byte offsets in the transcript of all turns, one per line.
    // Scores: BM25 for matches, 0 for recency fill.
    std::vector<RetrievedChunk> retrieve(std::string_view query, size_t top_k) const;

private:
    struct Kept {
        size_t number = 0;
        size_t byte_begin = 0;
        std::string text;
    };

    const ConversationHistoryOptions options_;
    mutable std::mutex mutex_;
    std::vector<Kept> turns_;  // guarded by mutex_; oldest first
    size_t next_number_ = 0;   // guarded by mutex_
    size_t next_byte_ = 0;     // guarded by mutex_
};

}  // namespace switchyard::rag
