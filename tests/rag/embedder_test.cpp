// Built-in embedders (GloVe SIF, lexical hashing), the word splitter they share, and the
// embedding cache. The GloVe tests skip, with the fix in the message, only when
// data/rag/glove-6b-100d.syemb is missing (scripts/bootstrap.sh installs it).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../src/rag/text_words.hpp"
#include "switchyard/rag/embedding_cache.hpp"
#include "switchyard/rag/glove_embedder.hpp"
#include "switchyard/rag/hashing_embedder.hpp"

namespace switchyard::rag {
namespace {

std::vector<float> embed1(const Embedder& e, std::string_view text) {
    EmbeddingBatch batch;
    std::string_view texts[] = {text};
    EXPECT_EQ(e.embed(texts, batch), "");
    EXPECT_EQ(batch.rows(), 1u);
    auto row = batch.row(0);
    return {row.begin(), row.end()};
}

float similarity(const Embedder& e, std::string_view a, std::string_view b) {
    return dot(embed1(e, a), embed1(e, b));
}

void expect_unit(std::span<const float> v) {
    double n2 = 0;
    for (float x : v) {
        ASSERT_TRUE(std::isfinite(x));
        n2 += static_cast<double>(x) * x;
    }
    EXPECT_NEAR(std::sqrt(n2), 1.0, 1e-4);
}

std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> words;
    std::string scratch;
    detail::for_each_word(text, scratch, [&](std::string_view w) { words.emplace_back(w); });
    return words;
}

// Anchor, paraphrase (mostly other words), unrelated.
struct Triple {
    const char* anchor;
    const char* paraphrase;
    const char* unrelated;
};

constexpr Triple kTriples[] = {
    {"How do I reset my password?", "I forgot my password, how can I change it?",
     "What is the capital of France?"},
    {"The cat sat on the mat.", "A kitten was resting on the rug.",
     "Stock markets fell sharply today."},
    {"How can I cancel my subscription?", "I want to stop my membership and not be billed again.",
     "The recipe needs two cups of flour."},
    {"What time does the store open tomorrow?", "When does the shop open in the morning?",
     "My laptop battery drains too fast."},
    {"The weather will be rainy this weekend.", "Expect showers and storms on Saturday and Sunday.",
     "He plays guitar in a jazz band."},
    {"My car won't start in the cold.",
     "The engine fails to turn over when it is freezing outside.",
     "She is studying medicine at university."},
    {"Where can I find a cheap hotel in Paris?", "Looking for affordable accommodation in Paris.",
     "How do I install Python on Windows?"},
    {"The server crashed because it ran out of memory.",
     "An out-of-memory error brought the machine down.",
     "The children played football in the park."},
    {"How do I bake bread at home?", "What is a good recipe for homemade bread?",
     "The train to Berlin was delayed."},
    {"The patient has a high fever and a cough.",
     "The sick man is coughing and his temperature is high.",
     "The company reported record profits this quarter."},
    {"What is the best way to learn Spanish?",
     "How can I quickly improve my Spanish language skills?", "The volcano erupted last night."},
    {"Our team won the championship game.",
     "We beat our rivals in the final match to take the title.",
     "Please update your billing address."},
    {"The flight was cancelled due to snow.", "Heavy snowfall grounded the plane.",
     "I like to read mystery novels."},
    {"How much does a new iPhone cost?", "What is the price of the latest Apple phone?",
     "The river flooded the village."},
    {"The bank raised interest rates.",
     "Borrowing became more expensive after the central bank's rate hike.",
     "My dog loves to chase squirrels."},
    {"Can you recommend a good movie to watch tonight?", "Which film should I see this evening?",
     "The database query is too slow."},
    {"The database query is too slow.", "Fetching rows from the SQL table takes a long time.",
     "Which film should I see this evening?"},
    {"I need to book a doctor's appointment.", "How do I schedule a visit with my physician?",
     "The sun sets in the west."},
    {"The garden needs watering every day in summer.",
     "In hot months the plants must be watered daily.",
     "The software update fixed the security bug."},
    {"Delete the temporary files to free disk space.",
     "Removing temp files frees up storage on the drive.",
     "The orchestra performed a symphony by Beethoven."},
    {"The president gave a speech about the economy.",
     "The leader talked about jobs, growth and inflation.", "Bake the cake for forty minutes."},
    {"How do I reset my router?", "My wifi box needs restarting, how do I do it?",
     "Who wrote Pride and Prejudice?"},
    {"The museum is closed on Mondays.", "You cannot visit the gallery on Monday.",
     "Add salt and pepper to taste."},
    {"Electric cars are becoming more popular.", "More people are buying battery-powered vehicles.",
     "The play opens on Broadway next week."},
};

struct ParaphraseScore {
    size_t pairs = 0;
    size_t pair_wins = 0;      // sim(anchor, paraphrase) > sim(anchor, unrelated)
    size_t margin_wins = 0;    // ... by at least kMargin
    size_t nearest_right = 0;  // paraphrase is the anchor's nearest of all other sentences
    double mean_margin = 0;    // mean of sim(a, p) - sim(a, u)
};

constexpr float kMargin = 0.1f;

ParaphraseScore score_paraphrases(const Embedder& e) {
    std::vector<std::string_view> texts;
    for (const Triple& t : kTriples) {
        texts.push_back(t.anchor);
        texts.push_back(t.paraphrase);
        texts.push_back(t.unrelated);
    }
    EmbeddingBatch batch;
    EXPECT_EQ(e.embed(texts, batch), "");
    ParaphraseScore s;
    for (size_t i = 0; i < std::size(kTriples); ++i) {
        const auto a = batch.row(3 * i);
        const float sp = dot(a, batch.row(3 * i + 1));
        const float su = dot(a, batch.row(3 * i + 2));
        ++s.pairs;
        s.pair_wins += sp > su;
        s.margin_wins += sp >= su + kMargin;
        s.mean_margin += sp - su;
        bool nearest = true;
        for (size_t j = 0; j < texts.size(); ++j) {
            if (j == 3 * i || j == 3 * i + 1 || texts[j] == texts[3 * i]) continue;
            if (dot(a, batch.row(j)) >= sp) nearest = false;
        }
        s.nearest_right += nearest;
    }
    s.mean_margin /= static_cast<double>(s.pairs);
    std::printf(
        "[ %s ] paraphrase > unrelated: %zu/%zu (%.1f%%); by >= %.2f: %zu/%zu (%.1f%%); "
        "mean margin %.3f; paraphrase nearest of all %zu sentences: %zu/%zu (%.1f%%)\n",
        std::string(e.name()).c_str(), s.pair_wins, s.pairs, 100.0 * s.pair_wins / s.pairs, kMargin,
        s.margin_wins, s.pairs, 100.0 * s.margin_wins / s.pairs, s.mean_margin, texts.size() - 1,
        s.nearest_right, s.pairs, 100.0 * s.nearest_right / s.pairs);
    return s;
}

// ---- word splitting ----------------------------------------------------------------------

TEST(TextWords, UnicodeAwareLowerCased) {
    EXPECT_EQ(
        words_of("Don't STOP—École, café!  e-mail 3.5 x--y"),
        (std::vector<std::string>{"don't", "stop", "école", "café", "e-mail", "3", "5", "x", "y"}));
    EXPECT_EQ(words_of("ΣΟΦΊΑ user’s"), (std::vector<std::string>{"σοφία", "user's"}));
    EXPECT_EQ(words_of("東京大学 ok"), (std::vector<std::string>{"東", "京", "大", "学", "ok"}));
}

TEST(TextWords, InvalidUtf8BytesSeparateWords) {
    EXPECT_EQ(words_of("ab\xff"
                       "cd\xc3"),
              (std::vector<std::string>{"ab", "cd"}));
    EXPECT_TRUE(words_of("").empty());
    EXPECT_TRUE(words_of("\xff\xfe\x80 -- '").empty());
}

TEST(TextWords, LongWordsAreCut) {
    const std::string long_word(1000, 'a');
    std::string scratch;
    size_t n = 0;
    detail::for_each_word(long_word, scratch, [&](std::string_view w) {
        EXPECT_LE(w.size(), 256u);
        ++n;
    });
    EXPECT_EQ(n, 4u);
}

// ---- hashing embedder --------------------------------------------------------------------

TEST(HashingEmbedder, NameDimensionUnitLength) {
    HashingEmbedder e;
    EXPECT_EQ(e.name(), "hashing-256");
    EXPECT_EQ(e.dimension(), 256u);
    HashingEmbedder small({.dimension = 64});
    EXPECT_EQ(small.name(), "hashing-64");
    for (std::string_view text : {"How do I reset my password?", "", "\xff\xfe", "a"}) {
        const auto v = embed1(e, text);
        ASSERT_EQ(v.size(), 256u);
        expect_unit(v);
    }
}

TEST(HashingEmbedder, DeterministicAndLexical) {
    HashingEmbedder e;
    EXPECT_EQ(embed1(e, "reset my password"), embed1(e, "reset my password"));
    EXPECT_EQ(embed1(e, "Reset, my PASSWORD!"), embed1(e, "reset my password"));
    EXPECT_GT(similarity(e, "how do I reset my password", "reset password help"),
              similarity(e, "how do I reset my password", "capital of france") + 0.2f);
    // Bigrams see some word order, unigrams none.
    const float swapped = similarity(e, "dog bites man", "man bites dog");
    EXPECT_LT(swapped, 0.99f);
    EXPECT_GT(swapped, 0.5f);
    EXPECT_EQ(embed1(e, ""), embed1(e, "!!! ..."));
}

TEST(HashingEmbedder, ParaphraseSetReported) {
    HashingEmbedder e;
    const auto s = score_paraphrases(e);
    // Lexical only: it wins where paraphrases share words; the figure is reported, the
    // bound is loose.
    EXPECT_GE(s.pair_wins, s.pairs / 2);
}

// ---- GloVe SIF embedder ------------------------------------------------------------------

class GloveEmbedderTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto opened = GloveEmbedder::open(default_glove_path());
        if (auto* error = std::get_if<std::string>(&opened)) {
            open_error_ = new std::string(*error);
            return;
        }
        embedder_ = std::get<std::unique_ptr<GloveEmbedder>>(std::move(opened)).release();
    }
    static void TearDownTestSuite() {
        delete embedder_;
        embedder_ = nullptr;
        delete open_error_;
        open_error_ = nullptr;
    }
    void SetUp() override {
        if (embedder_ == nullptr) {
            GTEST_SKIP() << "GloVe data missing: " << *open_error_;
        }
    }
    const GloveEmbedder& glove() const { return *embedder_; }

    static inline GloveEmbedder* embedder_ = nullptr;
    static inline std::string* open_error_ = nullptr;
};

