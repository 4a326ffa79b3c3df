// The semantic cache: partitions, guards, lookups with the GloVe embedder, feedback, tenant
// isolation, eviction and concurrent use.
#include "switchyard/cache/semantic_cache.hpp"

#include <gtest/gtest.h>

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "switchyard/rag/glove_embedder.hpp"
#include "switchyard/rag/hashing_embedder.hpp"

namespace switchyard::cache {
namespace {

std::shared_ptr<const rag::Embedder> glove() {
    static std::shared_ptr<const rag::Embedder> e = [] {
        auto opened = rag::GloveEmbedder::open();
        if (auto* err = std::get_if<std::string>(&opened)) {
            ADD_FAILURE() << *err;
            return std::shared_ptr<const rag::Embedder>();
        }
        return std::shared_ptr<const rag::Embedder>(
            std::move(std::get<std::unique_ptr<rag::GloveEmbedder>>(opened)));
    }();
    return e;
}

ChatRequest chat(std::string model, std::vector<std::pair<Role, std::string>> turns) {
    ChatRequest r;
    r.model = std::move(model);
    r.temperature = 0.0;
    for (auto& [role, text] : turns) {
        Message m;
        m.role = role;
        m.text = std::move(text);
        r.messages.push_back(std::move(m));
    }
    return r;
}

ChatRequest ask(std::string text, std::string model = "m") {
    return chat(std::move(model), {{Role::kSystem, "You are helpful."}, {Role::kUser, text}});
}

CacheKey key_of(uint64_t n) {
    return CacheKey{n, n * 7 + 1};
}

SemanticQuery query(const ChatRequest& r, std::string ns = "key:a") {
    auto q = semantic_query(ns, r, false);
    EXPECT_TRUE(q.has_value());
    return q.value_or(SemanticQuery{});
}

TEST(PromptFeatures, FindsNumbersNegationsQuotesAndEntities) {
    const auto f = prompt_features(
        "Is it not true that Paris has 2,000 bridges? Translate \"bonjour\" for two NASA "
        "engineers using an iPhone. I don't know.");
    EXPECT_EQ(f.numbers, (std::vector<std::string>{"2", "2000"}));  // "two" counts as 2
    EXPECT_EQ(f.negations, 2);                                      // not, don't
    EXPECT_EQ(f.quoted, (std::vector<std::string>{"bonjour"}));
    EXPECT_EQ(f.entities, (std::vector<std::string>{"iphone", "nasa", "paris"}));
    // Sentence-initial capitals are not entities; "I" is not either.
    EXPECT_TRUE(prompt_features("Explain recursion. Then stop. I mean it.").entities.empty());
}

TEST(Guards, VetoDifferentNumbersNegationsQuotesAndEntities) {
    auto veto = [](std::string_view a, std::string_view b) {
        const char* v = guard_veto(prompt_features(a), prompt_features(b));
        return v == nullptr ? std::string() : std::string(v);
    };
    EXPECT_EQ(veto("What is 2+2?", "What is 2+3?"), "numbers");
    EXPECT_EQ(veto("What is 2+2?", "What is 2*2?"), "numbers");
    EXPECT_EQ(veto("Is it safe?", "Is it not safe?"), "negation");
    EXPECT_EQ(veto("Why does it work?", "Why doesn't it work?"), "negation");
    EXPECT_EQ(veto("Translate 'good morning' to French", "Translate 'good night' to French"),
              "quoted");
    EXPECT_EQ(veto("What is the capital of France?", "What is the capital of Germany?"), "entity");
    // Paraphrases pass; an entity written in lower case on the other side still matches.
    EXPECT_EQ(veto("How do I reverse a list in Python?", "how can i reverse a python list"), "");
    EXPECT_EQ(veto("What is 2+2?", "what's 2+2"), "");
    EXPECT_EQ(veto("Is it not safe?", "Isn't it safe?"), "");
    EXPECT_EQ(veto("Give me three colours", "Give me 3 colours"), "");
    EXPECT_EQ(veto("Explain how photosynthesis works.", "How does photosynthesis work?"), "");
    // Another question on the same topic: a content word swapped, or a direction reversed.
    EXPECT_EQ(veto("Sort a list in ascending order", "Sort a list in descending order"),
              "substitution");
    EXPECT_EQ(
        veto("Convert a string to an integer in Java", "Convert an integer to a string in Java"),
        "direction");
    EXPECT_EQ(veto("Is Rust faster than Go?", "Is Go faster than Rust?"), "direction");
}

TEST(SemanticQuery, PartitionsByTenantModelSystemPromptAndParameters) {
    const auto base = query(ask("What is a monad?"));
    EXPECT_EQ(base.text, "What is a monad?");
    EXPECT_EQ(base.partition, query(ask("Explain monads")).partition);  // only the text differs
    EXPECT_NE(base.partition, query(ask("What is a monad?"), "key:b").partition);
    EXPECT_NE(base.partition, query(ask("What is a monad?", "other")).partition);
    auto other_system =
        chat("m", {{Role::kSystem, "You are terse."}, {Role::kUser, "What is a monad?"}});
    EXPECT_NE(base.partition, query(other_system).partition);
    auto hot = ask("What is a monad?");
    hot.temperature = 0.7;
    EXPECT_NE(base.partition, query(hot).partition);
}

TEST(SemanticQuery, MultiTurnOnlyWhenEnabledAndEarlierTurnsMatchExactly) {
    auto convo = [](std::string first_answer, std::string last) {
        return chat("m", {{Role::kUser, "Tell me about Rust."},
                          {Role::kAssistant, std::move(first_answer)},
                          {Role::kUser, std::move(last)}});
    };
    EXPECT_FALSE(
        semantic_query("ns", convo("Rust is a language.", "And its borrow checker?"), false));
    auto a = semantic_query("ns", convo("Rust is a language.", "And its borrow checker?"), true);
    auto b =
        semantic_query("ns", convo("Rust is a language.", "What about the borrow checker?"), true);
    auto c = semantic_query("ns", convo("Rust is a game.", "And its borrow checker?"), true);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->partition, b->partition);
    EXPECT_NE(a->partition, c->partition);
    // The last message must be a user message with text only.
    EXPECT_FALSE(semantic_query("ns", chat("m", {{Role::kAssistant, "hi"}}), true));
    auto image = ask("What is in this picture?");
    image.messages.back().has_parts = true;
    image.messages.back().parts.push_back(
        {ContentPart::Type::kImage, "", "https://x/y.png", "", ""});
    EXPECT_FALSE(semantic_query("ns", image, false));
}

class SemanticCacheTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_NE(glove(), nullptr); }
    SemanticCache cache_{SemanticOptions{}, glove()};
};

