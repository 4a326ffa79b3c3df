// The exact response cache: canonical keys, TTL and stale grace, eviction by value (GDSF)
// against LRU, invalidation, the per-entry cap.
#include "switchyard/cache/response_cache.hpp"

#include <gtest/gtest.h>

#include "switchyard/core/openai_codec.hpp"

namespace switchyard::cache {
namespace {

ChatRequest parse(std::string_view body) {
    auto r = parse_openai_chat_request(body);
    EXPECT_TRUE(r.ok()) << body;
    return std::move(r).value();
}

Entry entry(std::string text, int64_t now, int64_t ttl_ms, int64_t cost_nusd = 1'000'000,
            std::string ns = "t") {
    Entry e;
    e.answer.model = "m";
    e.answer.message.role = Role::kAssistant;
    e.answer.message.text = std::move(text);
    e.ns = std::move(ns);
    e.requested_model = "m";
    e.prompt_text = "prompt";
    e.created_ms = now;
    e.expires_ms = now + ttl_ms;
    e.stale_until_ms = now + 2 * ttl_ms;
    e.cost_nusd = cost_nusd;
    return e;
}

TEST(CacheKey, IgnoresKeyOrderWhitespaceAndFieldsThatDoNotChangeTheAnswer) {
    const auto a =
        parse(R"({"model":"m","temperature":0,"messages":[{"role":"user","content":"hi"}],)"
              R"("response_format":{"type":"json_object","x":1}})");
    const auto b = parse(
        R"({ "response_format": {"x":1, "type":"json_object"}, "user":"u1", "stream":true,)"
        R"( "metadata":{"k":"v"}, "messages":[{"content":"hi","role":"user"}], "model":"m", "temperature":0.0 })");
    EXPECT_EQ(request_key("t", a), request_key("t", b));
    // The namespace, the model and any answer-changing field change the key.
    EXPECT_NE(request_key("t", a), request_key("u", a));
    auto c = a;
    c.model = "other";
    EXPECT_FALSE(request_key("t", a) == request_key("t", c));
    auto d = a;
    d.max_tokens = 5;
    EXPECT_FALSE(request_key("t", a) == request_key("t", d));
    auto e = a;
    e.messages[0].text = "hi ";
    EXPECT_FALSE(request_key("t", a) == request_key("t", e));
    // Field boundaries are unambiguous: ("ab","c") vs ("a","bc").
    auto f = parse(
        R"({"model":"m","messages":[{"role":"user","content":"ab"},{"role":"user","content":"c"}]})");
    auto g = parse(
        R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"bc"}]})");
    EXPECT_FALSE(request_key("t", f) == request_key("t", g));
}

TEST(CacheKey, CanonicalJsonSortsKeysAndDropsWhitespace) {
    EXPECT_EQ(canonical_json(R"({ "b" : [1, {"d":2,"c":3}], "a":"x" })"),
              std::optional<std::string>(R"({"a":"x","b":[1,{"c":3,"d":2}]})"));
    EXPECT_FALSE(canonical_json("{not json").has_value());
}

