#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <utility>

#include "switchyard/cache/cache_store.hpp"
#include "switchyard/storage/sqlite.hpp"

namespace switchyard::cache {
namespace {

using storage::SqliteDb;
using storage::SqliteStatement;
using storage::SqliteTransaction;

// ---------------------------------------------------------------- encoding

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}
    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i)
            u8(static_cast<uint8_t>(v >> (8 * i)));
    }
    void u64(uint64_t v) {
        for (int i = 0; i < 8; ++i)
            u8(static_cast<uint8_t>(v >> (8 * i)));
    }
    void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
    void str(std::string_view s) {
        u32(static_cast<uint32_t>(s.size()));
        out_.append(s);
    }

private:
    std::string& out_;
};

// Every read checks the bytes left; the first failure sticks (ok() false) and later reads
// return zeros, so decoding code reads straight through and checks once at the end.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool ok() const { return ok_; }
    bool at_end() const { return pos_ == in_.size(); }
    uint8_t u8() {
        if (!need(1)) return 0;
        return static_cast<uint8_t>(in_[pos_++]);
    }
    uint32_t u32() {
        if (!need(4)) return 0;
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
        return v;
    }
    uint64_t u64() {
        if (!need(8)) return 0;
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
        return v;
    }
    int64_t i64() { return static_cast<int64_t>(u64()); }
    std::string str() {
        const uint32_t n = u32();
        if (!need(n)) return {};
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    // A count of items each at least `min_bytes` long: more than the bytes left can hold is
    // corrupt (and would otherwise make the decoder allocate for nothing).
    uint32_t count(size_t min_bytes) {
        const uint32_t n = u32();
        if (ok_ && static_cast<uint64_t>(n) * min_bytes > in_.size() - pos_) ok_ = false;
        return ok_ ? n : 0;
    }
    // An enum stored as a byte, at most `max`.
    template <class E>
    E enumeration(int max) {
        const uint8_t v = u8();
        if (v > max) ok_ = false;
        return static_cast<E>(ok_ ? v : 0);
    }

private:
    bool need(size_t n) {
        if (!ok_ || in_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        return true;
    }
    std::string_view in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

constexpr int kMaxRole = static_cast<int>(Role::kTool);
constexpr int kMaxFinish = static_cast<int>(FinishReason::kContentFilter);
constexpr int kMaxPartType = static_cast<int>(ContentPart::Type::kOther);
constexpr uint8_t kHasParts = 1, kContentNull = 2, kToolError = 4;

int64_t as_int64(uint64_t v) {
    int64_t out;
    std::memcpy(&out, &v, sizeof out);
    return out;
}
uint64_t as_uint64(int64_t v) {
    uint64_t out;
    std::memcpy(&out, &v, sizeof out);
    return out;
}

}  // namespace

std::string encode_entry(const CacheKey& key, const Entry& e) {
    std::string out;
    out.reserve(128 + e.ns.size() + e.requested_model.size() + e.prompt_text.size() +
                e.answer.message.text.size());
    Writer w(out);
    w.u8(kEntryFormatVersion);
    w.u64(key.hi);
    w.u64(key.lo);
    w.i64(e.created_ms);
    w.i64(e.expires_ms);
    w.i64(e.stale_until_ms);
    w.i64(e.cost_nusd);
    w.str(e.ns);
    w.str(e.requested_model);
    w.str(e.prompt_text);
    const CachedAnswer& a = e.answer;
    w.str(a.model);
    w.str(a.system_fingerprint);
    w.u8(static_cast<uint8_t>(a.finish_reason));
    w.i64(a.usage.prompt_tokens);
    w.i64(a.usage.completion_tokens);
    w.i64(a.usage.cached_prompt_tokens);
    const Message& m = a.message;
    w.u8(static_cast<uint8_t>(m.role));
    w.u8(static_cast<uint8_t>((m.has_parts ? kHasParts : 0) | (m.content_null ? kContentNull : 0) |
                              (m.tool_error ? kToolError : 0)));
    w.str(m.text);
    w.str(m.name);
    w.str(m.tool_call_id);
    w.u32(static_cast<uint32_t>(m.parts.size()));
    for (const auto& p : m.parts) {
        w.u8(static_cast<uint8_t>(p.type));
        w.str(p.text);
        w.str(p.image_url);
        w.str(p.detail);
        w.str(p.raw_json);
    }
    w.u32(static_cast<uint32_t>(m.tool_calls.size()));
    for (const auto& t : m.tool_calls) {
        w.str(t.id);
        w.str(t.name);
        w.str(t.arguments);
    }
    w.u8(e.semantic ? 1 : 0);
    if (e.semantic) {
        w.u64(e.semantic->partition.hi);
        w.u64(e.semantic->partition.lo);
        w.str(e.semantic->model);
        w.str(e.semantic->text);
    }
    return out;
}

std::optional<DecodedEntry> decode_entry(std::string_view bytes) {
    Reader r(bytes);
    const uint8_t version = r.u8();
    if (!r.ok() || version < 1 || version > kEntryFormatVersion) return std::nullopt;
    DecodedEntry d;
    d.key.hi = r.u64();
    d.key.lo = r.u64();
    Entry& e = d.entry;
    e.created_ms = r.i64();
    e.expires_ms = r.i64();
    e.stale_until_ms = r.i64();
    e.cost_nusd = r.i64();
    e.ns = r.str();
    e.requested_model = r.str();
    e.prompt_text = r.str();
    CachedAnswer& a = e.answer;
    a.model = r.str();
    a.system_fingerprint = r.str();
    a.finish_reason = r.enumeration<FinishReason>(kMaxFinish);
    a.usage.prompt_tokens = r.i64();
    a.usage.completion_tokens = r.i64();
    a.usage.cached_prompt_tokens = r.i64();
    Message& m = a.message;
    m.role = r.enumeration<Role>(kMaxRole);
    const uint8_t flags = r.u8();
    if (flags & ~(kHasParts | kContentNull | kToolError)) return std::nullopt;
    m.has_parts = (flags & kHasParts) != 0;
    m.content_null = (flags & kContentNull) != 0;
    m.tool_error = (flags & kToolError) != 0;
    m.text = r.str();
    m.name = r.str();
    m.tool_call_id = r.str();
    const uint32_t n_parts = r.count(1 + 4 * 4);
    for (uint32_t i = 0; i < n_parts && r.ok(); ++i) {
        ContentPart p;
        p.type = r.enumeration<ContentPart::Type>(kMaxPartType);
        p.text = r.str();
        p.image_url = r.str();
        p.detail = r.str();
        p.raw_json = r.str();
        m.parts.push_back(std::move(p));
    }
    const uint32_t n_calls = r.count(3 * 4);
    for (uint32_t i = 0; i < n_calls && r.ok(); ++i) {
        ToolCall t;
        t.id = r.str();
        t.name = r.str();
        t.arguments = r.str();
        m.tool_calls.push_back(std::move(t));
    }
    if (version >= 2) {
        const uint8_t has_semantic = r.u8();
        if (has_semantic > 1) return std::nullopt;
        if (has_semantic == 1) {
            SemanticRef ref;
            ref.partition.hi = r.u64();
            ref.partition.lo = r.u64();
            ref.model = r.str();
            ref.text = r.str();
            e.semantic = std::move(ref);
        }
    }
    if (!r.ok() || !r.at_end()) return std::nullopt;
    if (e.expires_ms > e.stale_until_ms || e.cost_nusd < 0) return std::nullopt;
    return d;
}

uint64_t entry_checksum(std::string_view bytes) {
    return XXH3_64bits(bytes.data(), bytes.size());
}

// ---------------------------------------------------------------- SqliteCacheStore

namespace {

// A rowid table with a unique key, not WITHOUT ROWID: entries are kilobytes, and a WITHOUT
// ROWID table spills each such row onto overflow pages (measured: 4.7 KB of file per 1 KB
// answer).
void create_cache_schema(SqliteDb& db) {
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS cache_entries (
  id              INTEGER PRIMARY KEY,
  key_hi          INTEGER NOT NULL,
  key_lo          INTEGER NOT NULL,
  namespace       TEXT    NOT NULL,
  requested_model TEXT    NOT NULL,
  created_ms      INTEGER NOT NULL,
  expires_ms      INTEGER NOT NULL,
  stale_until_ms  INTEGER NOT NULL,
  cost_nusd       INTEGER NOT NULL,
  entry           BLOB    NOT NULL,
  checksum        INTEGER NOT NULL,
  UNIQUE (key_hi, key_lo)
);
CREATE INDEX IF NOT EXISTS cache_entries_created ON cache_entries(created_ms);
)sql");
}

constexpr size_t kEraseBytes = 64;  // what a queued erase is counted as

}  // namespace

