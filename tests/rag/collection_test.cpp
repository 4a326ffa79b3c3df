// Collections: ingest, re-ingest by content hash, delete, persistence in SQLite across
// reopen, embedder mixing refused, atomic ingest under a failing embedder, bad input, filters
// inside the search, MMR, and queries running while documents are re-ingested.
// Uses the hashing embedder (no data files) wrapped to count and fail on demand.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/collection_registry.hpp"
#include "switchyard/rag/hashing_embedder.hpp"
#include "switchyard/rag/rag_store.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::rag {
namespace {

// Counts the texts it embeds; fails the call number `fail_on_call` (from 1) if set.
class CountingEmbedder final : public Embedder {
public:
    explicit CountingEmbedder(size_t dim = 256, std::string name = "")
        : inner_({.dimension = dim, .bigram_weight = 0.5f, .seed = 0}),
          name_(name.empty() ? std::string(inner_.name()) : std::move(name)) {}

    std::string_view name() const override { return name_; }
    size_t dimension() const override { return inner_.dimension(); }
    std::string embed(std::span<const std::string_view> texts, EmbeddingBatch& out) const override {
        const int call = ++calls;
        if (fail_on_call != 0 && call >= fail_on_call) return "embedding service unavailable";
        texts_embedded += texts.size();
        return inner_.embed(texts, out);
    }

