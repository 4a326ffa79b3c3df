// The usage ledger and the key table against a real SQLite file in a temp directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "switchyard/server/keys.hpp"
#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/ledger.hpp"

using namespace switchyard;
using namespace switchyard::tokens;

namespace {

class TempDb : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("sy-ledger-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "switchyard.db").string();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
    std::string path_;
};

UsageRecord row(std::string key, std::string model, int64_t in, int64_t out, int64_t cost,
                int64_t time_ms) {
    UsageRecord r;
    r.time_ms = time_ms;
    r.request_id = "req";
    r.key_id = std::move(key);
    r.model = std::move(model);
    r.input_tokens = in;
    r.output_tokens = out;
    r.cost_nusd = cost;
    r.status = 200;
    r.source = UsageSource::kProvider;
    return r;
}

int64_t count_rows(const std::string& path) {
    storage::SqliteDb db(path);
    storage::SqliteStatement st(db, "SELECT COUNT(*) FROM usage");
    st.step();
    return st.int64(0);
}

TEST_F(TempDb, RowsAreCommittedInBatchesAndFlushWaitsForThem) {
    LedgerOptions o;
    o.path = path_;
    o.flush_interval_ms = 60'000;  // only size-triggered commits, or flush()
    o.batch_rows = 10;
    UsageLedger ledger(o);
    for (int i = 0; i < 10; ++i)
        ledger.record(row("k1", "m", 1, 1, 1, 1000));
    // A full batch is committed on its own, without waiting for the interval.
    for (int i = 0; i < 400 && count_rows(path_) < 10; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(count_rows(path_), 10);
    // Fewer than a batch wait for the interval (a minute here) ...
    for (int i = 0; i < 5; ++i)
        ledger.record(row("k1", "m", 1, 1, 1, 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(count_rows(path_), 10);
    // ... or for flush().
    ledger.flush();
    EXPECT_EQ(count_rows(path_), 15);
    EXPECT_EQ(ledger.stats().written, 15u);
}

TEST_F(TempDb, CloseCommitsEverything) {
    {
        LedgerOptions o;
        o.path = path_;
        o.flush_interval_ms = 60'000;
        UsageLedger ledger(o);
        for (int i = 0; i < 7; ++i)
            ledger.record(row("k1", "m", 1, 1, 1, 1000));
    }  // destructor = close()
    EXPECT_EQ(count_rows(path_), 7);
}

TEST_F(TempDb, QueriesGroupByModelKeyAndDay) {
    {
        LedgerOptions o;
        o.path = path_;
        UsageLedger ledger(o);
        const int64_t day1 = *switchyard::tokens::parse_utc_time("2026-11-24T10:00:00Z");
        const int64_t day2 = day1 + 86'400'000;
        ledger.record(row("k1", "gpt", 10, 5, 100, day1));
        ledger.record(row("k1", "claude", 20, 5, 200, day2));
        ledger.record(row("k2", "gpt", 30, 5, 300, day2));
        UsageRecord counted = row("k2", "gpt", 1, 1, 0, day2);
        counted.source = UsageSource::kCounted;
        ledger.record(counted);
    }
    storage::SqliteDb db(path_);
    UsageQuery q;
    q.group_by = UsageGroupBy::kModel;
    auto by_model = query_usage(db, q);
    ASSERT_EQ(by_model.size(), 2u);
    EXPECT_EQ(by_model[0].group, "claude");
    EXPECT_EQ(by_model[1].group, "gpt");
    EXPECT_EQ(by_model[1].requests, 3);
    EXPECT_EQ(by_model[1].input_tokens, 41);
    EXPECT_EQ(by_model[1].cost_nusd, 400);
    EXPECT_EQ(by_model[1].counted_requests, 1);

    q.group_by = UsageGroupBy::kDay;
    auto by_day = query_usage(db, q);
    ASSERT_EQ(by_day.size(), 2u);
    EXPECT_EQ(by_day[0].group, "2026-11-24");
    EXPECT_EQ(by_day[1].group, "2026-11-25");
    EXPECT_EQ(by_day[1].requests, 3);

    q.group_by = UsageGroupBy::kNone;
    q.key_id = "k1";
    q.from_ms = *switchyard::tokens::parse_utc_time("2026-11-25");
    auto one = query_usage(db, q);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].requests, 1);
    EXPECT_EQ(one[0].cost_nusd, 200);
    EXPECT_EQ(key_spend_since(db, "k2", 0), 300);
    EXPECT_EQ(total_spend_since(db, q.from_ms.value()), 500);
}

TEST_F(TempDb, ALedgerFromBeforeSavedCostsGainsTheColumnAndKeepsItsRows) {
    {  // the table as gateways before the saved-cost column wrote it
        storage::SqliteDb db(path_);
        db.exec(
            "CREATE TABLE usage (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT "
            "NOT NULL, key_id TEXT NOT NULL DEFAULT '', key_name TEXT NOT NULL DEFAULT '', "
            "endpoint TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', provider TEXT NOT "
            "NULL DEFAULT '', deployment TEXT NOT NULL DEFAULT '', input_tokens INTEGER NOT NULL "
            "DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0, cost_nusd INTEGER NOT NULL "
            "DEFAULT 0, latency_ms INTEGER NOT NULL DEFAULT 0, status INTEGER NOT NULL DEFAULT 0, "
            "cache_hit INTEGER NOT NULL DEFAULT 0, route_reason TEXT NOT NULL DEFAULT '', "
            "usage_source TEXT NOT NULL DEFAULT 'none', streamed INTEGER NOT NULL DEFAULT 0, "
            "partial INTEGER NOT NULL DEFAULT 0);"
            "INSERT INTO usage (ts_ms, request_id, model, cost_nusd) VALUES (1, 'old', 'gpt', "
            "700);");
    }
    {
        LedgerOptions o;
        o.path = path_;
        UsageLedger ledger(o);
        UsageRecord hit = row("k1", "gpt", 10, 5, 0, 2);
        hit.cache_hit = true;
        hit.saved_nusd = 700;
        ledger.record(hit);
    }
    storage::SqliteDb db(path_);
    create_usage_schema(db);  // a second time: nothing to add
    auto all = query_usage(db, UsageQuery{});
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].requests, 2);
    EXPECT_EQ(all[0].cost_nusd, 700);  // the hit paid nothing
    EXPECT_EQ(all[0].cache_hits, 1);
    EXPECT_EQ(all[0].saved_nusd, 700);
    EXPECT_EQ(total_spend_since(db, 0), 700);
}

