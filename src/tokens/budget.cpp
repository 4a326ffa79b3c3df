#include "switchyard/tokens/budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "switchyard/tokens/ledger.hpp"

namespace switchyard::tokens {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

// Days since 1970-01-01 <-> civil date (proleptic Gregorian), after H. Hinnant's algorithms.
struct Civil {
    int64_t y;
    unsigned m;
    unsigned d;
};

Civil civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

std::string_view to_string(BudgetPeriod period) {
    return period == BudgetPeriod::kDay ? "day" : "month";
}

std::optional<BudgetPeriod> parse_budget_period(std::string_view text) {
    if (text == "day" || text == "daily") return BudgetPeriod::kDay;
    if (text == "month" || text == "monthly") return BudgetPeriod::kMonth;
    return std::nullopt;
}

int64_t period_start_ms(BudgetPeriod period, int64_t unix_ms) {
    const int64_t days = floor_div(unix_ms, kMsPerDay);
    if (period == BudgetPeriod::kDay) return days * kMsPerDay;
    const Civil c = civil_from_days(days);
    return days_from_civil(c.y, c.m, 1) * kMsPerDay;
}

int64_t period_end_ms(BudgetPeriod period, int64_t unix_ms) {
    const int64_t days = floor_div(unix_ms, kMsPerDay);
    if (period == BudgetPeriod::kDay) return (days + 1) * kMsPerDay;
    const Civil c = civil_from_days(days);
    const int64_t y = c.m == 12 ? c.y + 1 : c.y;
    const unsigned m = c.m == 12 ? 1 : c.m + 1;
    return days_from_civil(y, m, 1) * kMsPerDay;
}

std::string format_utc(int64_t unix_ms) {
    const int64_t days = floor_div(unix_ms, kMsPerDay);
    const int64_t ms_of_day = unix_ms - days * kMsPerDay;
    const Civil c = civil_from_days(days);
    const int64_t s = ms_of_day / 1000;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.m, c.d, s / 3600,
                       (s / 60) % 60, s % 60);
}

std::optional<int64_t> parse_utc_time(std::string_view text) {
    int64_t secs = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
    if (ec == std::errc() && p == text.data() + text.size()) return secs * 1000;
    if (text.size() != 10 && text.size() != 20) return std::nullopt;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    auto num = [&](size_t pos, size_t len, int& out) {
        auto [q, e] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
        return e == std::errc() && q == text.data() + pos + len;
    };
    if (!num(0, 4, y) || text[4] != '-' || !num(5, 2, mo) || text[7] != '-' || !num(8, 2, d)) {
        return std::nullopt;
    }
    if (text.size() == 20 &&
        (text[10] != 'T' || !num(11, 2, h) || text[13] != ':' || !num(14, 2, mi) ||
         text[16] != ':' || !num(17, 2, s) || text[19] != 'Z')) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return ((days * 24 + h) * 60 + mi) * 60'000 + int64_t{s} * 1000;
}

Budget::Budget(std::string label, int64_t limit_nusd, BudgetPeriod period,
               std::vector<double> thresholds)
    : label_(std::move(label)), limit_nusd_(limit_nusd), period_(period), thresholds_([&] {
          std::sort(thresholds.begin(), thresholds.end());
          return thresholds;
      }()) {}

void Budget::roll(int64_t now_ms) {
    const int64_t start = period_start_ms(period_, now_ms);
    if (start == period_start_ms_) return;
    if (start < period_start_ms_) return;  // clock went back: stay in the later period
    period_start_ms_ = start;
    spent_nusd_ = 0;
    alerted_ = 0;
    // Reservations taken in the old period are released against it (see settle()).
    reserved_nusd_ = 0;
}

Result<Budget::Reservation> Budget::reserve(int64_t estimate_nusd, int64_t now_ms) {
    std::lock_guard lock(mu_);
    roll(now_ms);
    estimate_nusd = std::max<int64_t>(estimate_nusd, 0);
    if (spent_nusd_ + reserved_nusd_ + estimate_nusd > limit_nusd_) {
        Error e;
        e.kind = ErrorKind::kRateLimited;
        e.code = "budget_exceeded";
        const int64_t reset = period_end_ms(period_, now_ms);
        e.retry_after_s =
            static_cast<int>(std::min<int64_t>((reset - now_ms + 999) / 1000, 2'000'000'000));
        if (spent_nusd_ >= limit_nusd_) {
            e.message = fmt::format(
                "Budget exhausted: {} allows ${:.4f} per {}; ${:.4f} spent. It resets at {}.",
                label_, to_usd(limit_nusd_), to_string(period_), to_usd(spent_nusd_),
                format_utc(reset));
        } else {
            e.message = fmt::format(
                "Budget would be exceeded: {} allows ${:.4f} per {}; ${:.4f} spent, ${:.4f} "
                "reserved by requests in flight, and this request may cost up to ${:.4f} "
                "(prompt + max_tokens). Lower max_tokens or wait for the reset at {}.",
                label_, to_usd(limit_nusd_), to_string(period_), to_usd(spent_nusd_),
                to_usd(reserved_nusd_), to_usd(estimate_nusd), format_utc(reset));
        }
        return e;
    }
    reserved_nusd_ += estimate_nusd;
    return Reservation{estimate_nusd, period_start_ms_};
}

std::vector<double> Budget::settle(const Reservation& r, int64_t actual_nusd, int64_t now_ms) {
    std::lock_guard lock(mu_);
    roll(now_ms);
    if (r.period_start_ms == period_start_ms_) {
        reserved_nusd_ = std::max<int64_t>(0, reserved_nusd_ - r.amount_nusd);
    }
    // Cost lands in the period the request finished in.
    spent_nusd_ += std::max<int64_t>(actual_nusd, 0);
    std::vector<double> crossed;
    while (alerted_ < thresholds_.size() &&
           static_cast<double>(spent_nusd_) >=
               thresholds_[alerted_] * static_cast<double>(limit_nusd_)) {
        crossed.push_back(thresholds_[alerted_]);
        ++alerted_;
    }
    return crossed;
}

void Budget::release(const Reservation& r, int64_t now_ms) {
    std::lock_guard lock(mu_);
    roll(now_ms);
    if (r.period_start_ms == period_start_ms_) {
        reserved_nusd_ = std::max<int64_t>(0, reserved_nusd_ - r.amount_nusd);
    }
}

void Budget::add_spent(int64_t nusd, int64_t now_ms) {
    std::lock_guard lock(mu_);
    roll(now_ms);
    spent_nusd_ += nusd;
    // Thresholds already passed before start-up do not fire again.
    while (alerted_ < thresholds_.size() &&
           static_cast<double>(spent_nusd_) >=
               thresholds_[alerted_] * static_cast<double>(limit_nusd_)) {
        ++alerted_;
    }
}

Budget::Snapshot Budget::snapshot(int64_t now_ms) {
    std::lock_guard lock(mu_);
    roll(now_ms);
    return {limit_nusd_, spent_nusd_, reserved_nusd_, period_start_ms_,
            period_end_ms(period_, now_ms)};
}

}  // namespace switchyard::tokens
