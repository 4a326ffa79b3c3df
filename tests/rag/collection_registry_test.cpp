// CollectionRegistry and writes by another connection (`switchyard ingest` into a running
// gateway's file): a collection changed outside is reopened on the next get(), one changed only
// by the registry's own objects or not at all is not, a write made by an old object while the
// reload ran is picked up once that object is released, and a collection dropped outside is gone.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/collection_registry.hpp"
#include "switchyard/rag/hashing_embedder.hpp"
#include "switchyard/rag/rag_store.hpp"

namespace switchyard::rag {
namespace {

struct TempFile {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("switchyard-registry-" + std::to_string(::getpid()) + ".db"))
                           .string();
    TempFile() { cleanup(); }
    ~TempFile() { cleanup(); }
    void cleanup() const {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
};

Document doc(std::string id, std::string text) {
    Document d;
    d.id = std::move(id);
    d.source = d.id;
    d.text = std::move(text);
    return d;
}

size_t hits(const Collection& c, std::string_view text) {
    QueryRequest q;
    q.text = std::string(text);
    q.mode = RetrievalMode::kBm25;
    auto found = c.query(q);
    EXPECT_TRUE(found.ok());
    return found.ok() ? found->size() : 0;
}

// Runs `fn` once, when the store's connection starts a statement whose SQL contains `sql`
// (before that statement's read transaction begins): another connection's commit "between
// two statements".
class BeforeStatement {
public:
    BeforeStatement(RagStore& store, std::string sql, std::function<void()> fn)
        : store_(store), sql_(std::move(sql)), fn_(std::move(fn)) {
        (void)store_.run([this](storage::SqliteDb& db) {
            sqlite3_trace_v2(db.handle(), SQLITE_TRACE_STMT, &BeforeStatement::trace, this);
        });
    }
    ~BeforeStatement() {
        (void)store_.run(
            [](storage::SqliteDb& db) { sqlite3_trace_v2(db.handle(), 0, nullptr, nullptr); });
    }
    bool fired() const { return fired_; }

private:
    static int trace(unsigned, void* self_ptr, void* stmt, void*) {
        auto* self = static_cast<BeforeStatement*>(self_ptr);
        const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
        if (!self->fired_ && sql && std::string_view(sql).find(self->sql_) != std::string::npos) {
            self->fired_ = true;
            self->fn_();
        }
        return 0;
    }
    RagStore& store_;
    std::string sql_;
    std::function<void()> fn_;
    bool fired_ = false;
};

class RegistryReload : public ::testing::Test {
protected:
    void SetUp() override {
        registry = std::make_unique<CollectionRegistry>(
            RagStore::open(file.path).value(),
            [this](std::string_view) -> Result<std::shared_ptr<const Embedder>> {
                ++resolves;
                if (resolver_fails) return Error::internal("the embedder is unavailable");
                return embedder;
            });
        ASSERT_TRUE(registry->create("notes", "hashing").ok());
        ASSERT_TRUE(registry->create("other", "hashing").ok());
        // The CLI: its own connection and its own Collection object.
        outside_store = RagStore::open(file.path).value();
    }
    std::shared_ptr<Collection> outside(std::string_view name) {
        auto c = Collection::open(outside_store, name, embedder);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? c.value() : nullptr;
    }
    std::shared_ptr<Collection> get(std::string_view name) {
        auto c = registry->get(name);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? c.value() : nullptr;
    }

