// IncidentLog: one deque of incidents under one mutex, JSONL appends outside it.
// Open incidents are found by a scan (newest first): at most a handful are open at a time and
// the deque holds at most `keep` resolved ones, so a map would cost more than it saves. The
// success path (is_open) skips the mutex while nothing is open.
// Trade-off: with an executor that runs appends on several threads, an incident's "resolved"
// line can land before its "open" line; every line carries the id and the event, so readers
// can pair them.

#include "switchyard/resilience/incidents.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

#include <spdlog/spdlog.h>

#include "switchyard/core/json_writer.hpp"

namespace switchyard::resilience {
namespace {

// 2026-11-25T18:30:00.123Z
std::string iso8601_utc_ms(int64_t unix_ms) {
    int64_t seconds = unix_ms / 1000;
    int64_t millis = unix_ms % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

bool same(const Incident& incident, std::string_view kind, std::string_view subject) {
    return incident.kind == kind && incident.subject == subject;
}

// Drops the oldest resolved incidents beyond `keep`; open ones stay, however many.
void trim(std::deque<Incident>& incidents, size_t keep) {
    size_t excess = incidents.size() > keep ? incidents.size() - keep : 0;
    for (auto it = incidents.begin(); excess > 0 && it != incidents.end();) {
        if (it->open()) {
            ++it;
        } else {
            it = incidents.erase(it);
            --excess;
        }
    }
}

}  // namespace

IncidentLog::IncidentLog(std::string path, size_t keep) : path_(std::move(path)), keep_(keep) {}

IncidentLog::~IncidentLog() = default;

void IncidentLog::set_executor(std::function<void(std::function<void()>)> post) {
    post_ = std::move(post);
}

uint64_t IncidentLog::open(std::string_view kind, std::string_view subject, std::string_view detail,
                           int64_t now_ms) {
    std::string line;
    uint64_t id = 0;
    {
        std::lock_guard lock(mu_);
        if (stats_.open_now > 0) {
            for (auto it = incidents_.rbegin(); it != incidents_.rend(); ++it) {
                if (it->open() && same(*it, kind, subject)) {
                    ++it->occurrences;
                    return it->id;
                }
            }
        }
        Incident incident;
        incident.id = id = next_id_++;
        incident.kind = std::string(kind);
        incident.subject = std::string(subject);
        incident.detail = std::string(detail);
        incident.opened_ms = now_ms;
        incidents_.push_back(std::move(incident));
        ++stats_.opened;
        ++stats_.open_now;
        open_count_.store(stats_.open_now, std::memory_order_relaxed);
        if (!path_.empty()) line = to_json(incidents_.back(), "open");
        trim(incidents_, keep_);
    }
    if (!line.empty()) append(std::move(line));
    return id;
}

bool IncidentLog::resolve(std::string_view kind, std::string_view subject,
                          std::string_view resolution, int64_t now_ms) {
    std::string line;
    {
        std::lock_guard lock(mu_);
        if (stats_.open_now == 0) return false;
        auto it = incidents_.rbegin();
        while (it != incidents_.rend() && !(it->open() && same(*it, kind, subject)))
            ++it;
        if (it == incidents_.rend()) return false;
        // A clock that stepped back must not make the incident look open or negative.
        it->resolved_ms = std::max(now_ms, it->opened_ms);
        it->resolution = std::string(resolution);
        ++stats_.resolved;
        --stats_.open_now;
        open_count_.store(stats_.open_now, std::memory_order_relaxed);
        mttr_sum_ms_ += static_cast<double>(it->resolved_ms - it->opened_ms);
        stats_.mttr_ms = mttr_sum_ms_ / static_cast<double>(stats_.resolved);
        if (!path_.empty()) line = to_json(*it, "resolved");
        trim(incidents_, keep_);
    }
    if (!line.empty()) append(std::move(line));
    return true;
}

bool IncidentLog::is_open(std::string_view kind, std::string_view subject) const {
    if (open_count_.load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard lock(mu_);
    for (auto it = incidents_.rbegin(); it != incidents_.rend(); ++it) {
        if (it->open() && same(*it, kind, subject)) return true;
    }
    return false;
}

std::vector<Incident> IncidentLog::recent(size_t limit, bool open_only) const {
    std::vector<Incident> out;
    std::lock_guard lock(mu_);
    out.reserve(std::min(limit, incidents_.size()));
    for (auto it = incidents_.rbegin(); it != incidents_.rend() && out.size() < limit; ++it) {
        if (!open_only || it->open()) out.push_back(*it);
    }
    return out;
}

IncidentStats IncidentLog::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

std::string IncidentLog::to_json(const Incident& incident, std::string_view event) {
    std::string out;
    out.reserve(256 + incident.detail.size() + incident.resolution.size());
    JsonWriter w(out);
    w.begin_object();
    if (!event.empty()) w.kv("event", event);
    w.kv("id", static_cast<int64_t>(incident.id));
    w.kv("kind", std::string_view(incident.kind));
    w.kv("subject", std::string_view(incident.subject));
    w.kv("detail", std::string_view(incident.detail));
    w.kv("opened_at", std::string_view(iso8601_utc_ms(incident.opened_ms)));
    if (incident.open()) {
        w.kv_null("resolved_at");
        w.kv_null("duration_ms");
    } else {
        w.kv("resolved_at", std::string_view(iso8601_utc_ms(incident.resolved_ms)));
        w.kv("duration_ms", incident.resolved_ms - incident.opened_ms);
    }
    w.kv("occurrences", incident.occurrences);
    w.kv("resolution", std::string_view(incident.resolution));
    w.end_object();
    return out;
}

void IncidentLog::append(std::string line) {
    line += '\n';
    // One fopen/fwrite/fflush per line: the file is opened O_APPEND, so lines from several
    // processes never interleave, and a rotated or deleted file is recreated on the next line.
    auto write = [this, line = std::move(line)]() {
        bool ok = false;
        int error = 0;
        {
            std::lock_guard lock(file_mu_);
            if (std::FILE* f = std::fopen(path_.c_str(), "a")) {
                ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
                ok = std::fflush(f) == 0 && ok;
                if (!ok) error = errno;
                ok = std::fclose(f) == 0 && ok;
            }
            if (!ok) {
                if (error == 0) error = errno;
                if (!reported_write_error_) {
                    reported_write_error_ = true;
                    spdlog::error("incident log {}: cannot append ({}); incidents stay in memory",
                                  path_, std::generic_category().message(error));
                }
            }
        }
        if (!ok) {
            std::lock_guard lock(mu_);
            ++stats_.write_errors;
        }
    };
    if (post_) {
        post_(std::move(write));
    } else {
        write();
    }
}

}  // namespace switchyard::resilience