TEST_F(TempDb, KeysAreStoredHashedListedAndRevoked) {
    storage::SqliteDb db(path_);
    KeyStore store(db);
    NewKey spec;
    spec.name = "team-a";
    spec.budget_usd = 50;
    spec.rpm = 60;
    spec.models = {"gpt", "claude"};
    auto created = store.create(spec, 1000);
    EXPECT_TRUE(created.secret.starts_with("sk-sy-"));
    EXPECT_EQ(created.secret.size(), 46u);
    EXPECT_TRUE(created.key.id.starts_with("key_"));
    {  // The secret itself is nowhere in the table (statements scoped: they hold a read).
        storage::SqliteStatement st(db, "SELECT COUNT(*) FROM api_keys WHERE hash = ?1");
        st.bind_blob(1, hash_key(created.secret));
        st.step();
        EXPECT_EQ(st.int64(0), 1);
        storage::SqliteStatement leak(
            db, "SELECT COUNT(*) FROM api_keys WHERE instr(prefix || name || id, ?1)");
        leak.bind(1, created.secret.substr(10));
        leak.step();
        EXPECT_EQ(leak.int64(0), 0);
    }

    auto keys = store.list(false);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].name, "team-a");
    EXPECT_EQ(keys[0].budget_nusd, to_nusd(50));
    EXPECT_EQ(keys[0].models, (std::vector<std::string>{"gpt", "claude"}));
    EXPECT_TRUE(keys[0].allows_model("gpt"));
    EXPECT_FALSE(keys[0].allows_model("llama"));

    KeyRingOptions o;
    o.db_path = path_;
    o.refresh_interval_ms = 0;  // refresh by hand
    KeyRing ring(o, [] { return int64_t{2000}; });
    auto found = ring.find(created.secret);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->key.id, created.key.id);
    ASSERT_TRUE(found->budget);
    EXPECT_FALSE(ring.find(created.secret + "x"));
    EXPECT_FALSE(ring.find(""));

    EXPECT_EQ(store.revoke("team-a", 3000), 1);
    EXPECT_EQ(store.revoke("team-a", 3000), 0);
    ring.refresh();
    EXPECT_FALSE(ring.find(created.secret));
    EXPECT_EQ(store.list(false).size(), 0u);
    EXPECT_EQ(store.list(true).size(), 1u);
}