    TempFile file;
    std::shared_ptr<const Embedder> embedder = std::make_shared<HashingEmbedder>();
    std::unique_ptr<CollectionRegistry> registry;
    std::shared_ptr<RagStore> outside_store;
    bool resolver_fails = false;
    int resolves = 0;
};

TEST_F(RegistryReload, SeesDocumentsWrittenByAnotherConnection) {
    const Collection* before = get("notes").get();
    ASSERT_TRUE(get("notes")->ingest(doc("a", "the gateway wrote about herons")).ok());
    EXPECT_EQ(get("notes").get(), before);  // own writes: no reload
    EXPECT_EQ(registry->reloads(), 0u);

    ASSERT_TRUE(
        outside("notes")->ingest(doc("b", "the command line wrote about albatrosses")).ok());
    auto now = get("notes");
    EXPECT_NE(now.get(), before);
    EXPECT_EQ(registry->reloads(), 1u);
    EXPECT_EQ(now->stats().documents, 2u);
    EXPECT_EQ(hits(*now, "albatrosses"), 1u);
    EXPECT_EQ(hits(*now, "herons"), 1u);
    EXPECT_EQ(get("notes").get(), now.get());  // nothing new: the same object
    EXPECT_EQ(registry->reloads(), 1u);

    // Deletes and metadata-only updates from outside are seen too.
    ASSERT_TRUE(outside("notes")->remove("a").ok());
    EXPECT_EQ(hits(*get("notes"), "herons"), 0u);
    Document moved = doc("b", "the command line wrote about albatrosses");
    moved.source = "moved/b.md";
    ASSERT_TRUE(outside("notes")->ingest(moved).ok());
    EXPECT_EQ(get("notes")->document("b")->source, "moved/b.md");
}

TEST_F(RegistryReload, OnlyTheChangedCollectionIsReopened) {
    const Collection* notes = get("notes").get();
    const Collection* other = get("other").get();
    // This process writes to notes (and says so); another one writes to other.
    ASSERT_TRUE(get("notes")->ingest(doc("own", "written by the gateway itself")).ok());
    registry->note_own_write("notes");
    ASSERT_TRUE(outside("other")->ingest(doc("x", "only the other collection changes")).ok());
    EXPECT_EQ(get("notes").get(), notes);
    EXPECT_NE(get("other").get(), other);
    EXPECT_EQ(registry->reloads(), 1u);
    // Without note_own_write the own write looks like an outside one at the next commit.
    ASSERT_TRUE(get("notes")->ingest(doc("own2", "another write by the gateway")).ok());
    ASSERT_TRUE(outside("other")->ingest(doc("y", "the other collection changes again")).ok());
    EXPECT_NE(get("notes").get(), notes);
    EXPECT_EQ(get("notes")->stats().documents, 2u);
    EXPECT_EQ(registry->reloads(), 2u);  // other is reopened on its next get()
}

TEST_F(RegistryReload, AWriteByTheOldObjectDuringTheReloadIsNotLost) {
    auto held = get("notes");  // a request still using the object when it is replaced
    ASSERT_TRUE(outside("notes")->ingest(doc("cli", "written outside about kestrels")).ok());
    auto fresh = get("notes");
    ASSERT_NE(fresh.get(), held.get());
    // The in-flight request's write lands in the store, but only in the old object's memory
    // (and noting it as an own write must not hide it).
    ASSERT_TRUE(held->ingest(doc("late", "a late write about ospreys")).ok());
    registry->note_own_write("notes");
    EXPECT_EQ(hits(*get("notes"), "ospreys"), 0u);  // the old object is still held
    held.reset();
    fresh.reset();
    auto now = get("notes");
    EXPECT_EQ(hits(*now, "ospreys"), 1u);
    EXPECT_EQ(hits(*now, "kestrels"), 1u);
}

TEST_F(RegistryReload, AnOutsideCommitDuringNoteOwnWriteIsStillLoaded) {
    ASSERT_TRUE(get("notes")->ingest(doc("own", "written by the gateway about herons")).ok());
    {
        // The CLI commits while note_own_write reads the collection's version.
        auto cli = outside("notes");
        BeforeStatement between(*registry->store(), "WHERE c.name = ?", [&] {
            ASSERT_TRUE(cli->ingest(doc("cli", "written outside about albatrosses")).ok());
        });
        registry->note_own_write("notes");
        ASSERT_TRUE(between.fired());
    }
    EXPECT_EQ(hits(*get("notes"), "albatrosses"), 1u);
    EXPECT_EQ(hits(*get("notes"), "herons"), 1u);
}

TEST_F(RegistryReload, AReloadReadsDocumentsAndChunksFromOneSnapshot) {
    get("notes");
    ASSERT_TRUE(outside("notes")->ingest(doc("a", "written outside about herons")).ok());
    {
        // The CLI commits a new document between the reload's document and chunk reads.
        auto cli = outside("notes");
        BeforeStatement between(*registry->store(), "FROM rag_chunks WHERE collection_id", [&] {
            ASSERT_TRUE(cli->ingest(doc("b", "written outside about albatrosses")).ok());
        });
        auto reloaded = registry->get("notes");
        ASSERT_TRUE(between.fired());
        ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
        EXPECT_EQ(reloaded.value()->stats().documents, 1u);
    }
    auto now = get("notes");  // the commit in between is loaded at the next get()
    EXPECT_EQ(now->stats().documents, 2u);
    EXPECT_EQ(hits(*now, "albatrosses"), 1u);
}

TEST_F(RegistryReload, ACollectionDroppedAndRecreatedOutsideIsReopened) {
    // "other" has the highest row id, so SQLite gives its re-creation the same id.
    ASSERT_TRUE(outside("other")->ingest(doc("x", "the dropped collection knew herons")).ok());
    EXPECT_EQ(hits(*get("other"), "herons"), 1u);
    ASSERT_TRUE(outside_store->drop_collection("other").ok());
    auto recreated = Collection::create(outside_store, "other", embedder);
    ASSERT_TRUE(recreated.ok()) << recreated.error().message;
    ASSERT_TRUE(recreated.value()->ingest(doc("y", "the new collection knows albatrosses")).ok());
    auto now = get("other");
    EXPECT_EQ(hits(*now, "albatrosses"), 1u);
    EXPECT_EQ(hits(*now, "herons"), 0u);
}

TEST_F(RegistryReload, GetOfAnOpenCollectionDoesNotWaitForTheStore) {
    auto notes = get("notes");
    std::promise<void> holding, done;
    auto release = done.get_future().share();
    // Another thread holds the store (a long ingest transaction); get() must not wait for it
    // (without the skip this test never finishes).
    std::thread holder([&] {
        (void)registry->store()->run([&](storage::SqliteDb&) {
            holding.set_value();
            release.wait();
        });
    });
    holding.get_future().wait();
    auto got = registry->get("notes");
    done.set_value();
    holder.join();
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got.value().get(), notes.get());
    // The skipped check is made at the next get().
    ASSERT_TRUE(outside("notes")->ingest(doc("a", "written outside about herons")).ok());
    EXPECT_EQ(hits(*get("notes"), "herons"), 1u);
}

TEST_F(RegistryReload, AFailedReloadKeepsServingTheOpenCollectionAndIsNotRetriedAtOnce) {
    ASSERT_TRUE(get("notes")->ingest(doc("own", "written by the gateway about herons")).ok());
    auto notes = get("notes");
    ASSERT_TRUE(outside("notes")->ingest(doc("cli", "written outside about albatrosses")).ok());
    resolver_fails = true;
    const int before = resolves;
    auto first = registry->get("notes");
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first.value().get(), notes.get());
    EXPECT_EQ(hits(*first.value(), "herons"), 1u);
    EXPECT_EQ(resolves, before + 1);
    auto second = registry->get("notes");  // not another full reload per request
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(resolves, before + 1);
    EXPECT_EQ(registry->reloads(), 0u);
}

TEST_F(RegistryReload, ACollectionDroppedOutsideIsGone) {
    get("notes");
    ASSERT_TRUE(outside_store->drop_collection("notes").ok());
    EXPECT_EQ(registry->get("notes").error().code, "collection_not_found");
    EXPECT_TRUE(registry->get("other").ok());
}

}  // namespace
}  // namespace switchyard::rag