TEST_F(SemanticCacheTest, ParaphraseHitsAndUnrelatedQuestionMisses) {
    auto stored = query(ask("How do I reverse a list in Python?"));
    cache_.insert(stored, key_of(1));
    auto para = query(ask("How can I reverse a Python list?"));
    const auto hit = cache_.lookup(para);
    ASSERT_EQ(hit.result, SemanticCache::Result::kHit) << hit.best_similarity;
    EXPECT_EQ(hit.match->key, key_of(1));
    EXPECT_GE(hit.match->similarity, cache_.options().threshold);
    auto other = query(ask("What is the best pizza topping?"));
    EXPECT_EQ(cache_.lookup(other).result, SemanticCache::Result::kMiss);
    EXPECT_EQ(cache_.stats().hits, 1);
}

TEST_F(SemanticCacheTest, GuardsVetoSimilarQuestionsThatDiffer) {
    auto hundred = query(ask("Convert 100 Fahrenheit to Celsius."));
    cache_.insert(hundred, key_of(1));
    auto fifty = query(ask("Convert 50 Fahrenheit to Celsius."));
    const auto out = cache_.lookup(fifty);
    EXPECT_EQ(out.result, SemanticCache::Result::kVetoed);  // similar enough, but vetoed
    EXPECT_STREQ(out.veto, "numbers");

    auto safe = query(ask("Is it safe?"));
    cache_.insert(safe, key_of(2));
    auto unsafe = query(ask("Is it not safe?"));
    const auto neg = cache_.lookup(unsafe);
    EXPECT_NE(neg.result, SemanticCache::Result::kHit);
    EXPECT_EQ(cache_.stats().hits, 0);
}

