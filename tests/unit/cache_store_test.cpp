// Response cache persistence: the entry encoding, SqliteCacheStore, and ResponseCache::warm —
// round trip across a restart, corrupt rows skipped and counted (never served), expired and
// future-dated rows dropped, the memory budget at load, invalidation reaching the store, and
// a full write queue dropping (and counting) instead of blocking.
#include "switchyard/cache/cache_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "switchyard/cache/semantic_cache.hpp"
#include "switchyard/rag/hashing_embedder.hpp"
#include "switchyard/storage/sqlite.hpp"

namespace switchyard::cache {
namespace {

using storage::SqliteDb;
using storage::SqliteStatement;

constexpr int64_t kNow = 1'700'000'000'000;

std::string temp_db(const std::string& name) {
    const auto path = std::filesystem::path(testing::TempDir()) / ("cache_store_" + name + ".db");
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + suffix);
    return path.string();
}

Entry entry(std::string text, int64_t created, int64_t ttl_ms = 60'000, std::string ns = "t") {
    Entry e;
    e.answer.model = "m";
    e.answer.message.role = Role::kAssistant;
    e.answer.message.text = std::move(text);
    e.answer.usage = Usage{10, 20, 3};
    e.ns = std::move(ns);
    e.requested_model = "m";
    e.prompt_text = "prompt";
    e.created_ms = created;
    e.expires_ms = created + ttl_ms;
    e.stale_until_ms = created + 2 * ttl_ms;
    e.cost_nusd = 1'000'000;
    return e;
}

CacheKey key(uint64_t n) {
    return CacheKey{.lo = n, .hi = n * 0x9e3779b97f4a7c15ULL};
}

std::shared_ptr<SqliteCacheStore> open_store(const std::string& path) {
    SqliteCacheStoreOptions o;
    o.path = path;
    return std::make_shared<SqliteCacheStore>(o);
}

int64_t rows(const std::string& path) {
    SqliteDb db(path);
    SqliteStatement st(db, "SELECT COUNT(*) FROM cache_entries");
    st.step();
    return st.int64(0);
}

// A cache persisted to `path` and warmed from it at `now`, as the gateway makes it.
struct Persisted {
    std::unique_ptr<ResponseCache> cache;
    WarmResult warm;
};
Persisted reopen(const std::string& path, int64_t now, CacheOptions options = {}) {
    Persisted p;
    p.cache = std::make_unique<ResponseCache>(options);
    p.cache->set_store(open_store(path));
    p.warm = p.cache->warm(now);
    return p;
}

TEST(CacheEntryEncoding, RoundTripsEveryField) {
    Entry e = entry("answer", kNow);
    e.answer.system_fingerprint = "fp_1";
    e.answer.finish_reason = FinishReason::kToolCalls;
    Message& m = e.answer.message;
    m.name = "bot";
    m.has_parts = true;
    m.content_null = true;
    m.tool_error = true;
    m.tool_call_id = "call_0";
    ContentPart image;
    image.type = ContentPart::Type::kImage;
    image.image_url = "data:image/png;base64,AAAA";
    image.detail = "low";
    ContentPart other;
    other.type = ContentPart::Type::kOther;
    other.raw_json = R"({"type":"input_audio"})";
    m.parts = {ContentPart{ContentPart::Type::kText, "part", "", "", ""}, image, other};
    m.tool_calls = {ToolCall{"call_1", "get_weather", R"({"city":"Paris"})"}};
    e.prompt_text = std::string("bytes \0 and \xff", 13);

    const std::string blob = encode_entry(key(7), e);
    const auto d = decode_entry(blob);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->key, key(7));
    const Entry& o = d->entry;
    EXPECT_EQ(o.ns, e.ns);
    EXPECT_EQ(o.requested_model, e.requested_model);
    EXPECT_EQ(o.prompt_text, e.prompt_text);
    EXPECT_EQ(o.created_ms, e.created_ms);
    EXPECT_EQ(o.expires_ms, e.expires_ms);
    EXPECT_EQ(o.stale_until_ms, e.stale_until_ms);
    EXPECT_EQ(o.cost_nusd, e.cost_nusd);
    EXPECT_EQ(o.answer.model, "m");
    EXPECT_EQ(o.answer.system_fingerprint, "fp_1");
    EXPECT_EQ(o.answer.finish_reason, FinishReason::kToolCalls);
    EXPECT_EQ(o.answer.usage.prompt_tokens, 10);
    EXPECT_EQ(o.answer.usage.completion_tokens, 20);
    EXPECT_EQ(o.answer.usage.cached_prompt_tokens, 3);
    const Message& om = o.answer.message;
    EXPECT_EQ(om.role, Role::kAssistant);
    EXPECT_EQ(om.text, "answer");
    EXPECT_EQ(om.name, "bot");
    EXPECT_TRUE(om.has_parts);
    EXPECT_TRUE(om.content_null);
    EXPECT_TRUE(om.tool_error);
    EXPECT_EQ(om.tool_call_id, "call_0");
    ASSERT_EQ(om.parts.size(), 3u);
    EXPECT_EQ(om.parts[0].text, "part");
    EXPECT_EQ(om.parts[1].type, ContentPart::Type::kImage);
    EXPECT_EQ(om.parts[1].image_url, image.image_url);
    EXPECT_EQ(om.parts[1].detail, "low");
    EXPECT_EQ(om.parts[2].type, ContentPart::Type::kOther);
    EXPECT_EQ(om.parts[2].raw_json, other.raw_json);
    ASSERT_EQ(om.tool_calls.size(), 1u);
    EXPECT_EQ(om.tool_calls[0].id, "call_1");
    EXPECT_EQ(om.tool_calls[0].name, "get_weather");
    EXPECT_EQ(om.tool_calls[0].arguments, R"({"city":"Paris"})");
}

