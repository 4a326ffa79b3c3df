// Indexes and retrieval: BM25, the dense index (flat and HNSW), metadata filters applied
// inside the search, rank fusion and MMR.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "switchyard/rag/bm25_index.hpp"
#include "switchyard/rag/hybrid.hpp"
#include "switchyard/rag/metadata_filter.hpp"
#include "switchyard/rag/vector_index.hpp"

namespace switchyard::rag {
namespace {

// ---------------------------------------------------------------- BM25

void add_small_corpus(Bm25Index& index) {
    index.add(1, "The cat sat on the mat");
    index.add(2, "The dog chased the cat");
    index.add(3, "A zebra and a cat");
    index.add(4, "Cat cat dog");
}

TEST(Bm25Index, RareTermRanksFirstWithTheHandComputedScore) {
    Bm25Index index;
    add_small_corpus(index);
    auto hits = index.search("zebra cat", 10);
    ASSERT_EQ(hits.size(), 4u);
    EXPECT_EQ(hits[0].chunk_id, 3u);
    // N = 4 documents of 3, 3, 2, 3 indexed words (stop words "the", "on", "a", "and" gone):
    // avgdl = 2.75. Document 3 has "zebra" (n = 1) and "cat" (n = 4) once each, length 2:
    //   idf(zebra) = ln(1 + 3.5 / 1.5) = 1.2039728,  idf(cat) = ln(1 + 0.5 / 4.5) = 0.1053605
    //   tf part    = 1 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 2.75)) = 1.1255814
    //   score      = (1.2039728 + 0.1053605) * 1.1255814 = 1.4737612
    EXPECT_NEAR(hits[0].score, 1.4737612, 1e-5);
    // Document 4: "cat" twice, length 3: 0.1053605 * 2 * 2.2 / (2 + 1.2) = 0.1412590.
    EXPECT_EQ(hits[1].chunk_id, 4u);
    EXPECT_NEAR(hits[1].score, 0.1412590, 1e-5);
}

TEST(Bm25Index, KAndBAreConfigurable) {
    Bm25Index index({.k1 = 2.0, .b = 0.0});
    index.add(1, "zebra");
    index.add(2, "horse");
    auto hits = index.search("zebra", 5);
    ASSERT_EQ(hits.size(), 1u);
    // b = 0: no length normalisation; tf part = 1 * 3 / (1 + 2) = 1; idf = ln(1 + 1.5 / 1.5).
    EXPECT_NEAR(hits[0].score, std::log(2.0), 1e-6);
}

TEST(Bm25Index, RemoveAndReplace) {
    Bm25Index index;
    add_small_corpus(index);
    EXPECT_TRUE(index.remove(3));
    EXPECT_FALSE(index.remove(3));
    EXPECT_FALSE(index.contains(3));
    EXPECT_TRUE(index.search("zebra", 10).empty());
    EXPECT_EQ(index.stats().documents, 3u);
    EXPECT_NEAR(index.stats().average_length, 3.0, 1e-9);

    index.add(2, "a zebra crossing");  // replaces document 2's text
    auto hits = index.search("zebra", 10);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].chunk_id, 2u);
    EXPECT_TRUE(index.search("chased", 10).empty());
    EXPECT_EQ(index.size(), 3u);
}

TEST(Bm25Index, UnicodeWordsLowerCasedStopWordsConfigurable) {
    const Bm25Index index;
    EXPECT_EQ(index.tokenize("The CAFÉ in Zürich, naïve e-mail; 東京!"),
              (std::vector<std::string>{"café", "zürich", "naïve", "e-mail", "東", "京"}));
    const Bm25Index custom({.stop_words = {"café"}});
    EXPECT_EQ(custom.tokenize("The café"), (std::vector<std::string>{"the"}));
}

TEST(Bm25Index, EdgeCases) {
    Bm25Index index;
    EXPECT_TRUE(index.search("anything", 10).empty());
    index.add(1, "");
    index.add(2, "\xff\xfe binary \x80 text");
    EXPECT_TRUE(index.search("", 10).empty());
    EXPECT_TRUE(index.search("the and", 10).empty());  // only stop words
    EXPECT_TRUE(index.search("binary", 0).empty());
    auto hits = index.search("binary", 1000000000);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].chunk_id, 2u);
}

