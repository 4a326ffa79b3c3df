// Prompt analysis on the router's path: a whole PromptAnalyzer::analyze() (PII scan, task
// features, complexity, language) on 500- and 2,000-token prompts (about 4 bytes a token)
// of English prose, code, and prose mixed with PII; plus the PII scanner alone.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "switchyard/routing/pii.hpp"
#include "switchyard/routing/prompt_analyzer.hpp"

using namespace switchyard;
using namespace switchyard::routing;
using switchyard::bench::min_of;

namespace {

constexpr const char* kProse =
    "The city council met on Tuesday to discuss the new public transport plan. Members "
    "debated the cost of extending the tram line to the northern districts, which would serve "
    "about 40,000 residents. Supporters argued that the extension would reduce car traffic "
    "and emissions, while critics pointed to the budget deficit and the disruption caused by "
    "two years of construction. After four hours the council voted 23 to 18 to commission a "
    "detailed feasibility study, due in March 2025 (version 2.1 of the plan).\n";

constexpr const char* kCode =
    "```python\n"
    "def load_orders(path: str) -> list[dict]:\n"
    "    with open(path, encoding='utf-8') as f:\n"
    "        rows = [json.loads(line) for line in f if line.strip()]\n"
    "    return [r for r in rows if r.get('status') != 'cancelled']\n"
    "\n"
    "class OrderIndex:\n"
    "    def __init__(self, orders):\n"
    "        self.by_id = {o['id']: o for o in orders}\n"
    "    def total(self, ids):\n"
    "        return sum(self.by_id[i]['amount'] for i in ids if i in self.by_id)\n"
    "```\n";

constexpr const char* kPii =
    "Customer Jane Doe (jane.doe@example.com, +1 415 555 0132) paid with 4539 1488 0343 6467 "
    "and asked for a refund to DE89 3704 0044 0532 0130 00. Her SSN on file is 536-22-8140. "
    "The integration still uses key sk-proj-4fQ9vR2mX7tL1pZ8wK3nB6yH0cJ5dG2sA9eU4iO7, please "
    "rotate it. Order 2024-000123 shipped on 15.03.2024 from warehouse 10.0.12.7.\n";

std::string fill(const char* unit, size_t bytes) {
    std::string s;
    while (s.size() < bytes)
        s += unit;
    s.resize(bytes);
    return s;
}

std::string mixed(size_t bytes) {
    std::string s;
    while (s.size() < bytes) {
        s += kProse;
        s += kPii;
    }
    s.resize(bytes);
    return s;
}

ChatRequest request(std::string user_text) {
    ChatRequest r;
    r.model = "auto";
    Message sys;
    sys.role = Role::kSystem;
    sys.text = "You are a careful assistant for the support team. Answer briefly.";
    Message u;
    u.role = Role::kUser;
    u.text = "Summarize the following and list any problems:\n" + std::move(user_text);
    r.messages = {sys, u};
    return r;
}

// Arg 0: kind (0 prose, 1 code, 2 mixed with PII); arg 1: tokens (bytes = 4 x tokens).
std::string text_for(int kind, int64_t tokens) {
    const auto bytes = static_cast<size_t>(tokens * 4);
    switch (kind) {
        case 0:
            return fill(kProse, bytes);
        case 1:
            return fill(kCode, bytes);
        default:
            return mixed(bytes);
    }
}

const char* kKindNames[] = {"prose", "code", "mixed_pii"};

void BM_Analyze(benchmark::State& state) {
    const PromptAnalyzer analyzer;
    const auto req = request(text_for(static_cast<int>(state.range(0)), state.range(1)));
    size_t bytes = 0;
    for (const auto& m : req.messages)
        bytes += m.text.size();
    size_t findings = 0;
    for (auto _ : state) {
        auto a = analyzer.analyze(req, state.range(1));
        findings = a.pii.size();
        benchmark::DoNotOptimize(a);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
    state.SetLabel(std::string(kKindNames[state.range(0)]) + ", " + std::to_string(findings) +
                   " findings");
}
BENCHMARK(BM_Analyze)->ArgsProduct({{0, 1, 2}, {500, 2000}})->ComputeStatistics("min", min_of);

void BM_ScanPii(benchmark::State& state) {
    const std::string text = text_for(static_cast<int>(state.range(0)), state.range(1));
    const PiiOptions options;
    std::vector<PiiFinding> out;
    out.reserve(256);
    for (auto _ : state) {
        out.clear();
        scan_pii(text, options, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.SetLabel(kKindNames[state.range(0)]);
}
BENCHMARK(BM_ScanPii)->ArgsProduct({{0, 1, 2}, {2000}})->ComputeStatistics("min", min_of);

void BM_DetectLanguage(benchmark::State& state) {
    const std::string text = fill(kProse, 2048);
    for (auto _ : state)
        benchmark::DoNotOptimize(detect_language(text));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_DetectLanguage)->ComputeStatistics("min", min_of);

}  // namespace
