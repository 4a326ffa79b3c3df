// UsageLedger: one row per request (time, key, model, provider, deployment, tokens, cost,
// latency, status, cache hit and the cost it saved, route reason, where the usage came from)
// in SQLite (WAL), written by a batched asynchronous writer thread, off the request path.
// Thread safety: record() may be called from any thread (it appends to a queue under a
// short lock and never touches the disk). flush()/close() may be called from any thread.
// The writer thread runs at nice 10, so commits yield to the request path on a busy core.
// Failure and durability: rows are committed in batches, every `flush_interval_ms` or as
// soon as `batch_rows` are queued. close() (graceful shutdown) commits everything. A crash
// (kill -9, power loss) loses at most the rows recorded since the last commit: at most one
// batch. A failing write (disk full) is logged and retried with the next batch; rows beyond
// `max_pending_rows` are dropped and counted (rows_dropped), never blocking requests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace switchyard::storage {
class SqliteDb;
class SqliteStatement;
}  // namespace switchyard::storage

namespace switchyard::tokens {

// Costs are integers in nano-dollars (1e-9 USD): exact sums, no float drift.
inline constexpr int64_t kNanoUsdPerUsd = 1'000'000'000;
inline double to_usd(int64_t nusd) {
    return static_cast<double>(nusd) / kNanoUsdPerUsd;
}
inline int64_t to_nusd(double usd) {
    return static_cast<int64_t>(usd * kNanoUsdPerUsd + 0.5);
}

// Where a row's token counts come from.
enum class UsageSource {
    kProvider,  // the provider reported usage
    kCounted,   // our tokenizer counted (the provider reported none)
    kNone,      // no tokens (errors before any answer)
};
std::string_view to_string(UsageSource source);

struct UsageRecord {
    int64_t time_ms = 0;  // unix milliseconds, when the request arrived
    std::string request_id;
    std::string key_id;  // "" under open access
    std::string key_name;
    std::string endpoint;
    std::string model;
    std::string provider;
    std::string deployment;  // upstream base URL that served it
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    int64_t cost_nusd = 0;  // what was paid upstream: 0 for a cache hit
    int64_t latency_ms = 0;
    int status = 0;  // HTTP status sent to the client
    bool cache_hit = false;
    std::string route_reason;
    UsageSource source = UsageSource::kNone;
    bool streamed = false;
    bool partial = false;    // a stream that ended early (client gone or upstream failed)
    int64_t saved_nusd = 0;  // a cache hit: what the answer would have cost upstream
};

struct LedgerOptions {
    std::string path;                   // SQLite file
    int64_t flush_interval_ms = 200;    // commit at least this often when rows are queued
    size_t batch_rows = 256;            // commit as soon as this many rows are queued
    size_t max_pending_rows = 100'000;  // beyond this (disk failing), rows are dropped
};

class UsageLedger {
public:
    // Opens the database, creates the schema, starts the writer. Throws SqliteError.
    explicit UsageLedger(LedgerOptions options);
    UsageLedger(const UsageLedger&) = delete;
    UsageLedger& operator=(const UsageLedger&) = delete;
    ~UsageLedger();  // close()

    void record(UsageRecord row);
    // Blocks until every row recorded before the call is committed (or failed).
    void flush();
    // Commits everything and stops the writer; record() after close() drops the row.
    void close();

    struct Stats {
        uint64_t recorded = 0;
        uint64_t written = 0;
        uint64_t dropped = 0;
        uint64_t failed_commits = 0;
    };
    Stats stats() const;
    const LedgerOptions& options() const { return options_; }

private:
    void run();
    bool write_batch(std::vector<UsageRecord>& batch);

    LedgerOptions options_;
    std::unique_ptr<storage::SqliteDb> db_;             // writer thread only (after construction)
    std::unique_ptr<storage::SqliteStatement> insert_;  // writer thread only
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::condition_variable flushed_;
    std::vector<UsageRecord> pending_;  // guarded by mu_
    uint64_t enqueued_seq_ = 0;         // guarded by mu_: rows ever queued
    uint64_t done_seq_ = 0;             // guarded by mu_: rows committed or given up on
    bool flush_requested_ = false;      // guarded by mu_
    bool stopping_ = false;             // guarded by mu_
    Stats stats_;                       // guarded by mu_
    std::thread writer_;
};

// Creates the usage table and indexes if missing, and adds columns that older ledgers lack
// (idempotent).
void create_usage_schema(storage::SqliteDb& db);

enum class UsageGroupBy { kNone, kModel, kKey, kDay };

struct UsageQuery {
    std::optional<std::string> key_id;
    std::optional<std::string> model;
    std::optional<int64_t> from_ms;  // inclusive
    std::optional<int64_t> to_ms;    // exclusive
    UsageGroupBy group_by = UsageGroupBy::kNone;
};

struct UsageGroup {
    std::string group;     // model, key id, or YYYY-MM-DD (UTC); "" when not grouped
    std::string key_name;  // with kKey
    int64_t requests = 0;
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    int64_t cost_nusd = 0;
    int64_t counted_requests = 0;  // rows whose tokens we counted (no provider usage)
    int64_t cache_hits = 0;
    int64_t saved_nusd = 0;  // cost the cache hits saved
};

std::vector<UsageGroup> query_usage(storage::SqliteDb& db, const UsageQuery& query);

// Cost recorded for `key_id`, and for everyone, at or after `since_ms` (budget state at
// start-up).
int64_t key_spend_since(storage::SqliteDb& db, std::string_view key_id, int64_t since_ms);
int64_t total_spend_since(storage::SqliteDb& db, int64_t since_ms);

}  // namespace switchyard::tokens
