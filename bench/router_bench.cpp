// Routing decision for a ~2,000-token chat request against the seed catalog (gpt-4-turbo,
// claude-3-5-sonnet, llama-2 4k local, mistral 8k local) and the seed policy:
// count the prompt exactly in cl100k_base (count_chat_prompt), PromptAnalyzer::analyze(), then
// Router::rank(), whose context checks ask for exact counts in the local models' own
// vocabularies (llama2, mistral: SentencePiece) only when the cheap bound (UTF-8 bytes +
// framing) does not fit. Per-iteration wall times are kept and reported as p50/p99 counters
// (microseconds). BM_Rank is rank() alone (analysis and counts done before), with the heap
// allocations per call as a counter.
//
//   ninja -C build-route router_bench && build-route/bench/router_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "switchyard/routing/prompt_analyzer.hpp"
#include "switchyard/routing/router.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

// Heap allocations, counted for BM_Rank's "allocs" counter.
namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}

using namespace switchyard;
using namespace switchyard::routing;
using Clock = std::chrono::steady_clock;
using bench::min_of;
using bench::set_percentiles;

namespace {

constexpr size_t kGpt4 = 0;
constexpr size_t kClaude = 1;
constexpr size_t kLlama2 = 2;
constexpr size_t kMistral = 3;

// Varied prose (no PII), cycled into the user message.
constexpr const char* kParagraphs[] = {
    "The city council met on Tuesday to discuss the new public transport plan. Members "
    "debated the cost of extending the tram line to the northern districts, which would serve "
    "about 40,000 residents. Supporters argued that the extension would reduce car traffic "
    "and emissions, while critics pointed to the budget deficit and the disruption caused by "
    "two years of construction.\n",
    "Our quarterly review showed that support tickets about billing fell by a third after the "
    "new invoice layout shipped, while questions about exports doubled. Most of those came "
    "from customers who moved from spreadsheets and expected column names to stay the same; "
    "the onboarding guide now lists the mapping explicitly.\n",
    "The library committee reviewed the opening hours again. Evening visits have grown since "
    "the reading room moved downstairs, but the Saturday morning slot is still the busiest, "
    "mostly parents with small children and students before exams. Two part-time positions "
    "will be advertised next month.\n",
    "Field notes, week three: the river gauge at the lower bridge read higher every morning, "
    "and the farmers upstream started moving equipment off the flood plain. The volunteers "
    "set up a rota for sandbags, a kitchen in the school hall, and a board listing who needs "
    "a lift to the clinic.\n",
    "Release checklist: tag the build, run the migration dry-run against a copy of "
    "production, compare row counts, then switch traffic in two steps with a pause to watch "
    "error rates. Roll back if the p99 latency rises by more than a fifth or any health check "
    "fails twice in a row.\n",
};

std::vector<ModelProfile> seed_models() {
    auto make = [](std::string name, bool local, int64_t window, double in, double out,
                   std::initializer_list<Capability> caps) {
        ModelProfile m;
        m.name = std::move(name);
        m.local = local;
        m.context_window = window;
        m.input_per_1m_usd = in;
        m.output_per_1m_usd = out;
        for (const Capability c : caps)
            m.capabilities |= capability_bit(c);
        return m;
    };
    using C = Capability;
    return {
        make("gpt-4-turbo", false, 128000, 30, 60,
             {C::kChat, C::kCode, C::kReasoning, C::kTools, C::kJson, C::kVision}),
        make("claude-3-5-sonnet", false, 200000, 3, 15,
             {C::kChat, C::kCode, C::kReasoning, C::kTools, C::kVision}),
        make("llama-2", true, 4096, 0, 0, {C::kChat, C::kPrivate}),
        make("mistral", true, 8192, 0, 0, {C::kChat, C::kFast, C::kPrivate}),
    };
}

RouterOptions seed_options() {
    RouterOptions o;
    PolicyRule privacy;
    privacy.name = "privacy";
    privacy.min_privacy = PrivacyLevel::kPersonal;
    privacy.prefer = {kLlama2};
    privacy.local_only = true;
    PolicyRule code;
    code.name = "code-and-reasoning";
    code.tasks = task_bit(TaskType::kCode) | task_bit(TaskType::kReasoning);
    code.prefer = {kGpt4};
    PolicyRule fast;
    fast.name = "short-and-fast";
    fast.max_prompt_tokens = 256;
    fast.max_complexity = Complexity::kLow;
    fast.prefer = {kMistral};
    PolicyRule general;
    general.name = "general";
    general.prefer = {kClaude};
    o.policy = {privacy, code, fast, general};
    return o;
}

const tokens::Tokenizer* load(std::string_view vocabulary) {
    static tokens::TokenizerRegistry registry(tokens::default_vocab_dir());
    auto got = registry.get(vocabulary);
    if (auto* error = std::get_if<std::string>(&got)) {
        std::fprintf(stderr, "router_bench: %s\n", error->c_str());
        std::exit(1);
    }
    return std::get<0>(got);
}

// Each model's vocabulary and chat framing, as the gateway would resolve them.
struct ModelVocab {
    const tokens::Tokenizer* tokenizer;
    tokens::ChatFamily family;
};

const std::vector<ModelVocab>& seed_vocabs() {
    static const std::vector<ModelVocab> v = [] {
        std::vector<ModelVocab> out;
        for (const auto& m : seed_models()) {
            const auto name = tokens::vocabulary_for_model(m.name);
            out.push_back({load(name), tokens::chat_family_for_vocabulary(name)});
        }
        return out;
    }();
    return v;
}

// Per-request prompt sizes, memoised per vocabulary (the caller's side of PromptTokens).
class RequestTokens : public PromptTokens {
public:
    RequestTokens(const ChatRequest& req, const std::vector<ModelVocab>& vocabs)
        : req_(req), vocabs_(vocabs) {}

