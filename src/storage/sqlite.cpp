#include "switchyard/storage/sqlite.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

namespace switchyard::storage {

// ---------------------------------------------------------------- SqliteDb

SqliteDb::SqliteDb(const std::string& path, int busy_timeout_ms) : path_(path) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError(fmt::format("sqlite {}: cannot open: {}", path, message));
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
}

SqliteDb::~SqliteDb() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
}

void SqliteDb::fail(std::string_view what) const {
    throw SqliteError(fmt::format("sqlite {}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

void SqliteDb::exec(std::string_view sql) {
    std::string text(sql);
    char* message = nullptr;
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string m = message != nullptr ? message : "unknown error";
        sqlite3_free(message);
        throw SqliteError(fmt::format("sqlite {}: {}: {}", path_, text.substr(0, 80), m));
    }
}

int64_t SqliteDb::changes() const {
    return sqlite3_changes(db_);
}

int64_t SqliteDb::data_version() {
    SqliteStatement st(*this, "PRAGMA data_version");
    st.step();
    return st.int64(0);
}

// ---------------------------------------------------------------- SqliteStatement

SqliteStatement::SqliteStatement(SqliteDb& db, std::string_view sql) : db_(&db) {
    if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_,
                           nullptr) != SQLITE_OK) {
        db.fail(fmt::format("prepare '{}'", sql.substr(0, 80)));
    }
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

SqliteStatement::~SqliteStatement() {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) db_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value) {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) db_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
        db_->fail("bind");
    }
    return *this;
}

SqliteStatement& SqliteStatement::bind_blob(int index, std::string_view bytes) {
    if (sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
        db_->fail("bind");
    }
    return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) db_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, const std::optional<int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

bool SqliteStatement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_->fail("step");
}

void SqliteStatement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool SqliteStatement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t SqliteStatement::int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double SqliteStatement::real(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string SqliteStatement::text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    int n = sqlite3_column_bytes(stmt_, column);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
                        : std::string();
}

// ---------------------------------------------------------------- SqliteTransaction

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE");
}

SqliteTransaction::~SqliteTransaction() {
    if (!done_) {
        try {
            db_.exec("ROLLBACK");
        } catch (const SqliteError&) {
            // Nothing to do: the connection rolls back on close anyway.
        }
    }
}

void SqliteTransaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace switchyard::storage
