#include "switchyard/rag/chunking/chunker_factory.hpp"

#include <fmt/format.h>
#include <array>
#include <memory>
#include <utility>

#include "switchyard/rag/chunking/character_chunker.hpp"
#include "switchyard/rag/chunking/paragraph_chunker.hpp"
#include "switchyard/rag/chunking/recursive_chunker.hpp"
#include "switchyard/rag/chunking/sentence_chunker.hpp"
#include "switchyard/rag/chunking/sliding_window_chunker.hpp"

namespace switchyard::rag {

namespace {

constexpr std::array<std::pair<std::string_view, ChunkStrategy>, 7> kStrategies = {{
    {"character", ChunkStrategy::kCharacter},
    {"sentence", ChunkStrategy::kSentence},
    {"paragraph", ChunkStrategy::kParagraph},
    {"recursive", ChunkStrategy::kRecursive},
    {"structural", ChunkStrategy::kStructural},
    {"semantic", ChunkStrategy::kSemantic},
    {"sliding_window", ChunkStrategy::kSlidingWindow},
}};

}  // namespace

std::optional<ChunkStrategy> parse_chunk_strategy(std::string_view name) {
    if (name == "sliding-window") return ChunkStrategy::kSlidingWindow;
    for (const auto& [n, s] : kStrategies) {
        if (n == name) return s;
    }
    return std::nullopt;
}

std::string_view to_string(ChunkStrategy strategy) {
    for (const auto& [n, s] : kStrategies) {
        if (s == strategy) return n;
    }
    return "unknown";
}

Result<std::unique_ptr<Chunker>> make_chunker(const ChunkerConfig& config) {
    if (config.strategy == ChunkStrategy::kSemantic) {
        if (config.embedder == nullptr) {
            return Error::invalid_request("the semantic chunker needs an embedder", "embedder");
        }
        SemanticOptions options = config.semantic;
        options.max_size = config.size;
        if (options.max_size.size > 0) {
            if (Status ok = validate(options.max_size); !ok) return ok.error();
        }
        if (options.breakpoint == Breakpoint::kPercentile && options.amount > 100) {
            return Error::invalid_request("breakpoint percentile must be at most 100",
                                          "breakpoint_amount");
        }
        return std::unique_ptr<Chunker>(
            std::make_unique<SemanticChunker>(*config.embedder, options));
    }
    if (Status ok = validate(config.size); !ok) return ok.error();
    switch (config.strategy) {
        case ChunkStrategy::kCharacter:
            return std::unique_ptr<Chunker>(std::make_unique<CharacterChunker>(config.size));
        case ChunkStrategy::kSentence:
            return std::unique_ptr<Chunker>(std::make_unique<SentenceChunker>(config.size));
        case ChunkStrategy::kParagraph:
            return std::unique_ptr<Chunker>(std::make_unique<ParagraphChunker>(config.size));
        case ChunkStrategy::kRecursive:
            return std::unique_ptr<Chunker>(std::make_unique<RecursiveChunker>(
                config.size, config.separators.empty() ? default_separators() : config.separators));
        case ChunkStrategy::kStructural:
            return std::unique_ptr<Chunker>(
                std::make_unique<StructuralChunker>(config.size, config.format));
        case ChunkStrategy::kSlidingWindow:
            return std::unique_ptr<Chunker>(std::make_unique<SlidingWindowChunker>(config.size));
        case ChunkStrategy::kSemantic:
            break;
    }
    return Error::invalid_request(fmt::format("unknown chunk strategy"), "strategy");
}

}  // namespace switchyard::rag
