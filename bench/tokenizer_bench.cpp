// Tokenizer micro-benchmarks: count() throughput (MB/s, one thread) on prose, code and CJK for
// each vocabulary, and the time to count a 2,000-token prompt (target: under 20 us).
// Texts: prose = the README.md files of the pinned npm packages (tools/vocab/node_modules),
// code = this repository's src/ and include/ sources, CJK = tests/data/tokens/*cjk*.txt
// repeated. TOKENIZER_BENCH_TEXT=<file> adds BM_CountFile on that file (tokenizer_compare.sh).
//
//   ninja -C build tokenizer_bench && build/bench/tokenizer_bench
//   build/bench/tokenizer_bench --benchmark_filter=Prompt
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/tokens/byte_level_bpe.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace {

using namespace switchyard::tokens;
namespace fs = std::filesystem;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path();
const char* const kVocabularies[] = {"cl100k_base", "o200k_base", "claude", "llama3"};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Files under `dir` whose name matches, concatenated in sorted order up to `limit` bytes.
std::string gather(const fs::path& dir, bool (*want)(const fs::path&), size_t limit) {
    std::vector<fs::path> paths;
    if (!fs::exists(dir)) return {};
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file() && want(e.path())) paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    std::string out;
    for (const auto& p : paths) {
        if (out.size() >= limit) break;
        out += read_file(p);
    }
    return out.substr(0, limit);
}

const std::string& text(const std::string& kind) {
    static const std::string prose = gather(
        kRoot / "tools" / "vocab" / "node_modules",
        [](const fs::path& p) { return p.filename() == "README.md"; }, 512 << 10);
    static const std::string code = gather(
        kRoot / "src",
        [](const fs::path& p) { return p.extension() == ".cpp" || p.extension() == ".hpp"; },
        512 << 10);
    static const std::string cjk = [] {
        std::string one = read_file(kRoot / "tests" / "data" / "tokens" / "bl_cjk.txt") +
                          read_file(kRoot / "tests" / "data" / "tokens" / "sp_cjk.txt");
        std::string out;
        while (out.size() < (128 << 10))
            out += one;
        return out;
    }();
    return kind == "prose" ? prose : kind == "code" ? code : cjk;
}

const Tokenizer* tokenizer(const std::string& name) {
    static std::vector<std::pair<std::string, std::unique_ptr<Tokenizer>>> loaded;
    for (auto& [n, t] : loaded) {
        if (n == name) return t.get();
    }
    auto result = load_byte_level_bpe(default_vocab_dir() + "/" + name + ".syvocab");
    if (auto* error = std::get_if<std::string>(&result)) {
        std::fprintf(stderr, "tokenizer_bench: %s\n", error->c_str());
        std::exit(1);
    }
    loaded.emplace_back(name, std::move(std::get<0>(result)));
    return loaded.back().second.get();
}

void count_text(benchmark::State& state, const Tokenizer* t, const std::string* s) {
    size_t n = 0;
    for (auto _ : state) {
        n = t->count(*s);
        benchmark::DoNotOptimize(n);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s->size()));
    state.counters["tokens"] = static_cast<double>(n);
    state.counters["bytes_per_token"] = static_cast<double>(s->size()) / static_cast<double>(n);
}

void encode_text(benchmark::State& state, const Tokenizer* t, const std::string* s) {
    std::vector<TokenId> ids;
    for (auto _ : state) {
        ids.clear();
        t->encode(*s, ids);
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s->size()));
}

// The longest prefix of the prose (cut at a newline) with at most 2,000 cl100k tokens.
const std::string& prompt_2000() {
    static const std::string prompt = [] {
        const std::string& prose = text("prose");
        const Tokenizer* t = tokenizer("cl100k_base");
        size_t lo = 0, hi = prose.size();
        while (lo + 1 < hi) {
            size_t mid = (lo + hi) / 2;
            (t->count(std::string_view(prose).substr(0, mid)) <= 2000 ? lo : hi) = mid;
        }
        return prose.substr(0, lo);
    }();
    return prompt;
}

void count_prompt(benchmark::State& state, const Tokenizer* t) {
    const std::string& prompt = prompt_2000();
    size_t n = 0;
    for (auto _ : state) {
        n = t->count(prompt);
        benchmark::DoNotOptimize(n);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * prompt.size()));
    state.counters["tokens"] = static_cast<double>(n);
}

const bool registered = [] {
    for (const char* vocab : kVocabularies) {
        const Tokenizer* t = tokenizer(vocab);
        for (const char* kind : {"prose", "code", "cjk"}) {
            benchmark::RegisterBenchmark((std::string("BM_Count/") + vocab + "/" + kind).c_str(),
                                         count_text, t, &text(kind));
        }
        benchmark::RegisterBenchmark((std::string("BM_Encode/") + vocab + "/prose").c_str(),
                                     encode_text, t, &text("prose"));
        benchmark::RegisterBenchmark((std::string("BM_CountPrompt2000/") + vocab).c_str(),
                                     count_prompt, t)
            ->Unit(benchmark::kMicrosecond);
    }
    if (const char* file = std::getenv("TOKENIZER_BENCH_TEXT"); file != nullptr) {
        static const std::string content = read_file(file);
        for (const char* vocab : kVocabularies) {
            benchmark::RegisterBenchmark((std::string("BM_CountFile/") + vocab).c_str(), count_text,
                                         tokenizer(vocab), &content);
        }
    }
    return true;
}();

}  // namespace