TEST(Bm25Index, FilterIsAppliedInsideTheSearch) {
    Bm25Index index;
    // Document i repeats "apple" i times in a text of fixed length: higher i ranks higher.
    for (uint64_t i = 1; i <= 100; ++i) {
        std::string text;
        for (uint64_t j = 0; j < 100; ++j)
            text += j < i ? "apple " : "pear ";
        index.add(i, text);
    }
    // Exclude the 50 best (ids 51..100): the next ten are still returned.
    int calls = 0;
    auto hits = index.search("apple", 10, [&](uint64_t id) {
        ++calls;
        return id <= 50;
    });
    ASSERT_EQ(hits.size(), 10u);
    for (size_t r = 0; r < hits.size(); ++r)
        EXPECT_EQ(hits[r].chunk_id, 50 - r);
    EXPECT_EQ(calls, 60);  // asked in score order, only until ten passed
}

// ---------------------------------------------------------------- dense index

std::vector<float> random_unit_vectors(size_t n, size_t dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> data(n * dim);
    for (size_t i = 0; i < n; ++i) {
        float norm = 0;
        for (size_t d = 0; d < dim; ++d) {
            data[i * dim + d] = normal(rng);
            norm += data[i * dim + d] * data[i * dim + d];
        }
        norm = std::sqrt(norm);
        for (size_t d = 0; d < dim; ++d)
            data[i * dim + d] /= norm;
    }
    return data;
}

// Exact top_k by double-precision dot products, best first.
std::vector<SearchHit> brute_force(const std::vector<float>& data, size_t dim,
                                   std::span<const float> query, size_t top_k,
                                   const std::function<bool(uint64_t)>& keep = {}) {
    std::vector<SearchHit> all;
    for (size_t i = 0; i < data.size() / dim; ++i) {
        if (keep && !keep(i)) continue;
        double s = 0;
        for (size_t d = 0; d < dim; ++d)
            s += double(data[i * dim + d]) * query[d];
        all.push_back({i, static_cast<float>(s)});
    }
    std::sort(all.begin(), all.end(), [](const SearchHit& a, const SearchHit& b) {
        return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
    });
    all.resize(std::min(top_k, all.size()));
    return all;
}

double recall(const std::vector<SearchHit>& got, const std::vector<SearchHit>& truth) {
    std::unordered_set<uint64_t> want;
    for (const auto& h : truth)
        want.insert(h.chunk_id);
    size_t found = 0;
    for (const auto& h : got)
        found += want.contains(h.chunk_id);
    return truth.empty() ? 1.0 : double(found) / double(truth.size());
}

std::vector<uint64_t> iota_ids(size_t n) {
    std::vector<uint64_t> ids(n);
    for (size_t i = 0; i < n; ++i)
        ids[i] = i;
    return ids;
}

constexpr size_t kDim = 100;

TEST(VectorIndex, FlatSearchEqualsBruteForceBelowTheThreshold) {
    const size_t n = 5000;
    const auto data = random_unit_vectors(n, kDim, 7);
    const auto queries = random_unit_vectors(50, kDim, 8);
    VectorIndex index({.dim = kDim});
    ASSERT_TRUE(index.add_batch(iota_ids(n), data).ok());
    EXPECT_FALSE(index.stats().graph);
    for (size_t q = 0; q < 50; ++q) {
        const std::span<const float> query(queries.data() + q * kDim, kDim);
        auto got = index.search(query, 10);
        ASSERT_TRUE(got.ok());
        const auto want = brute_force(data, kDim, query, 10);
        ASSERT_EQ(got->size(), want.size());
        for (size_t r = 0; r < want.size(); ++r) {
            EXPECT_EQ((*got)[r].chunk_id, want[r].chunk_id) << "query " << q << " rank " << r;
            EXPECT_NEAR((*got)[r].score, want[r].score, 1e-5);
        }
    }
}

TEST(VectorIndex, HnswRecallAtTenAgainstFlat) {
    const size_t n = 20000;
    const auto data = random_unit_vectors(n, kDim, 11);
    const auto queries = random_unit_vectors(100, kDim, 12);
    // Random 100-d vectors are hard for HNSW (no low-dimensional structure): hnswlib itself gets
    // recall@10 0.89 at ef 200 and 0.99 at ef 500 on this set; real embeddings need far less.
    VectorIndex index({.dim = kDim, .ef_search = 500, .build_threads = 2});
    ASSERT_TRUE(index.add_batch(iota_ids(n), data).ok());
    ASSERT_TRUE(index.stats().graph);
    double total = 0;
    for (size_t q = 0; q < 100; ++q) {
        const std::span<const float> query(queries.data() + q * kDim, kDim);
        auto got = index.search(query, 10);
        auto exact = index.search_exact(query, 10);
        ASSERT_TRUE(got.ok() && exact.ok());
        const auto want = brute_force(data, kDim, query, 10);
        for (size_t r = 0; r < want.size(); ++r)
            EXPECT_EQ((*exact)[r].chunk_id, want[r].chunk_id);
        total += recall(*got, *exact);
    }
    EXPECT_GE(total / 100, 0.95);
}

