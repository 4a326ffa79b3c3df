#include "switchyard/server/keys.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/ledger.hpp"

namespace switchyard {

using storage::SqliteDb;
using storage::SqliteStatement;

namespace {

constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// `n` base62 characters from the CSPRNG (rejection sampling keeps them uniform).
std::string random_base62(size_t n) {
    std::string out;
    out.reserve(n);
    unsigned char buf[64];
    while (out.size() < n) {
        if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
        for (unsigned char b : buf) {
            if (b < 248 && out.size() < n) out.push_back(kAlphabet[b % 62]);
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ',';
        out += s;
    }
    return out;
}

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto item = text.substr(0, comma);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

constexpr std::string_view kColumns =
    "id, name, prefix, created_ms, revoked_ms, budget_nusd, budget_period, rpm, tpm, models, "
    "admin";

ApiKey read_key(SqliteStatement& st, int first) {
    ApiKey k;
    k.id = st.text(first);
    k.name = st.text(first + 1);
    k.prefix = st.text(first + 2);
    k.created_ms = st.int64(first + 3);
    if (!st.is_null(first + 4)) k.revoked_ms = st.int64(first + 4);
    if (!st.is_null(first + 5)) k.budget_nusd = st.int64(first + 5);
    k.budget_period =
        tokens::parse_budget_period(st.text(first + 6)).value_or(tokens::BudgetPeriod::kMonth);
    k.rpm = st.int64(first + 7);
    k.tpm = st.int64(first + 8);
    k.models = split(st.text(first + 9));
    k.admin = st.int64(first + 10) != 0;
    return k;
}

// Per thread: the last snapshot seen of one KeyRing, so find() takes no lock while the
// key table is unchanged.
struct CachedSnapshot {
    uint64_t owner = 0;
    uint64_t version = 0;
    std::shared_ptr<const void> map;
};
thread_local CachedSnapshot tl_snapshot;
std::atomic<uint64_t> g_next_ring_id{1};

}  // namespace

bool ApiKey::allows_model(std::string_view model) const {
    return models.empty() || std::find(models.begin(), models.end(), model) != models.end();
}

std::string hash_key(std::string_view secret) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(secret.data(), secret.size(), digest, &n, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char*>(digest), n);
}

std::string generate_secret() {
    return "sk-sy-" + random_base62(40);
}

// ---------------------------------------------------------------- KeyStore

KeyStore::KeyStore(SqliteDb& db) : db_(db) {
    db_.exec(R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  hash          BLOB NOT NULL UNIQUE,
  prefix        TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  revoked_ms    INTEGER,
  budget_nusd   INTEGER,
  budget_period TEXT NOT NULL DEFAULT 'month',
  rpm           INTEGER NOT NULL DEFAULT 0,
  tpm           INTEGER NOT NULL DEFAULT 0,
  models        TEXT NOT NULL DEFAULT '',
  admin         INTEGER NOT NULL DEFAULT 0
);
)sql");
}

KeyStore::Created KeyStore::create(const NewKey& spec, int64_t now_ms) {
    Created c;
    c.secret = generate_secret();
    ApiKey& k = c.key;
    k.id = "key_" + random_base62(12);
    k.name = spec.name;
    k.prefix = c.secret.substr(0, 10);
    k.created_ms = now_ms;
    if (spec.budget_usd) k.budget_nusd = tokens::to_nusd(*spec.budget_usd);
    k.budget_period = spec.budget_period;
    k.rpm = spec.rpm;
    k.tpm = spec.tpm;
    k.models = spec.models;
    k.admin = spec.admin;
    SqliteStatement st(db_,
                       "INSERT INTO api_keys (id, name, hash, prefix, created_ms, budget_nusd, "
                       "budget_period, rpm, tpm, models, admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                       "?7, ?8, ?9, ?10, ?11)");
    st.bind(1, k.id).bind(2, k.name).bind_blob(3, hash_key(c.secret)).bind(4, k.prefix);
    st.bind(5, k.created_ms).bind(6, k.budget_nusd).bind(7, tokens::to_string(k.budget_period));
    st.bind(8, k.rpm).bind(9, k.tpm).bind(10, join(k.models));
    st.bind(11, static_cast<int64_t>(k.admin));
    st.step();
    return c;
}

std::vector<ApiKey> KeyStore::list(bool include_revoked) {
    SqliteStatement st(db_,
                       fmt::format("SELECT {} FROM api_keys {} ORDER BY created_ms, id", kColumns,
                                   include_revoked ? "" : "WHERE revoked_ms IS NULL"));
    std::vector<ApiKey> out;
    while (st.step())
        out.push_back(read_key(st, 0));
    return out;
}

