// CollectionRegistry: one Collection object per collection name over one RagStore, for a
// server. A Collection keeps its documents' chunks and indexes in memory, so two objects
// opened on the same collection would each see only their own writes; the registry opens a
// collection once (on first use, rebuilding its indexes from the store) and hands the same
// object to every caller. Embedders are found by the name stored with the collection,
// through a resolver the owner supplies (the built-in ones, a remote endpoint).
// Writes by other processes (`switchyard ingest` into the gateway's file): triggers on
// rag_documents count a version per collection (table rag_versions, created here). Each get()
// reads SQLite's `PRAGMA data_version` (it moves only when another connection commits); when
// it moved, the versions are read and each open collection whose version changed is reopened
// from the store (its indexes rebuilt). Callers still holding the old object keep using it;
// if one of them was writing, the collection is reopened once more at the first get() after the
// old object is released, so its write is not lost from memory.
// Writes by this process bump the versions too; note_own_write() after them keeps them from
// causing a reload. Trade-offs: a reload rebuilds the whole collection; the data_version read is
// skipped while another thread holds the store's lock (try_run), so get() of an open collection
// never waits for a document's SQLite transaction; the next get() makes the check. Thread safety:
// every method may be called from any thread. get() of a collection not yet open (or changed
// outside) loads it under the registry's mutex, so every other call waits for that load (trade-off:
// simple; a reload happens once per outside commit to that collection). Failure: results, as
// Collection: not_found collection_not_found, invalid_request collection_exists /
// embedder_mismatch, whatever the resolver returns for an unknown embedder name. A failed reload
// of an open collection (or trigger install) is logged, the open object keeps serving, and it is
// tried again after kRetryAfter.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/rag_store.hpp"

namespace switchyard::rag {

class CollectionRegistry {
public:
    using EmbedderResolver =
        std::function<Result<std::shared_ptr<const Embedder>>(std::string_view embedder_name)>;

    // `options` are used for opening (tokenizer, index options) and as create()'s defaults.
    CollectionRegistry(std::shared_ptr<RagStore> store, EmbedderResolver resolve,
                       CollectionOptions options = {});

    // The collection, opened on first use.
    Result<std::shared_ptr<Collection>> get(std::string_view name);
    // A new collection with the resolver's embedder `embedder_name`.
    Result<std::shared_ptr<Collection>> create(std::string_view name,
                                               std::string_view embedder_name,
                                               const CollectionOptions& options);
    Result<std::shared_ptr<Collection>> create(std::string_view name,
                                               std::string_view embedder_name) {
        return create(name, embedder_name, options_);
    }
    // Deletes the collection from the store and forgets it. Holders of the object keep
    // reading from memory; their ingests fail (the store no longer has the collection).
    Status drop(std::string_view name);
    Result<std::vector<CollectionInfo>> list() { return store_->collections(); }

    const std::shared_ptr<RagStore>& store() const { return store_; }

    // After this process wrote to `name` through the object get() returned: those writes
    // are in memory already, so the version they bumped counts as seen, and the collection is
    // not reloaded for them at the next outside commit. Does nothing when another connection
    // committed since the last check, or a replaced object is still in use (get() decides).
    void note_own_write(std::string_view name);

    // Collections reopened because another process changed them (for tests and stats).
    uint64_t reloads() const;

private:
    // Where a collection stands in the store: its row id and the trigger-kept version.
    struct Version {
        int64_t id = 0;
        int64_t version = 0;
        bool operator==(const Version&) const = default;
    };
    struct Stored {
        Version version;
        std::string embedder;
    };
    using StoredMap = std::map<std::string, Stored, std::less<>>;
    struct Entry {
        std::shared_ptr<Collection> collection;
        Version version;
        bool stale = false;  // changed by another connection since it was opened
        // Objects this one replaced while callers still held them; when they are released,
        // the version is compared again (a write one made during the reload is picked up).
        std::vector<std::shared_ptr<Collection>> retired;
        // After a failed reload: no new try before this (the open object serves meanwhile).
        std::chrono::steady_clock::time_point retry_at{};
    };
    // How long a failed reload or trigger install waits before it is tried again.
    static constexpr std::chrono::seconds kRetryAfter{5};

    // Marks entries stale when another connection committed; installs the version triggers
    // on first use (requires mutex_).
    Status check_outside_writes_locked();
    Result<StoredMap> stored_locked();
    // Opens `name` (as `stored` describes it) from the store (requires mutex_).
    Result<std::shared_ptr<Collection>> open_locked(std::string_view name, const Stored& stored);

    const std::shared_ptr<RagStore> store_;
    const EmbedderResolver resolve_;
    const CollectionOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> open_;  // guarded by mutex_
    int64_t data_version_ = -1;                       // guarded by mutex_; -1: not read yet
    bool triggers_ = false;                           // guarded by mutex_
    std::chrono::steady_clock::time_point triggers_retry_at_{};  // guarded by mutex_
    uint64_t reloads_ = 0;                                       // guarded by mutex_
};

}  // namespace switchyard::rag
