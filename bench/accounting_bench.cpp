// The accounting stage's per-request work: key lookup (SHA-256 + hash map), budget
// reserve/settle, rate-limit admit, chat prompt counting, and the ledger's write rate.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "switchyard/server/keys.hpp"
#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/ledger.hpp"
#include "switchyard/tokens/rate_limiter.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

using namespace switchyard;
using namespace switchyard::tokens;

namespace {

constexpr int64_t kNow = 1795618800000;

std::string temp_db(const char* name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("sy-bench-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return (dir / "switchyard.db").string();
}

void BM_KeyLookup(benchmark::State& state) {
    const std::string path = temp_db("keys");
    std::string secret;
    {
        storage::SqliteDb db(path);
        KeyStore store(db);
        for (int i = 0; i < 1000; ++i) {
            NewKey k;
            k.name = "team-" + std::to_string(i);
            auto c = store.create(k, 0);
            if (i == 500) secret = c.secret;
        }
    }
    KeyRingOptions o;
    o.db_path = path;
    o.refresh_interval_ms = 0;
    KeyRing ring(o, [] { return kNow; });
    for (auto _ : state)
        benchmark::DoNotOptimize(ring.find(secret));
}
BENCHMARK(BM_KeyLookup);

void BM_BudgetReserveSettle(benchmark::State& state) {
    Budget b("key", to_nusd(1e9), BudgetPeriod::kMonth, {0.5, 0.8, 1.0});
    for (auto _ : state) {
        auto r = b.reserve(6400, kNow);
        benchmark::DoNotOptimize(b.settle(*r, 1200, kNow));
    }
}
BENCHMARK(BM_BudgetReserveSettle);

void BM_RateLimitAdmitSettle(benchmark::State& state) {
    RateLimiter limited("key", 1'000'000'000, 1'000'000'000'000);
    int64_t t = kNow;
    for (auto _ : state) {
        benchmark::DoNotOptimize(limited.admit(100, t));
        limited.settle(100, 50, t, t);
        t += 1;
    }
}
BENCHMARK(BM_RateLimitAdmitSettle);

// A chat request of about 2,000 prompt tokens: the admission count of a long prompt.
void BM_CountChatPrompt2k(benchmark::State& state) {
    static TokenizerRegistry registry(default_vocab_dir());
    auto got = registry.get("cl100k_base");
    if (std::holds_alternative<std::string>(got)) {
        state.SkipWithError(std::get<std::string>(got).c_str());
        return;
    }
    const Tokenizer& t = *std::get<0>(got);
    ChatRequest req;
    Message sys;
    sys.role = Role::kSystem;
    sys.text = "You are a careful assistant. Answer in plain English and cite sources.";
    Message user;
    user.role = Role::kUser;
    while (t.count(user.text) < 1980) {
        user.text +=
            "The gateway counts every request's tokens before it goes upstream, so budgets "
            "and rate limits can reserve the worst case and settle the real cost afterwards. ";
    }
    req.messages = {sys, user};
    state.counters["prompt_tokens"] =
        static_cast<double>(count_chat_prompt(t, ChatFamily::kOpenAI, req));
    for (auto _ : state)
        benchmark::DoNotOptimize(count_chat_prompt(t, ChatFamily::kOpenAI, req));
}
BENCHMARK(BM_CountChatPrompt2k);

void BM_LedgerRecord(benchmark::State& state) {
    LedgerOptions o;
    o.path = temp_db("ledger");
    UsageLedger ledger(o);
    UsageRecord r;
    r.request_id = "0123456789abcdefghijklmn";
    r.key_id = "key_0123456789ab";
    r.key_name = "team-a";
    r.endpoint = "chat_completions";
    r.model = "gpt-4-turbo";
    r.provider = "openai";
    r.deployment = "https://api.openai.com/v1";
    r.route_reason = "explicit";
    // Rows recorded and committed (record on this thread, SQLite commit on the writer):
    // the sustained rate the ledger can absorb.
    for (auto _ : state) {
        for (int i = 0; i < 1000; ++i)
            ledger.record(r);
        ledger.flush();
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.counters["dropped"] = static_cast<double>(ledger.stats().dropped);
}
BENCHMARK(BM_LedgerRecord)->UseRealTime();

}  // namespace