SqliteCacheStore::SqliteCacheStore(SqliteCacheStoreOptions options) : options_(std::move(options)) {
    if (options_.batch_writes == 0) options_.batch_writes = 1;
    db_ = std::make_unique<SqliteDb>(options_.path);
    create_cache_schema(*db_);
    writer_ = std::thread([this] { run(); });
}

SqliteCacheStore::~SqliteCacheStore() {
    close();
}

bool SqliteCacheStore::enqueue(Op op, bool required) {
    bool wake = false;
    {
        std::lock_guard lock(mu_);
        if (stopping_ || (!required && pending_bytes_ + op.bytes > options_.max_pending_bytes)) {
            ++stats_.dropped;
            return false;
        }
        pending_bytes_ += op.bytes;
        pending_.push_back(std::move(op));
        ++enqueued_seq_;
        ++stats_.queued;
        wake = pending_.size() >= options_.batch_writes;
    }
    if (wake) wake_.notify_one();
    return true;
}

void SqliteCacheStore::put(const CacheKey& key, std::shared_ptr<const Entry> entry) {
    Op op;
    op.kind = OpKind::kPut;
    op.key = key;
    op.bytes = entry->bytes + kEraseBytes;
    op.entry = std::move(entry);
    enqueue(std::move(op), false);
}