    mutable std::atomic<int> calls{0};
    mutable std::atomic<size_t> texts_embedded{0};
    int fail_on_call = 0;

private:
    HashingEmbedder inner_;
    std::string name_;
};

CollectionOptions small_chunks(size_t size = 120, size_t overlap = 0) {
    CollectionOptions o;
    o.chunking.strategy = ChunkStrategy::kRecursive;
    o.chunking.size = {
        .size = size, .overlap = overlap, .unit = SizeUnit::kCharacters, .tokenizer = nullptr};
    o.embed_batch = 2;
    return o;
}

std::shared_ptr<RagStore> memory_store() {
    auto store = RagStore::open(":memory:");
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.value();
}

struct TempFile {
    std::string path;
    TempFile() {
        path = (std::filesystem::temp_directory_path() /
                ("switchyard-rag-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter()++) + ".db"))
                   .string();
        cleanup();
    }
    ~TempFile() { cleanup(); }
    void cleanup() const {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

Document doc(std::string id, std::string text, Metadata metadata = {}) {
    Document d;
    d.id = id;
    d.source = "docs/" + id + ".txt";
    d.text = std::move(text);
    d.metadata = std::move(metadata);
    return d;
}

const char* kSolar =
    "The solar panel converts sunlight into electricity. Photovoltaic cells in the panel "
    "produce direct current.\n\nAn inverter turns the direct current into alternating current "
    "for the house. Batteries store surplus energy for the night.";
const char* kGarden =
    "Tomatoes need six hours of sun and regular watering. Prune the side shoots weekly.\n\n"
    "Compost improves the soil; mulch keeps moisture in during the summer heat.";
const char* kBread =
    "Sourdough bread rises with a starter of wild yeast. Knead the dough, let it proof "
    "overnight in the fridge, then bake it in a hot oven with steam.";

std::shared_ptr<Collection> make(std::shared_ptr<RagStore> store,
                                 std::shared_ptr<const Embedder> embedder,
                                 CollectionOptions options = small_chunks(),
                                 std::string name = "notes") {
    auto c = Collection::create(std::move(store), name, std::move(embedder), std::move(options));
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.value();
}

IngestResult ingest_ok(Collection& c, const Document& d) {
    auto r = c.ingest(d);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : IngestResult{};
}

std::vector<RetrievedChunk> query_ok(const Collection& c, std::string text, RetrievalMode mode,
                                     size_t top_k = 5, MetadataFilter filter = {}) {
    QueryRequest q;
    q.text = std::move(text);
    q.mode = mode;
    q.top_k = top_k;
    q.filter = std::move(filter);
    auto r = c.query(q);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : std::vector<RetrievedChunk>{};
}

std::vector<std::string> doc_ids(const std::vector<RetrievedChunk>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits)
        out.push_back(h.document_id);
    return out;
}

constexpr RetrievalMode kModes[] = {RetrievalMode::kBm25, RetrievalMode::kDense,
                                    RetrievalMode::kHybrid};

TEST(Collection, IngestsAndFindsTheRightDocumentInEveryMode) {
    auto embedder = std::make_shared<CountingEmbedder>();
    auto c = make(memory_store(), embedder);
    const auto r = ingest_ok(*c, doc("solar", kSolar));
    EXPECT_EQ(r.outcome, IngestOutcome::kAdded);
    EXPECT_GE(r.chunks, 2u);
    EXPECT_EQ(r.embedded, r.chunks);
    ingest_ok(*c, doc("garden", kGarden));
    ingest_ok(*c, doc("bread", kBread));
    for (RetrievalMode mode : kModes) {
        SCOPED_TRACE(std::string(to_string(mode)));
        auto hits = query_ok(*c, "inverter alternating current", mode, 3);
        ASSERT_FALSE(hits.empty());
        EXPECT_EQ(hits[0].document_id, "solar");
        EXPECT_EQ(hits[0].source, "docs/solar.txt");
        EXPECT_NE(hits[0].text.find("inverter"), std::string::npos);
        const std::string_view whole(kSolar);
        EXPECT_EQ(whole.substr(hits[0].byte_begin, hits[0].byte_end - hits[0].byte_begin),
                  hits[0].text);
        hits = query_ok(*c, "sourdough starter yeast", mode, 1);
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0].document_id, "bread");
    }
    EXPECT_EQ(c->stats().documents, 3u);
}

TEST(Collection, ReingestingAnUnchangedDocumentEmbedsNothing) {
    auto embedder = std::make_shared<CountingEmbedder>();
    auto c = make(memory_store(), embedder);
    const auto first = ingest_ok(*c, doc("solar", kSolar));
    const size_t embedded = embedder->texts_embedded;
    const int calls = embedder->calls;
    EXPECT_EQ(embedded, first.chunks);

    const auto again = ingest_ok(*c, doc("solar", kSolar));
    EXPECT_EQ(again.outcome, IngestOutcome::kUnchanged);
    EXPECT_EQ(again.embedded, 0u);
    EXPECT_EQ(again.chunks, first.chunks);
    EXPECT_EQ(embedder->calls, calls);
    EXPECT_EQ(embedder->texts_embedded, embedded);

    // New metadata, same text: updated (and filterable) without embedding.
    const auto meta = ingest_ok(*c, doc("solar", kSolar, {{"team", "energy"}}));
    EXPECT_EQ(meta.outcome, IngestOutcome::kMetadataUpdated);
    EXPECT_EQ(embedder->calls, calls);
    auto hits = query_ok(*c, "inverter", RetrievalMode::kHybrid, 5,
                         MetadataFilter().equals("team", "energy"));
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].metadata, (Metadata{{"team", "energy"}}));
    EXPECT_EQ(c->document("solar")->metadata, (Metadata{{"team", "energy"}}));
}

