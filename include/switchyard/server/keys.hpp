// Gateway API keys: `sk-sy-` + 40 random base62 characters, shown once at creation and
// stored only as their SHA-256 hash, with an optional budget (USD per day or month), rate
// limits (requests and tokens per minute) and an allow-list of models.
// KeyStore is the table (used by the CLI and by KeyRing); KeyRing is the server's in-memory
// view, refreshed from the database when another process (the CLI) changes it, holding each
// key's live budget and rate-limit state.
// Thread safety: KeyStore is single-threaded (its SqliteDb). KeyRing::find() may be called
// from any thread and takes no lock in the steady state (a per-thread copy of the current
// snapshot, re-read when its version changes); refresh() runs on one thread.
// Failure: KeyStore throws SqliteError (CLI, start-up); find() returns null for an unknown or
// revoked key.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/rate_limiter.hpp"

namespace switchyard::storage {
class SqliteDb;
}

namespace switchyard {

struct ApiKey {
    std::string id;      // "key_" + 12 base62: safe to show and log
    std::string name;    // who it is for ("team-a")
    std::string prefix;  // first characters of the secret, for recognising it in a list
    int64_t created_ms = 0;
    std::optional<int64_t> revoked_ms;
    std::optional<int64_t> budget_nusd;  // none = no per-key budget
    tokens::BudgetPeriod budget_period = tokens::BudgetPeriod::kMonth;
    int64_t rpm = 0;  // 0 = unlimited
    int64_t tpm = 0;
    std::vector<std::string> models;  // allowed models; empty = all
    bool admin = false;               // may call admin endpoints and see all usage

    bool allows_model(std::string_view model) const;
};

struct NewKey {
    std::string name;
    std::optional<double> budget_usd;
    tokens::BudgetPeriod budget_period = tokens::BudgetPeriod::kMonth;
    int64_t rpm = 0;
    int64_t tpm = 0;
    std::vector<std::string> models;
    bool admin = false;
};

// SHA-256 of a secret key, as 32 raw bytes.
std::string hash_key(std::string_view secret);
// A fresh secret: "sk-sy-" + 40 base62 characters from OpenSSL's RNG.
std::string generate_secret();

class KeyStore {
public:
    explicit KeyStore(storage::SqliteDb& db);  // creates the table if missing

    struct Created {
        ApiKey key;
        std::string secret;  // shown once; never stored
    };
    Created create(const NewKey& spec, int64_t now_ms);
    // All keys (revoked too when `include_revoked`), oldest first.
    std::vector<ApiKey> list(bool include_revoked);
    // Revokes by id or name; returns how many keys it revoked.
    int revoke(std::string_view id_or_name, int64_t now_ms);
    // Active keys with their hashes.
    std::vector<std::pair<std::string, ApiKey>> load_active();

private:
    storage::SqliteDb& db_;
};

// A key as the server sees it: the record plus its live budget and rate-limit state.
struct KeyState {
    ApiKey key;
    std::unique_ptr<tokens::Budget> budget;  // null when the key has none
    std::unique_ptr<tokens::RateLimiter> limiter;
};

struct KeyRingOptions {
    std::string db_path;
    int64_t refresh_interval_ms = 1000;
    std::vector<double> alert_thresholds = {0.5, 0.8, 1.0};
    std::string admin_secret;  // from auth.admin_key_env; empty = none
};

class KeyRing {
public:
    using Clock = std::function<int64_t()>;  // unix ms
    // Loads the keys (and each budget's spend so far this period, from the ledger) and
    // starts the refresh thread. Throws SqliteError.
    KeyRing(KeyRingOptions options, Clock clock);
    KeyRing(const KeyRing&) = delete;
    KeyRing& operator=(const KeyRing&) = delete;
    ~KeyRing();

    // The key for a presented secret, or null. The admin secret maps to a built-in admin key.
    std::shared_ptr<KeyState> find(std::string_view secret) const;
    // Re-reads the table now if it changed (also done every refresh_interval_ms).
    void refresh();
    // Every key's state, for metrics and reports.
    std::vector<std::shared_ptr<KeyState>> all() const;

private:
    using Map = std::unordered_map<std::string, std::shared_ptr<KeyState>>;  // hash -> key
    void reload();                                                           // requires refresh_mu_
    std::shared_ptr<KeyState> make_state(const ApiKey& key);

    KeyRingOptions options_;
    Clock clock_;
    const uint64_t instance_id_;             // tags this ring's per-thread snapshot copies
    std::unique_ptr<storage::SqliteDb> db_;  // guarded by refresh_mu_
    std::mutex refresh_mu_;
    int64_t data_version_ = -1;            // guarded by refresh_mu_
    mutable std::mutex snapshot_mu_;       // taken only when version_ changed
    std::shared_ptr<const Map> snapshot_;  // guarded by snapshot_mu_
    std::atomic<uint64_t> version_{0};
    std::shared_ptr<KeyState> admin_;  // the config's admin key, if any
    std::string admin_hash_;
    std::mutex stop_mu_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;  // guarded by stop_mu_
    std::thread refresher_;
};

}  // namespace switchyard