void SqliteCacheStore::erase(const CacheKey& key) {
    Op op;
    op.kind = OpKind::kErase;
    op.key = key;
    op.bytes = kEraseBytes;
    enqueue(std::move(op), false);
}

void SqliteCacheStore::invalidate(const InvalidateFilter& filter, int64_t now_ms) {
    Op op;
    op.kind = OpKind::kInvalidate;
    op.filter = std::make_shared<const InvalidateFilter>(filter);
    op.now_ms = now_ms;
    op.bytes = kEraseBytes;
    enqueue(std::move(op), true);
}

void SqliteCacheStore::flush() {
    std::unique_lock lock(mu_);
    const uint64_t target = enqueued_seq_;
    if (done_seq_ >= target || !writer_.joinable()) return;
    flush_requested_ = true;
    wake_.notify_one();
    flushed_.wait(lock, [&] { return done_seq_ >= target || !writer_.joinable(); });
}

void SqliteCacheStore::close() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
    upsert_.reset();  // the writer is gone: finalize its statements before the connection
    delete_.reset();
    flushed_.notify_all();
}

CacheStoreStats SqliteCacheStore::stats() const {
    std::lock_guard lock(mu_);
    CacheStoreStats s = stats_;
    s.pending = static_cast<int64_t>(pending_.size());
    return s;
}

void SqliteCacheStore::run() {
    // Like the usage ledger's writer: yield to the request path on a busy core.
    setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    const auto interval = std::chrono::milliseconds(options_.flush_interval_ms);
    std::vector<Op> batch;
    std::unique_lock lock(mu_);
    for (;;) {
        wake_.wait_for(lock, interval, [&] {
            return stopping_ || flush_requested_ || pending_.size() >= options_.batch_writes;
        });
        if (pending_.empty()) {
            flush_requested_ = false;
            flushed_.notify_all();
            if (stopping_) return;
            continue;
        }
        batch.swap(pending_);
        pending_bytes_ = 0;
        flush_requested_ = false;
        lock.unlock();
        const bool ok = write_batch(batch);
        lock.lock();
        if (ok) {
            stats_.written += static_cast<int64_t>(batch.size());
            done_seq_ += batch.size();
            batch.clear();
        } else {
            ++stats_.failed_commits;
            // Back off one interval so a failing disk is not hammered. Best-effort writes
            // of the failed batch are dropped; invalidations go back to the front of the
            // queue and are retried (until close(): a store that cannot write at shutdown
            // keeps nothing more).
            wake_.wait_for(lock, interval, [&] { return stopping_; });
            std::vector<Op> kept;
            size_t kept_bytes = 0;
            for (auto& op : batch) {
                if (op.kind == OpKind::kInvalidate && !stopping_) {
                    kept_bytes += op.bytes;
                    kept.push_back(std::move(op));
                } else {
                    ++stats_.dropped;
                    ++done_seq_;
                }
            }
            batch.clear();
            kept.insert(kept.end(), std::make_move_iterator(pending_.begin()),
                        std::make_move_iterator(pending_.end()));
            pending_.swap(kept);
            pending_bytes_ += kept_bytes;
        }
        flushed_.notify_all();
    }
}