    // Seeds the memo with a count already made (the cl100k count for the analysis).
    void remember(const tokens::Tokenizer* t, int64_t n) { memo_[used_++] = {t, n}; }

    int64_t for_model(size_t index) override {
        const ModelVocab& v = vocabs_[index];
        for (size_t k = 0; k < used_; ++k) {
            if (memo_[k].tokenizer == v.tokenizer) return memo_[k].count;
        }
        const int64_t n = tokens::count_chat_prompt(*v.tokenizer, v.family, req_);
        ++counted;
        if (used_ < memo_.size()) memo_[used_++] = {v.tokenizer, n};
        return n;
    }

    // Every vocabulary here spends at least one byte per token (byte fallback included);
    // framing and the SentencePiece space prefix are covered by a per-message allowance.
    int64_t upper_bound() override {
        int64_t bytes = 16;
        for (const Message& m : req_.messages)
            bytes += static_cast<int64_t>(m.text.size() + m.name.size()) + 16;
        return bytes;
    }

    int counted = 0;  // counts made through for_model()

private:
    struct Memo {
        const tokens::Tokenizer* tokenizer = nullptr;
        int64_t count = 0;
    };
    const ChatRequest& req_;
    const std::vector<ModelVocab>& vocabs_;
    std::array<Memo, 8> memo_{};
    size_t used_ = 0;
};

// A system message and a user message of about 2,000 cl100k tokens (whole paragraphs).
const ChatRequest& request_2k() {
    static const ChatRequest req = [] {
        const auto* cl100k = load("cl100k_base");
        ChatRequest r;
        r.model = "auto";
        Message sys;
        sys.role = Role::kSystem;
        sys.text = "You are a careful assistant for the operations team. Answer briefly.";
        Message user;
        user.role = Role::kUser;
        user.text = "Summarize the following notes and list the open problems:\n\n";
        for (size_t k = 0;; ++k) {
            const std::string next = user.text + kParagraphs[k % std::size(kParagraphs)];
            if (cl100k->count(next) > 1960) break;
            user.text = next;
        }
        r.messages = {sys, user};
        return r;
    }();
    return req;
}

// Arg 0: route (0 = "auto" over the whole seed catalog, 1 = the two remote models only);
// arg 1: completion tokens reserved for the answer (max_tokens, or the 4,096 default);
// arg 2: RouteQuery::lazy_context (1: count exactly only down to the first candidate that
// certainly fits, as the gateway does; the failover loop checks the rest if it reaches them).
void BM_RouteDecision2k(benchmark::State& state) {
    const ChatRequest& req = request_2k();
    const auto& vocabs = seed_vocabs();
    const Router router(seed_models(), seed_options());
    const PromptAnalyzer analyzer;
    RouteProfile route;
    if (state.range(0) == 1) route.models = {kGpt4, kClaude};
    const int64_t completion = state.range(1);
    const bool lazy = state.range(2) != 0;

    std::vector<double> us;
    us.reserve(1 << 20);
    int64_t prompt_tokens = 0;
    int counted = 0;
    size_t first = 0;
    size_t ranked = 0;
    size_t unverified = 0;
    std::string reason;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        RequestTokens sizes(req, vocabs);
        const ModelVocab& openai = vocabs[kGpt4];  // cl100k_base
        const int64_t n = tokens::count_chat_prompt(*openai.tokenizer, openai.family, req);
        sizes.remember(openai.tokenizer, n);
        const PromptAnalysis a = analyzer.analyze(req, n);
        RouteQuery q;
        q.analysis = &a;
        q.completion_tokens = completion;
        q.prompt_tokens = &sizes;
        q.lazy_context = lazy;
        RouteDecision d = router.rank(route, q);
        benchmark::DoNotOptimize(d);
        const auto t1 = Clock::now();
        if (us.size() < us.capacity())
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        prompt_tokens = n;
        counted = sizes.counted;
        first = d.ranked.empty() ? 99 : d.ranked.front().model;
        ranked = d.ranked.size();
        unverified = 0;
        for (const auto& r : d.ranked)
            unverified += r.context_verified ? 0 : 1;
        reason = d.reason;
    }
    set_percentiles(state, us);
    state.counters["prompt_tokens"] = static_cast<double>(prompt_tokens);
    state.counters["prompt_bytes"] =
        static_cast<double>(req.messages[0].text.size() + req.messages[1].text.size());
    state.counters["extra_counts"] = counted;  // exact counts rank() asked for
    state.counters["ranked"] = static_cast<double>(ranked);
    state.counters["unverified"] = static_cast<double>(unverified);  // left to the failover loop
    state.SetLabel((route.models.empty() ? std::string("auto") : std::string("remote")) +
                   (lazy ? " lazy" : "") + " max_tokens=" + std::to_string(completion) + " -> " +
                   (first < 4 ? router.models()[first].name : std::string("none")) + " (" + reason +
                   ")");
}
BENCHMARK(BM_RouteDecision2k)
    ->Args({0, 4096, 0})
    ->Args({0, 512, 0})
    ->Args({1, 4096, 0})
    ->Args({0, 4096, 1})
    ->Args({0, 512, 1})
    ->Args({1, 4096, 1})
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", min_of);