TEST(Collection, AChangedDocumentReplacesItsChunks) {
    auto embedder = std::make_shared<CountingEmbedder>();
    auto c = make(memory_store(), embedder);
    ingest_ok(*c, doc("solar", kSolar));
    ingest_ok(*c, doc("garden", kGarden));
    const std::string changed =
        "Wind turbines turn kinetic energy of moving air into "
        "electricity. The rotor drives a generator.";
    const auto r = ingest_ok(*c, doc("solar", changed));
    EXPECT_EQ(r.outcome, IngestOutcome::kReplaced);
    EXPECT_EQ(r.chunks, 1u);
    EXPECT_EQ(c->document("solar")->chunks, 1u);
    EXPECT_EQ(c->chunks("solar").size(), 1u);
    EXPECT_EQ(c->chunks("solar")[0].text, changed);
    for (RetrievalMode mode : kModes) {
        SCOPED_TRACE(std::string(to_string(mode)));
        for (const auto& h : query_ok(*c, "inverter photovoltaic batteries", mode, 50)) {
            EXPECT_EQ(h.text.find("inverter"), std::string::npos) << "an old chunk is visible";
            EXPECT_EQ(h.text.find("Photovoltaic"), std::string::npos);
        }
        auto hits = query_ok(*c, "wind turbine rotor generator", mode, 1);
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0].text, changed);
    }
    EXPECT_EQ(c->stats().chunks, 1u + c->document("garden")->chunks);
}

TEST(Collection, DeleteRemovesADocumentFromEveryMode) {
    auto c = make(memory_store(), std::make_shared<CountingEmbedder>());
    ingest_ok(*c, doc("solar", kSolar));
    ingest_ok(*c, doc("garden", kGarden));
    ASSERT_TRUE(c->remove("solar").ok());
    EXPECT_FALSE(c->document("solar").has_value());
    for (RetrievalMode mode : kModes) {
        SCOPED_TRACE(std::string(to_string(mode)));
        const auto hits = query_ok(*c, "solar panel inverter batteries", mode, 100);
        for (const auto& h : hits)
            EXPECT_EQ(h.document_id, "garden");
    }
    const auto again = c->remove("solar");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(again.error().code, "document_not_found");
    EXPECT_EQ(c->stats().documents, 1u);
    EXPECT_EQ(c->stats().chunks, c->document("garden")->chunks);
}

TEST(Collection, PersistsAndGivesTheSameResultsAfterReopen) {
    TempFile file;
    auto embedder = std::make_shared<CountingEmbedder>();
    std::vector<std::vector<RetrievedChunk>> before;
    const char* queries[] = {"direct current inverter", "watering tomatoes compost",
                             "bake bread oven", "energy"};
    {
        auto store = RagStore::open(file.path).value();
        auto c = make(store, embedder);
        ingest_ok(*c, doc("solar", kSolar, {{"year", "2021"}}));
        ingest_ok(*c, doc("garden", kGarden, {{"year", "2019"}}));
        ingest_ok(*c, doc("bread", kBread));
        ingest_ok(*c, doc("temp", "A document that will be deleted before reopening."));
        ASSERT_TRUE(c->remove("temp").ok());
        for (const char* q : queries) {
            for (RetrievalMode mode : kModes)
                before.push_back(query_ok(*c, q, mode, 10));
        }
    }
    const int calls = embedder->calls;
    auto store = RagStore::open(file.path).value();
    auto opened = Collection::open(store, "notes", embedder);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto& c = *opened.value();
    EXPECT_EQ(embedder->calls, calls) << "reopening must not re-embed";
    EXPECT_EQ(c.stats().documents, 3u);
    EXPECT_FALSE(c.document("temp").has_value());
    EXPECT_EQ(c.document("solar")->metadata, (Metadata{{"year", "2021"}}));
    EXPECT_EQ(c.chunking().size.size, 120u);
    size_t i = 0;
    for (const char* q : queries) {
        for (RetrievalMode mode : kModes) {
            SCOPED_TRACE(std::string(q) + " " + std::string(to_string(mode)));
            const auto after = query_ok(c, q, mode, 10);
            const auto& expected = before[i++];
            ASSERT_EQ(after.size(), expected.size());
            for (size_t k = 0; k < after.size(); ++k) {
                EXPECT_EQ(after[k].chunk_id, expected[k].chunk_id);
                EXPECT_FLOAT_EQ(after[k].score, expected[k].score);
                EXPECT_EQ(after[k].text, expected[k].text);
                EXPECT_EQ(after[k].byte_begin, expected[k].byte_begin);
                EXPECT_EQ(after[k].metadata, expected[k].metadata);
            }
        }
    }
    // Unchanged after reopen: still not re-embedded (the hash was persisted).
    const int calls_before_reingest = embedder->calls;
    EXPECT_EQ(ingest_ok(c, doc("bread", kBread)).outcome, IngestOutcome::kUnchanged);
    EXPECT_EQ(embedder->calls, calls_before_reingest);
    auto listed = store->collections().value();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, "notes");
    EXPECT_EQ(listed[0].documents, 3u);
    EXPECT_EQ(listed[0].embedder, "hashing-256");
}

