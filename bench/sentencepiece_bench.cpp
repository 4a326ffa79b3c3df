// SentencePiece BPE tokenizers (llama2, mistral): count() and encode() throughput on prose,
// source code and CJK text, and the time to count a ~2,000-token prompt (plain, and as a
// Llama 2 / Mistral chat), and the worst case, a 1 MiB run without spaces. The texts are the parity
// corpus files tests/data/tokens/sp_*.txt, each repeated whole until it reaches 256 KiB;
// bench/sentencepiece_compare.mjs builds the same strings for the JavaScript references and runs
// this binary, printing both side by side.
//
//   ninja -C build sentencepiece_bench && build/bench/sentencepiece_bench
//   node bench/sentencepiece_compare.mjs build/bench/sentencepiece_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/tokens/chat_format.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace {

using namespace switchyard::tokens;
namespace fs = std::filesystem;

constexpr size_t kTextBytes = 256 * 1024;

fs::path data_dir() {
    if (const char* dir = std::getenv("SWITCHYARD_BENCH_DATA")) return dir;
    return fs::path(__FILE__).parent_path() / ".." / "tests" / "data" / "tokens";
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().empty()) {
        std::fprintf(stderr, "sentencepiece_bench: cannot read %s\n", path.c_str());
        std::exit(1);
    }
    return s.str();
}

// The corpus file repeated whole until it is at least kTextBytes long.
const std::string& text(const std::string& kind) {
    static std::map<std::string, std::string> texts;
    auto it = texts.find(kind);
    if (it != texts.end()) return it->second;
    const std::string one = read_file(data_dir() / ("sp_" + kind + ".txt"));
    std::string all;
    while (all.size() < kTextBytes)
        all += one;
    return texts[kind] = std::move(all);
}

const Tokenizer& tokenizer(const std::string& name) {
    static TokenizerRegistry registry(default_vocab_dir());
    auto got = registry.get(name);
    if (auto* error = std::get_if<std::string>(&got)) {
        std::fprintf(stderr, "sentencepiece_bench: %s\n", error->c_str());
        std::exit(1);
    }
    return *std::get<const Tokenizer*>(got);
}

void BM_Count(benchmark::State& state, const std::string& vocabulary, const std::string& kind) {
    const Tokenizer& t = tokenizer(vocabulary);
    const std::string& s = text(kind);
    size_t n = 0;
    for (auto _ : state) {
        n = t.count(s);
        benchmark::DoNotOptimize(n);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
    state.counters["tokens"] = static_cast<double>(n);
}

void BM_Encode(benchmark::State& state, const std::string& vocabulary, const std::string& kind) {
    const Tokenizer& t = tokenizer(vocabulary);
    const std::string& s = text(kind);
    std::vector<TokenId> ids;
    for (auto _ : state) {
        ids.clear();
        t.encode(s, ids);
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}

// The longest prefix of prose + code (whole lines) with at most 2,000 tokens.
std::string prompt_2000(const Tokenizer& t) {
    const std::string source = read_file(data_dir() / "sp_prose.txt") +
                               read_file(data_dir() / "sp_code.txt") +
                               read_file(data_dir() / "sp_prose.txt");
    std::string prompt;
    size_t at = 0;
    while (at < source.size()) {
        size_t nl = source.find('\n', at);
        nl = nl == std::string::npos ? source.size() : nl + 1;
        std::string longer = prompt + source.substr(at, nl - at);
        if (t.count(longer) > 2000) break;
        prompt = std::move(longer);
        at = nl;
    }
    return prompt;
}

void BM_Count2000TokenPrompt(benchmark::State& state, const std::string& vocabulary) {
    const Tokenizer& t = tokenizer(vocabulary);
    const std::string prompt = prompt_2000(t);
    size_t n = 0;
    for (auto _ : state) {
        n = t.count(prompt);
        benchmark::DoNotOptimize(n);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * prompt.size()));
    state.counters["tokens"] = static_cast<double>(n);
}

// The same 2,000-token text split into a system prompt, two exchanges and a question.
void BM_CountChat2000(benchmark::State& state, const std::string& vocabulary) {
    const Tokenizer& t = tokenizer(vocabulary);
    const std::string prompt = prompt_2000(t);
    const size_t q = prompt.size() / 4;
    const std::string_view p(prompt);
    const ChatTurn turns[] = {{ChatRole::kSystem, p.substr(0, q / 4)},
                              {ChatRole::kUser, p.substr(q / 4, q)},
                              {ChatRole::kAssistant, p.substr(q / 4 + q, q)},
                              {ChatRole::kUser, p.substr(q / 4 + 2 * q, q)},
                              {ChatRole::kAssistant, p.substr(q / 4 + 3 * q)},
                              {ChatRole::kUser, "Summarize the above."}};
    const InstFormat format =
        vocabulary == "llama2" ? InstFormat::kLlama2Chat : InstFormat::kMistralInstruct;
    size_t n = 0;
    for (auto _ : state) {
        n = count_inst_prompt(t, format, turns);
        benchmark::DoNotOptimize(n);
    }
    state.counters["tokens"] = static_cast<double>(n);
}

// Worst case: 1 MiB of pseudo-random base64, one unbroken segment merged through the heap.
void BM_CountBase64Blob(benchmark::State& state, const std::string& vocabulary) {
    const Tokenizer& t = tokenizer(vocabulary);
    static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string blob(size_t{1} << 20, 'A');
    uint32_t x = 1;
    for (char& c : blob) {
        x = x * 1103515245u + 12345u;
        c = kB64[(x >> 16) % 64];
    }
    size_t n = 0;
    for (auto _ : state) {
        n = t.count(blob);
        benchmark::DoNotOptimize(n);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * blob.size()));
    state.counters["tokens"] = static_cast<double>(n);
}

void register_all() {
    for (const std::string vocabulary : {"llama2", "mistral"}) {
        for (const std::string kind : {"prose", "code", "cjk"}) {
            benchmark::RegisterBenchmark(("BM_Count/" + vocabulary + "/" + kind).c_str(), BM_Count,
                                         vocabulary, kind);
            benchmark::RegisterBenchmark(("BM_Encode/" + vocabulary + "/" + kind).c_str(),
                                         BM_Encode, vocabulary, kind);
        }
        benchmark::RegisterBenchmark(("BM_Count2000TokenPrompt/" + vocabulary).c_str(),
                                     BM_Count2000TokenPrompt, vocabulary);
        benchmark::RegisterBenchmark(("BM_CountChat2000/" + vocabulary).c_str(), BM_CountChat2000,
                                     vocabulary);
        benchmark::RegisterBenchmark(("BM_CountBase64Blob/" + vocabulary).c_str(),
                                     BM_CountBase64Blob, vocabulary)
            ->Unit(benchmark::kMillisecond);
    }
}

const int kRegistered = (register_all(), 0);

}  // namespace