// The graph walks over int8 codes of the vectors; its answers are re-scored in float32, so
// vectors closer together than a code step still come back in exact order, with the exact
// search's scores. 20 dimensions: codes padded to 32.
TEST(VectorIndex, GraphOrdersNearDuplicatesByExactScore) {
    const size_t dim = 20;
    const size_t n = 3000;
    auto data = random_unit_vectors(n, dim, 61);
    const auto direction = random_unit_vectors(1, dim, 62);
    const std::vector<float> base(data.begin() + 7 * dim, data.begin() + 8 * dim);
    std::vector<uint64_t> ids = iota_ids(n);
    for (int k = 1; k <= 5; ++k) {  // ids 10001..10005, each a little further from vector 7
        std::vector<float> v(dim);
        double norm = 0;
        for (size_t d = 0; d < dim; ++d) {
            v[d] = base[d] + 0.002f * static_cast<float>(k) * direction[d];
            norm += double(v[d]) * v[d];
        }
        for (float& x : v)
            x = static_cast<float>(x / std::sqrt(norm));
        data.insert(data.end(), v.begin(), v.end());
        ids.push_back(10000 + k);
    }
    VectorIndex index({.dim = dim, .flat_threshold = 500});
    ASSERT_TRUE(index.add_batch(ids, data).ok());
    ASSERT_TRUE(index.stats().graph);
    auto got = index.search(base, 6);
    auto exact = index.search_exact(base, 6);
    ASSERT_TRUE(got.ok() && exact.ok());
    ASSERT_EQ(got->size(), 6u);
    const std::vector<uint64_t> order = {7, 10001, 10002, 10003, 10004, 10005};
    for (size_t r = 0; r < 6; ++r) {
        EXPECT_EQ((*exact)[r].chunk_id, order[r]);
        EXPECT_EQ((*got)[r].chunk_id, order[r]) << "rank " << r;
        EXPECT_EQ((*got)[r].score, (*exact)[r].score) << "rank " << r;
    }
}

TEST(VectorIndex, FilterIsAppliedInsideTheSearchFlatAndHnsw) {
    const size_t n = 12000;
    const auto data = random_unit_vectors(n, kDim, 21);
    const auto queries = random_unit_vectors(20, kDim, 22);
    for (const size_t threshold : {size_t{100000}, size_t{1000}}) {
        VectorIndex index(
            {.dim = kDim, .flat_threshold = threshold, .ef_search = 400, .build_threads = 2});
        ASSERT_TRUE(index.add_batch(iota_ids(n), data).ok());
        EXPECT_EQ(index.stats().graph, threshold < n);
        double total = 0;
        for (size_t q = 0; q < 20; ++q) {
            const std::span<const float> query(queries.data() + q * kDim, kDim);
            // Exclude the 50 nearest vectors: ten others must still come back.
            std::unordered_set<uint64_t> excluded;
            for (const auto& h : brute_force(data, kDim, query, 50))
                excluded.insert(h.chunk_id);
            auto keep = [&](uint64_t id) { return !excluded.contains(id); };
            auto got = index.search(query, 10, keep);
            ASSERT_TRUE(got.ok());
            ASSERT_EQ(got->size(), 10u);
            for (const auto& h : *got)
                EXPECT_FALSE(excluded.contains(h.chunk_id));
            const auto want = brute_force(data, kDim, query, 10, keep);
            if (threshold > n) {
                for (size_t r = 0; r < 10; ++r)
                    EXPECT_EQ((*got)[r].chunk_id, want[r].chunk_id);
            }
            total += recall(*got, want);
        }
        EXPECT_GE(total / 20, threshold > n ? 1.0 : 0.9) << "threshold " << threshold;
    }
}