int KeyStore::revoke(std::string_view id_or_name, int64_t now_ms) {
    SqliteStatement st(db_,
                       "UPDATE api_keys SET revoked_ms = ?1 WHERE (id = ?2 OR name = ?2) AND "
                       "revoked_ms IS NULL");
    st.bind(1, now_ms).bind(2, id_or_name);
    st.step();
    return static_cast<int>(db_.changes());
}

std::vector<std::pair<std::string, ApiKey>> KeyStore::load_active() {
    SqliteStatement st(
        db_, fmt::format("SELECT hash, {} FROM api_keys WHERE revoked_ms IS NULL", kColumns));
    std::vector<std::pair<std::string, ApiKey>> out;
    while (st.step())
        out.emplace_back(st.text(0), read_key(st, 1));
    return out;
}

// ---------------------------------------------------------------- KeyRing

KeyRing::KeyRing(KeyRingOptions options, Clock clock)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      instance_id_(g_next_ring_id.fetch_add(1)) {
    db_ = std::make_unique<SqliteDb>(options_.db_path);
    KeyStore store(*db_);  // creates the table
    tokens::create_usage_schema(*db_);
    if (!options_.admin_secret.empty()) {
        admin_hash_ = hash_key(options_.admin_secret);
        admin_ = std::make_shared<KeyState>();
        admin_->key.id = "admin";
        admin_->key.name = "admin (config)";
        admin_->key.admin = true;
    }
    {
        std::lock_guard lock(refresh_mu_);
        reload();
    }
    if (options_.refresh_interval_ms > 0) {
        refresher_ = std::thread([this] {
            std::unique_lock lock(stop_mu_);
            while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.refresh_interval_ms),
                                      [&] { return stopping_; })) {
                lock.unlock();
                try {
                    refresh();
                } catch (const std::exception& e) {
                    spdlog::error("api keys: refresh failed: {}", e.what());
                }
                lock.lock();
            }
        });
    }
}

KeyRing::~KeyRing() {
    {
        std::lock_guard lock(stop_mu_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (refresher_.joinable()) refresher_.join();
}

void KeyRing::refresh() {
    std::lock_guard lock(refresh_mu_);
    if (db_->data_version() == data_version_) return;
    reload();
}

std::shared_ptr<KeyState> KeyRing::make_state(const ApiKey& key) {
    auto s = std::make_shared<KeyState>();
    s->key = key;
    const std::string label = fmt::format("key '{}' ({})", key.name, key.id);
    if (key.budget_nusd) {
        s->budget = std::make_unique<tokens::Budget>(label, *key.budget_nusd, key.budget_period,
                                                     options_.alert_thresholds);
        const int64_t now = clock_();
        const int64_t since = tokens::period_start_ms(key.budget_period, now);
        s->budget->add_spent(tokens::key_spend_since(*db_, key.id, since), now);
    }
    s->limiter = std::make_unique<tokens::RateLimiter>(label, key.rpm, key.tpm);
    return s;
}

void KeyRing::reload() {
    data_version_ = db_->data_version();
    KeyStore store(*db_);
    auto rows = store.load_active();
    std::shared_ptr<const Map> old;
    {
        std::lock_guard lock(snapshot_mu_);
        old = snapshot_;
    }
    auto next = std::make_shared<Map>();
    for (auto& [hash, key] : rows) {
        std::shared_ptr<KeyState> state;
        if (old) {
            if (auto it = old->find(hash); it != old->end() && it->second->key.id == key.id)
                state = it->second;  // keep its live budget and rate-limit state
        }
        if (!state) state = make_state(key);
        next->emplace(std::move(hash), std::move(state));
    }
    {
        std::lock_guard lock(snapshot_mu_);
        snapshot_ = std::move(next);
    }
    version_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<KeyState> KeyRing::find(std::string_view secret) const {
    const std::string hash = hash_key(secret);
    if (admin_ && hash == admin_hash_) return admin_;
    const uint64_t v = version_.load(std::memory_order_acquire);
    if (tl_snapshot.owner != instance_id_ || tl_snapshot.version != v) {
        std::lock_guard lock(snapshot_mu_);
        tl_snapshot.owner = instance_id_;
        tl_snapshot.version = version_.load(std::memory_order_acquire);
        tl_snapshot.map = snapshot_;
    }
    const auto* map = static_cast<const Map*>(tl_snapshot.map.get());
    if (map == nullptr) return nullptr;
    auto it = map->find(hash);
    return it == map->end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<KeyState>> KeyRing::all() const {
    std::lock_guard lock(snapshot_mu_);
    std::vector<std::shared_ptr<KeyState>> out;
    if (snapshot_) {
        for (const auto& [hash, state] : *snapshot_)
            out.push_back(state);
    }
    if (admin_) out.push_back(admin_);
    return out;
}

}  // namespace switchyard
