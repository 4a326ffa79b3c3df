// CacheStore: where the response cache's entries persist, so a restart keeps the cache warm
// (docs/cache.md#persistence). ResponseCache tells its store about every change (put, erase,
// invalidate) and reads it once at start-up (ResponseCache::warm). SqliteCacheStore is the
// embedded implementation; a shared store (Redis, for several replicas) implements the same
// interface with the same entry encoding (encode_entry / decode_entry / entry_checksum).
// Thread safety: every method may be called from any thread. Writes never block and never
// touch the disk on the caller's thread: they are queued and written in batches by the
// store's own writer thread. load() runs at start-up, before writes begin.
// Failure: a full queue (a slow or failing disk) drops best-effort writes and counts them
// (stats().dropped); invalidations are never dropped. A crash (kill -9) loses at most the
// writes queued since the last commit (one batch, `flush_interval_ms`). Opening the store
// throws storage::SqliteError; a failing commit is logged and counted, never thrown.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "switchyard/cache/response_cache.hpp"

namespace switchyard::storage {
class SqliteDb;
class SqliteStatement;
}  // namespace switchyard::storage

namespace switchyard::cache {

// The persisted form of an entry, format version 2 (kEntryFormatVersion), little-endian:
//   u8 version, u64 key hi, u64 key lo, i64 created_ms, expires_ms, stale_until_ms, cost_nusd,
//   str ns, requested_model, prompt_text,
//   answer: str model, system_fingerprint, u8 finish_reason, i64 prompt_tokens,
//     completion_tokens, cached_prompt_tokens,
//   message: u8 role, u8 flags (1 has_parts, 2 content_null, 4 tool_error), str text, name,
//     tool_call_id, u32 n_parts × (u8 type, str text, image_url, detail, raw_json),
//     u32 n_tool_calls × (str id, name, arguments),
//   since version 2: u8 has_semantic, and when 1: u64 partition hi, u64 partition lo,
//     str model, str text (the SemanticRef)
// where str is a u32 byte length then the bytes. The key is inside so a row whose key
// columns disagree with its blob is caught. A field added to Entry must be added here with
// a new version; older versions still decode (version 1: no SemanticRef), newer ones are
// refused (read as corrupt: the cache refills).
inline constexpr uint8_t kEntryFormatVersion = 2;
std::string encode_entry(const CacheKey& key, const Entry& entry);
// The key and entry in `bytes`; nullopt when the version is unknown, a length or count runs
// past the end, an enum is out of range, or bytes are left over. `entry.bytes` is not set.
struct DecodedEntry {
    CacheKey key;
    Entry entry;
};
std::optional<DecodedEntry> decode_entry(std::string_view bytes);
// XXH3-64 of the encoded bytes, stored beside them.
uint64_t entry_checksum(std::string_view bytes);

struct CacheStoreStats {
    int64_t queued = 0;          // writes accepted (puts, erases, invalidations)
    int64_t written = 0;         // writes committed
    int64_t dropped = 0;         // writes dropped: the queue was full, or a commit failed
    int64_t failed_commits = 0;  // batches that did not commit (logged)
    int64_t pending = 0;         // writes waiting now
};

// What load() saw.
struct CacheLoadResult {
    int64_t rows = 0;     // rows read
    int64_t visited = 0;  // rows handed to the visitor (checksum and decoding passed)
    int64_t corrupt = 0;  // rows whose checksum or decoding failed: deleted, never visited
    int64_t deleted = 0;  // rows deleted (corrupt, or refused by the visitor)
};

class CacheStore {
public:
    virtual ~CacheStore() = default;

    // Stores (or replaces) the entry under `key`. Best effort: dropped when the queue is full.
    virtual void put(const CacheKey& key, std::shared_ptr<const Entry> entry) = 0;
    // The entry left memory (evicted or expired). Best effort: a dropped erase leaves a row
    // the next load reloads (a valid answer) or drops (expired).
    virtual void erase(const CacheKey& key) = 0;
    // Removes every stored entry matching `filter` (ResponseCache::invalidate), including
    // rows that are not in memory. Never dropped: an invalidated answer must not come back
    // after a restart.
    virtual void invalidate(const InvalidateFilter& filter, int64_t now_ms) = 0;

