#include "switchyard/rag/collection_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace switchyard::rag {

namespace {

// A version per collection, bumped by every document write of any connection (a changed
// document, a metadata update and a delete all touch rag_documents) and by dropping the
// collection. The row outlives the collection: SQLite reuses the highest row id, so a collection
// dropped and re-created outside keeps counting up instead of repeating an (id, version) pair.
// (Earlier versions deleted the row with the collection: that trigger is dropped.)
constexpr std::string_view kVersionSchema = R"sql(
CREATE TABLE IF NOT EXISTS rag_versions (
    collection_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS rag_documents_version_insert AFTER INSERT ON rag_documents BEGIN
    INSERT INTO rag_versions (collection_id, version) VALUES (NEW.collection_id, 1)
        ON CONFLICT (collection_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER IF NOT EXISTS rag_documents_version_update AFTER UPDATE ON rag_documents BEGIN
    INSERT INTO rag_versions (collection_id, version) VALUES (NEW.collection_id, 1)
        ON CONFLICT (collection_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER IF NOT EXISTS rag_documents_version_delete AFTER DELETE ON rag_documents BEGIN
    INSERT INTO rag_versions (collection_id, version) VALUES (OLD.collection_id, 1)
        ON CONFLICT (collection_id) DO UPDATE SET version = version + 1;
END;
DROP TRIGGER IF EXISTS rag_collections_version_delete;
CREATE TRIGGER IF NOT EXISTS rag_collections_version_drop AFTER DELETE ON rag_collections BEGIN
    INSERT INTO rag_versions (collection_id, version) VALUES (OLD.id, 1)
        ON CONFLICT (collection_id) DO UPDATE SET version = version + 1;
END;
)sql";

Error not_found(std::string_view name) {
    return Error{.kind = ErrorKind::kNotFound,
                 .message = "collection '" + std::string(name) + "' does not exist",
                 .param = "collection",
                 .code = "collection_not_found"};
}

}  // namespace

CollectionRegistry::CollectionRegistry(std::shared_ptr<RagStore> store, EmbedderResolver resolve,
                                       CollectionOptions options)
    : store_(std::move(store)), resolve_(std::move(resolve)), options_(std::move(options)) {}

Status CollectionRegistry::check_outside_writes_locked() {
    if (!triggers_) {
        // A read-only file, or SQLITE_BUSY while the CLI writes: the collections still serve
        // (without outside-write checks); the install is tried again after kRetryAfter.
        const auto now = std::chrono::steady_clock::now();
        if (now < triggers_retry_at_) return Ok{};
        auto installed = store_->run([](storage::SqliteDb& db) { db.exec(kVersionSchema); });
        if (!installed) {
            triggers_retry_at_ = now + kRetryAfter;
            spdlog::warn(
                "rag: cannot install the version triggers (outside writes not seen "
                "until they are): {}",
                installed.error().message);
            return Ok{};
        }
        triggers_ = true;
    }
    // Skipped while another thread holds the store (an ingest's transaction, a reload's read
    // can take seconds): data_version_ stays, so the next get() sees the commit.
    auto tried =
        store_->try_run([](storage::SqliteDb& db) -> Result<int64_t> { return db.data_version(); });
    if (!tried) return Ok{};
    auto& now = *tried;
    if (!now) return now.error();
    if (*now == data_version_) return Ok{};
    const bool first = data_version_ < 0;
    data_version_ = *now;
    if (first || open_.empty()) return Ok{};
    auto stored = stored_locked();
    if (!stored) return stored.error();
    for (auto& [name, entry] : open_) {
        auto it = stored->find(name);
        if (it == stored->end() || !(it->second.version == entry.version)) entry.stale = true;
    }
    return Ok{};
}

Result<CollectionRegistry::StoredMap> CollectionRegistry::stored_locked() {
    return store_->run([](storage::SqliteDb& db) -> Result<StoredMap> {
        storage::SqliteStatement st(db,
                                    "SELECT c.name, c.id, c.embedder, COALESCE(v.version, 0) "
                                    "FROM rag_collections c "
                                    "LEFT JOIN rag_versions v ON v.collection_id = c.id");
        StoredMap out;
        while (st.step()) {
            out.emplace(st.text(0), Stored{.version = {.id = st.int64(1), .version = st.int64(3)},
                                           .embedder = st.text(2)});
        }
        return out;
    });
}

Result<std::shared_ptr<Collection>> CollectionRegistry::open_locked(std::string_view name,
                                                                    const Stored& stored) {
    auto embedder = resolve_(stored.embedder);
    if (!embedder) return embedder.error();
    return Collection::open(store_, name, std::move(embedder).value(), options_);
}

Result<std::shared_ptr<Collection>> CollectionRegistry::get(std::string_view name) {
    std::lock_guard lock(mutex_);
    if (auto checked = check_outside_writes_locked(); !checked) return checked.error();
    auto it = open_.find(name);
    if (it != open_.end()) {
        Entry& e = it->second;
        bool reload = e.stale;
        // Old objects nobody holds any more: a write one of them made after the reload read
        // the store shows as a version this entry has not seen.
        const size_t before = e.retired.size();
        std::erase_if(e.retired, [](const auto& c) { return c.use_count() == 1; });
        const bool released = e.retired.size() != before;
        if (!reload && !released) return e.collection;
        // A failed reload is tried again after kRetryAfter, not at every request; meanwhile the
        // open object serves.
        const auto now = std::chrono::steady_clock::now();
        if (now < e.retry_at) return e.collection;
        auto failed = [&](const Error& error) -> Result<std::shared_ptr<Collection>> {
            e.retry_at = now + kRetryAfter;
            spdlog::warn("rag: reopening collection '{}' failed (serving the open one): {}", name,
                         error.message);
            return e.collection;
        };
        auto stored = stored_locked();
        if (!stored) return failed(stored.error());
        auto found = stored->find(name);
        if (found == stored->end()) {
            open_.erase(it);
            return not_found(name);
        }
        if (!reload && found->second.version == e.version) return e.collection;
        // Reopen: the version is read before the load, so a commit during it is seen again.
        auto opened = open_locked(name, found->second);
        if (!opened) return failed(opened.error());
        ++reloads_;
        std::shared_ptr<Collection> old = std::exchange(e.collection, opened.value());
        if (old.use_count() > 1) e.retired.push_back(std::move(old));
        e.version = found->second.version;
        e.stale = false;
        return e.collection;
    }
    auto stored = stored_locked();
    if (!stored) return stored.error();
    auto found = stored->find(name);
    if (found == stored->end()) return not_found(name);
    auto opened = open_locked(name, found->second);
    if (!opened) return opened.error();
    open_.insert_or_assign(std::string(name), Entry{.collection = opened.value(),
                                                    .version = found->second.version,
                                                    .stale = false,
                                                    .retired = {},
                                                    .retry_at = {}});
    return opened;
}

Result<std::shared_ptr<Collection>> CollectionRegistry::create(std::string_view name,
                                                               std::string_view embedder_name,
                                                               const CollectionOptions& options) {
    auto embedder = resolve_(embedder_name);
    if (!embedder) return embedder.error();
    std::lock_guard lock(mutex_);
    if (auto checked = check_outside_writes_locked(); !checked) return checked.error();
    auto created = Collection::create(store_, name, std::move(embedder).value(), options);
    if (!created) return created.error();
    auto stored = stored_locked();
    if (!stored) return stored.error();
    Version version;
    if (auto found = stored->find(name); found != stored->end()) version = found->second.version;
    open_.insert_or_assign(std::string(name), Entry{.collection = created.value(),
                                                    .version = version,
                                                    .stale = false,
                                                    .retired = {},
                                                    .retry_at = {}});
    return created;
}

Status CollectionRegistry::drop(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto dropped = store_->drop_collection(name);
    if (!dropped) return dropped;
    if (auto it = open_.find(name); it != open_.end()) open_.erase(it);
    return Ok{};
}

void CollectionRegistry::note_own_write(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(name);
    if (it == open_.end()) return;
    Entry& e = it->second;
    if (e.stale || !e.retired.empty()) return;
    struct Seen {
        int64_t data_version = 0;
        Version version;
    };
    // The version first, then data_version: a commit by another connection between the two
    // moves data_version, so a version that may include it is never recorded as seen.
    auto seen = store_->run([&](storage::SqliteDb& db) -> Result<Seen> {
        Seen out;
        {
            storage::SqliteStatement st(
                db,
                "SELECT c.id, COALESCE(v.version, 0) FROM rag_collections c "
                "LEFT JOIN rag_versions v ON v.collection_id = c.id "
                "WHERE c.name = ?");
            st.bind(1, name);
            if (st.step()) out.version = {.id = st.int64(0), .version = st.int64(1)};
        }
        out.data_version = db.data_version();
        return out;
    });
    // Another connection committed since the last check: its writes may be in the version.
    if (!seen || seen->data_version != data_version_) return;
    if (seen->version.id == e.version.id) e.version = seen->version;
}

uint64_t CollectionRegistry::reloads() const {
    std::lock_guard lock(mutex_);
    return reloads_;
}

}  // namespace switchyard::rag
