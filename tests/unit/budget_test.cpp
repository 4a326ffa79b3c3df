// Budgets, rate limits, calendar periods and chat accounting: the arithmetic behind 429s.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/chat_tokens.hpp"
#include "switchyard/tokens/ledger.hpp"
#include "switchyard/tokens/rate_limiter.hpp"

using namespace switchyard;
using namespace switchyard::tokens;

namespace {

constexpr int64_t kDay = 86'400'000;
// 2026-11-25T15:00:00Z
constexpr int64_t kNow = 1795618800000;

TEST(Periods, DayAndMonthBoundariesInUtc) {
    EXPECT_EQ(format_utc(kNow), "2026-11-25T15:00:00Z");
    EXPECT_EQ(format_utc(period_start_ms(BudgetPeriod::kDay, kNow)), "2026-11-25T00:00:00Z");
    EXPECT_EQ(format_utc(period_end_ms(BudgetPeriod::kDay, kNow)), "2026-11-26T00:00:00Z");
    EXPECT_EQ(format_utc(period_start_ms(BudgetPeriod::kMonth, kNow)), "2026-11-01T00:00:00Z");
    EXPECT_EQ(format_utc(period_end_ms(BudgetPeriod::kMonth, kNow)), "2026-12-01T00:00:00Z");
    // December rolls into the next year; February of a leap year has 29 days.
    const int64_t dec = *parse_utc_time("2026-12-31T23:59:59Z");
    EXPECT_EQ(format_utc(period_end_ms(BudgetPeriod::kMonth, dec)), "2027-01-01T00:00:00Z");
    const int64_t feb = *parse_utc_time("2028-02-10");
    EXPECT_EQ(format_utc(period_end_ms(BudgetPeriod::kMonth, feb)), "2028-03-01T00:00:00Z");
    EXPECT_EQ(period_end_ms(BudgetPeriod::kMonth, feb) - period_start_ms(BudgetPeriod::kMonth, feb),
              29 * kDay);
}

TEST(Periods, ParsesTheDocumentedTimeFormats) {
    EXPECT_EQ(parse_utc_time("1795618800"), kNow);
    EXPECT_EQ(parse_utc_time("2026-11-25T15:00:00Z"), kNow);
    EXPECT_EQ(parse_utc_time("2026-11-25"), kNow - 15 * 3'600'000);
    for (const char* bad : {"", "2026-13-01", "2026-11-25T25:00:00Z", "yesterday",
                            "2026-11-25 15:00:00", "2026-1-5"}) {
        EXPECT_FALSE(parse_utc_time(bad).has_value()) << bad;
    }
}

TEST(Budget, RefusesWhatWouldOverspendAndSaysWhenItResets) {
    Budget b("key 'team-a'", to_nusd(1.0), BudgetPeriod::kMonth, {0.5, 0.8, 1.0});
    auto r1 = b.reserve(to_nusd(0.6), kNow);
    ASSERT_TRUE(r1.ok());
    // 0.6 reserved: another 0.6 does not fit, even though nothing is spent yet.
    auto r2 = b.reserve(to_nusd(0.6), kNow);
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().kind, ErrorKind::kRateLimited);
    EXPECT_EQ(r2.error().code, "budget_exceeded");
    EXPECT_NE(r2.error().message.find("team-a"), std::string::npos);
    EXPECT_NE(r2.error().message.find("2026-12-01T00:00:00Z"), std::string::npos);
    EXPECT_GT(r2.error().retry_after_s, 0);
    // Settling at the real (smaller) cost frees the rest of the reservation.
    auto crossed = b.settle(*r1, to_nusd(0.55), kNow);
    EXPECT_EQ(crossed, std::vector<double>{0.5});
    EXPECT_TRUE(b.reserve(to_nusd(0.4), kNow).ok());
    EXPECT_EQ(b.snapshot(kNow).spent_nusd, to_nusd(0.55));
}

TEST(Budget, AlertsFireOncePerPeriodAndTheNewPeriodStartsEmpty) {
    Budget b("global", to_nusd(10), BudgetPeriod::kDay, {0.5, 0.8, 1.0});
    auto r = b.reserve(to_nusd(9), kNow);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(b.settle(*r, to_nusd(9), kNow), (std::vector<double>{0.5, 0.8}));
    auto r2 = b.reserve(to_nusd(1), kNow);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(b.settle(*r2, to_nusd(1), kNow), std::vector<double>{1.0});
    EXPECT_FALSE(b.reserve(1, kNow).ok());  // exhausted
    const int64_t tomorrow = kNow + kDay;
    EXPECT_EQ(b.snapshot(tomorrow).spent_nusd, 0);
    auto r3 = b.reserve(to_nusd(6), tomorrow);
    ASSERT_TRUE(r3.ok());
    EXPECT_EQ(b.settle(*r3, to_nusd(6), tomorrow), std::vector<double>{0.5});
}

TEST(Budget, SpendFromBeforeStartUpCountsAndDoesNotRefireAlerts) {
    Budget b("key", to_nusd(10), BudgetPeriod::kMonth, {0.5, 0.8});
    b.add_spent(to_nusd(6), kNow);
    auto r = b.reserve(to_nusd(1), kNow);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(b.settle(*r, to_nusd(1), kNow).empty());
    EXPECT_FALSE(b.reserve(to_nusd(3.5), kNow).ok());
}