    // Visits every row whose checksum and decoding pass, most recently created first; a
    // visitor returning false has the row deleted (expired, or no room). Corrupt rows are
    // deleted and counted, never visited. Call once at start-up, before any write.
    using Visitor = std::function<bool(const CacheKey& key, Entry&& entry)>;
    virtual CacheLoadResult load(const Visitor& visit) = 0;

    // Blocks until every write queued before the call is committed (or given up on).
    virtual void flush() = 0;
    // Commits everything queued and stops the writer; later writes are dropped.
    virtual void close() = 0;
    virtual CacheStoreStats stats() const = 0;
    // What it is, for stats and logs: "sqlite:/var/lib/switchyard/cache.db".
    virtual std::string describe() const = 0;
};

struct SqliteCacheStoreOptions {
    std::string path;                      // SQLite file (created with its table)
    int64_t flush_interval_ms = 200;       // commit at least this often when writes wait
    size_t batch_writes = 256;             // commit as soon as this many writes wait
    size_t max_pending_bytes = 64u << 20;  // queued entries' memory; beyond it puts drop
};

// One table, cache_entries: key hi/lo (unique), namespace, requested model,
// created/expires/stale_until ms and cost (readable with the sqlite3 shell), the encoded
// entry (BLOB) and its checksum. WAL mode. The writer thread runs at nice 10, like the
// usage ledger's. Up to `max_pending_bytes` of entries wait in the queue, plus the batch
// being written.
class SqliteCacheStore final : public CacheStore {
public:
    // Opens (creating) the database and its table and starts the writer. Throws SqliteError.
    explicit SqliteCacheStore(SqliteCacheStoreOptions options);
    SqliteCacheStore(const SqliteCacheStore&) = delete;
    SqliteCacheStore& operator=(const SqliteCacheStore&) = delete;
    ~SqliteCacheStore() override;  // close()

    void put(const CacheKey& key, std::shared_ptr<const Entry> entry) override;
    void erase(const CacheKey& key) override;
    void invalidate(const InvalidateFilter& filter, int64_t now_ms) override;
    CacheLoadResult load(const Visitor& visit) override;
    void flush() override;
    void close() override;
    CacheStoreStats stats() const override;
    std::string describe() const override { return "sqlite:" + options_.path; }
    const SqliteCacheStoreOptions& options() const { return options_; }

private:
    enum class OpKind { kPut, kErase, kInvalidate };
    struct Op {
        OpKind kind = OpKind::kPut;
        CacheKey key;
        std::shared_ptr<const Entry> entry;              // kPut
        std::shared_ptr<const InvalidateFilter> filter;  // kInvalidate
        int64_t now_ms = 0;                              // kInvalidate
        size_t bytes = 0;                                // counted against max_pending_bytes
    };
    // Queues `op` unless the queue is full (and the op may be dropped); true when queued.
    bool enqueue(Op op, bool required);
    void run();
    bool write_batch(std::vector<Op>& batch);
    int64_t invalidate_rows(const InvalidateFilter& filter, int64_t now_ms);

    SqliteCacheStoreOptions options_;
    std::unique_ptr<storage::SqliteDb> db_;             // writer thread only (after construction)
    std::unique_ptr<storage::SqliteStatement> upsert_;  // writer thread only
    std::unique_ptr<storage::SqliteStatement> delete_;  // writer thread only
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::condition_variable flushed_;
    std::vector<Op> pending_;       // guarded by mu_
    size_t pending_bytes_ = 0;      // guarded by mu_
    uint64_t enqueued_seq_ = 0;     // guarded by mu_: writes ever queued
    uint64_t done_seq_ = 0;         // guarded by mu_: writes committed or given up on
    bool flush_requested_ = false;  // guarded by mu_
    bool stopping_ = false;         // guarded by mu_
    CacheStoreStats stats_;         // guarded by mu_ (pending computed in stats())
    std::thread writer_;
};

}  // namespace switchyard::cache
