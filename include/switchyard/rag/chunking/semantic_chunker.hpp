// SemanticChunker: splits where the meaning shifts. The text is cut into sentences
// (split_sentences), each sentence is embedded together with `buffer_size` neighbours on each
// side (smoothing, as in LangChain's and LlamaIndex's semantic chunkers), and the cosine
// distance between consecutive sentence windows is compared with a breakpoint threshold:
//  - kPercentile: distances above the `amount`-th percentile (default 95) split;
//  - kStandardDeviation: distances above mean + amount × stddev (default 3) split;
//  - kInterquartile: distances above mean + amount × IQR (default 1.5) split.
// Groups larger than max_size (when set) are packed again by sentence with its overlap.
// Embedding happens in batches of `batch_size` sentences through the Embedder.
// Thread safety: see chunk.hpp (the Embedder must outlive the chunker).
// Failure: an embedder error is returned as an Error (kUpstream, with its message); the rest
// as in chunk.hpp. A document of one sentence is one chunk without embedding.
#pragma once

#include <optional>

#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/text_units.hpp"
#include "switchyard/rag/embedder.hpp"

namespace switchyard::rag {

enum class Breakpoint { kPercentile, kStandardDeviation, kInterquartile };

struct SemanticOptions {
    Breakpoint breakpoint = Breakpoint::kPercentile;
    double amount = -1;  // < 0: the default of the breakpoint kind (95, 3, 1.5)
    size_t buffer_size = 1;
    size_t batch_size = 64;
    // Most a chunk may measure (size, overlap, unit, tokenizer); size 0: unbounded, and then
    // unit and tokenizer only say how Chunk::n_tokens is counted.
    ChunkSize max_size{0, 0, SizeUnit::kCharacters, nullptr};
};

class SemanticChunker final : public Chunker {
public:
    SemanticChunker(const Embedder& embedder, SemanticOptions options = {});

    std::string_view name() const override { return "semantic"; }
    Result<std::vector<Chunk>> split(const Document& document) const override;

    // The cosine distances between consecutive sentence windows of `text` (one fewer than
    // the sentences), and the threshold; exposed for tuning (`switchyard chunk`).
    Result<std::vector<double>> distances(std::string_view text,
                                          const std::vector<TextSpan>& sentences) const;
    double threshold(std::vector<double> distances) const;

private:
    const Embedder& embedder_;
    SemanticOptions options_;
    std::optional<Sizer> sizer_;  // when max_size.size > 0
};

}  // namespace switchyard::rag
