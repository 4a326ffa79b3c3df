// Introspection counters and the last-request record, rendered as JSON on demand.

#include "stats.hpp"

#include <cctype>

#include <simdjson.h>

#include "json_writer.hpp"

namespace mock_llm {
namespace {

void bump(std::map<std::string, int64_t, std::less<>>& counts, std::string_view key) {
    auto it = counts.find(key);
    if (it == counts.end()) {
        counts.emplace(std::string(key), 1);
    } else {
        ++it->second;
    }
}

void write_counts(JsonWriter& w, const std::map<std::string, int64_t, std::less<>>& counts) {
    w.begin_object();
    for (const auto& [name, n] : counts)
        w.key(name).number(n);
    w.end_object();
}

}  // namespace

Stats::Stats(size_t workers) {
    shards_.reserve(workers);
    for (size_t i = 0; i < workers; ++i)
        shards_.push_back(std::make_unique<Shard>());
}

void Stats::on_request(size_t worker, std::string_view path) {
    Shard& s = *shards_[worker];
    s.requests.fetch_add(1, std::memory_order_relaxed);
    s.in_flight.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(s.mutex);
    bump(s.by_path, path);
}

void Stats::on_model(size_t worker, std::string_view model) {
    Shard& s = *shards_[worker];
    std::lock_guard lock(s.mutex);
    bump(s.by_model, model);
}

void Stats::on_end(size_t worker, Ending ending) {
    Shard& s = *shards_[worker];
    s.in_flight.fetch_sub(1, std::memory_order_relaxed);
    (ending == Ending::kCompleted ? s.completed : s.cancelled)
        .fetch_add(1, std::memory_order_relaxed);
}

void Stats::remember(size_t worker, std::shared_ptr<const HttpRequest> request) {
    Shard& s = *shards_[worker];
    const uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::shared_ptr<const HttpRequest> previous;
    {
        std::lock_guard lock(s.mutex);
        s.last_seq = seq;
        previous = std::exchange(s.last, std::move(request));
    }
    // `previous` is freed here, outside the lock.
}

void Stats::on_connection(size_t worker) {
    shards_[worker]->connections.fetch_add(1, std::memory_order_relaxed);
}

void Stats::reset() {
    for (auto& shard : shards_) {
        shard->requests.store(0, std::memory_order_relaxed);
        shard->completed.store(0, std::memory_order_relaxed);
        shard->cancelled.store(0, std::memory_order_relaxed);
        shard->connections.store(0, std::memory_order_relaxed);
        std::lock_guard lock(shard->mutex);
        shard->by_path.clear();
        shard->by_model.clear();
    }
}

std::string Stats::render_stats() const {
    int64_t requests = 0, completed = 0, cancelled = 0, in_flight = 0, connections = 0;
    std::map<std::string, int64_t, std::less<>> by_path, by_model;
    for (const auto& shard : shards_) {
        requests += shard->requests.load(std::memory_order_relaxed);
        completed += shard->completed.load(std::memory_order_relaxed);
        cancelled += shard->cancelled.load(std::memory_order_relaxed);
        in_flight += shard->in_flight.load(std::memory_order_relaxed);
        connections += shard->connections.load(std::memory_order_relaxed);
        std::lock_guard lock(shard->mutex);
        for (const auto& [k, n] : shard->by_path)
            by_path[k] += n;
        for (const auto& [k, n] : shard->by_model)
            by_model[k] += n;
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("requests").number(requests);
    w.key("completed").number(completed);
    w.key("cancelled").number(cancelled);
    w.key("in_flight").number(in_flight);
    w.key("connections").number(connections);
    w.key("by_path");
    write_counts(w, by_path);
    w.key("by_model");
    write_counts(w, by_model);
    w.end_object();
    return out;
}

std::string Stats::render_last_request() const {
    std::shared_ptr<const HttpRequest> last;
    uint64_t last_seq = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mutex);
        if (shard->last && shard->last_seq > last_seq) {
            last_seq = shard->last_seq;
            last = shard->last;
        }
    }
    std::string out;
    JsonWriter w(out);
    if (!last) {
        w.begin_object().key("path").null().key("headers").begin_object().end_object();
        w.key("body").null().end_object();
        return out;
    }
    const std::string_view target = last->target();
    w.begin_object();
    w.key("method").string(last->method_string());
    w.key("path").string(target.substr(0, target.find('?')));
    w.key("headers").begin_object();
    std::string name;
    for (const auto& header : *last) {
        name.assign(header.name_string());
        for (char& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        w.key(name).string(header.value());
    }
    w.end_object();
    w.key("body");
    const std::string& body = last->body();
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    if (body.empty()) {
        w.null();
    } else if (parser.parse(body).get(ignored) == simdjson::SUCCESS) {
        w.raw(body);
    } else {
        w.string(body);  // not JSON: embedded as a string so the answer stays JSON
    }
    w.end_object();
    return out;
}

}  // namespace mock_llm