TEST(VectorIndex, RemoveAndReAddInBothModes) {
    const size_t n = 3000;
    const auto data = random_unit_vectors(n, kDim, 31);
    for (const size_t threshold : {size_t{10000}, size_t{500}}) {
        VectorIndex index({.dim = kDim, .flat_threshold = threshold, .ef_search = 100});
        ASSERT_TRUE(index.add_batch(iota_ids(n), data).ok());
        const std::span<const float> v42(data.data() + 42 * kDim, kDim);
        auto top = index.search(v42, 1);
        ASSERT_TRUE(top.ok());
        ASSERT_EQ(top->size(), 1u);
        EXPECT_EQ((*top)[0].chunk_id, 42u);
        EXPECT_NEAR((*top)[0].score, 1.0, 1e-5);

        EXPECT_TRUE(index.remove(42));
        EXPECT_FALSE(index.remove(42));
        EXPECT_FALSE(index.contains(42));
        EXPECT_EQ(index.size(), n - 1);
        top = index.search(v42, 10);
        for (const auto& h : *top)
            EXPECT_NE(h.chunk_id, 42u);

        ASSERT_TRUE(index.add(42, v42).ok());
        top = index.search(v42, 1);
        EXPECT_EQ((*top)[0].chunk_id, 42u);
        std::vector<float> copy(kDim);
        ASSERT_TRUE(index.get(42, copy));
        EXPECT_EQ(copy, std::vector<float>(v42.begin(), v42.end()));
    }
}

TEST(VectorIndex, GraphIsDroppedWhenTheIndexShrinks) {
    const auto data = random_unit_vectors(400, 8, 41);
    VectorIndex index({.dim = 8, .flat_threshold = 200});
    ASSERT_TRUE(index.add_batch(iota_ids(400), data).ok());
    EXPECT_TRUE(index.stats().graph);
    for (uint64_t id = 0; id < 320; ++id)
        EXPECT_TRUE(index.remove(id));
    EXPECT_FALSE(index.stats().graph);
    const std::span<const float> query(data.data() + 350 * 8, 8);
    auto top = index.search(query, 1);
    ASSERT_TRUE(top.ok());
    EXPECT_EQ((*top)[0].chunk_id, 350u);
}

TEST(VectorIndex, DimensionAndValueErrors) {
    VectorIndex index({.dim = 4});
    const float three[3] = {1, 0, 0};
    const float nan[4] = {NAN, 0, 0, 0};
    const float ok[4] = {1, 0, 0, 0};
    auto added = index.add(1, three);
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(added.error().code, "dimension_mismatch");
    EXPECT_NE(added.error().message.find("3 dimensions, the index 4"), std::string::npos);
    EXPECT_EQ(index.add(1, nan).error().code, "invalid_vector");
    ASSERT_TRUE(index.add(1, ok).ok());
    auto searched = index.search(three, 5);
    ASSERT_FALSE(searched.ok());
    EXPECT_EQ(searched.error().code, "dimension_mismatch");
    EXPECT_TRUE(index.search(ok, 0)->empty());
    EXPECT_EQ(index.search(ok, 1000000000)->size(), 1u);
    const uint64_t two_ids[2] = {5, 6};
    EXPECT_EQ(index.add_batch(two_ids, ok).error().code, "dimension_mismatch");
    EXPECT_EQ(index.size(), 1u);
}

TEST(VectorIndex, ConcurrentSearchesWhileWriting) {
    const size_t n = 3000;
    const auto data = random_unit_vectors(n, 16, 51);
    VectorIndex index({.dim = 16, .flat_threshold = 1000});
    ASSERT_TRUE(index.add_batch(iota_ids(1500), std::span(data).first(1500 * 16)).ok());
    std::atomic<bool> done{false};
    std::atomic<size_t> searches{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t) {
        readers.emplace_back([&, t] {
            size_t q = t;
            while (!done.load()) {
                const std::span<const float> query(data.data() + (q % n) * 16, 16);
                auto hits = index.search(query, 5, [](uint64_t id) { return id % 2 == 0; });
                EXPECT_TRUE(hits.ok());
                for (const auto& h : *hits)
                    EXPECT_EQ(h.chunk_id % 2, 0u);
                ++searches;
                q += 7;
            }
        });
    }
    for (uint64_t id = 1500; id < n; ++id) {
        ASSERT_TRUE(index.add(id, std::span(data).subspan(id * 16, 16)).ok());
        if (id % 3 == 0) index.remove(id - 1000);
    }
    done = true;
    for (auto& r : readers)
        r.join();
    EXPECT_GT(searches.load(), 0u);
    EXPECT_EQ(index.size(), n - 500);
}

