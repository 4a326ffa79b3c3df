// Budget: a spending limit in USD over a calendar period (UTC day or month), for one API key
// or for the whole gateway. Cost is reserved from an estimate before a request is sent
// upstream and settled with the real cost after, so concurrent requests cannot overspend:
// a request is admitted only if spent + reserved + its estimate fits the limit. The limit
// can be exceeded only by the difference between a request's actual cost and its estimate
// (the estimate is prompt tokens + max_tokens at list price, so normally never).
// Thread safety: every method may be called from any thread; one mutex per Budget, held for
// a few arithmetic operations (the global budget is the one lock all requests share).
// Failure: reserve() returns the reason for a refusal (which budget, spent, limit, reset
// time) as a 429 Error; nothing throws.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/error.hpp"

namespace switchyard::tokens {

enum class BudgetPeriod { kDay, kMonth };
std::string_view to_string(BudgetPeriod period);
std::optional<BudgetPeriod> parse_budget_period(std::string_view text);

// Start of the period containing `unix_ms` and the start of the next one, UTC.
int64_t period_start_ms(BudgetPeriod period, int64_t unix_ms);
int64_t period_end_ms(BudgetPeriod period, int64_t unix_ms);
// "2026-12-01T00:00:00Z"
std::string format_utc(int64_t unix_ms);
// Unix seconds, "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM:SSZ" -> unix ms.
std::optional<int64_t> parse_utc_time(std::string_view text);

class Budget {
public:
    // `label` names it in errors and metrics ("key team-a", "global"). `thresholds` are
    // fractions of the limit at which an alert fires once per period (e.g. 0.5, 0.8, 1.0).
    Budget(std::string label, int64_t limit_nusd, BudgetPeriod period,
           std::vector<double> thresholds);

    // What a reserve() holds; pass it back to settle() or release().
    struct Reservation {
        int64_t amount_nusd = 0;
        int64_t period_start_ms = 0;
    };

    // Admits a request estimated at `estimate_nusd` at time `now_ms`, or says why not.
    Result<Reservation> reserve(int64_t estimate_nusd, int64_t now_ms);
    // Replaces the reservation by the actual cost. Returns the alert thresholds this
    // crossed (usually none).
    std::vector<double> settle(const Reservation& r, int64_t actual_nusd, int64_t now_ms);
    // Drops the reservation (the request was not sent, or cost nothing).
    void release(const Reservation& r, int64_t now_ms);
    // Adds spend recorded before start-up (from the ledger) for the period at `now_ms`.
    void add_spent(int64_t nusd, int64_t now_ms);

    struct Snapshot {
        int64_t limit_nusd = 0;
        int64_t spent_nusd = 0;
        int64_t reserved_nusd = 0;
        int64_t period_start_ms = 0;
        int64_t resets_at_ms = 0;
    };
    Snapshot snapshot(int64_t now_ms);

    const std::string& label() const { return label_; }
    BudgetPeriod period() const { return period_; }
    int64_t limit_nusd() const { return limit_nusd_; }

private:
    void roll(int64_t now_ms);  // requires mu_

    const std::string label_;
    const int64_t limit_nusd_;
    const BudgetPeriod period_;
    const std::vector<double> thresholds_;
    std::mutex mu_;
    int64_t period_start_ms_ = -1;  // guarded by mu_
    int64_t spent_nusd_ = 0;        // guarded by mu_
    int64_t reserved_nusd_ = 0;     // guarded by mu_
    size_t alerted_ = 0;            // guarded by mu_: thresholds already fired this period
};

}  // namespace switchyard::tokens
