// Built-in embedder throughput, one thread: sentences/s and MB/s of input text for the GloVe
// SIF embedder and the lexical hashing embedder, the embedding cache's hit path, and the time
// to open the GloVe file (map, SHA-256 check, principal component).
// Sentences: this repository's docs/*.md and README.md (English prose about the project) cut
// at sentence ends and line breaks, fragments under 20 bytes dropped, batches of 64.
//
//   ninja -C build embedder_bench && build/bench/embedder_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/rag/embedding_cache.hpp"
#include "switchyard/rag/glove_embedder.hpp"
#include "switchyard/rag/hashing_embedder.hpp"

namespace {

using namespace switchyard::rag;
namespace fs = std::filesystem;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path();
constexpr size_t kBatch = 64;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

const std::vector<std::string>& sentences() {
    static const std::vector<std::string> all = [] {
        std::vector<fs::path> paths{kRoot / "README.md"};
        for (const auto& e : fs::directory_iterator(kRoot / "docs")) {
            if (e.path().extension() == ".md") paths.push_back(e.path());
        }
        std::sort(paths.begin(), paths.end());
        std::vector<std::string> out;
        for (const auto& p : paths) {
            const std::string text = read_file(p);
            std::string current;
            for (size_t i = 0; i < text.size(); ++i) {
                const char c = text[i];
                const bool end = c == '\n' || ((c == '.' || c == '?' || c == '!') &&
                                               (i + 1 == text.size() || text[i + 1] == ' '));
                if (c != '\n') current.push_back(c);
                if (end) {
                    if (current.size() >= 20) out.push_back(current);
                    current.clear();
                }
            }
        }
        return out;
    }();
    return all;
}

const GloveEmbedder* glove() {
    static const std::unique_ptr<GloveEmbedder> embedder = [] {
        auto opened = GloveEmbedder::open(default_glove_path());
        auto* e = std::get_if<std::unique_ptr<GloveEmbedder>>(&opened);
        return e != nullptr ? std::move(*e) : nullptr;
    }();
    return embedder.get();
}

void run(benchmark::State& state, const Embedder& embedder) {
    const auto& all = sentences();
    if (all.empty()) {
        state.SkipWithError("no sentences found under docs/");
        return;
    }
    std::vector<std::string_view> batch(kBatch);
    EmbeddingBatch out;
    size_t next = 0;
    int64_t n_sentences = 0;
    int64_t n_bytes = 0;
    for (auto _ : state) {
        for (size_t i = 0; i < kBatch; ++i) {
            batch[i] = all[next];
            n_bytes += static_cast<int64_t>(all[next].size());
            next = (next + 1) % all.size();
        }
        embedder.embed(batch, out);
        benchmark::DoNotOptimize(out.data().data());
        n_sentences += kBatch;
    }
    state.SetItemsProcessed(n_sentences);
    state.SetBytesProcessed(n_bytes);
    state.counters["sentences"] = static_cast<double>(all.size());
}

void BM_GloveEmbed(benchmark::State& state) {
    if (glove() == nullptr) {
        state.SkipWithError("GloVe data missing; run scripts/bootstrap.sh");
        return;
    }
    run(state, *glove());
}
BENCHMARK(BM_GloveEmbed);

void BM_HashingEmbed(benchmark::State& state) {
    HashingEmbedder hashing({.dimension = static_cast<size_t>(state.range(0))});
    run(state, hashing);
}
BENCHMARK(BM_HashingEmbed)->Arg(256)->Arg(1024);

// Every sentence already cached: the cost of a hit (hash, shard lock, copy).
void BM_CacheHitGlove(benchmark::State& state) {
    if (glove() == nullptr) {
        state.SkipWithError("GloVe data missing; run scripts/bootstrap.sh");
        return;
    }
    std::shared_ptr<const Embedder> inner(glove(), [](const Embedder*) {});
    EmbeddingCache cache(inner, {.max_entries = 1 << 20});
    std::vector<std::string_view> all(sentences().begin(), sentences().end());
    EmbeddingBatch warm;
    cache.embed(all, warm);
    run(state, cache);
}
BENCHMARK(BM_CacheHitGlove);

void BM_GloveOpen(benchmark::State& state) {
    for (auto _ : state) {
        auto opened = GloveEmbedder::open(default_glove_path());
        if (std::holds_alternative<std::string>(opened)) {
            state.SkipWithError("GloVe data missing; run scripts/bootstrap.sh");
            return;
        }
        benchmark::DoNotOptimize(opened);
    }
}
BENCHMARK(BM_GloveOpen)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
