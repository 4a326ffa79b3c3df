#include "switchyard/tokens/ledger.hpp"

#include <spdlog/spdlog.h>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

#include "switchyard/storage/sqlite.hpp"

namespace switchyard::tokens {

using storage::SqliteDb;
using storage::SqliteStatement;
using storage::SqliteTransaction;

std::string_view to_string(UsageSource source) {
    switch (source) {
        case UsageSource::kProvider:
            return "provider";
        case UsageSource::kCounted:
            return "counted";
        case UsageSource::kNone:
            return "none";
    }
    return "none";
}

void create_usage_schema(SqliteDb& db) {
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS usage (
  id            INTEGER PRIMARY KEY,
  ts_ms         INTEGER NOT NULL,
  request_id    TEXT    NOT NULL,
  key_id        TEXT    NOT NULL DEFAULT '',
  key_name      TEXT    NOT NULL DEFAULT '',
  endpoint      TEXT    NOT NULL DEFAULT '',
  model         TEXT    NOT NULL DEFAULT '',
  provider      TEXT    NOT NULL DEFAULT '',
  deployment    TEXT    NOT NULL DEFAULT '',
  input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_nusd     INTEGER NOT NULL DEFAULT 0,
  latency_ms    INTEGER NOT NULL DEFAULT 0,
  status        INTEGER NOT NULL DEFAULT 0,
  cache_hit     INTEGER NOT NULL DEFAULT 0,
  route_reason  TEXT    NOT NULL DEFAULT '',
  usage_source  TEXT    NOT NULL DEFAULT 'none',
  streamed      INTEGER NOT NULL DEFAULT 0,
  partial       INTEGER NOT NULL DEFAULT 0,
  saved_nusd    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS usage_ts ON usage(ts_ms);
CREATE INDEX IF NOT EXISTS usage_key_ts ON usage(key_id, ts_ms);
)sql");
    // Ledgers written before cache hits recorded their savings lack saved_nusd: add it
    // (existing rows read 0, which is what they saved as far as anyone knows).
    bool has_saved = false;
    {
        SqliteStatement st(db, "SELECT name FROM pragma_table_info('usage')");
        while (st.step()) {
            if (st.text(0) == "saved_nusd") has_saved = true;
        }
    }
    if (!has_saved) db.exec("ALTER TABLE usage ADD COLUMN saved_nusd INTEGER NOT NULL DEFAULT 0");
}

UsageLedger::UsageLedger(LedgerOptions options) : options_(std::move(options)) {
    if (options_.batch_rows == 0) options_.batch_rows = 1;
    db_ = std::make_unique<SqliteDb>(options_.path);
    create_usage_schema(*db_);
    writer_ = std::thread([this] { run(); });
}

UsageLedger::~UsageLedger() {
    close();
}

void UsageLedger::record(UsageRecord row) {
    bool wake = false;
    {
        std::lock_guard lock(mu_);
        ++stats_.recorded;
        if (stopping_ || pending_.size() >= options_.max_pending_rows) {
            ++stats_.dropped;
            return;
        }
        pending_.push_back(std::move(row));
        ++enqueued_seq_;
        wake = pending_.size() >= options_.batch_rows;
    }
    if (wake) wake_.notify_one();
}

void UsageLedger::flush() {
    std::unique_lock lock(mu_);
    const uint64_t target = enqueued_seq_;
    if (done_seq_ >= target || !writer_.joinable()) return;
    flush_requested_ = true;
    wake_.notify_one();
    flushed_.wait(lock, [&] { return done_seq_ >= target || !writer_.joinable(); });
}

void UsageLedger::close() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
    insert_.reset();  // the writer is gone: finalize its statement before the connection
    flushed_.notify_all();
}

UsageLedger::Stats UsageLedger::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void UsageLedger::run() {
    // The writer yields to the request path: on a busy core, a commit must not delay the
    // workers (measured: a 256-row commit on the worker's core added ~1 ms to p99 at c1).
    // Linux applies a nice value to the calling thread when given its tid.
    setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    const auto interval = std::chrono::milliseconds(options_.flush_interval_ms);
    std::vector<UsageRecord> batch;
    std::unique_lock lock(mu_);
    for (;;) {
        wake_.wait_for(lock, interval, [&] {
            return stopping_ || flush_requested_ || pending_.size() >= options_.batch_rows;
        });
        if (pending_.empty()) {
            flush_requested_ = false;
            flushed_.notify_all();
            if (stopping_) return;
            continue;
        }
        // A failed batch stays at the front of the queue (retried next round) unless the
        // queue outgrew max_pending_rows; then it is dropped and counted.
        batch.swap(pending_);
        flush_requested_ = false;
        lock.unlock();
        const bool ok = write_batch(batch);
        lock.lock();
        if (ok) {
            stats_.written += batch.size();
            done_seq_ += batch.size();
            batch.clear();
        } else {
            ++stats_.failed_commits;
            // Back off one interval before retrying, so a failing disk is not hammered.
            wake_.wait_for(lock, interval, [&] { return stopping_; });
            if (batch.size() + pending_.size() > options_.max_pending_rows || stopping_) {
                stats_.dropped += batch.size();
                done_seq_ += batch.size();
                batch.clear();
            } else {
                batch.insert(batch.end(), std::make_move_iterator(pending_.begin()),
                             std::make_move_iterator(pending_.end()));
                pending_.swap(batch);
                batch.clear();
            }
        }
        flushed_.notify_all();
    }
}

