// SQLite: a thin RAII wrapper over one sqlite3 connection and its prepared statements, for
// the embedded store (usage ledger, API keys). WAL mode, a busy timeout, foreign keys on.
// Thread safety: a SqliteDb is used by one thread at a time (the owner serialises); open a
// connection per thread that needs one. WAL lets readers and the single writer overlap.
// Failure: SqliteError (an exception) carrying the path and SQLite's message. The store is
// used off the request path (the ledger's writer thread, the CLI, start-up), where an
// exception is the simplest honest report.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace switchyard::storage {

class SqliteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SqliteDb;

// One prepared statement. Bind indices start at 1; columns at 0.
class SqliteStatement {
public:
    SqliteStatement(SqliteDb& db, std::string_view sql);
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement();

    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, double value);
    SqliteStatement& bind(int index, std::string_view text);
    SqliteStatement& bind_blob(int index, std::string_view bytes);
    SqliteStatement& bind_null(int index);
    SqliteStatement& bind(int index, const std::optional<int64_t>& value);

    // Advances: true when a row is available, false when done.
    bool step();
    // Resets for re-execution with new bindings (bindings are cleared).
    void reset();

    bool is_null(int column) const;
    int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;

private:
    SqliteDb* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
public:
    // Opens (creating) the database at `path` in WAL mode with `busy_timeout_ms`.
    explicit SqliteDb(const std::string& path, int busy_timeout_ms = 5000);
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;
    ~SqliteDb();

    // Runs one or more statements with no results.
    void exec(std::string_view sql);
    const std::string& path() const { return path_; }
    sqlite3* handle() { return db_; }
    int64_t changes() const;
    // Increments whenever another connection commits (PRAGMA data_version).
    int64_t data_version();

    [[noreturn]] void fail(std::string_view what) const;

private:
    std::string path_;
    sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
class SqliteTransaction {
public:
    explicit SqliteTransaction(SqliteDb& db);
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    ~SqliteTransaction();
    void commit();

private:
    SqliteDb& db_;
    bool done_ = false;
};

}  // namespace switchyard::storage