TEST_F(GloveEmbedderTest, NameDimensionUnitLength) {
    EXPECT_EQ(glove().name(), "glove-6b-100d-sif");
    EXPECT_EQ(glove().dimension(), 100u);
    EXPECT_EQ(glove().word_vectors().size(), 341479u);
    expect_unit(glove().principal_component());
    for (std::string_view text : std::initializer_list<std::string_view>{
             "How do I reset my password?", "", "   ", "\xff\xfe\xfd", "ab\xc3(\xa0\xa1 cd",
             "flurbinator", "the", std::string_view("nul\0byte", 8)}) {
        const auto v = embed1(glove(), text);
        ASSERT_EQ(v.size(), 100u);
        expect_unit(v);
    }
}

TEST_F(GloveEmbedderTest, Deterministic) {
    const auto a = embed1(glove(), "The server crashed because it ran out of memory.");
    EXPECT_EQ(a, embed1(glove(), "The server crashed because it ran out of memory."));
    // A second instance computes the same principal component, hence the same vectors.
    auto reopened = GloveEmbedder::open(default_glove_path());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<GloveEmbedder>>(reopened));
    const auto& other = *std::get<std::unique_ptr<GloveEmbedder>>(reopened);
    const auto pc = glove().principal_component();
    const auto pc2 = other.principal_component();
    EXPECT_TRUE(std::equal(pc.begin(), pc.end(), pc2.begin(), pc2.end()));
    EXPECT_EQ(a, embed1(other, "The server crashed because it ran out of memory."));
}