TEST(Budget, ConcurrentReservationsNeverOverspendMoreThanOneEstimate) {
    // 8 threads hammer a $1 budget with requests estimated at $0.03 that really cost $0.02.
    Budget b("key", to_nusd(1.0), BudgetPeriod::kMonth, {});
    std::atomic<int64_t> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                auto r = b.reserve(to_nusd(0.03), kNow);
                if (!r) continue;
                ++admitted;
                b.settle(*r, to_nusd(0.02), kNow);
            }
        });
    }
    for (auto& t : threads)
        t.join();
    const auto snap = b.snapshot(kNow);
    EXPECT_LE(snap.spent_nusd, to_nusd(1.0));
    // Admission stops only when the next estimate no longer fits: spent > 1.0 - 0.03.
    EXPECT_GT(snap.spent_nusd, to_nusd(1.0 - 0.03));
    EXPECT_EQ(snap.reserved_nusd, 0);
    EXPECT_EQ(admitted.load(), 49);  // 49 * 0.02 = 0.98; a 50th would need 0.98 + 0.03 > 1
}

TEST(RateLimiter, RequestsPerMinuteSlideOverSixtySeconds) {
    RateLimiter rl("key 'a'", 3, 0);
    EXPECT_TRUE(rl.admit(0, kNow).ok());
    EXPECT_TRUE(rl.admit(0, kNow + 10'000).ok());
    EXPECT_TRUE(rl.admit(0, kNow + 20'000).ok());
    auto refused = rl.admit(0, kNow + 30'000);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::kRateLimited);
    EXPECT_EQ(refused.error().code, "rate_limit_requests");
    // The first request leaves the window 60 s after it was made: 30 s from now.
    EXPECT_EQ(refused.error().retry_after_s, 30);
    EXPECT_FALSE(rl.admit(0, kNow + 59'000).ok());
    EXPECT_TRUE(rl.admit(0, kNow + 60'000).ok());
}

TEST(RateLimiter, TokensPerMinuteUseEstimatesCorrectedByActuals) {
    RateLimiter rl("key 'a'", 0, 1000);
    EXPECT_TRUE(rl.admit(600, kNow).ok());
    auto refused = rl.admit(600, kNow + 1000);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "rate_limit_tokens");
    EXPECT_GT(refused.error().retry_after_s, 0);
    rl.settle(600, 100, kNow, kNow + 1000);  // the first request really used 100
    EXPECT_TRUE(rl.admit(600, kNow + 2000).ok());
    // A request larger than the whole allowance can never fit: 400, not 429.
    auto too_big = rl.admit(5000, kNow + 3000);
    ASSERT_FALSE(too_big.ok());
    EXPECT_EQ(too_big.error().kind, ErrorKind::kInvalidRequest);
}

TEST(ChatTokens, ModelNamesPickTheirVocabulary) {
    EXPECT_EQ(vocabulary_for_model("gpt-4-turbo"), "cl100k_base");
    EXPECT_EQ(vocabulary_for_model("gpt-3.5-turbo-0125"), "cl100k_base");
    EXPECT_EQ(vocabulary_for_model("gpt-4o-mini"), "o200k_base");
    EXPECT_EQ(vocabulary_for_model("openai/o3-mini"), "o200k_base");
    EXPECT_EQ(vocabulary_for_model("claude-3-5-sonnet-20241022"), "claude");
    EXPECT_EQ(vocabulary_for_model("llama2:13b"), "llama2");
    EXPECT_EQ(vocabulary_for_model("Meta-Llama-3-8B-Instruct"), "llama3");
    EXPECT_EQ(vocabulary_for_model("mistral"), "mistral");
    EXPECT_EQ(vocabulary_for_model("mixtral-8x7b"), "mistral");
    EXPECT_EQ(vocabulary_for_model("some-new-model"), kFallbackVocabulary);
}

// One token per space-separated word: enough to check the framing arithmetic.
class WordTokenizer : public Tokenizer {
public:
    std::string_view name() const override { return "words"; }
    void encode(std::string_view text, std::vector<TokenId>& out) const override {
        for (size_t i = 0; i < count(text); ++i)
            out.push_back(0);
    }
    size_t count(std::string_view text) const override {
        size_t n = 0;
        bool in_word = false;
        for (char c : text) {
            const bool space = c == ' ' || c == '\n';
            if (!space && !in_word) ++n;
            in_word = !space;
        }
        return n;
    }
    std::string decode(std::span<const TokenId>) const override { return {}; }
    std::optional<TokenId> special_token(std::string_view) const override { return {}; }
};

TEST(ChatTokens, OpenAIFramingCostsThreePerMessageOnePerNameAndThreeToPrime) {
    WordTokenizer t;
    ChatRequest req;
    Message sys;
    sys.role = Role::kSystem;
    sys.text = "be brief";  // 2 words
    Message user;
    user.role = Role::kUser;
    user.text = "hello there world";  // 3 words
    user.name = "alice";              // 1 word + 1
    req.messages = {sys, user};
    // (3 + 1 role + 2) + (3 + 1 role + 3 + 1 + 1) + 3 priming = 18
    EXPECT_EQ(count_chat_prompt(t, ChatFamily::kOpenAI, req), 18);
}

TEST(ChatTokens, CostIsExactInNanoDollars) {
    // GPT-4 list price: $30 / $60 per 1M -> 1000 prompt + 500 completion = $0.06.
    EXPECT_EQ(cost_nusd(1000, 500, 30, 60), to_nusd(0.06));
    EXPECT_EQ(cost_nusd(1, 0, 0.15, 0), 150);  // $0.15 per 1M = 150 nano-dollars per token
    EXPECT_EQ(cost_nusd(123, 456, 0, 0), 0);
}

}  // namespace
