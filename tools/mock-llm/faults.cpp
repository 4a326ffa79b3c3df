// Fault specs: parsing, merging by key, rules with counts, and fail_first counters.

#include "faults.hpp"

#include <charconv>

#include "json_writer.hpp"

namespace mock_llm {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string parse_int(std::string_view key, std::string_view value, int64_t min, int64_t max,
                      std::optional<int64_t>& out) {
    int64_t v = 0;
    const auto result = std::from_chars(value.data(), value.data() + value.size(), v);
    if (result.ec != std::errc() || result.ptr != value.data() + value.size() || v < min ||
        v > max) {
        return "mock fault: '" + std::string(key) + "' needs an integer from " +
               std::to_string(min) + " to " + std::to_string(max) + ", got '" + std::string(value) +
               "'";
    }
    out = v;
    return {};
}

std::string parse_bool(std::string_view key, std::string_view value, std::optional<bool>& out) {
    if (value == "1" || value == "true") {
        out = true;
    } else if (value == "0" || value == "false") {
        out = false;
    } else {
        return "mock fault: '" + std::string(key) + "' needs 1 or 0, got '" + std::string(value) +
               "'";
    }
    return {};
}

// An error code: a non-empty identifier such as rate_limit_exceeded.
std::string parse_code(std::string_view key, std::string_view value,
                       std::optional<std::string>& out) {
    const bool ok = !value.empty() && value.size() <= 64 &&
                    value.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.-") == std::string_view::npos;
    if (!ok) {
        return "mock fault: '" + std::string(key) +
               "' needs a code of letters, digits, '_', '.' or '-', got '" + std::string(value) +
               "'";
    }
    out = std::string(value);
    return {};
}

template <class T>
void take(std::optional<T>& mine, const std::optional<T>& theirs) {
    if (theirs) mine = theirs;
}

constexpr int64_t kMaxMs = 3'600'000;  // an hour: longer waits are typos

}  // namespace

void FaultSpec::overlay(const FaultSpec& later) {
    take(latency_ms, later.latency_ms);
    take(hang, later.hang);
    take(status, later.status);
    take(retry_after_s, later.retry_after_s);
    take(fail_first, later.fail_first);
    take(key, later.key);
    take(reset_after_chunks, later.reset_after_chunks);
    take(malformed, later.malformed);
    take(chunk_delay_ms, later.chunk_delay_ms);
    take(words, later.words);
    take(error_event, later.error_event);
    take(no_usage, later.no_usage);
    take(code, later.code);
    take(context_window, later.context_window);
    take(content_filter, later.content_filter);
    take(model, later.model);
    take(count, later.count);
}

std::string parse_fault_spec(std::string_view text, FaultSpec& spec) {
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return "mock fault: expected key=value, got '" + std::string(item) + "'";
        }
        const std::string_view key = trim(item.substr(0, eq));
        const std::string_view value = trim(item.substr(eq + 1));
        std::string error;
        if (key == "latency_ms") {
            error = parse_int(key, value, 0, kMaxMs, spec.latency_ms);
        } else if (key == "hang") {
            error = parse_bool(key, value, spec.hang);
        } else if (key == "status") {
            error = parse_int(key, value, 200, 599, spec.status);
        } else if (key == "retry_after") {
            error = parse_int(key, value, 0, 86'400, spec.retry_after_s);
        } else if (key == "fail_first") {
            error = parse_int(key, value, 0, INT64_MAX, spec.fail_first);
        } else if (key == "key") {
            spec.key = std::string(value);
        } else if (key == "reset_after_chunks") {
            error = parse_int(key, value, 0, INT64_MAX, spec.reset_after_chunks);
        } else if (key == "malformed") {
            error = parse_bool(key, value, spec.malformed);
        } else if (key == "chunk_delay_ms") {
            error = parse_int(key, value, 0, kMaxMs, spec.chunk_delay_ms);
        } else if (key == "words") {
            error = parse_int(key, value, 0, 1'000'000, spec.words);
        } else if (key == "error_event") {
            error = parse_bool(key, value, spec.error_event);
        } else if (key == "no_usage") {
            error = parse_bool(key, value, spec.no_usage);
        } else if (key == "code") {
            error = parse_code(key, value, spec.code);
        } else if (key == "context_window") {
            error = parse_int(key, value, 1, 100'000'000, spec.context_window);
        } else if (key == "content_filter") {
            error = parse_bool(key, value, spec.content_filter);
        } else if (key == "model") {
            spec.model = std::string(value);
        } else if (key == "count") {
            error = parse_int(key, value, 1, INT64_MAX, spec.count);
        } else {
            error = "mock fault: unknown key '" + std::string(key) + "'";
        }
        if (!error.empty()) return error;
    }
    return {};
}