TEST_F(SemanticCacheTest, TenantsAndModelsNeverShareEntries) {
    auto mine = query(ask("How do I reverse a list in Python?"), "key:a");
    cache_.insert(mine, key_of(1));
    auto theirs = query(ask("How do I reverse a list in Python?"), "key:b");
    EXPECT_EQ(cache_.lookup(theirs).result, SemanticCache::Result::kMiss);
    auto other_model = query(ask("How do I reverse a list in Python?", "m2"), "key:a");
    EXPECT_EQ(cache_.lookup(other_model).result, SemanticCache::Result::kMiss);
    auto again = query(ask("How do I reverse a list in Python?"), "key:a");
    EXPECT_EQ(cache_.lookup(again).result, SemanticCache::Result::kHit);
    // Invalidating a namespace drops its partitions only.
    auto theirs_stored = query(ask("What is a closure?"), "key:b");
    cache_.insert(theirs_stored, key_of(2));
    EXPECT_EQ(cache_.invalidate(std::string("key:a")), 1u);
    EXPECT_EQ(cache_.lookup(again).result, SemanticCache::Result::kMiss);
    EXPECT_EQ(cache_.stats().entries, 1);
}

TEST_F(SemanticCacheTest, BadFeedbackRemovesTheEntryAndTightensTheNeighbourhood) {
    auto stored = query(ask("How do I reverse a list in Python?"));
    cache_.insert(stored, key_of(1));
    auto para = query(ask("How can I reverse a Python list?"));
    const auto hit = cache_.lookup(para);
    ASSERT_EQ(hit.result, SemanticCache::Result::kHit);
    cache_.remember_hit("r1", "key_a", para, *hit.match);

    // Another key may not report it; the owner may, once.
    EXPECT_EQ(cache_.feedback("r1", true, std::string("key_b")).result,
              SemanticCache::FeedbackResult::kForbidden);
    const auto fb = cache_.feedback("r1", true, std::string("key_a"));
    EXPECT_EQ(fb.result, SemanticCache::FeedbackResult::kApplied);
    EXPECT_TRUE(fb.removed);
    EXPECT_GT(fb.local_threshold, hit.match->similarity);
    EXPECT_EQ(cache_.feedback("r1", true, std::nullopt).result,
              SemanticCache::FeedbackResult::kUnknownId);
    EXPECT_EQ(cache_.stats().entries, 0);

    // The same answer stored again: the reported paraphrase no longer reaches it (its
    // neighbourhood now needs more than the bad hit's similarity), the exact wording does.
    auto stored_again = query(ask("How do I reverse a list in Python?"));
    cache_.insert(stored_again, key_of(1));
    auto para_again = query(ask("How can I reverse a Python list?"));
    EXPECT_EQ(cache_.lookup(para_again).result, SemanticCache::Result::kTightened);
    auto same = query(ask("How do I reverse a list in Python?"));
    EXPECT_EQ(cache_.lookup(same).result, SemanticCache::Result::kHit);
    // A query far from the veto point keeps the base threshold.
    auto far_stored = query(ask("What is the greenhouse effect?"));
    cache_.insert(far_stored, key_of(2));
    auto far = query(ask("Explain the greenhouse effect."));
    EXPECT_EQ(cache_.lookup(far).result, SemanticCache::Result::kHit);
}

TEST_F(SemanticCacheTest, PerModelThresholdOverridesTheDefault) {
    SemanticOptions o;
    o.model_thresholds = {{"strict", 0.999f}};
    SemanticCache strict(o, glove());
    EXPECT_FLOAT_EQ(strict.threshold_for("strict"), 0.999f);
    EXPECT_FLOAT_EQ(strict.threshold_for("m"), o.threshold);
    for (const char* model : {"strict", "m"}) {
        auto stored = query(ask("How do I reverse a list in Python?", model));
        strict.insert(stored, key_of(1));
    }
    auto lax = query(ask("How can I reverse a Python list?", "m"));
    EXPECT_EQ(strict.lookup(lax).result, SemanticCache::Result::kHit);
    auto tight = query(ask("How can I reverse a Python list?", "strict"));
    EXPECT_EQ(strict.lookup(tight).result, SemanticCache::Result::kMiss);
}

TEST(SemanticCache, PartitionKeepsOnlyTheNewestEntries) {
    SemanticOptions o;
    o.max_entries_per_partition = 3;
    SemanticCache c(o, std::make_shared<rag::HashingEmbedder>());
    for (int i = 0; i < 5; ++i) {
        auto q = query(ask("question number " + std::string(1, static_cast<char>('a' + i))));
        c.insert(q, key_of(static_cast<uint64_t>(i)));
    }
    EXPECT_EQ(c.stats().entries, 3);
    EXPECT_EQ(c.stats().evicted, 2);
    auto oldest = query(ask("question number a"));
    EXPECT_NE(c.lookup(oldest).result, SemanticCache::Result::kHit);
    auto newest = query(ask("question number e"));
    const auto hit = c.lookup(newest);
    ASSERT_EQ(hit.result, SemanticCache::Result::kHit);
    EXPECT_EQ(hit.match->key, key_of(4));
    // Storing the same exact entry again replaces its vector.
    auto again = query(ask("question number e"));
    c.insert(again, key_of(4));
    EXPECT_EQ(c.stats().entries, 3);
    EXPECT_FALSE(c.remove(again.partition, hit.match->entry_id));  // the replaced id
}

