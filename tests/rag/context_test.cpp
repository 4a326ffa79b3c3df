// Context assembly: packing into a token budget (exactly, in tokens of a real vocabulary),
// stable order and citations whatever the ranking, neighbouring chunks merged back into the
// document's text, and conversation history as a retrievable source.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/context.hpp"
#include "switchyard/rag/hashing_embedder.hpp"
#include "switchyard/rag/rag_store.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::rag {
namespace {

const tokens::Tokenizer* cl100k() {
    static tokens::TokenizerRegistry registry(tokens::default_vocab_dir());
    auto got = registry.get("cl100k_base");
    if (auto* error = std::get_if<std::string>(&got)) {
        ADD_FAILURE() << *error;
        return nullptr;
    }
    return std::get<0>(got);
}

size_t words(std::string_view text) {
    size_t n = 0;
    bool in = false;
    for (char c : text) {
        const bool space = c == ' ' || c == '\n' || c == '\t';
        if (!space && !in) ++n;
        in = !space;
    }
    return n;
}

RetrievedChunk chunk(std::string doc, size_t index, size_t begin, std::string text, float score) {
    RetrievedChunk c;
    c.chunk_id = std::hash<std::string>()(doc) ^ (index * 7919);
    c.document_id = doc;
    c.source = doc + ".md";
    c.index = index;
    c.byte_begin = begin;
    c.byte_end = begin + text.size();
    c.text = std::move(text);
    c.score = score;
    return c;
}

const char* kDoc =
    "Switchyard routes each request to a model. The router reads the catalog and the policy. "
    "Budgets cap spending per key and per team. Cache hits skip the upstream call entirely. "
    "Failover retries another deployment when one fails. Streaming answers pass through "
    "unchanged. The ledger records tokens and cost for every request. Rate limits apply per "
    "key. Collections hold documents for retrieval. Context assembly packs chunks into a "
    "budget.";

// The real chunks of kDoc from a collection: character chunker, overlap, so merged passages
// can be compared with the document's bytes.
std::vector<RetrievedChunk> doc_chunks() {
    auto store = RagStore::open(":memory:").value();
    CollectionOptions o;
    o.chunking.strategy = ChunkStrategy::kCharacter;
    o.chunking.size = {
        .size = 80, .overlap = 20, .unit = SizeUnit::kCharacters, .tokenizer = nullptr};
    auto c = Collection::create(store, "ctx", std::make_shared<HashingEmbedder>(), o).value();
    Document d;
    d.id = "guide";
    d.source = "docs/guide.md";
    d.text = kDoc;
    EXPECT_TRUE(c->ingest(d).ok());
    return c->chunks("guide");
}

TEST(Context, PacksIntoTheBudgetExactlyInTokens) {
    const tokens::Tokenizer* tok = cl100k();
    ASSERT_NE(tok, nullptr);
    std::vector<RetrievedChunk> ranked;
    const auto chunks = doc_chunks();
    ASSERT_GE(chunks.size(), 6u);
    // Ranked out of document order, and one chunk from another document.
    for (size_t i : {4u, 0u, 5u, 2u})
        ranked.push_back(chunks[i]);
    ranked.push_back(chunk("faq", 0, 0, "What is a budget? A cap on spend per key.", 0.1f));
    ContextOptions options;
    options.count_tokens = token_counter(*tok);

    options.budget_tokens = 100000;
    const AssembledContext all = assemble_context(ranked, options);
    EXPECT_EQ(all.chunks_used, ranked.size());
    EXPECT_EQ(all.chunks_skipped, 0u);
    EXPECT_EQ(all.n_tokens, tok->count(all.text));

    for (size_t budget = 0; budget <= all.n_tokens + 2; ++budget) {
        options.budget_tokens = budget;
        const AssembledContext got = assemble_context(ranked, options);
        SCOPED_TRACE("budget " + std::to_string(budget));
        EXPECT_EQ(got.n_tokens, tok->count(got.text));
        EXPECT_LE(got.n_tokens, budget);
        EXPECT_EQ(got.chunks_used + got.chunks_skipped, ranked.size());
        if (budget >= all.n_tokens) {
            EXPECT_EQ(got.text, all.text);
        } else {
            EXPECT_LT(got.chunks_used, ranked.size());
        }
    }
    // The best chunk comes first in line: a budget for one passage takes the top-ranked one.
    options.budget_tokens = tok->count("[1] docs/guide.md#4\n" + chunks[4].text);
    const AssembledContext one = assemble_context(ranked, options);
    ASSERT_EQ(one.citations.size(), 1u);
    EXPECT_EQ(one.citations[0].chunk_first, 4u);
    EXPECT_EQ(one.n_tokens, options.budget_tokens);
}

TEST(Context, CitationsAreStableWhateverTheRanking) {
    std::vector<RetrievedChunk> ranked = {
        chunk("b", 3, 300, "Beta three.", 0.9f),
        chunk("a", 7, 700, "Alpha seven.", 0.8f),
        chunk("a", 1, 100, "Alpha one.", 0.7f),
    };
    ContextOptions options;
    options.count_tokens = words;
    options.budget_tokens = 1000;
    const AssembledContext first = assemble_context(ranked, options);
    EXPECT_EQ(first.text,
              "[1] a.md#1\nAlpha one.\n\n[2] a.md#7\nAlpha seven.\n\n[3] b.md#3\nBeta three.");
    ASSERT_EQ(first.citations.size(), 3u);
    const Citation& c = first.citations[1];
    EXPECT_EQ(c.number, 2u);
    EXPECT_EQ(c.label, "a.md#7");
    EXPECT_EQ(c.source, "a.md");
    EXPECT_EQ(c.document_id, "a");
    EXPECT_EQ(c.chunk_first, 7u);
    EXPECT_EQ(c.chunk_last, 7u);
    EXPECT_EQ(c.byte_begin, 700u);
    EXPECT_EQ(c.byte_end, 712u);
    EXPECT_FLOAT_EQ(c.score, 0.8f);

    std::reverse(ranked.begin(), ranked.end());
    ranked[0].score = 0.1f;
    const AssembledContext second = assemble_context(ranked, options);
    EXPECT_EQ(second.text, first.text);
    ASSERT_EQ(second.citations.size(), first.citations.size());
    for (size_t i = 0; i < first.citations.size(); ++i) {
        EXPECT_EQ(second.citations[i].label, first.citations[i].label);
        EXPECT_EQ(second.citations[i].byte_begin, first.citations[i].byte_begin);
    }
    // A repeated chunk is taken once.
    ranked.push_back(ranked[0]);
    EXPECT_EQ(assemble_context(ranked, options).text, first.text);
}

TEST(Context, MergesNeighbouringChunksBackIntoTheDocumentText) {
    const auto chunks = doc_chunks();
    ASSERT_GE(chunks.size(), 6u);
    const std::vector<RetrievedChunk> ranked = {chunks[2], chunks[0], chunks[5], chunks[1]};
    ContextOptions options;
    options.count_tokens = words;
    options.budget_tokens = 1000;
    const AssembledContext got = assemble_context(ranked, options);
    ASSERT_EQ(got.citations.size(), 2u);
    EXPECT_EQ(got.citations[0].label, "docs/guide.md#0-2");
    EXPECT_EQ(got.citations[0].chunk_first, 0u);
    EXPECT_EQ(got.citations[0].chunk_last, 2u);
    EXPECT_EQ(got.citations[0].byte_begin, chunks[0].byte_begin);
    EXPECT_EQ(got.citations[0].byte_end, chunks[2].byte_end);
    EXPECT_EQ(got.citations[1].label, "docs/guide.md#5");
    // Overlaps written once: the passage is exactly the document's bytes.
    const std::string_view doc(kDoc);
    const std::string expected =
        "[1] docs/guide.md#0-2\n" +
        std::string(doc.substr(chunks[0].byte_begin, chunks[2].byte_end - chunks[0].byte_begin)) +
        "\n\n[2] docs/guide.md#5\n" + chunks[5].text;
    EXPECT_EQ(got.text, expected);

    options.merge_neighbours = false;
    EXPECT_EQ(assemble_context(ranked, options).citations.size(), 4u);
}

TEST(Context, EmptyInputsGiveAnEmptyContext) {
    const std::vector<RetrievedChunk> ranked = {chunk("a", 0, 0, "one two three four", 1)};
    ContextOptions options;
    options.count_tokens = words;
    options.budget_tokens = 0;
    EXPECT_EQ(assemble_context(ranked, options).text, "");
    options.budget_tokens = 3;  // the chunk alone is 4 words
    const AssembledContext got = assemble_context(ranked, options);
    EXPECT_EQ(got.text, "");
    EXPECT_EQ(got.chunks_skipped, 1u);
    options.budget_tokens = 100;
    options.count_tokens = nullptr;
    EXPECT_EQ(assemble_context(ranked, options).text, "");
    options.count_tokens = words;
    EXPECT_EQ(assemble_context({}, options).text, "");
}

TEST(Context, ConversationHistoryIsRetrievableContext) {
    ConversationHistory history({.max_turns = 6, .document_id = "conversation"});
    history.add({"user", "Our marketing budget for March is 4000 euros."});
    history.add({"assistant", "Noted: 4000 euros for marketing in March."});
    history.add({"user", "The office plants need watering on Fridays."});
    history.add({"assistant", "I will remember the plants."});
    history.add({"user", "Book the train to Lyon for Tuesday."});
    EXPECT_EQ(history.size(), 5u);

    auto hits = history.retrieve("what was the marketing budget?", 2);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].source, "conversation");
    EXPECT_NE(hits[0].text.find("marketing"), std::string::npos);
    EXPECT_NE(hits[1].text.find("marketing"), std::string::npos);
    EXPECT_GT(hits[0].score, 0);

    // Consecutive turns merge into one passage, cited as a range of turns.
    ContextOptions options;
    options.count_tokens = words;
    options.budget_tokens = 1000;
    const AssembledContext got = assemble_context(hits, options);
    ASSERT_EQ(got.citations.size(), 1u);
    EXPECT_EQ(got.citations[0].label, "conversation#0-1");
    EXPECT_EQ(got.text,
              "[1] conversation#0-1\nuser: Our marketing budget for March is 4000 euros.\n"
              "assistant: Noted: 4000 euros for marketing in March.");

    // No word in common: the most recent turns instead, with score 0.
    hits = history.retrieve("zzz", 2);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].index, 4u);
    EXPECT_EQ(hits[1].index, 3u);
    EXPECT_EQ(hits[0].score, 0);

    // Old turns are forgotten past max_turns.
    for (int i = 0; i < 6; ++i)
        history.add({"user", "filler turn " + std::to_string(i)});
    EXPECT_EQ(history.size(), 6u);
    for (const auto& h : history.retrieve("marketing budget", 6)) {
        EXPECT_EQ(h.text.find("marketing"), std::string::npos);
    }
}

}  // namespace
}  // namespace switchyard::rag