TEST_F(GloveEmbedderTest, BatchEqualsOneByOne) {
    std::vector<std::string_view> texts;
    for (const Triple& t : kTriples)
        texts.push_back(t.anchor);
    EmbeddingBatch batch;
    ASSERT_EQ(glove().embed(texts, batch), "");
    ASSERT_EQ(batch.rows(), texts.size());
    ASSERT_EQ(batch.dim(), 100u);
    std::vector<float> one(100);
    for (size_t i = 0; i < texts.size(); ++i) {
        glove().embed_one(texts[i], one);
        const auto row = batch.row(i);
        EXPECT_TRUE(std::equal(one.begin(), one.end(), row.begin(), row.end()));
    }
    EmbeddingBatch none;
    EXPECT_EQ(glove().embed({}, none), "");
    EXPECT_EQ(none.rows(), 0u);
}

TEST_F(GloveEmbedderTest, EmptyAndWordlessTextsShareOneVector) {
    const auto empty = embed1(glove(), "");
    EXPECT_EQ(empty, embed1(glove(), " ... !!! "));
    EXPECT_EQ(empty, embed1(glove(), "\xff\xfe"));
    EXPECT_LT(std::abs(dot(empty, embed1(glove(), "password reset"))), 0.5f);
}

TEST_F(GloveEmbedderTest, ParaphrasesBeatUnrelatedSentences) {
    const auto s = score_paraphrases(glove());
    // Measured: see the printed line (and docs/rag.md); bounds well below it.
    EXPECT_GE(s.pair_wins, s.pairs - 1);
    EXPECT_GE(s.margin_wins * 10, s.pairs * 8);
    EXPECT_GT(s.mean_margin, 0.2);
    const float related = similarity(glove(), "How do I reset my password?",
                                     "I forgot my password, how can I change it?");
    const float unrelated =
        similarity(glove(), "How do I reset my password?", "What is the capital of France?");
    std::printf("[ glove ] reset-password paraphrase %.3f, unrelated %.3f\n", related, unrelated);
    EXPECT_GT(related, unrelated + 0.2f);
}