// ---------------------------------------------------------------- fusion and MMR

TEST(Hybrid, ReciprocalRankFusionOrder) {
    const std::vector<std::vector<SearchHit>> lists = {
        {{1, 9.0f}, {2, 5.0f}, {3, 1.0f}},  // BM25
        {{3, 0.9f}, {1, 0.8f}, {4, 0.7f}},  // dense
    };
    const auto fused = reciprocal_rank_fusion(lists, 10);
    // 1: 1/61 + 1/62 = 0.032522; 3: 1/63 + 1/61 = 0.032266; 2: 1/62; 4: 1/63.
    ASSERT_EQ(fused.size(), 4u);
    EXPECT_EQ(fused[0].chunk_id, 1u);
    EXPECT_EQ(fused[1].chunk_id, 3u);
    EXPECT_EQ(fused[2].chunk_id, 2u);
    EXPECT_EQ(fused[3].chunk_id, 4u);
    EXPECT_NEAR(fused[0].score, 1.0 / 61 + 1.0 / 62, 1e-7);
    EXPECT_EQ(reciprocal_rank_fusion(lists, 2).size(), 2u);
    // Weighting the dense list three times puts 3 first.
    const double weights[] = {1.0, 3.0};
    EXPECT_EQ(reciprocal_rank_fusion(lists, 1, kRrfK, weights)[0].chunk_id, 3u);
}

TEST(Hybrid, WeightedScoreFusionNormalisesEachList) {
    const std::vector<std::vector<SearchHit>> lists = {
        {{1, 12.0f}, {2, 8.0f}, {3, 2.0f}},  // normalised 1, 0.6, 0
        {{3, 0.9f}, {2, 0.85f}, {4, 0.4f}},  // normalised 1, 0.9, 0
    };
    const double weights[] = {0.5, 0.5};
    const auto fused = weighted_score_fusion(lists, weights, 10);
    ASSERT_EQ(fused.size(), 4u);
    EXPECT_EQ(fused[0].chunk_id, 2u);  // 0.5 * 0.6 + 0.5 * 0.9 = 0.75
    EXPECT_NEAR(fused[0].score, 0.75, 1e-6);
    EXPECT_EQ(fused[1].chunk_id, 1u);  // 0.5
    EXPECT_EQ(fused[2].chunk_id, 3u);  // 0.5, higher id
    EXPECT_EQ(fused[3].chunk_id, 4u);  // 0
}

TEST(Hybrid, MmrPicksADiverseSecondResult) {
    const float query[] = {1, 0, 0};
    const float a[] = {0.9f, 0.4358899f, 0};   // relevance 0.90
    const float b[] = {0.88f, 0.4749737f, 0};  // relevance 0.88, a near duplicate of a
    const float c[] = {0.7f, 0, 0.7141428f};   // relevance 0.70, different direction
    const MmrCandidate candidates[] = {{10, a}, {11, b}, {12, c}};
    const auto diverse = mmr_rerank(query, candidates, 3, 0.5);
    ASSERT_EQ(diverse.size(), 3u);
    EXPECT_EQ(diverse[0].chunk_id, 10u);
    EXPECT_EQ(diverse[1].chunk_id, 12u);
    EXPECT_EQ(diverse[2].chunk_id, 11u);
    EXPECT_NEAR(diverse[1].score, 0.7, 1e-6);
    const auto relevant = mmr_rerank(query, candidates, 2, 1.0);
    EXPECT_EQ(relevant[1].chunk_id, 11u);
    EXPECT_TRUE(mmr_rerank(query, candidates, 0).empty());
}

// ---------------------------------------------------------------- metadata filters

TEST(MetadataFilter, ParsesAndMatches) {
    const auto parsed = MetadataFilter::parse_json(
        R"({"source":{"prefix":"docs/"},"year":{"gte":2020},"lang":{"in":["en","de"]},"team":"core"})");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    const MetadataFilter& f = parsed.value();
    EXPECT_EQ(f.clauses().size(), 4u);
    const Metadata good = {
        {"source", "docs/rag.md"}, {"year", "2021"}, {"lang", "de"}, {"team", "core"}};
    EXPECT_TRUE(f.matches(good));
    auto with = [&](std::string key, std::string value) {
        Metadata m = good;
        for (auto& [k, v] : m) {
            if (k == key) v = value;
        }
        return m;
    };
    EXPECT_FALSE(f.matches(with("source", "src/docs/x")));
    EXPECT_FALSE(f.matches(with("year", "2019")));
    EXPECT_TRUE(f.matches(with("year", "2020")));
    EXPECT_FALSE(f.matches(with("year", "recent")));  // not a number: the range fails
    EXPECT_FALSE(f.matches(with("lang", "fr")));
    EXPECT_FALSE(f.matches(with("team", "Core")));
    // A missing field fails its clause.
    EXPECT_FALSE(f.matches({{"source", "docs/a"}, {"lang", "en"}, {"team", "core"}}));
    EXPECT_TRUE(MetadataFilter().matches({}));
}