// The parts of a decision on the same request, for the breakdown: 0 = cl100k count (the
// analysis input), 1 = analyze(), 2 = llama2 count, 3 = mistral count (what rank() asks for
// when the bound does not fit those windows).
void BM_DecisionPart(benchmark::State& state) {
    const ChatRequest& req = request_2k();
    const auto& vocabs = seed_vocabs();
    const PromptAnalyzer analyzer;
    const int part = static_cast<int>(state.range(0));
    const size_t model = part == 2 ? kLlama2 : part == 3 ? kMistral : kGpt4;
    const ModelVocab& v = vocabs[model];
    std::vector<double> us;
    us.reserve(1 << 20);
    int64_t n = 0;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        if (part == 1) {
            const PromptAnalysis a = analyzer.analyze(req, 2000);
            benchmark::DoNotOptimize(a);
        } else {
            n = tokens::count_chat_prompt(*v.tokenizer, v.family, req);
            benchmark::DoNotOptimize(n);
        }
        const auto t1 = Clock::now();
        if (us.size() < us.capacity())
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    set_percentiles(state, us);
    if (part != 1) state.counters["tokens"] = static_cast<double>(n);
    const char* const labels[] = {"count cl100k_base", "analyze", "count llama2", "count mistral"};
    state.SetLabel(labels[part]);
}
BENCHMARK(BM_DecisionPart)
    ->DenseRange(0, 3)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", min_of);

// rank() alone: analysis and every count made beforehand (the memo answers for_model()).
// Arg 0: 0 = the seed policy (rule "general"), 1 = no policy, with live statistics.
void BM_Rank(benchmark::State& state) {
    const ChatRequest& req = request_2k();
    const auto& vocabs = seed_vocabs();
    const Router router(seed_models(), seed_options());
    const PromptAnalysis a = PromptAnalyzer().analyze(req, 2000);
    RequestTokens sizes(req, vocabs);
    for (size_t i = 0; i < vocabs.size(); ++i)
        sizes.for_model(i);
    std::vector<ModelLive> live(4);
    live[kClaude].total_ms = 2400;
    live[kClaude].error_rate = 0.02;
    live[kClaude].in_flight = 5;
    live[kMistral].total_ms = 900;
    RouteProfile route;
    route.use_policy = state.range(0) == 0;
    RouteQuery q;
    q.analysis = &a;
    q.completion_tokens = 512;
    q.prompt_tokens = &sizes;
    q.live = live;

    std::vector<double> us;
    us.reserve(1 << 20);
    int64_t allocations = 0;
    for (auto _ : state) {
        const int64_t before = g_allocations.load(std::memory_order_relaxed);
        const auto t0 = Clock::now();
        RouteDecision d = router.rank(route, q);
        benchmark::DoNotOptimize(d);
        const auto t1 = Clock::now();
        allocations = g_allocations.load(std::memory_order_relaxed) - before;
        if (us.size() < us.capacity())
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    set_percentiles(state, us);
    state.counters["allocs"] = static_cast<double>(allocations);
    state.SetLabel(route.use_policy ? "seed policy" : "no policy, live stats");
}
BENCHMARK(BM_Rank)->Arg(0)->Arg(1)->ComputeStatistics("min", min_of);

}  // namespace