TEST_F(GloveEmbedderTest, ConcurrentCallsGiveTheSameVectors) {
    // The contract: embed() on one instance from any number of threads at once.
    std::vector<std::string_view> texts;
    for (const Triple& t : kTriples) {
        texts.push_back(t.anchor);
        texts.push_back(t.paraphrase);
        texts.push_back(t.unrelated);
    }
    EmbeddingBatch expected;
    ASSERT_EQ(glove().embed(texts, expected), "");
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < 50; ++round) {
                EmbeddingBatch got;
                if (!glove().embed(texts, got).empty() || got.data() != expected.data()) ++wrong;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST_F(GloveEmbedderTest, AblationReported) {
    // The same set without principal-component removal, and with plain averaging (every
    // weight 1 is what sif_a -> infinity gives), for docs/rag.md.
    for (const auto& [label, options] :
         {std::pair{"no PC removal", GloveEmbedderOptions{.remove_principal_component = false}},
          std::pair{"plain average",
                    GloveEmbedderOptions{.sif_a = 1e6f, .remove_principal_component = false}}}) {
        auto opened = GloveEmbedder::open(default_glove_path(), options);
        ASSERT_TRUE(std::holds_alternative<std::unique_ptr<GloveEmbedder>>(opened));
        const auto& ablated = *std::get<std::unique_ptr<GloveEmbedder>>(opened);
        EXPECT_NE(ablated.name(), glove().name());
        std::printf("[ ablation: %s ]\n", label);
        const auto s = score_paraphrases(ablated);
        EXPECT_GE(s.pair_wins, s.pairs / 2);
    }
}

TEST_F(GloveEmbedderTest, SynonymsBeatHashing) {
    // No shared content word: GloVe sees "film"/"movie", the hashing embedder cannot.
    HashingEmbedder hashing;
    const char* a = "a good movie to watch";
    const char* b = "an excellent film to see";
    const char* c = "a slow database query";
    EXPECT_GT(similarity(glove(), a, b), similarity(glove(), a, c) + 0.2f);
    EXPECT_GT(similarity(glove(), a, b), similarity(hashing, a, b));
}

TEST_F(GloveEmbedderTest, BlindToWordOrderAndNegationAsDocumented) {
    EXPECT_NEAR(similarity(glove(), "dog bites man", "man bites dog"), 1.0f, 1e-5f);
    // Negation barely moves the vector either.
    const float negated = similarity(glove(), "the test passed", "the test did not pass");
    std::printf("[ glove ] \"the test passed\" ~ \"the test did not pass\" %.3f\n", negated);
    EXPECT_GT(negated, 0.7f);
}

TEST_F(GloveEmbedderTest, CliticsAccentsAndLettersMapToTheVocabulary) {
    EXPECT_FALSE(glove().in_vocabulary("don't"));
    EXPECT_FALSE(glove().in_vocabulary("café"));
    EXPECT_TRUE(glove().in_vocabulary("not"));
    EXPECT_EQ(embed1(glove(), "I don't know"), embed1(glove(), "do not know"));
    EXPECT_EQ(embed1(glove(), "We can't"), embed1(glove(), "we can not"));
    EXPECT_EQ(embed1(glove(), "the user’s password"), embed1(glove(), "the user password"));
    EXPECT_EQ(embed1(glove(), "Café ÜBER"), embed1(glove(), "cafe uber"));
    EXPECT_EQ(embed1(glove(), "a password"), embed1(glove(), "password"));
    EXPECT_EQ(embed1(glove(), "e-mail"), embed1(glove(), "e-mail"));
    EXPECT_GT(similarity(glove(), "e-mail address", "email address"), 0.8f);
}

TEST_F(GloveEmbedderTest, OutOfVocabularyWordsAreSpellingNeighbours) {
    for (const char* w : {"flurbinator", "flurbinators", "qwzpoxvek"})
        EXPECT_FALSE(glove().in_vocabulary(w)) << w;
    const auto a = embed1(glove(), "flurbinator");
    const auto b = embed1(glove(), "flurbinators");
    const auto c = embed1(glove(), "qwzpoxvek");
    expect_unit(a);
    EXPECT_NE(a, embed1(glove(), ""));
    const float near = dot(a, b);
    const float far = dot(a, c);
    std::printf("[ glove ] OOV flurbinator~flurbinators %.3f, ~qwzpoxvek %.3f\n", near, far);
    EXPECT_GT(near, 0.6f);
    EXPECT_LT(far, 0.3f);
    EXPECT_GT(near, far + 0.4f);
    // An unknown word still counts in a sentence: shared rare names pull texts together.
    EXPECT_GT(similarity(glove(), "install flurbinator on linux", "flurbinator setup guide"),
              similarity(glove(), "install flurbinator on linux", "qwzpoxvek setup guide"));
}

TEST(GloveEmbedder, MissingFileNamesTheFix) {
    auto opened = GloveEmbedder::open("/nonexistent/glove-6b-100d.syemb");
    ASSERT_TRUE(std::holds_alternative<std::string>(opened));
    const auto& error = std::get<std::string>(opened);
    EXPECT_NE(error.find("/nonexistent/glove-6b-100d.syemb"), std::string::npos) << error;
    EXPECT_NE(error.find("scripts/bootstrap.sh"), std::string::npos) << error;
}

TEST_F(GloveEmbedderTest, CorruptOrTruncatedFileIsRefused) {
    namespace fs = std::filesystem;
    const fs::path copy = fs::path(::testing::TempDir()) / "corrupt.syemb";
    fs::copy_file(default_glove_path(), copy, fs::copy_options::overwrite_existing);
    {
        std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(1 << 20);
        f.put('\x7f');
    }
    auto opened = WordVectors::open(copy.string());
    ASSERT_TRUE(std::holds_alternative<std::string>(opened));
    EXPECT_NE(std::get<std::string>(opened).find("checksum mismatch"), std::string::npos);
    fs::resize_file(copy, fs::file_size(copy) / 2);
    opened = WordVectors::open(copy.string());
    ASSERT_TRUE(std::holds_alternative<std::string>(opened));
    EXPECT_NE(std::get<std::string>(opened).find("payload is"), std::string::npos)
        << std::get<std::string>(opened);
    fs::remove(copy);
}

TEST(WordVectors, RejectsAFileThatIsNotOne) {
    const std::string path = ::testing::TempDir() + "/not-vectors.syemb";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string junk(4096, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
    auto opened = WordVectors::open(path);
    ASSERT_TRUE(std::holds_alternative<std::string>(opened));
    EXPECT_NE(std::get<std::string>(opened).find("bad magic"), std::string::npos);
    std::remove(path.c_str());
}

// ---- embedding cache ---------------------------------------------------------------------

class FailingEmbedder final : public Embedder {
public:
    std::string_view name() const override { return "failing"; }
    size_t dimension() const override { return 4; }
    std::string embed(std::span<const std::string_view>, EmbeddingBatch&) const override {
        return "upstream down";
    }
};

TEST(EmbeddingCache, IdenticalVectorsAndCountsHits) {
    auto inner = std::make_shared<HashingEmbedder>();
    EmbeddingCache cache(inner, {.max_entries = 100});
    EXPECT_EQ(cache.name(), "hashing-256");
    EXPECT_EQ(cache.dimension(), 256u);
    std::string_view texts[] = {"alpha beta", "gamma", "alpha beta"};
    EmbeddingBatch first;
    ASSERT_EQ(cache.embed(texts, first), "");
    auto s = cache.stats();
    EXPECT_EQ(s.hits, 0u);  // duplicates inside one batch are both misses
    EXPECT_EQ(s.misses, 3u);
    EXPECT_EQ(s.entries, 2u);
    EmbeddingBatch second;
    ASSERT_EQ(cache.embed(texts, second), "");
    s = cache.stats();
    EXPECT_EQ(s.hits, 3u);
    EXPECT_EQ(s.misses, 3u);
    EXPECT_EQ(first.data(), second.data());
    EXPECT_EQ(embed1(*inner, "gamma"), embed1(cache, "gamma"));
    cache.clear();
    EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(EmbeddingCache, BoundedInEntries) {
    EmbeddingCache cache(std::make_shared<HashingEmbedder>(), {.max_entries = 8, .shards = 2});
    std::vector<std::string> texts;
    for (int i = 0; i < 100; ++i)
        texts.push_back("text " + std::to_string(i));
    for (const auto& t : texts)
        embed1(cache, t);
    const auto s = cache.stats();
    EXPECT_LE(s.entries, 8u);
    EXPECT_EQ(s.evictions, 100u - s.entries);
    EXPECT_EQ(s.misses, 100u);
}

TEST(EmbeddingCache, ErrorsPassThroughAndAreNotCached) {
    EmbeddingCache cache(std::make_shared<FailingEmbedder>());
    EmbeddingBatch out;
    std::string_view texts[] = {"x"};
    EXPECT_EQ(cache.embed(texts, out), "upstream down");
    EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(EmbeddingCache, ConcurrentUseGivesTheSameVectors) {
    auto inner = std::make_shared<HashingEmbedder>();
    EmbeddingCache cache(inner, {.max_entries = 64, .shards = 4});
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i)
        texts.push_back("sentence number " + std::to_string(i % 97));
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 5; ++round) {
                for (size_t i = t; i < texts.size(); i += 3) {
                    if (embed1(cache, texts[i]) != embed1(*inner, texts[i])) ++wrong;
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(wrong.load(), 0);
    const auto s = cache.stats();
    EXPECT_LE(s.entries, 64u);
    EXPECT_GT(s.hits, 0u);
}

}  // namespace
}  // namespace switchyard::rag