TEST(Collection, RefusesToMixEmbedders) {
    auto store = memory_store();
    make(store, std::make_shared<CountingEmbedder>(256));
    auto other_dim = Collection::open(store, "notes", std::make_shared<CountingEmbedder>(128));
    ASSERT_FALSE(other_dim.ok());
    EXPECT_EQ(other_dim.error().code, "embedder_mismatch");
    EXPECT_NE(other_dim.error().message.find("hashing-256"), std::string::npos);
    EXPECT_NE(other_dim.error().message.find("hashing-128"), std::string::npos);
    auto other_name =
        Collection::open(store, "notes", std::make_shared<CountingEmbedder>(256, "remote:x"));
    ASSERT_FALSE(other_name.ok());
    EXPECT_EQ(other_name.error().code, "embedder_mismatch");
    EXPECT_EQ(Collection::open_or_create(store, "notes", std::make_shared<CountingEmbedder>(128))
                  .error()
                  .code,
              "embedder_mismatch");

    auto twice = Collection::create(store, "notes", std::make_shared<CountingEmbedder>());
    ASSERT_FALSE(twice.ok());
    EXPECT_EQ(twice.error().code, "collection_exists");
    auto unknown = Collection::open(store, "nope", std::make_shared<CountingEmbedder>());
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(unknown.error().code, "collection_not_found");
    auto bad = Collection::create(store, "no spaces/allowed", std::make_shared<CountingEmbedder>());
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, "invalid_name");
    ASSERT_TRUE(store->drop_collection("notes").ok());
    EXPECT_EQ(store->drop_collection("notes").error().code, "collection_not_found");
}

TEST(Collection, AFailingEmbedderMidDocumentLeavesNothingVisible) {
    TempFile file;
    auto embedder = std::make_shared<CountingEmbedder>();
    {
        auto store = RagStore::open(file.path).value();
        auto c = make(store, embedder);  // embed_batch 2: kSolar is several calls
        ingest_ok(*c, doc("garden", kGarden));
        embedder->fail_on_call = embedder->calls + 2;  // the new document's second batch
        auto r = c->ingest(doc("solar", kSolar));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, "embedding_failed");
        EXPECT_NE(r.error().message.find("solar"), std::string::npos);
        EXPECT_FALSE(c->document("solar").has_value());
        EXPECT_EQ(c->stats().documents, 1u);
        EXPECT_EQ(c->stats().chunks, c->document("garden")->chunks);
        embedder->fail_on_call = 0;
        for (RetrievalMode mode : {RetrievalMode::kBm25}) {
            for (const auto& h : query_ok(*c, "inverter photovoltaic", mode, 100)) {
                EXPECT_EQ(h.document_id, "garden");
            }
        }
        // A failed re-ingest of a changed document keeps the previous version.
        const size_t garden_chunks = c->document("garden")->chunks;
        embedder->fail_on_call = embedder->calls + 1;
        auto changed = c->ingest(doc("garden", std::string(kGarden) + " Also: beans."));
        ASSERT_FALSE(changed.ok());
        embedder->fail_on_call = 0;
        EXPECT_EQ(c->document("garden")->chunks, garden_chunks);
        auto hits = query_ok(*c, "tomatoes watering", RetrievalMode::kBm25, 1);
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0].document_id, "garden");
    }
    // Nothing half-written on disk either.
    auto store = RagStore::open(file.path).value();
    auto c = Collection::open(store, "notes", embedder).value();
    EXPECT_EQ(c->stats().documents, 1u);
    EXPECT_FALSE(c->document("solar").has_value());
    EXPECT_EQ(store->collections().value()[0].chunks, c->stats().chunks);
}

