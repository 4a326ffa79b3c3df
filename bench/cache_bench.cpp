// The response cache's hot path and a replay trace.
// - BM_RequestKey: the canonical request key (XXH3-128 over the answer-changing fields) of a
//   small chat request, paid by every cacheable request before the lookup.
// - BM_ExactLookup: ResponseCache::lookup() among 1M entries (hits and misses), per-lookup
//   wall-time percentiles. Target: p99 < 5 us with 1M entries.
// - BM_ReplayTrace: a synthetic but structured trace (Zipf-popular intents asked in several
//   phrasings, near-miss questions that must not share an answer, one-off prompts that never
//   repeat, a model mix with the seed's prices and answer sizes from 40 to 1,600 tokens) run
//   through the exact and the semantic cache under a memory budget, once with GDSF and once
//   with LRU eviction: hit rates, precision among semantic hits and USD saved.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "bench_util.hpp"
#include "switchyard/cache/response_cache.hpp"
#include "switchyard/cache/semantic_cache.hpp"
#include "switchyard/rag/glove_embedder.hpp"

namespace {

using namespace switchyard;
using Clock = std::chrono::steady_clock;
using bench::min_of;
using bench::set_percentiles;

// The cache benches' request, with the max_tokens a real client sends.
ChatRequest small_request(const std::string& question) {
    ChatRequest r = bench::support_request(question);
    r.max_tokens = 512;
    return r;
}

cache::Entry make_entry(const std::string& ns, const std::string& model, const std::string& prompt,
                        size_t answer_bytes, int64_t cost_nusd, int64_t now_ms) {
    cache::Entry e;
    e.ns = ns;
    e.requested_model = model;
    e.prompt_text = prompt;
    e.answer.model = model;
    e.answer.message.role = Role::kAssistant;
    e.answer.message.text.assign(answer_bytes, 'a');
    e.answer.finish_reason = FinishReason::kStop;
    e.answer.usage.prompt_tokens = static_cast<int64_t>(prompt.size() / 4 + 20);
    e.answer.usage.completion_tokens = static_cast<int64_t>(answer_bytes / 4);
    e.created_ms = now_ms;
    e.expires_ms = now_ms + 86'400'000;
    e.stale_until_ms = e.expires_ms;
    e.cost_nusd = cost_nusd;
    return e;
}

void BM_RequestKey(benchmark::State& state) {
    const ChatRequest req = small_request("How do I reverse a list in Python without copying it?");
    std::vector<double> us;
    us.reserve(1 << 20);
    for (auto _ : state) {
        const auto t0 = Clock::now();
        const cache::CacheKey k = cache::request_key("key:team-a", req);
        benchmark::DoNotOptimize(k);
        const auto t1 = Clock::now();
        if (us.size() < us.capacity())
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    set_percentiles(state, us);
}
BENCHMARK(BM_RequestKey)->ComputeStatistics("min", min_of);

// Arg: entries in the cache. The keys looked up are drawn uniformly (a cold-cache worst
// case for the table); half of the lookups miss.
void BM_ExactLookup(benchmark::State& state) {
    const auto n = static_cast<size_t>(state.range(0));
    cache::CacheOptions o;
    o.max_bytes = size_t{8} << 30;  // everything fits: this measures the lookup, not eviction
    static std::unique_ptr<cache::ResponseCache> c;
    static std::vector<cache::CacheKey> keys;
    if (!c || keys.size() != n) {
        c = std::make_unique<cache::ResponseCache>(o);
        keys.clear();
        std::mt19937_64 rng(42);
        for (size_t i = 0; i < n; ++i) {
            const cache::CacheKey k{rng(), rng()};
            keys.push_back(k);
            c->store(k, make_entry("key:team-a", "gpt-4-turbo", "q", 600, 1000, 0), 0);
        }
    }
    std::mt19937_64 rng(7);
    std::vector<double> us;
    us.reserve(1 << 20);
    int64_t hits = 0;
    int64_t lookups = 0;
    for (auto _ : state) {
        const bool hit = (rng() & 1) != 0;
        const cache::CacheKey k = hit ? keys[rng() % keys.size()] : cache::CacheKey{rng(), rng()};
        const auto t0 = Clock::now();
        auto h = c->lookup(k, 1000);
        benchmark::DoNotOptimize(h);
        const auto t1 = Clock::now();
        hits += h ? 1 : 0;
        ++lookups;
        if (us.size() < us.capacity())
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    set_percentiles(state, us);
    state.counters["entries"] = static_cast<double>(c->stats().entries);
    state.counters["hit_share"] =
        static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(1, lookups));
}
BENCHMARK(BM_ExactLookup)
    ->Arg(10'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", min_of);

// ---- Replay trace -------------------------------------------------------------------------

struct Model {
    const char* name;
    int64_t in_nusd_per_token;   // seed prices: GPT-4 $0.03/$0.06 per 1K, Claude
    int64_t out_nusd_per_token;  // $0.003/$0.015 per 1K, local models free
};
constexpr Model kModels[] = {
    {"gpt-4-turbo", 30'000, 60'000},
    {"claude-3-5-sonnet", 3'000, 15'000},
    {"mistral", 0, 0},
};

struct Intent {
    std::vector<std::string> phrasings;
    int model = 0;
    int64_t answer_tokens = 0;
};

struct Trace {
    std::vector<Intent> intents;
    // Each request: intent index and phrasing, or a one-off (intent -1, text in `text`).
    struct Request {
        int intent = -1;
        int phrasing = 0;
        std::string text;
        int model = 0;
        int64_t answer_tokens = 0;
    };
    std::vector<Request> requests;
};

// Intents from tests/cache/paraphrases.jsonl: a pair marked same is one intent asked two
// ways; a pair marked different is two intents (near misses of each other).
const Trace& replay_trace() {
    static const Trace trace = [] {
        Trace t;
        std::mt19937_64 rng(2026);
        auto pick_model = [&] {
            const uint64_t r = rng() % 4;
            return r == 0 ? 0 : r == 3 ? 2 : 1;  // 25 % GPT-4 Turbo, 50 % Claude, 25 % Mistral
        };
        // Answer sizes: log-uniform 40..1,600 tokens.
        auto pick_tokens = [&] {
            const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
            return static_cast<int64_t>(40.0 * std::pow(40.0, u));
        };
        std::string root = __FILE__;  // <source>/bench/cache_bench.cpp
        root.resize(root.size() - std::string_view("bench/cache_bench.cpp").size());
        std::ifstream in(root + "tests/cache/paraphrases.jsonl");
        std::string line;
        simdjson::dom::parser parser;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            simdjson::dom::element doc;
            if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;
            std::string_view a, b;
            bool same = false;
            if (doc["a"].get(a) || doc["b"].get(b) || doc["same"].get(same)) continue;
            // A text asked in several pairs is one intent: a paraphrase joins the intent of
            // its partner; a near miss is an intent of its own.
            const std::string sa(a), sb(b);
            auto intent_of = [&](const std::string& text) {
                for (size_t i = 0; i < t.intents.size(); ++i) {
                    const auto& p = t.intents[i].phrasings;
                    if (std::find(p.begin(), p.end(), text) != p.end()) return static_cast<int>(i);
                }
                return -1;
            };
            int ia = intent_of(sa);
            if (ia < 0) {
                t.intents.push_back({{sa}, pick_model(), pick_tokens()});
                ia = static_cast<int>(t.intents.size() - 1);
            }
            const int ib = intent_of(sb);
            if (same && ib < 0) {
                t.intents[static_cast<size_t>(ia)].phrasings.push_back(sb);
            } else if (ib < 0) {
                t.intents.push_back({{sb}, pick_model(), pick_tokens()});
            }
        }
        std::shuffle(t.intents.begin(), t.intents.end(), rng);
        // Zipf(1.0) popularity over the intents.
        std::vector<double> cdf(t.intents.size());
        double sum = 0;
        for (size_t i = 0; i < cdf.size(); ++i)
            cdf[i] = sum += 1.0 / static_cast<double>(i + 1);
        const char* const topics[] = {"invoice", "ticket", "order", "incident", "contract"};
        for (int i = 0; i < 20'000; ++i) {
            Trace::Request r;
            if (rng() % 100 < 55 && !t.intents.empty()) {
                const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;
                r.intent =
                    static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
                const Intent& in = t.intents[static_cast<size_t>(r.intent)];
                r.phrasing = static_cast<int>(rng() % in.phrasings.size());
                r.model = in.model;
                r.answer_tokens = in.answer_tokens;
            } else {
                // A one-off: never asked again (its number differs every time).
                r.text = "Summarize " + std::string(topics[rng() % 5]) + " " +
                         std::to_string(100'000 + i) + " for the weekly report.";
                r.model = pick_model();
                r.answer_tokens = pick_tokens();
            }
            t.requests.push_back(std::move(r));
        }
        return t;
    }();
    return trace;
}

// Arg 0: eviction policy (0 GDSF, 1 LRU); arg 1: memory budget in KiB; arg 2: semantic cache
// (0 off, 1 on).
void BM_ReplayTrace(benchmark::State& state) {
    const Trace& trace = replay_trace();
    const bool verbose = std::getenv("CACHE_BENCH_VERBOSE") != nullptr;  // print wrong hits
    std::shared_ptr<const rag::Embedder> embedder;
    if (state.range(2) != 0) {
        auto opened = rag::GloveEmbedder::open();
        if (auto* err = std::get_if<std::string>(&opened)) {
            state.SkipWithError(err->c_str());
            return;
        }
        embedder = std::move(std::get<0>(opened));
    }
    for (auto _ : state) {
        cache::CacheOptions o;
        o.policy = state.range(0) == 0 ? cache::EvictionPolicy::kGdsf : cache::EvictionPolicy::kLru;
        o.max_bytes = static_cast<size_t>(state.range(1)) << 10;
        o.shards = 4;
        cache::ResponseCache exact(o);
        std::unique_ptr<cache::SemanticCache> semantic;
        if (embedder)
            semantic = std::make_unique<cache::SemanticCache>(cache::SemanticOptions{}, embedder);
        int64_t exact_hits = 0, semantic_hits = 0, semantic_wrong = 0, spent = 0, saved = 0;
        int64_t now = 0;
        std::unordered_map<std::string, int> intent_of_prompt;  // a cached prompt's intent
        for (const Intent& in : trace.intents) {
            for (const auto& p : in.phrasings)
                intent_of_prompt[p] = static_cast<int>(&in - trace.intents.data());
        }
        for (const Trace::Request& r : trace.requests) {
            now += 1000;
            const std::string& text = r.intent < 0
                                          ? r.text
                                          : trace.intents[static_cast<size_t>(r.intent)]
                                                .phrasings[static_cast<size_t>(r.phrasing)];
            const Model& m = kModels[r.model];
            const ChatRequest req = small_request(text);
            const int64_t prompt_tokens = static_cast<int64_t>(text.size() / 4 + 20);
            const int64_t cost =
                prompt_tokens * m.in_nusd_per_token + r.answer_tokens * m.out_nusd_per_token;
            const cache::CacheKey key = cache::request_key("key:bench", req);
            if (exact.lookup(key, now)) {
                ++exact_hits;
                saved += cost;
                continue;
            }
            std::optional<cache::SemanticQuery> q;
            if (semantic) q = cache::semantic_query("key:bench", req, false);
            if (q) {
                const auto out = semantic->lookup(*q);
                if (out.result == cache::SemanticCache::Result::kHit) {
                    auto hit = exact.lookup(out.match->key, now, -1, false, true);
                    if (hit) {
                        ++semantic_hits;
                        const auto it = intent_of_prompt.find(hit->entry->prompt_text);
                        const int cached_intent = it == intent_of_prompt.end() ? -2 : it->second;
                        if (cached_intent != r.intent) {
                            ++semantic_wrong;
                            if (verbose) {
                                std::fprintf(stderr,
                                             "wrong semantic hit (%.3f): \"%s\" -> \"%s\"\n",
                                             static_cast<double>(out.match->similarity),
                                             text.c_str(), hit->entry->prompt_text.c_str());
                            }
                        }
                        saved += cost;
                        continue;
                    }
                    semantic->remove(q->partition, out.match->entry_id);
                }
            }
            spent += cost;
            exact.store(key,
                        make_entry("key:bench", req.model, text,
                                   static_cast<size_t>(r.answer_tokens * 4), cost, now),
                        now);
            if (q) semantic->insert(*q, key);
        }
        const auto n = static_cast<double>(trace.requests.size());
        state.counters["requests"] = n;
        state.counters["exact_hit_rate"] = static_cast<double>(exact_hits) / n;
        state.counters["semantic_hit_rate"] = static_cast<double>(semantic_hits) / n;
        state.counters["semantic_precision"] =
            semantic_hits == 0
                ? 1.0
                : 1.0 - static_cast<double>(semantic_wrong) / static_cast<double>(semantic_hits);
        state.counters["usd_saved"] = static_cast<double>(saved) * 1e-9;
        state.counters["usd_spent"] = static_cast<double>(spent) * 1e-9;
        state.counters["evictions"] = static_cast<double>(exact.stats().evictions);
        state.SetLabel(std::string(state.range(0) == 0 ? "GDSF" : "LRU") +
                       (semantic ? " + semantic" : " exact only") + ", budget " +
                       std::to_string(state.range(1)) + " KiB, intents " +
                       std::to_string(trace.intents.size()));
    }
}
BENCHMARK(BM_ReplayTrace)
    ->ArgsProduct({{0, 1}, {256, 1024}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