TEST(CacheEntryEncoding, KeepsTheSemanticReferenceAndReadsVersionOne) {
    Entry e = entry("answer", kNow);
    e.semantic = SemanticRef{key(9), "gpt-route", "How do I reverse a list?"};
    const auto d = decode_entry(encode_entry(key(1), e));
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->entry.semantic);
    EXPECT_EQ(d->entry.semantic->partition, key(9));
    EXPECT_EQ(d->entry.semantic->model, "gpt-route");
    EXPECT_EQ(d->entry.semantic->text, "How do I reverse a list?");
    // A version-1 row (written before SemanticRef existed): the same bytes without the
    // trailing has_semantic byte. It still decodes, without a reference.
    std::string v1 = encode_entry(key(1), entry("answer", kNow));
    ASSERT_EQ(v1.back(), '\0');
    v1.pop_back();
    v1[0] = 1;
    const auto old = decode_entry(v1);
    ASSERT_TRUE(old);
    EXPECT_FALSE(old->entry.semantic);
    EXPECT_EQ(old->entry.answer.message.text, "answer");
    // A has_semantic byte other than 0 or 1 is corrupt.
    std::string bad = encode_entry(key(1), entry("answer", kNow));
    bad.back() = 2;
    EXPECT_FALSE(decode_entry(bad));
}

