// Vector index and BM25 query latency.
// Dense: the 100,000 most frequent GloVe 6B 100-d words (data/rag/glove-6b-100d.syemb,
// WordVectors), each normalised to unit length, indexed by VectorIndex (HNSW: M 16,
// ef_construction 200). Queries: the next 1,000 words (ranks 100,000..100,999, not in the
// index), normalised. Ground truth: exact search over the same vectors (search_exact).
//  - BM_VectorBuild: the index built with add_batch on 2 threads (wall time).
//  - BM_VectorQuery/<ef> (32 to 256): one query per iteration on one thread; p50_us, p99_us
//    (per-query wall time) and recall@10 (all 1,000 queries against exact search).
//  - BM_VectorExact: exact flat search at 100k, for scale.
// BM25: this repository's README.md and docs/*.md cut into paragraphs (blank lines), indexed
// by Bm25Index; BM_Bm25Query cycles through 24 fixed questions, top 10.
// Environment: VECTOR_BENCH_EF_CONSTRUCTION=<n> builds with another ef_construction;
// VECTOR_BENCH_QUERY_CPU=<cpu> pins the querying thread after the build (what
// bench/hnswlib_node_compare.mjs --query-cpu sets).
//
//   ninja -C build vector_index_bench && build/bench/vector_index_bench
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "switchyard/rag/bm25_index.hpp"
#include "switchyard/rag/vector_index.hpp"
#include "switchyard/rag/word_vectors.hpp"

namespace {

using namespace switchyard::rag;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path();
constexpr size_t kVectors = 100000;
constexpr size_t kQueries = 1000;
constexpr size_t kTopK = 10;

struct DenseData {
    size_t dim = 0;
    std::vector<float> base;     // kVectors rows
    std::vector<float> queries;  // kQueries rows
    std::vector<uint64_t> ids;
    std::string error;
};

void normalise(std::span<float> v) {
    double norm = 0;
    for (float x : v)
        norm += double(x) * x;
    norm = std::sqrt(norm);
    if (norm > 0) {
        for (float& x : v)
            x = static_cast<float>(x / norm);
    }
}

const DenseData& dense() {
    static const DenseData data = [] {
        DenseData d;
        auto opened = WordVectors::open(default_rag_data_dir() + "/glove-6b-100d.syemb");
        if (auto* error = std::get_if<std::string>(&opened)) {
            d.error = *error;
            return d;
        }
        const auto& words = std::get<WordVectors>(opened);
        if (words.size() < kVectors + kQueries) {
            d.error = "the word-vector file has too few words";
            return d;
        }
        d.dim = words.dims();
        d.base.resize(kVectors * d.dim);
        d.queries.resize(kQueries * d.dim);
        for (size_t i = 0; i < kVectors; ++i) {
            std::span<float> row(d.base.data() + i * d.dim, d.dim);
            words.vector(i, row);
            normalise(row);
            d.ids.push_back(i);
        }
        for (size_t q = 0; q < kQueries; ++q) {
            std::span<float> row(d.queries.data() + q * d.dim, d.dim);
            words.vector(kVectors + q, row);
            normalise(row);
        }
        return d;
    }();
    return data;
}

std::unique_ptr<VectorIndex> g_index;
double g_build_s = 0;

VectorIndex* build_index() {
    const DenseData& d = dense();
    const char* efc = std::getenv("VECTOR_BENCH_EF_CONSTRUCTION");
    auto index = std::make_unique<VectorIndex>(
        VectorIndexOptions{.dim = d.dim,
                           .m = 16,
                           .ef_construction = efc != nullptr ? std::strtoul(efc, nullptr, 10) : 200,
                           .build_threads = 2});
    const auto start = Clock::now();
    if (!index->add_batch(d.ids, d.base, 2).ok()) return nullptr;
    g_build_s = std::chrono::duration<double>(Clock::now() - start).count();
    g_index = std::move(index);
    return g_index.get();
}

VectorIndex* shared_index() {
    return g_index ? g_index.get() : build_index();
}

const std::vector<std::vector<SearchHit>>& truth() {
    static const std::vector<std::vector<SearchHit>> all = [] {
        std::vector<std::vector<SearchHit>> out;
        const DenseData& d = dense();
        for (size_t q = 0; q < kQueries; ++q) {
            auto hits = shared_index()->search_exact({d.queries.data() + q * d.dim, d.dim}, kTopK);
            out.push_back(hits.ok() ? std::move(*hits) : std::vector<SearchHit>{});
        }
        return out;
    }();
    return all;
}

double percentile(std::vector<double> samples, double p) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    const size_t i = std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()));
    return samples[i];
}

