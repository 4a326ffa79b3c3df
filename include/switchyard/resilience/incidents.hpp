// IncidentLog: what went wrong upstream, for operators. An incident opens when a circuit
// breaker opens or a request's whole fallback chain fails (an outage of that route), and is
// resolved when the breaker closes again or a request on that route succeeds; the recovery
// time (time to resolve) is kept per incident and summarised as MTTR. At most one incident
// per (kind, subject) is open at a time: a thousand failing requests during one outage are
// one incident with a count, not a thousand.
// Every open and resolve is appended as one JSON line to a file (when a path is set), and the
// latest incidents are kept in memory for GET /v1/incidents.
// Thread safety: all methods may be called from any thread (one mutex; the file append runs
// on the writer function the owner supplies, e.g. a blocking thread pool, never under the
// mutex of a request path caller).
// Failure: a file that cannot be opened or written is logged once and counted; incidents are
// still kept in memory. Nothing throws after construction.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::resilience {

struct Incident {
    uint64_t id = 0;
    std::string kind;          // "circuit_open" or "route_outage"
    std::string subject;       // deployment name, or the route / model whose chain failed
    std::string detail;        // why it opened: breaker reason, or what was tried
    int64_t opened_ms = 0;     // unix ms
    int64_t resolved_ms = -1;  // unix ms; -1 while open
    int64_t occurrences = 1;   // failures folded into this incident while open
    std::string resolution;    // "breaker closed", "request succeeded on gpt-4-turbo"

    bool open() const { return resolved_ms < 0; }
};

struct IncidentStats {
    int64_t opened = 0;  // since start
    int64_t resolved = 0;
    int64_t open_now = 0;
    double mttr_ms = 0;        // mean time to resolve over resolved incidents since start
    int64_t write_errors = 0;  // JSONL lines that could not be written
};

class IncidentLog {
public:
    // Appends one line (without the newline) to the JSONL file; called outside the mutex.
    // Empty = memory only.
    using Writer = std::function<void(std::string line)>;

    // `path` empty = no file. `keep` = incidents kept in memory (open ones are never dropped).
    IncidentLog(std::string path, size_t keep = 1000);
    ~IncidentLog();
    IncidentLog(const IncidentLog&) = delete;
    IncidentLog& operator=(const IncidentLog&) = delete;

    // Runs file appends through `post` (e.g. onto a blocking pool) instead of inline.
    void set_executor(std::function<void(std::function<void()>)> post);

    // Opens an incident, or counts one more occurrence of the open one with the same kind
    // and subject. Returns its id.
    uint64_t open(std::string_view kind, std::string_view subject, std::string_view detail,
                  int64_t now_ms);
    // Resolves the open incident of that kind and subject, if any. True if one was resolved.
    bool resolve(std::string_view kind, std::string_view subject, std::string_view resolution,
                 int64_t now_ms);
    // Whether an incident of that kind and subject is open (cheap; for the success path).
    bool is_open(std::string_view kind, std::string_view subject) const;

    // Newest first, at most `limit`; `open_only` filters.
    std::vector<Incident> recent(size_t limit, bool open_only = false) const;
    IncidentStats stats() const;
    const std::string& path() const { return path_; }

    // The JSON object of one incident (also the JSONL line format, plus "event").
    static std::string to_json(const Incident& incident, std::string_view event = {});

private:
    void append(std::string line);

    const std::string path_;
    const size_t keep_;
    mutable std::mutex mu_;
    std::deque<Incident> incidents_;      // guarded by mu_; oldest first
    uint64_t next_id_ = 1;                // guarded by mu_
    IncidentStats stats_;                 // guarded by mu_
    double mttr_sum_ms_ = 0;              // guarded by mu_
    std::atomic<int64_t> open_count_{0};  // stats_.open_now, readable without mu_ (is_open)
    std::function<void(std::function<void()>)> post_;  // set before use
    std::mutex file_mu_;                               // serialises appends
    bool reported_write_error_ = false;                // guarded by file_mu_
};

}  // namespace switchyard::resilience