TEST(ResponseCache, FreshThenStaleThenGone) {
    ResponseCache c(CacheOptions{});
    const CacheKey k{1, 2};
    ASSERT_TRUE(c.store(k, entry("answer", 1'000, 1'000), 1'000));
    auto hit = c.lookup(k, 1'500);
    ASSERT_TRUE(hit);
    EXPECT_FALSE(hit->stale);
    EXPECT_EQ(hit->entry->answer.message.text, "answer");
    EXPECT_EQ(hit->age_ms, 500);
    EXPECT_FALSE(c.lookup(k, 1'500, /*max_age_ms=*/100)) << "older than max-age";
    EXPECT_FALSE(c.lookup(k, 2'500)) << "expired: not served normally";
    auto stale = c.lookup(k, 2'500, -1, /*allow_stale=*/true);
    ASSERT_TRUE(stale);
    EXPECT_TRUE(stale->stale);
    EXPECT_FALSE(c.lookup(k, 3'100, -1, true)) << "past the grace period: gone";
    const auto s = c.stats();
    EXPECT_EQ(s.hits, 1);
    EXPECT_EQ(s.stale_hits, 1);
    EXPECT_EQ(s.expirations, 1);
    EXPECT_EQ(s.entries, 0);
    EXPECT_EQ(s.saved_nusd, 2'000'000);
}

TEST(ResponseCache, RefusesEntriesOverTheCap) {
    CacheOptions o;
    o.max_entry_bytes = 1'000;
    ResponseCache c(o);
    EXPECT_FALSE(c.store({1, 1}, entry(std::string(5'000, 'x'), 0, 1'000), 0));
    EXPECT_EQ(c.stats().too_large, 1);
    EXPECT_EQ(c.stats().entries, 0);
}

// A replay trace: a few valuable, often-hit answers among a stream of cheap one-offs. GDSF
// keeps the valuable ones; LRU lets the one-offs push them out.
int64_t replay_hits(EvictionPolicy policy) {
    CacheOptions o;
    o.shards = 1;
    o.max_bytes = 40'000;
    o.policy = policy;
    ResponseCache c(o);
    int64_t hits = 0;
    uint64_t one_off = 1'000;
    for (int round = 0; round < 200; ++round) {
        for (uint64_t v = 0; v < 5; ++v) {  // valuable: $0.05 each, asked every round
            const CacheKey k{v, 0};
            if (c.lookup(k, round)) {
                ++hits;
            } else {
                c.store(k, entry(std::string(2'000, 'v'), round, 1'000'000, 50'000'000), round);
            }
        }
        // One-offs: cheap, never asked again, and more of them per round than fit: recency
        // alone pushes the valuable answers out before they are asked again.
        for (int i = 0; i < 30; ++i) {
            const CacheKey k{one_off++, 0};
            if (!c.lookup(k, round))
                c.store(k, entry(std::string(2'000, 'o'), round, 1'000'000, 1'000), round);
        }
    }
    return hits;
}

TEST(ResponseCache, GdsfKeepsValuableEntriesThatLruEvicts) {
    const int64_t gdsf = replay_hits(EvictionPolicy::kGdsf);
    const int64_t lru = replay_hits(EvictionPolicy::kLru);
    EXPECT_GT(gdsf, 900);  // of 1,000 possible
    EXPECT_LT(lru, 100);
}

TEST(ResponseCache, StaysWithinItsMemoryBudget) {
    CacheOptions o;
    o.max_bytes = 64'000;
    o.shards = 4;
    ResponseCache c(o);
    for (uint64_t i = 0; i < 1'000; ++i)
        c.store({i, i * 7}, entry(std::string(500, 'x'), 0, 10'000), 0);
    const auto s = c.stats();
    EXPECT_LE(s.bytes, 64'000);
    EXPECT_GT(s.evictions, 0);
    EXPECT_EQ(s.entries + s.evictions, 1'000);
}

TEST(ResponseCache, InvalidatesByNamespaceModelAgeAndRegex) {
    ResponseCache c(CacheOptions{});
    auto e1 = entry("a", 0, 100'000, 1, "team-a");
    e1.prompt_text = "refund my invoice";
    auto e2 = entry("b", 5'000, 100'000, 1, "team-a");
    e2.prompt_text = "hello";
    auto e3 = entry("c", 5'000, 100'000, 1, "team-b");
    e3.requested_model = "route/cheap";
    c.store({1, 0}, e1, 0);
    c.store({2, 0}, e2, 5'000);
    c.store({3, 0}, e3, 5'000);
    InvalidateFilter regex;
    regex.prompt.emplace("invoice");
    EXPECT_EQ(c.invalidate(regex, 6'000), 1u);
    InvalidateFilter model;
    model.model = "route/cheap";
    EXPECT_EQ(c.invalidate(model, 6'000), 1u);
    InvalidateFilter old;
    old.older_than_ms = 60'000;
    EXPECT_EQ(c.invalidate(old, 6'000), 0u);
    InvalidateFilter ns;
    ns.ns = "team-a";
    EXPECT_EQ(c.invalidate(ns, 6'000), 1u);
    EXPECT_EQ(c.stats().entries, 0);
}

}  // namespace
}  // namespace switchyard::cache