TEST(CacheEntryEncoding, RefusesTruncatedExtendedAndUnknownBytes) {
    Entry e = entry("answer", kNow);
    e.answer.message.tool_calls = {ToolCall{"id", "f", "{}"}};
    const std::string blob = encode_entry(key(1), e);
    ASSERT_TRUE(decode_entry(blob));
    for (size_t n = 0; n < blob.size(); ++n)
        EXPECT_FALSE(decode_entry(std::string_view(blob).substr(0, n))) << "cut at " << n;
    EXPECT_FALSE(decode_entry(blob + "x"));
    std::string version = blob;
    version[0] = static_cast<char>(kEntryFormatVersion + 1);
    EXPECT_FALSE(decode_entry(version));
    // A count no remaining bytes could hold: refused before allocating for it.
    std::string huge = blob;
    // The tool-call count: before the call's three strings and the has_semantic byte.
    const size_t count_at = blob.size() - (4 + 3 * 4 + 2 + 1 + 2) - 1;
    for (size_t i = 0; i < 4; ++i)
        huge[count_at + i] = '\xff';
    EXPECT_FALSE(decode_entry(huge));
    // An out-of-range enum (the finish reason is the byte after the two answer strings).
    std::string finish = blob;
    const size_t finish_at = 1 + 16 + 32 + (4 + 1) + (4 + 1) + (4 + 6) + (4 + 1) + 4;
    ASSERT_EQ(static_cast<uint8_t>(finish[finish_at]), static_cast<uint8_t>(FinishReason::kStop));
    finish[finish_at] = 99;
    EXPECT_FALSE(decode_entry(finish));
}

TEST(SqliteCacheStore, ACacheSurvivesARestart) {
    const auto path = temp_db("restart");
    {
        ResponseCache cache(CacheOptions{});
        cache.set_store(open_store(path));
        ASSERT_TRUE(cache.store(key(1), entry("one", kNow), kNow));
        ASSERT_TRUE(cache.store(key(2), entry("two", kNow + 1), kNow + 1));
        // No flush: close() (what the gateway does at shutdown) commits the queue.
        cache.store()->close();
    }
    EXPECT_EQ(rows(path), 2);
    auto p = reopen(path, kNow + 10);
    EXPECT_EQ(p.warm.loaded, 2);
    EXPECT_EQ(p.cache->stats().loaded, 2);
    EXPECT_EQ(p.cache->stats().entries, 2);
    const auto hit = p.cache->lookup(key(2), kNow + 10);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->entry->answer.message.text, "two");
    EXPECT_EQ(hit->entry->answer.usage.completion_tokens, 20);
    EXPECT_EQ(hit->age_ms, 9);  // the age runs on from when it was first stored
    EXPECT_FALSE(p.cache->lookup(key(3), kNow + 10));
    EXPECT_EQ(rows(path), 2);  // loading keeps the rows
}

// The semantic index is not persisted; the prompts are, and a restart indexes them again.
TEST(SqliteCacheStore, TheSemanticSideIsWarmAfterARestart) {
    const auto path = temp_db("semantic_restart");
    auto make_semantic = [] {
        return std::make_shared<SemanticCache>(SemanticOptions{},
                                               std::make_shared<rag::HashingEmbedder>());
    };
    ChatRequest req;
    req.model = "m";
    Message m;
    m.role = Role::kUser;
    m.text = "how do I reverse a linked list in place";
    req.messages.push_back(m);
    auto q = semantic_query("t", req, false);
    ASSERT_TRUE(q);
    {
        ResponseCache cache(CacheOptions{});
        cache.set_store(open_store(path));
        ASSERT_NE(cache.semantic(make_semantic), nullptr);
        Entry e = entry("reverse it like this", kNow);
        e.semantic = SemanticRef{q->partition, q->model, q->text};
        const int64_t expires = e.expires_ms;
        ASSERT_TRUE(cache.store(key(1), std::move(e), kNow));
        ASSERT_TRUE(cache.semantic()->insert(*q, key(1), expires, kNow));
        // An entry without a reference, and one already expired at the restart.
        ASSERT_TRUE(cache.store(key(2), entry("plain", kNow), kNow));
        Entry old = entry("expired", kNow, /*ttl_ms=*/8);
        old.semantic = SemanticRef{q->partition, q->model, "an expired question"};
        ASSERT_TRUE(cache.store(key(3), std::move(old), kNow));
        cache.store()->close();
    }
    ResponseCache cache(CacheOptions{});
    cache.set_store(open_store(path));
    SemanticCache* sc = cache.semantic(make_semantic);
    ASSERT_NE(sc, nullptr);
    EXPECT_EQ(cache.warm(kNow + 10).loaded, 3);  // the expired one is still stale-servable
    EXPECT_EQ(cache.reindex_semantic(kNow + 10), 1u);
    SemanticQuery again = *q;
    again.vector.clear();
    const auto found = sc->lookup(again);
    ASSERT_EQ(found.result, SemanticCache::Result::kHit);
    EXPECT_EQ(found.match->key, key(1));
    EXPECT_EQ(sc->stats().entries, 1);
}