std::string format_fault_spec(const FaultSpec& spec) {
    std::string out;
    auto add = [&out](std::string_view key, std::string_view value) {
        if (!out.empty()) out += ',';
        out += key;
        out += '=';
        out += value;
    };
    auto add_int = [&add](std::string_view key, const std::optional<int64_t>& v) {
        if (v) add(key, std::to_string(*v));
    };
    auto add_bool = [&add](std::string_view key, const std::optional<bool>& v) {
        if (v) add(key, *v ? "1" : "0");
    };
    add_int("latency_ms", spec.latency_ms);
    add_bool("hang", spec.hang);
    add_int("status", spec.status);
    add_int("retry_after", spec.retry_after_s);
    add_int("fail_first", spec.fail_first);
    if (spec.key) add("key", *spec.key);
    add_int("reset_after_chunks", spec.reset_after_chunks);
    add_bool("malformed", spec.malformed);
    add_int("chunk_delay_ms", spec.chunk_delay_ms);
    add_int("words", spec.words);
    add_bool("error_event", spec.error_event);
    add_bool("no_usage", spec.no_usage);
    if (spec.code) add("code", *spec.code);
    add_int("context_window", spec.context_window);
    add_bool("content_filter", spec.content_filter);
    return out;
}

FaultBook::FaultBook(std::vector<FaultSpec> startup) : startup_(std::move(startup)) {
    rules_ = startup_;
    has_rules_.store(!rules_.empty(), std::memory_order_release);
}

void FaultBook::add_rule(FaultSpec rule) {
    std::lock_guard lock(mutex_);
    rules_.push_back(std::move(rule));
    has_rules_.store(true, std::memory_order_release);
}

void FaultBook::clear() {
    std::lock_guard lock(mutex_);
    rules_ = startup_;
    fail_counts_.clear();
    has_rules_.store(!rules_.empty(), std::memory_order_release);
}

std::string FaultBook::render_rules() const {
    std::string out;
    JsonWriter json(out);
    json.begin_object().key("rules").begin_array();
    std::lock_guard lock(mutex_);
    for (const FaultSpec& rule : rules_) {
        json.begin_object().key("fault").string(format_fault_spec(rule));
        json.key("model");
        rule.model ? json.string(*rule.model) : json.null();
        json.key("count");
        rule.count ? json.number(*rule.count) : json.null();
        json.end_object();
    }
    json.end_array().end_object();
    return out;
}

FaultPlan FaultBook::plan(std::string_view model, const FaultSpec& header,
                          const FaultSpec& directive) {
    FaultSpec merged;
    if (has_rules_.load(std::memory_order_acquire)) {
        std::lock_guard lock(mutex_);
        for (auto it = rules_.begin(); it != rules_.end();) {
            if (!it->applies_to(model)) {
                ++it;
                continue;
            }
            merged.overlay(*it);
            if (it->count && --*it->count == 0) {
                it = rules_.erase(it);
            } else {
                ++it;
            }
        }
        has_rules_.store(!rules_.empty(), std::memory_order_release);
    }
    if (header.applies_to(model)) merged.overlay(header);
    if (directive.applies_to(model)) merged.overlay(directive);
    return finish(merged, model);
}

FaultPlan FaultBook::finish(const FaultSpec& merged, std::string_view model) {
    FaultPlan plan;
    plan.latency_ms = merged.latency_ms.value_or(0);
    plan.hang = merged.hang.value_or(false);
    plan.reset_after_chunks = merged.reset_after_chunks.value_or(-1);
    plan.malformed = merged.malformed.value_or(false);
    plan.chunk_delay_ms = merged.chunk_delay_ms.value_or(0);
    plan.words = merged.words;
    plan.error_event = merged.error_event.value_or(false);
    plan.no_usage = merged.no_usage.value_or(false);
    if (merged.code) plan.code = *merged.code;
    plan.context_window = merged.context_window;
    plan.content_filter = merged.content_filter.value_or(false);

    int64_t status = merged.status.value_or(0);
    if (merged.fail_first) {
        std::string counter = merged.key ? *merged.key : std::string(model);
        bool fail = false;
        {
            std::lock_guard lock(mutex_);
            fail = fail_counts_[std::move(counter)]++ < *merged.fail_first;
        }
        status = fail ? merged.status.value_or(500) : 0;
    }
    if (status >= 200 && status < 300) status = 0;
    plan.status = static_cast<int>(status);
    // 429 gets Retry-After: 1 by default. (Not `retry_after = "1"`: GCC 12 reports a false
    // -Wrestrict for assigning that literal here.)
    const int64_t default_retry_after_s = plan.status == 429 ? 1 : -1;
    const int64_t retry_after_s = merged.retry_after_s.value_or(default_retry_after_s);
    if (plan.status != 0 && retry_after_s >= 0) plan.retry_after = std::to_string(retry_after_s);
    return plan;
}

}  // namespace mock_llm