TEST(MetadataFilter, NumbersBooleansAndBounds) {
    const auto f =
        MetadataFilter::parse_json(R"({"v":{"gt":1,"lt":3},"n":2,"ok":true,"k":{"in":[1,"x"]}})");
    ASSERT_TRUE(f.ok()) << f.error().message;
    const Metadata m = {{"v", "2.5"}, {"n", "2.0"}, {"ok", "true"}, {"k", "1"}};
    EXPECT_TRUE(f->matches(m));
    EXPECT_FALSE(f->matches({{"v", "3"}, {"n", "2"}, {"ok", "true"}, {"k", "x"}}));
    EXPECT_TRUE(f->matches({{"v", "1.5"}, {"n", "2"}, {"ok", "true"}, {"k", "x"}}));

    MetadataFilter built;
    built.equals("team", "core").range("year", 2000, std::nullopt).prefix("path", "a/");
    EXPECT_TRUE(built.matches({{"team", "core"}, {"year", "2000"}, {"path", "a/b"}}));
    EXPECT_FALSE(built.matches({{"team", "core"}, {"year", "1999"}, {"path", "a/b"}}));
}

TEST(MetadataFilter, ParseErrorsAreClear) {
    auto message = [](std::string_view json) {
        const auto f = MetadataFilter::parse_json(json);
        EXPECT_FALSE(f.ok()) << json;
        if (f.ok()) return std::string();
        EXPECT_EQ(f.error().kind, ErrorKind::kInvalidRequest);
        EXPECT_EQ(f.error().param, "filters");
        return f.error().message;
    };
    EXPECT_NE(message("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(message("").find("empty"), std::string::npos);
    EXPECT_NE(message("[1]").find("expected a JSON object"), std::string::npos);
    EXPECT_NE(
        message(R"({"year":{"after":2020}})").find("field \"year\": unknown operator \"after\""),
        std::string::npos);
    EXPECT_NE(message(R"({"year":{"gte":"2020"}})").find("\"gte\" needs a number, not a string"),
              std::string::npos);
    EXPECT_NE(message(R"({"lang":{"in":[]}})").find("at least one"), std::string::npos);
    EXPECT_NE(message(R"({"lang":{"in":"en"}})").find("needs an array"), std::string::npos);
    EXPECT_NE(message(R"({"lang":["en"]})").find("{\"in\": [...]}"), std::string::npos);
    EXPECT_NE(message(R"({"src":{"prefix":1}})").find("needs a string"), std::string::npos);
    EXPECT_NE(message(R"({"y":{"gte":5,"lte":1}})").find("above the upper bound"),
              std::string::npos);
    EXPECT_NE(message(R"({"y":{}})").find("empty operator object"), std::string::npos);
    EXPECT_NE(message(R"({"y":null})").find("not null"), std::string::npos);
}

TEST(MetadataFilter, InsideAVectorSearch) {
    const auto data = random_unit_vectors(200, 8, 61);
    VectorIndex index({.dim = 8});
    ASSERT_TRUE(index.add_batch(iota_ids(200), data).ok());
    std::unordered_map<uint64_t, Metadata> metadata;
    for (uint64_t id = 0; id < 200; ++id) {
        metadata[id] = {{"lang", id % 4 == 0 ? "de" : "en"}};
    }
    const auto filter = MetadataFilter::parse_json(R"({"lang":"de"})");
    ASSERT_TRUE(filter.ok());
    auto hits = index.search(std::span(data).first(8), 10,
                             [&](uint64_t id) { return filter->matches(metadata.at(id)); });
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 10u);
    for (const auto& h : *hits)
        EXPECT_EQ(h.chunk_id % 4, 0u);
    EXPECT_EQ((*hits)[0].chunk_id, 0u);
}

}  // namespace
}  // namespace switchyard::rag