// An entry the semantic side indexes is charged its share of the index, and its vector goes
// when the entry is evicted or invalidated.
TEST(ResponseCacheSemantic, EntriesCarryTheirVectorsMemoryAndTakeItAlong) {
    CacheOptions o;
    o.shards = 1;
    o.max_bytes = 64 << 10;
    ResponseCache cache(o);
    SemanticCache* sc = cache.semantic([] {
        return std::make_shared<SemanticCache>(SemanticOptions{},
                                               std::make_shared<rag::HashingEmbedder>());
    });
    ASSERT_NE(sc, nullptr);
    auto ask = [](const std::string& text) {
        ChatRequest r;
        r.model = "m";
        Message m;
        m.role = Role::kUser;
        m.text = text;
        r.messages.push_back(m);
        return *semantic_query("t", r, false);
    };
    auto put = [&](uint64_t n, const std::string& text) {
        auto q = ask(text);
        Entry e = entry("answer " + std::to_string(n), kNow + static_cast<int64_t>(n));
        e.semantic = SemanticRef{q.partition, q.model, q.text};
        const int64_t expires = e.expires_ms;
        ASSERT_TRUE(cache.store(key(n), std::move(e), kNow + static_cast<int64_t>(n)));
        ASSERT_TRUE(sc->insert(q, key(n), expires, kNow));
    };
    ASSERT_TRUE(cache.store(key(1000), entry("plain", kNow), kNow));
    const int64_t plain = cache.stats().bytes;
    put(1, "question one about sorting");
    EXPECT_GT(cache.stats().bytes - plain, plain + 400)
        << "a semantic entry is charged its vector and features";
    // Fill past the budget: evicted entries take their vectors with them.
    for (uint64_t n = 2; n <= 200; ++n)
        put(n, "question number " + std::to_string(n) + " about topic " + std::to_string(n * 7));
    const int64_t plain_resident = cache.lookup(key(1000), kNow) ? 1 : 0;
    const auto st = cache.stats();
    EXPECT_GT(st.evictions, 0);
    EXPECT_LE(st.bytes, static_cast<int64_t>(o.max_bytes));
    EXPECT_EQ(sc->stats().entries + plain_resident, st.entries) << "one vector per resident entry";
    // Invalidation by prompt text (every entry's prompt is "prompt") empties both sides.
    InvalidateFilter f;
    f.ns = "t";
    cache.invalidate(f, kNow);
    EXPECT_EQ(sc->stats().entries, 0);
}

