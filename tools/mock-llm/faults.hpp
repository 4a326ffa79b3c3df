// Fault injection: the fault spec ("status=429,retry_after=2"), the rules that apply it
// (--fault and POST /_mock/faults, with optional model filter and count), and fail_first counters.
// FaultSpec/FaultPlan are plain values. FaultBook is thread-safe; its one lock is skipped on the
// hot path when no rule exists. Bad specs come back as error text, never as exceptions.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mock_llm {

// Every key a spec may set; unset keys leave the earlier source's value in place.
struct FaultSpec {
    std::optional<int64_t> latency_ms;
    std::optional<bool> hang;
    std::optional<int64_t> status;
    std::optional<int64_t> retry_after_s;
    std::optional<int64_t> fail_first;
    std::optional<std::string> key;  // fail_first counter name; default the model name
    std::optional<int64_t> reset_after_chunks;
    std::optional<bool> malformed;
    std::optional<int64_t> chunk_delay_ms;
    std::optional<int64_t> words;
    std::optional<bool> error_event;
    std::optional<bool> no_usage;           // OpenAI format: answer without any usage object
    std::optional<std::string> code;        // the `code` of an injected error body
    std::optional<int64_t> context_window;  // tokens; alone: 400 when the prompt is longer
    std::optional<bool> content_filter;     // answer withheld by the content filter
    std::optional<std::string> model;       // applies only to requests for this model
    std::optional<int64_t> count;           // rules only: how many matching requests it applies to

    // Takes every key `later` sets.
    void overlay(const FaultSpec& later);
    bool applies_to(std::string_view request_model) const {
        return !model || *model == request_model;
    }
};

// Parses "key=value,key=value" (spaces around items allowed) on top of `spec`.
// Returns an error message, or an empty string on success.
std::string parse_fault_spec(std::string_view text, FaultSpec& spec);

// Renders a spec back to its "key=value,..." text.
std::string format_fault_spec(const FaultSpec& spec);

// What one request gets, after all sources are merged and fail_first is decided.
struct FaultPlan {
    int64_t latency_ms = 0;
    bool hang = false;
    int status = 0;                   // 0: answer normally
    std::string retry_after;          // Retry-After header value; empty: none
    int64_t reset_after_chunks = -1;  // -1: never
    bool malformed = false;
    int64_t chunk_delay_ms = 0;
    std::optional<int64_t> words;
    bool error_event = false;
    bool no_usage = false;
    std::string code;  // injected error's code; empty: the usual one for the status
    std::optional<int64_t> context_window;  // for context_length_exceeded (default 4096)
    bool content_filter = false;
};

// The context window named in a context_length_exceeded error when no context_window is set.
inline constexpr int64_t kDefaultContextWindow = 4096;

class FaultBook {
public:
    // `startup` are the --fault rules; they survive clear() with their counts restored.
    explicit FaultBook(std::vector<FaultSpec> startup);

    // Admin rules, appended after the startup ones (so they override them per key).
    void add_rule(FaultSpec rule);
    // Drops admin rules, restores startup rules, forgets fail_first counters.
    void clear();
    std::string render_rules() const;  // JSON: {"rules":[{"fault":..,"model":..,"count":..}]}

    // Merges, in this order, each rule matching `model` (using up one of its count), then
    // the request header's spec, then the message directive's spec; then decides fail_first.
    FaultPlan plan(std::string_view model, const FaultSpec& header, const FaultSpec& directive);

private:
    FaultPlan finish(const FaultSpec& merged, std::string_view model);

    mutable std::mutex mutex_;
    std::vector<FaultSpec> startup_;                        // guarded by mutex_ (never changes)
    std::vector<FaultSpec> rules_;                          // guarded by mutex_
    std::unordered_map<std::string, int64_t> fail_counts_;  // guarded by mutex_
    std::atomic<bool> has_rules_{false};                    // rules_ is non-empty
};

}  // namespace mock_llm