TEST_F(TempDb, KeyRingKeepsLiveBudgetStateAcrossRefreshes) {
    storage::SqliteDb db(path_);
    KeyStore store(db);
    NewKey spec;
    spec.name = "a";
    spec.budget_usd = 1;
    auto a = store.create(spec, 1000);
    KeyRingOptions o;
    o.db_path = path_;
    o.refresh_interval_ms = 0;
    KeyRing ring(o, [] { return int64_t{2000}; });
    auto state = ring.find(a.secret);
    ASSERT_TRUE(state);
    auto r = state->budget->reserve(to_nusd(0.5), 2000);
    ASSERT_TRUE(r.ok());
    state->budget->settle(*r, to_nusd(0.5), 2000);
    spec.name = "b";
    store.create(spec, 1500);  // another key changes the table
    ring.refresh();
    auto again = ring.find(a.secret);
    ASSERT_TRUE(again);
    EXPECT_EQ(again.get(), state.get());
    EXPECT_EQ(again->budget->snapshot(2000).spent_nusd, to_nusd(0.5));
}

TEST_F(TempDb, KeyRingLoadsThisPeriodsSpendFromTheLedger) {
    storage::SqliteDb db(path_);
    KeyStore store(db);
    NewKey spec;
    spec.name = "a";
    spec.budget_usd = 1;
    spec.budget_period = BudgetPeriod::kDay;
    auto a = store.create(spec, 1000);
    const int64_t now = *switchyard::tokens::parse_utc_time("2026-11-25T12:00:00Z");
    {
        LedgerOptions lo;
        lo.path = path_;
        UsageLedger ledger(lo);
        ledger.record(row(a.key.id, "m", 1, 1, to_nusd(0.25), now - 3'600'000));  // today
        ledger.record(row(a.key.id, "m", 1, 1, to_nusd(0.5), now - 86'400'000));  // yesterday
    }
    KeyRingOptions o;
    o.db_path = path_;
    o.refresh_interval_ms = 0;
    KeyRing ring(o, [now] { return now; });
    auto state = ring.find(a.secret);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->budget->snapshot(now).spent_nusd, to_nusd(0.25));
}

TEST_F(TempDb, TheConfiguredAdminKeyIsAnAdmin) {
    KeyRingOptions o;
    o.db_path = path_;
    o.refresh_interval_ms = 0;
    o.admin_secret = "sk-sy-admin-0123456789";
    KeyRing ring(o, [] { return int64_t{0}; });
    auto admin = ring.find("sk-sy-admin-0123456789");
    ASSERT_TRUE(admin);
    EXPECT_TRUE(admin->key.admin);
    EXPECT_FALSE(ring.find("sk-sy-admin-012345678"));
}

}  // namespace