TEST(SqliteCacheStore, CorruptRowsAreSkippedCountedAndDeletedNeverServed) {
    const auto path = temp_db("corrupt");
    {
        auto store = open_store(path);
        for (uint64_t i = 1; i <= 5; ++i)
            store->put(key(i), std::make_shared<const Entry>(entry("answer", kNow)));
        store->close();
    }
    {
        SqliteDb db(path);
        const auto hi = [](uint64_t n) { return std::to_string(static_cast<int64_t>(key(n).hi)); };
        // 1: garbage in the blob (the checksum no longer matches).
        db.exec("UPDATE cache_entries SET entry = x'00ff00ff' WHERE key_lo = 1");
        // 2: a blob that passes its checksum but does not decode (a truncated entry with a
        //    checksum recomputed over it, as a buggy writer would store).
        const std::string truncated = encode_entry(key(2), entry("answer", kNow)).substr(0, 30);
        SqliteStatement st(db,
                           "UPDATE cache_entries SET entry = ?1, checksum = ?2 WHERE key_lo = 2");
        st.bind_blob(1, truncated).bind(2, static_cast<int64_t>(entry_checksum(truncated)));
        st.step();
        // 3: the key columns of another row (the answer would be served for the wrong
        //    request): its blob names key 3.
        db.exec("UPDATE cache_entries SET key_lo = 33, key_hi = " + hi(33) + " WHERE key_lo = 3");
        // 4: the checksum column itself damaged.
        db.exec("UPDATE cache_entries SET checksum = checksum + 1 WHERE key_lo = 4");
    }
    auto p = reopen(path, kNow + 10);
    EXPECT_EQ(p.warm.corrupt, 4);
    EXPECT_EQ(p.warm.loaded, 1);
    const auto st = p.cache->stats();
    EXPECT_EQ(st.corrupt_skipped, 4);
    EXPECT_EQ(st.entries, 1);
    for (uint64_t i : {1, 2, 3, 4, 33})
        EXPECT_FALSE(p.cache->lookup(key(i), kNow + 10, -1, true)) << i;
    EXPECT_TRUE(p.cache->lookup(key(5), kNow + 10));
    EXPECT_EQ(rows(path), 1);  // the corrupt rows are gone: the next start does not count them
}