bool SqliteCacheStore::write_batch(std::vector<Op>& batch) {
    try {
        if (!upsert_) {  // prepared once, reused by every batch (writer thread only)
            upsert_ = std::make_unique<SqliteStatement>(*db_, R"sql(
INSERT OR REPLACE INTO cache_entries (key_hi, key_lo, namespace, requested_model, created_ms,
  expires_ms, stale_until_ms, cost_nusd, entry, checksum)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
)sql");
            delete_ = std::make_unique<SqliteStatement>(
                *db_, "DELETE FROM cache_entries WHERE key_hi = ?1 AND key_lo = ?2");
        }
        SqliteTransaction tx(*db_);
        for (const auto& op : batch) {
            switch (op.kind) {
                case OpKind::kPut: {
                    const Entry& e = *op.entry;
                    const std::string blob = encode_entry(op.key, e);
                    SqliteStatement& st = *upsert_;
                    st.bind(1, as_int64(op.key.hi)).bind(2, as_int64(op.key.lo));
                    st.bind(3, e.ns).bind(4, e.requested_model).bind(5, e.created_ms);
                    st.bind(6, e.expires_ms).bind(7, e.stale_until_ms).bind(8, e.cost_nusd);
                    st.bind_blob(9, blob).bind(10, as_int64(entry_checksum(blob)));
                    st.step();
                    st.reset();
                    break;
                }
                case OpKind::kErase:
                    delete_->bind(1, as_int64(op.key.hi)).bind(2, as_int64(op.key.lo));
                    delete_->step();
                    delete_->reset();
                    break;
                case OpKind::kInvalidate:
                    invalidate_rows(*op.filter, op.now_ms);
                    break;
            }
        }
        tx.commit();
        return true;
    } catch (const storage::SqliteError& e) {
        if (upsert_) upsert_->reset();
        if (delete_) delete_->reset();
        spdlog::error("response cache store: commit of {} writes failed: {}", batch.size(),
                      e.what());
        return false;
    }
}

// Deletes the rows matching `filter`, decoding each (the answering model and the prompt text
// live in the blob); a row that does not decode goes too. Writer thread, inside its
// transaction.
int64_t SqliteCacheStore::invalidate_rows(const InvalidateFilter& filter, int64_t now_ms) {
    std::vector<CacheKey> doomed;
    {
        SqliteStatement scan(*db_, "SELECT key_hi, key_lo, entry, checksum FROM cache_entries");
        while (scan.step()) {
            const CacheKey key{.lo = as_uint64(scan.int64(1)), .hi = as_uint64(scan.int64(0))};
            const std::string blob = scan.text(2);
            std::optional<DecodedEntry> d;
            if (entry_checksum(blob) == as_uint64(scan.int64(3))) d = decode_entry(blob);
            if (!d || !(d->key == key) || matches(filter, d->entry, now_ms)) doomed.push_back(key);
        }
    }
    for (const auto& key : doomed) {
        delete_->bind(1, as_int64(key.hi)).bind(2, as_int64(key.lo));
        delete_->step();
        delete_->reset();
    }
    return static_cast<int64_t>(doomed.size());
}

CacheLoadResult SqliteCacheStore::load(const Visitor& visit) {
    // Its own connection: the writer's belongs to the writer thread.
    SqliteDb db(options_.path);
    CacheLoadResult result;
    std::vector<CacheKey> doomed;
    {
        SqliteStatement scan(db,
                             "SELECT key_hi, key_lo, entry, checksum FROM cache_entries "
                             "ORDER BY created_ms DESC");
        while (scan.step()) {
            ++result.rows;
            const CacheKey key{.lo = as_uint64(scan.int64(1)), .hi = as_uint64(scan.int64(0))};
            // text() hands back a BLOB's bytes unchanged (and whatever a TEXT value holds).
            const std::string blob = scan.text(2);
            std::optional<DecodedEntry> d;
            if (entry_checksum(blob) == as_uint64(scan.int64(3))) d = decode_entry(blob);
            if (!d || !(d->key == key)) {
                ++result.corrupt;
                doomed.push_back(key);
                continue;
            }
            ++result.visited;
            if (!visit(key, std::move(d->entry))) doomed.push_back(key);
        }
    }
    if (!doomed.empty()) {
        SqliteTransaction tx(db);
        SqliteStatement del(db, "DELETE FROM cache_entries WHERE key_hi = ?1 AND key_lo = ?2");
        for (const auto& key : doomed) {
            del.bind(1, as_int64(key.hi)).bind(2, as_int64(key.lo));
            del.step();
            del.reset();
        }
        tx.commit();
        result.deleted = static_cast<int64_t>(doomed.size());
    }
    return result;
}

}  // namespace switchyard::cache