bool UsageLedger::write_batch(std::vector<UsageRecord>& batch) {
    try {
        if (!insert_) {  // prepared once, reused by every batch (writer thread only)
            insert_ = std::make_unique<SqliteStatement>(*db_, R"sql(
INSERT INTO usage (ts_ms, request_id, key_id, key_name, endpoint, model, provider, deployment,
  input_tokens, output_tokens, cost_nusd, latency_ms, status, cache_hit, route_reason,
  usage_source, streamed, partial, saved_nusd)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
)sql");
        }
        SqliteStatement& st = *insert_;
        SqliteTransaction tx(*db_);
        // A batch of 256 rows is about 2 ms of CPU (BM_LedgerRecord: ~120k rows/s). When a
        // worker shares this core, the scheduler lets a woken worker preempt a nice-10
        // thread only once that thread's sleeper credit is used up, so a request arriving
        // mid-batch could wait for much of it (the c1 p99 tail in docs/benchmarks.md).
        // Yielding every few rows bounds that wait to tens of microseconds; with nothing
        // else runnable a yield returns at once.
        constexpr size_t kYieldEveryRows = 16;
        size_t n = 0;
        for (const auto& r : batch) {
            if (++n % kYieldEveryRows == 0) sched_yield();
            st.bind(1, r.time_ms).bind(2, r.request_id).bind(3, r.key_id).bind(4, r.key_name);
            st.bind(5, r.endpoint).bind(6, r.model).bind(7, r.provider).bind(8, r.deployment);
            st.bind(9, r.input_tokens).bind(10, r.output_tokens).bind(11, r.cost_nusd);
            st.bind(12, r.latency_ms).bind(13, static_cast<int64_t>(r.status));
            st.bind(14, static_cast<int64_t>(r.cache_hit)).bind(15, r.route_reason);
            st.bind(16, to_string(r.source)).bind(17, static_cast<int64_t>(r.streamed));
            st.bind(18, static_cast<int64_t>(r.partial)).bind(19, r.saved_nusd);
            st.step();
            st.reset();
        }
        tx.commit();
        return true;
    } catch (const storage::SqliteError& e) {
        if (insert_) insert_->reset();
        spdlog::error("usage ledger: commit of {} rows failed: {}", batch.size(), e.what());
        return false;
    }
}

// ---------------------------------------------------------------- queries

std::vector<UsageGroup> query_usage(SqliteDb& db, const UsageQuery& q) {
    std::string group_expr;
    switch (q.group_by) {
        case UsageGroupBy::kNone:
            group_expr = "''";
            break;
        case UsageGroupBy::kModel:
            group_expr = "model";
            break;
        case UsageGroupBy::kKey:
            group_expr = "key_id";
            break;
        case UsageGroupBy::kDay:
            group_expr = "strftime('%Y-%m-%d', ts_ms / 1000, 'unixepoch')";
            break;
    }
    std::string sql =
        "SELECT " + group_expr +
        " AS g, MAX(key_name), COUNT(*), SUM(input_tokens), SUM(output_tokens), "
        "SUM(cost_nusd), SUM(usage_source = 'counted'), SUM(cache_hit), SUM(saved_nusd) "
        "FROM usage "
        "WHERE (?1 IS NULL OR key_id = ?1) AND (?2 IS NULL OR model = ?2) AND "
        "(?3 IS NULL OR ts_ms >= ?3) AND (?4 IS NULL OR ts_ms < ?4)";
    if (q.group_by != UsageGroupBy::kNone) sql += " GROUP BY g ORDER BY g";
    SqliteStatement st(db, sql);
    if (q.key_id) st.bind(1, *q.key_id);
    if (q.model) st.bind(2, *q.model);
    st.bind(3, q.from_ms).bind(4, q.to_ms);
    std::vector<UsageGroup> out;
    while (st.step()) {
        UsageGroup g;
        g.group = st.text(0);
        if (q.group_by == UsageGroupBy::kKey) g.key_name = st.text(1);
        g.requests = st.int64(2);
        if (g.requests == 0) continue;  // ungrouped query over no rows
        g.input_tokens = st.int64(3);
        g.output_tokens = st.int64(4);
        g.cost_nusd = st.int64(5);
        g.counted_requests = st.int64(6);
        g.cache_hits = st.int64(7);
        g.saved_nusd = st.int64(8);
        out.push_back(std::move(g));
    }
    return out;
}

int64_t key_spend_since(SqliteDb& db, std::string_view key_id, int64_t since_ms) {
    SqliteStatement st(
        db, "SELECT COALESCE(SUM(cost_nusd), 0) FROM usage WHERE key_id = ?1 AND ts_ms >= ?2");
    st.bind(1, key_id).bind(2, since_ms);
    st.step();
    return st.int64(0);
}

int64_t total_spend_since(SqliteDb& db, int64_t since_ms) {
    SqliteStatement st(db, "SELECT COALESCE(SUM(cost_nusd), 0) FROM usage WHERE ts_ms >= ?1");
    st.bind(1, since_ms);
    st.step();
    return st.int64(0);
}

}  // namespace switchyard::tokens