TEST(SqliteCacheStore, ExpiredAndFutureRowsAreDroppedAtLoad) {
    const auto path = temp_db("expired");
    {
        auto store = open_store(path);
        // Fresh at load; expired but inside its stale grace; past its grace; created
        // after "now" (the clock stepped back between runs).
        store->put(key(1), std::make_shared<const Entry>(entry("fresh", kNow, 60'000)));
        store->put(key(2), std::make_shared<const Entry>(entry("stale", kNow - 90'000, 60'000)));
        store->put(key(3), std::make_shared<const Entry>(entry("gone", kNow - 200'000, 60'000)));
        store->put(key(4), std::make_shared<const Entry>(entry("future", kNow + 5'000, 60'000)));
        store->close();
    }
    auto p = reopen(path, kNow);
    EXPECT_EQ(p.warm.loaded, 2);
    EXPECT_EQ(p.warm.expired, 2);
    EXPECT_TRUE(p.cache->lookup(key(1), kNow));
    EXPECT_FALSE(p.cache->lookup(key(2), kNow));  // served only as stale-if-error
    const auto stale = p.cache->lookup(key(2), kNow, -1, true);
    ASSERT_TRUE(stale);
    EXPECT_TRUE(stale->stale);
    EXPECT_FALSE(p.cache->lookup(key(3), kNow, -1, true));
    EXPECT_FALSE(p.cache->lookup(key(4), kNow, -1, true));
    EXPECT_EQ(rows(path), 2);
}

TEST(SqliteCacheStore, LoadingRespectsTheMemoryBudgetNewestFirst) {
    const auto path = temp_db("budget");
    const std::string text(2000, 'x');
    {
        ResponseCache big(CacheOptions{});
        big.set_store(open_store(path));
        for (uint64_t i = 1; i <= 10; ++i)
            ASSERT_TRUE(big.store(key(i), entry(text, kNow + static_cast<int64_t>(i)), kNow));
        big.store()->close();
    }
    ASSERT_EQ(rows(path), 10);
    CacheOptions small;
    small.max_bytes = 4 * (text.size() + 400);  // room for about four of them
    small.shards = 1;
    auto p = reopen(path, kNow + 100, small);
    const auto st = p.cache->stats();
    EXPECT_GE(p.warm.loaded, 3);
    EXPECT_LT(p.warm.loaded, 10);
    EXPECT_EQ(p.warm.loaded + p.warm.over_budget, 10);
    EXPECT_LE(static_cast<size_t>(st.bytes), small.max_bytes);
    EXPECT_EQ(st.evictions, 0);                         // nothing was loaded only to be thrown out
    EXPECT_TRUE(p.cache->lookup(key(10), kNow + 100));  // the newest are kept
    EXPECT_FALSE(p.cache->lookup(key(1), kNow + 100));  // the oldest are not
    EXPECT_EQ(rows(path), p.warm.loaded);               // nor kept on disk
}

TEST(SqliteCacheStore, InvalidationAndEvictionReachTheStore) {
    const auto path = temp_db("invalidate");
    {
        ResponseCache cache(CacheOptions{});
        auto store = open_store(path);
        cache.set_store(store);
        ASSERT_TRUE(cache.store(key(1), entry("a1", kNow, 60'000, "a"), kNow));
        ASSERT_TRUE(cache.store(key(2), entry("a2", kNow, 60'000, "a"), kNow));
        ASSERT_TRUE(cache.store(key(3), entry("b1", kNow, 60'000, "b"), kNow));
        // A row of namespace a that is on disk but not in memory (from an earlier run, say):
        // invalidation must reach it too.
        store->put(key(4), std::make_shared<const Entry>(entry("a-disk", kNow, 60'000, "a")));
        store->flush();
        ASSERT_EQ(rows(path), 4);
        InvalidateFilter f;
        f.ns = "a";
        EXPECT_EQ(cache.invalidate(f, kNow), 2u);
        store->flush();
        EXPECT_EQ(rows(path), 1);
        // An entry that expires past its grace on lookup leaves the store as well.
        EXPECT_FALSE(cache.lookup(key(3), kNow + 200'000, -1, true));
        store->close();
    }
    EXPECT_EQ(rows(path), 0);

    // Eviction for the memory budget erases the evicted rows.
    const auto path2 = temp_db("evict");
    CacheOptions small;
    small.max_bytes = 3000;
    small.shards = 1;
    ResponseCache cache(small);
    auto store = open_store(path2);
    cache.set_store(store);
    for (uint64_t i = 1; i <= 6; ++i)
        ASSERT_TRUE(cache.store(key(i), entry(std::string(800, 'x'), kNow), kNow));
    store->flush();
    const auto st = cache.stats();
    EXPECT_GT(st.evictions, 0);
    EXPECT_EQ(rows(path2), st.entries);
}

TEST(SqliteCacheStore, AFullQueueDropsWritesAndCountsThemButKeepsInvalidations) {
    const auto path = temp_db("full");
    SqliteCacheStoreOptions o;
    o.path = path;
    o.flush_interval_ms = 3'600'000;  // the writer waits: the queue only fills
    o.batch_writes = 1'000'000;
    auto one = std::make_shared<Entry>(entry(std::string(1000, 'x'), kNow));
    one->bytes = 1000;
    o.max_pending_bytes = 3 * 1100;  // three puts fit (each counts its bytes plus a little)
    SqliteCacheStore store(o);
    for (uint64_t i = 1; i <= 10; ++i)
        store.put(key(i), one);  // never blocks
    auto st = store.stats();
    EXPECT_EQ(st.queued, 3);
    EXPECT_EQ(st.dropped, 7);
    EXPECT_EQ(st.pending, 3);
    InvalidateFilter none;
    none.ns = "no such namespace";
    store.invalidate(none, kNow);  // over the bound, queued all the same
    st = store.stats();
    EXPECT_EQ(st.queued, 4);
    EXPECT_EQ(st.dropped, 7);
    store.flush();
    st = store.stats();
    EXPECT_EQ(st.written, 4);
    EXPECT_EQ(st.pending, 0);
    EXPECT_EQ(rows(path), 3);
    store.close();
    store.put(key(11), one);  // after close: dropped, counted
    EXPECT_EQ(store.stats().dropped, 8);
}

TEST(SqliteCacheStore, OpeningAnUnwritablePathThrowsWithThePath) {
    SqliteCacheStoreOptions o;
    o.path = "/nonexistent-dir/cache.db";
    try {
        SqliteCacheStore store(o);
        ADD_FAILURE() << "expected SqliteError";
    } catch (const storage::SqliteError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/cache.db"), std::string::npos);
    }
}

}  // namespace
}  // namespace switchyard::cache