void BM_VectorBuild(benchmark::State& state) {
    if (!dense().error.empty()) {
        state.SkipWithError(dense().error.c_str());
        return;
    }
    for (auto _ : state) {
        if (build_index() == nullptr) {
            state.SkipWithError("add_batch failed");
            return;
        }
    }
    state.counters["build_s"] = g_build_s;
    state.counters["vectors"] = static_cast<double>(g_index->size());
}
BENCHMARK(BM_VectorBuild)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// VECTOR_BENCH_QUERY_CPU=N pins the querying thread to CPU N (after the 2-thread build).
void pin_queries() {
    const char* cpu = std::getenv("VECTOR_BENCH_QUERY_CPU");
    if (cpu == nullptr) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(std::atoi(cpu), &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void BM_VectorQuery(benchmark::State& state) {
    if (!dense().error.empty()) {
        state.SkipWithError(dense().error.c_str());
        return;
    }
    const DenseData& d = dense();
    VectorIndex* idx = shared_index();
    const size_t ef = static_cast<size_t>(state.range(0));
    const auto& exact = truth();
    pin_queries();

    double found = 0;
    for (size_t q = 0; q < kQueries; ++q) {
        auto hits = idx->search({d.queries.data() + q * d.dim, d.dim}, kTopK, {}, ef);
        std::unordered_set<uint64_t> want;
        for (const auto& h : exact[q])
            want.insert(h.chunk_id);
        for (const auto& h : *hits)
            found += want.contains(h.chunk_id);
    }

    std::vector<double> samples;
    samples.reserve(1 << 16);
    size_t q = 0;
    for (auto _ : state) {
        const auto start = Clock::now();
        auto hits = idx->search({d.queries.data() + q * d.dim, d.dim}, kTopK, {}, ef);
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        benchmark::DoNotOptimize(hits);
        q = (q + 1) % kQueries;
    }
    state.counters["recall@10"] = found / double(kQueries * kTopK);
    state.counters["p50_us"] = percentile(samples, 0.50);
    state.counters["p99_us"] = percentile(samples, 0.99);
}
BENCHMARK(BM_VectorQuery)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Arg(160)
    ->Arg(176)
    ->Arg(192)
    ->Arg(256)
    ->Unit(benchmark::kMicrosecond);

void BM_VectorExact(benchmark::State& state) {
    if (!dense().error.empty()) {
        state.SkipWithError(dense().error.c_str());
        return;
    }
    const DenseData& d = dense();
    VectorIndex* idx = shared_index();
    size_t q = 0;
    for (auto _ : state) {
        auto hits = idx->search_exact({d.queries.data() + q * d.dim, d.dim}, kTopK);
        benchmark::DoNotOptimize(hits);
        q = (q + 1) % kQueries;
    }
}
BENCHMARK(BM_VectorExact)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------- BM25

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

struct Bm25Data {
    Bm25Index index;
    size_t chunks = 0;
    size_t bytes = 0;
    double build_ms = 0;
};

const Bm25Data& bm25() {
    static Bm25Data d;  // built in place: an index is not movable (it owns its locks)
    static const bool built = [] {
        std::vector<fs::path> paths{kRoot / "README.md"};
        for (const auto& e : fs::directory_iterator(kRoot / "docs")) {
            if (e.path().extension() == ".md") paths.push_back(e.path());
        }
        std::sort(paths.begin(), paths.end());
        std::vector<std::string> chunks;
        for (const auto& p : paths) {
            const std::string text = read_file(p);
            size_t begin = 0;
            while (begin < text.size()) {
                size_t end = text.find("\n\n", begin);
                if (end == std::string::npos) end = text.size();
                if (end > begin) chunks.push_back(text.substr(begin, end - begin));
                begin = end + 2;
            }
        }
        const auto start = Clock::now();
        for (size_t i = 0; i < chunks.size(); ++i) {
            d.index.add(i, chunks[i]);
            d.bytes += chunks[i].size();
        }
        d.build_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        d.chunks = chunks.size();
        return true;
    }();
    (void)built;
    return d;
}

const std::vector<std::string> kBm25Queries = {
    "how does the circuit breaker half-open state work",
    "token budget exceeded for an API key",
    "semantic cache time to live",
    "retry with exponential backoff and jitter",
    "which embedder works offline",
    "stream chunks over server-sent events",
    "route a prompt to the cheapest model",
    "what does the usage ledger record",
    "Anthropic messages endpoint compatibility",
    "recursive character text splitter parity with LangChain",
    "how are vocabularies installed by the bootstrap script",
    "cost in USD per million tokens",
    "failover to another deployment after a 429",
    "smooth inverse frequency sentence vectors",
    "SQLite WAL mode for the ledger",
    "configure the gateway with YAML",
    "count tokens for a Llama model",
    "consensus between several models",
    "rate limit per tenant",
    "principal component removal",
    "mock upstream fault injection",
    "benchmark gateway overhead with wrk",
    "structural chunker Markdown headings",
    "cache key canonical request hash",
};

void BM_Bm25Query(benchmark::State& state) {
    const Bm25Data& d = bm25();
    size_t q = 0;
    for (auto _ : state) {
        auto hits = d.index.search(kBm25Queries[q], kTopK);
        benchmark::DoNotOptimize(hits);
        q = (q + 1) % kBm25Queries.size();
    }
    const auto stats = d.index.stats();
    state.counters["chunks"] = static_cast<double>(d.chunks);
    state.counters["terms"] = static_cast<double>(stats.terms);
    state.counters["postings"] = static_cast<double>(stats.postings);
    state.counters["corpus_kb"] = static_cast<double>(d.bytes) / 1024.0;
    state.counters["build_ms"] = d.build_ms;
}
BENCHMARK(BM_Bm25Query)->Unit(benchmark::kMicrosecond);

}  // namespace