TEST(Collection, BadInputGetsClearErrorsOrDocumentedResults) {
    auto c = make(memory_store(), std::make_shared<CountingEmbedder>());
    auto code_of = [&](const Document& d) {
        auto r = c->ingest(d);
        return r.ok() ? std::string("ok") : r.error().code;
    };
    EXPECT_EQ(code_of(doc("empty", "")), "empty_document");
    EXPECT_EQ(code_of(doc("blank", "  \n\t\n ")), "empty_document");
    EXPECT_EQ(code_of(doc("nul", std::string("PK\x03\x04\0\0binary", 12))), "binary_content");
    EXPECT_EQ(code_of(doc("latin1", "caf\xe9 au lait")), "invalid_utf8");
    EXPECT_EQ(code_of(doc("controls", std::string(20, '\x01') + "text")), "binary_content");
    EXPECT_EQ(code_of(doc("", "no id")), "invalid_document_id");
    EXPECT_EQ(code_of(doc(std::string(600, 'x'), "long id")), "invalid_document_id");
    {
        auto r = c->ingest(doc("latin1", "caf\xe9 au lait"));
        EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
        EXPECT_NE(r.error().message.find("offset 3"), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(c->stats().documents, 0u);

    // A query on an empty collection: no hits, not an error.
    EXPECT_TRUE(query_ok(*c, "anything", RetrievalMode::kHybrid).empty());

    ingest_ok(*c, doc("solar", kSolar));
    ingest_ok(*c, doc("garden", kGarden));
    QueryRequest q;
    q.text = "sun";
    q.top_k = 0;
    EXPECT_EQ(c->query(q).error().code, "invalid_top_k");
    q.top_k = 1000000000;  // more than the collection holds: every chunk, ranked
    for (RetrievalMode mode : {RetrievalMode::kDense, RetrievalMode::kHybrid}) {
        q.mode = mode;
        auto all = c->query(q);
        ASSERT_TRUE(all.ok());
        EXPECT_EQ(all->size(), c->stats().chunks);
    }
    q.text = "   ";
    EXPECT_EQ(c->query(q).error().code, "empty_query");
    // A filter on a field no document has matches nothing.
    EXPECT_TRUE(
        query_ok(*c, "sun", RetrievalMode::kHybrid, 5, MetadataFilter().equals("missing", "x"))
            .empty());
    EXPECT_FALSE(parse_retrieval_mode("semantic").has_value());
    EXPECT_EQ(parse_retrieval_mode("bm25"), RetrievalMode::kBm25);
}

TEST(Collection, EnormousLinesAreChunkedAndOversizedDocumentsRefused) {
    CollectionOptions options = small_chunks(1000, 100);
    options.max_document_bytes = 3'000'000;
    options.embed_batch = 64;
    auto c = make(memory_store(), std::make_shared<CountingEmbedder>(), options);
    // 2 MB on one line with no spaces: cut into chunks like any other text.
    std::string line(2'000'000, 'a');
    line.replace(1'500'000, 6, "needle");
    const auto r = ingest_ok(*c, doc("line", line));
    EXPECT_GE(r.chunks, 2000u);
    auto hits = query_ok(*c, "aaaaneedleaaaa", RetrievalMode::kBm25, 1);
    EXPECT_TRUE(hits.empty());  // no word boundary: the needle is not a word of its own
    const auto chunks = c->chunks("line");
    size_t covered = 0;
    for (const auto& ch : chunks)
        covered = std::max(covered, ch.byte_end);
    EXPECT_EQ(covered, line.size());

    auto big = c->ingest(doc("big", std::string(3'000'001, 'x')));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().kind, ErrorKind::kRequestTooLarge);
    EXPECT_EQ(big.error().code, "document_too_large");
    EXPECT_FALSE(c->document("big").has_value());
}

// Dense ranking decided by a marker word: texts with "alpha" point one way, others another.
class MarkerEmbedder final : public Embedder {
public:
    std::string_view name() const override { return "marker-2"; }
    size_t dimension() const override { return 2; }
    std::string embed(std::span<const std::string_view> texts, EmbeddingBatch& out) const override {
        out = EmbeddingBatch(texts.size(), 2);
        for (size_t i = 0; i < texts.size(); ++i) {
            const bool alpha = texts[i].find("alpha") != std::string_view::npos;
            out.row(i)[alpha ? 0 : 1] = 1.0f;
        }
        return "";
    }
};

TEST(Collection, HybridWeightsFavourOneList) {
    auto c = make(memory_store(), std::make_shared<MarkerEmbedder>(), small_chunks(400));
    ingest_ok(*c, doc("lexical", "zyxel zyxel zyxel router"));
    ingest_ok(*c, doc("marker",
                      "alpha and many other words that make this text much longer "
                      "than the other one, so that its single match scores low"));
    QueryRequest q;
    q.text = "zyxel alpha";
    q.top_k = 2;
    q.mode = RetrievalMode::kBm25;
    const auto bm25 = c->query(q).value();
    q.mode = RetrievalMode::kDense;
    const auto dense = c->query(q).value();
    ASSERT_EQ(bm25.size(), 2u);
    ASSERT_EQ(dense.size(), 2u);
    ASSERT_EQ(bm25[0].document_id, "lexical");  // the two lists disagree
    ASSERT_EQ(dense[0].document_id, "marker");
    q.mode = RetrievalMode::kHybrid;
    q.bm25_weight = 3;
    q.dense_weight = 1;
    EXPECT_EQ(c->query(q).value()[0].document_id, "lexical");
    q.bm25_weight = 1;
    q.dense_weight = 3;
    EXPECT_EQ(c->query(q).value()[0].document_id, "marker");
}

TEST(Collection, FiltersRunInsideTheSearch) {
    auto c = make(memory_store(), std::make_shared<CountingEmbedder>(), small_chunks(400));
    // 20 strong matches without the tag, 3 weak ones with it.
    for (int i = 0; i < 20; ++i) {
        ingest_ok(*c, doc("strong" + std::to_string(i),
                          "kubernetes pod scheduling kubernetes pod " + std::to_string(i),
                          {{"team", "core"}}));
    }
    for (int i = 0; i < 3; ++i) {
        ingest_ok(*c, doc("weak" + std::to_string(i),
                          "notes about a kubernetes meeting and lunch " + std::to_string(i),
                          {{"team", "infra"}}));
    }
    for (RetrievalMode mode : kModes) {
        SCOPED_TRACE(std::string(to_string(mode)));
        auto hits = query_ok(*c, "kubernetes pod scheduling", mode, 3,
                             MetadataFilter().equals("team", "infra"));
        ASSERT_EQ(hits.size(), 3u);
        for (const auto& h : hits)
            EXPECT_EQ(h.document_id.substr(0, 4), "weak");
        // The source and the document id are filterable too.
        hits = query_ok(*c, "kubernetes pod scheduling", mode, 5,
                        MetadataFilter().prefix("source", "docs/weak"));
        ASSERT_EQ(hits.size(), 3u);
        for (const auto& h : hits)
            EXPECT_EQ(h.source.substr(0, 9), "docs/weak");
        hits = query_ok(*c, "kubernetes", mode, 5,
                        MetadataFilter().in("document_id", {"strong3", "weak1"}));
        ASSERT_EQ(hits.size(), 2u);
    }
}

TEST(Collection, MmrSpreadsResultsOverDistinctChunks) {
    auto c = make(memory_store(), std::make_shared<CountingEmbedder>(), small_chunks(400));
    const std::string dup = "Reset your password from the account settings page.";
    ingest_ok(*c, doc("a", dup));
    ingest_ok(*c, doc("b", dup + " "));
    ingest_ok(*c, doc("c", "Password rules: at least twelve characters; reset via email link."));
    QueryRequest q;
    q.text = "reset password account settings";
    q.top_k = 2;
    q.mode = RetrievalMode::kDense;
    auto plain = c->query(q).value();
    ASSERT_EQ(plain.size(), 2u);
    EXPECT_EQ(plain[0].text, plain[1].text);  // the duplicates crowd the top
    q.mmr = true;
    q.mmr_lambda = 0.3;
    auto diverse = c->query(q).value();
    ASSERT_EQ(diverse.size(), 2u);
    EXPECT_NE(diverse[0].text, diverse[1].text);
    EXPECT_EQ(doc_ids(diverse).back(), "c");
}

TEST(Collection, QueriesSeeWholeDocumentsWhileTheyAreReingested) {
    auto c = make(memory_store(), std::make_shared<CountingEmbedder>(), small_chunks(60));
    auto version = [](int v) {
        std::string text;
        for (int i = 0; i < 6; ++i) {
            text += "version" + std::to_string(v) + " paragraph " + std::to_string(i) +
                    " about rivers and lakes.\n\n";
        }
        return text;
    };
    ingest_ok(*c, doc("d", version(0)));
    const size_t chunks_per_version = c->document("d")->chunks;
    ASSERT_GE(chunks_per_version, 3u);
    std::atomic<bool> stop{false};
    std::atomic<int> mixed{0};
    std::atomic<int> queries{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t) {
        readers.emplace_back([&] {
            QueryRequest q;
            q.text = "rivers lakes paragraph";
            q.top_k = 100;
            q.mode = RetrievalMode::kBm25;
            while (!stop) {
                auto hits = c->query(q);
                if (!hits.ok()) {
                    ++mixed;
                    continue;
                }
                // Every hit from one version, and all of that version's chunks.
                std::string seen;
                for (const auto& h : hits.value()) {
                    const std::string v = h.text.substr(0, h.text.find(' '));
                    if (seen.empty()) seen = v;
                    if (v != seen) ++mixed;
                }
                if (hits->size() != chunks_per_version) ++mixed;
                ++queries;
            }
        });
    }
    for (int v = 1; v <= 30; ++v)
        ingest_ok(*c, doc("d", version(v)));
    while (queries < 20)
        std::this_thread::yield();
    stop = true;
    for (auto& t : readers)
        t.join();
    EXPECT_EQ(mixed, 0);
}

TEST(Collection, StoresItsChunkingConfigTokensAndSemanticIncluded) {
    TempFile file;
    tokens::TokenizerRegistry vocabularies(tokens::default_vocab_dir());
    auto got = vocabularies.get("cl100k_base");
    ASSERT_TRUE(std::holds_alternative<const tokens::Tokenizer*>(got)) << std::get<1>(got);
    const tokens::Tokenizer* cl100k = std::get<0>(got);
    auto embedder = std::make_shared<CountingEmbedder>();
    auto store = RagStore::open(file.path).value();
    CollectionOptions tokens_options;
    tokens_options.chunking.strategy = ChunkStrategy::kSentence;
    tokens_options.chunking.size = {
        .size = 16, .overlap = 0, .unit = SizeUnit::kTokens, .tokenizer = cl100k};
    auto by_tokens = make(store, embedder, tokens_options, "by-tokens");
    ingest_ok(*by_tokens, doc("solar", kSolar));
    for (const auto& ch : by_tokens->chunks("solar"))
        EXPECT_LE(cl100k->count(ch.text), 16u);
    CollectionOptions semantic_options;
    semantic_options.chunking.strategy = ChunkStrategy::kSemantic;
    semantic_options.chunking.size = {
        .size = 0, .overlap = 0, .unit = SizeUnit::kCharacters, .tokenizer = nullptr};
    auto semantic = make(store, embedder, semantic_options, "semantic");
    ingest_ok(*semantic, doc("garden", std::string(kGarden) + "\n\n" + kBread));
    EXPECT_GE(semantic->document("garden")->chunks, 1u);

    // Reopened: the stored config, and a token-sized collection needs its tokenizer.
    auto without = Collection::open(store, "by-tokens", embedder);
    ASSERT_FALSE(without.ok());
    EXPECT_EQ(without.error().code, "tokenizer_mismatch");
    EXPECT_NE(without.error().message.find("cl100k_base"), std::string::npos);
    CollectionOptions with;
    with.chunking.size.tokenizer = cl100k;
    auto reopened = Collection::open(store, "by-tokens", embedder, with);
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    EXPECT_EQ(reopened.value()->chunking().strategy, ChunkStrategy::kSentence);
    EXPECT_EQ(reopened.value()->chunking().size.unit, SizeUnit::kTokens);
    EXPECT_EQ(reopened.value()->chunking().size.size, 16u);
    auto semantic_again = Collection::open(store, "semantic", embedder);
    ASSERT_TRUE(semantic_again.ok()) << semantic_again.error().message;
    EXPECT_EQ(semantic_again.value()->chunking().strategy, ChunkStrategy::kSemantic);
    // The reopened chunker works: a changed document is chunked and replaced.
    const auto r = ingest_ok(*semantic_again.value(), doc("garden", kBread));
    EXPECT_EQ(r.outcome, IngestOutcome::kReplaced);
}

TEST(CollectionRegistry, HandsOutOneObjectPerCollection) {
    TempFile file;
    auto embedder = std::make_shared<CountingEmbedder>();
    int resolved = 0;
    auto resolve = [&](std::string_view name) -> Result<std::shared_ptr<const Embedder>> {
        ++resolved;
        if (name == "hashing-256") return std::shared_ptr<const Embedder>(embedder);
        return Error::invalid_request("unknown embedder '" + std::string(name) + "'", "embedder",
                                      "unknown_embedder");
    };
    {
        CollectionRegistry registry(RagStore::open(file.path).value(), resolve, small_chunks());
        auto created = registry.create("notes", "hashing-256");
        ASSERT_TRUE(created.ok()) << created.error().message;
        EXPECT_EQ(registry.create("notes", "hashing-256").error().code, "collection_exists");
        EXPECT_EQ(registry.create("other", "nope").error().code, "unknown_embedder");
        auto got = registry.get("notes");
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(got.value().get(), created.value().get());
        ingest_ok(*got.value(), doc("solar", kSolar));
        EXPECT_EQ(registry.get("missing").error().code, "collection_not_found");
    }
    // A new registry (a restarted server) opens it from the store with the stored embedder.
    CollectionRegistry registry(RagStore::open(file.path).value(), resolve, small_chunks());
    resolved = 0;
    auto first = registry.get("notes");
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = registry.get("notes");
    EXPECT_EQ(first.value().get(), second.value().get());
    EXPECT_EQ(resolved, 1);
    EXPECT_EQ(first.value()->stats().documents, 1u);
    EXPECT_EQ(registry.list().value().size(), 1u);
    ASSERT_TRUE(registry.drop("notes").ok());
    EXPECT_EQ(registry.get("notes").error().code, "collection_not_found");
    EXPECT_EQ(registry.drop("notes").error().code, "collection_not_found");
    // The dropped object still answers from memory, but cannot write.
    EXPECT_FALSE(first.value()->ingest(doc("garden", kGarden)).ok());
}

}  // namespace
}  // namespace switchyard::rag