TEST(SemanticCache, SweepsExpiredVectorsAndDropsEmptyPartitions) {
    SemanticOptions o;
    o.shards = 1;
    o.sweep_every = 1;  // every insert sweeps
    SemanticCache c(o, std::make_shared<rag::HashingEmbedder>());
    auto old_q = query(ask("an old question"), "key:old");
    c.insert(old_q, key_of(1), /*expires_ms=*/1'000, /*now_ms=*/500);
    auto fresh_q = query(ask("an old question"), "key:fresh");
    c.insert(fresh_q, key_of(2), /*expires_ms=*/10'000, /*now_ms=*/500);
    EXPECT_EQ(c.stats().partitions, 2);
    auto newer = query(ask("a new question"), "key:fresh");
    c.insert(newer, key_of(3), /*expires_ms=*/10'000, /*now_ms=*/2'000);  // sweeps key:old
    const auto st = c.stats();
    EXPECT_EQ(st.expired, 1);
    EXPECT_EQ(st.entries, 2);
    EXPECT_EQ(st.partitions, 1);
    EXPECT_EQ(c.lookup(old_q).result, SemanticCache::Result::kMiss);
    EXPECT_EQ(c.lookup(fresh_q).result, SemanticCache::Result::kHit);
}

TEST(SemanticCache, ConcurrentInsertsLookupsAndRemovalsInOnePartition) {
    SemanticCache c(SemanticOptions{}, std::make_shared<rag::HashingEmbedder>());
    for (int i = 0; i < 50; ++i) {
        auto q = semantic_query("ns", ask("topic " + std::to_string(i) + " thread"), false);
        c.insert(*q, key_of(static_cast<uint64_t>(i)));
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&c, t] {
            for (int i = 0; i < 300; ++i) {
                const std::string text = "topic " + std::to_string(i % 50) + " thread";
                auto q = semantic_query("ns", ask(text), false);
                if (t % 2 == 0) {
                    c.insert(*q, key_of(static_cast<uint64_t>(i % 50)));
                } else {
                    auto out = c.lookup(*q);
                    if (out.match && i % 7 == 0) c.remove(q->partition, out.match->entry_id);
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();
    const auto st = c.stats();
    EXPECT_LE(st.entries, 50);
    EXPECT_EQ(st.partitions, 1);
    EXPECT_GT(st.hits, 0);
}

// The paraphrase set (tests/cache/paraphrases.jsonl): true paraphrases and near misses (other
// numbers, names, negations, quoted text, or another question on the same topic). Every
// pair's first prompt is stored in one partition; each second prompt is looked up. A hit is
// right when the pair is a paraphrase and the hit is its own first prompt.
namespace eval {

struct Pair {
    std::string a, b, kind;
    bool same = false;
};

std::vector<Pair> load_pairs(const char* name) {
    const std::string path = std::string(SWITCHYARD_GOLDEN_DIR) + "/../cache/" + name;
    simdjson::dom::parser parser;
    simdjson::dom::document_stream docs;
    std::vector<Pair> out;
    auto file = simdjson::padded_string::load(path);
    EXPECT_EQ(file.error(), simdjson::SUCCESS) << path;
    if (file.error()) return out;
    if (parser.parse_many(file.value()).get(docs) != simdjson::SUCCESS) return out;
    for (auto doc : docs) {
        simdjson::dom::object o;
        if (doc.get(o) != simdjson::SUCCESS) continue;
        Pair p;
        std::string_view a, b, kind;
        bool same = false;
        if (o["a"].get(a) || o["b"].get(b) || o["kind"].get(kind) || o["same"].get(same)) continue;
        p.a = a;
        p.b = b;
        p.kind = kind;
        p.same = same;
        out.push_back(std::move(p));
    }
    return out;
}

struct Figures {
    int hits = 0, right = 0, paraphrases = 0, near_misses = 0, false_hits = 0;
    double precision() const { return hits ? static_cast<double>(right) / hits : 1.0; }
    double hit_rate() const { return paraphrases ? static_cast<double>(right) / paraphrases : 0; }
};

Figures run(const std::vector<Pair>& pairs, SemanticOptions o, bool verbose) {
    SemanticCache c(o, glove());
    std::vector<std::string> stored;  // distinct first prompts; key = index
    for (const auto& p : pairs) {
        if (std::find(stored.begin(), stored.end(), p.a) != stored.end()) continue;
        auto q = query(ask(p.a));
        c.insert(q, key_of(stored.size()));
        stored.push_back(p.a);
    }
    Figures f;
    for (const auto& p : pairs) {
        (p.same ? f.paraphrases : f.near_misses)++;
        auto q = query(ask(p.b));
        const auto out = c.lookup(q);
        const bool hit = out.result == SemanticCache::Result::kHit;
        bool right = false;
        if (hit) {
            ++f.hits;
            right = p.same &&
                    out.match->key ==
                        key_of(static_cast<uint64_t>(std::find(stored.begin(), stored.end(), p.a) -
                                                     stored.begin()));
            if (right) {
                ++f.right;
            } else {
                ++f.false_hits;
            }
        }
        if (verbose) {
            std::printf("%-10s %s sim=%.3f %-9s %s | %s\n", p.kind.c_str(),
                        hit ? (right ? "HIT " : "BAD ") : "miss", out.best_similarity,
                        out.veto ? out.veto : "", p.a.c_str(), p.b.c_str());
        }
    }
    return f;
}

}  // namespace eval

// Reports precision among hits and hit rate over the paraphrases at the default threshold
// (and a sweep, with and without the guards); asserts floors well below the measured figures.
// Run: build/tests/unit/semantic_cache_test --gtest_filter='SemanticCacheEval.*'
// (SEMANTIC_EVAL_VERBOSE=1 prints every pair).
TEST(SemanticCacheEval, ParaphraseSetPrecisionAndHitRate) {
    ASSERT_NE(glove(), nullptr);
    const auto pairs = eval::load_pairs("paraphrases.jsonl");
    ASSERT_GE(pairs.size(), 120u);
    const bool verbose = std::getenv("SEMANTIC_EVAL_VERBOSE") != nullptr;
    for (float t : {0.70f, 0.75f, 0.80f, 0.85f, 0.90f, 0.95f}) {
        for (bool guards : {true, false}) {
            SemanticOptions o;
            o.threshold = t;
            o.guards = guards;
            const auto f = eval::run(pairs, o, false);
            std::printf(
                "threshold %.2f guards %-3s: %3d hits, %3d right, %2d wrong -> precision %.3f, "
                "hit rate %.3f (%d paraphrases, %d near misses)\n",
                t, guards ? "on" : "off", f.hits, f.right, f.false_hits, f.precision(),
                f.hit_rate(), f.paraphrases, f.near_misses);
        }
    }
    const SemanticOptions defaults;
    const auto f = eval::run(pairs, defaults, verbose);
    std::printf("default threshold %.2f: precision %.3f, hit rate %.3f\n", defaults.threshold,
                f.precision(), f.hit_rate());
    EXPECT_GE(f.precision(), 0.90);
    EXPECT_GE(f.hit_rate(), 0.30);
}

// The same on pairs written after the guards were tuned on paraphrases.jsonl (a check that
// the figures above are not only the guards fitting that set).
TEST(SemanticCacheEval, HeldOutParaphraseSet) {
    ASSERT_NE(glove(), nullptr);
    const auto pairs = eval::load_pairs("paraphrases_holdout.jsonl");
    ASSERT_GE(pairs.size(), 40u);
    const bool verbose = std::getenv("SEMANTIC_EVAL_VERBOSE") != nullptr;
    for (bool guards : {true, false}) {
        SemanticOptions o;
        o.guards = guards;
        const auto f = eval::run(pairs, o, verbose && guards);
        std::printf(
            "held out, threshold %.2f guards %-3s: %d hits, %d right, %d wrong -> "
            "precision %.3f, hit rate %.3f (%d paraphrases, %d near misses)\n",
            o.threshold, guards ? "on" : "off", f.hits, f.right, f.false_hits, f.precision(),
            f.hit_rate(), f.paraphrases, f.near_misses);
        if (guards) {
            EXPECT_GE(f.precision(), 0.85);
            EXPECT_GE(f.hit_rate(), 0.25);
        }
    }
}

}  // namespace
}  // namespace switchyard::cache
