// Metrics shards and Prometheus text rendering.
#include "switchyard/server/metrics.hpp"

#include <fmt/format.h>

namespace switchyard {
namespace {

void append_label_value(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out.append("\\n");
        } else {
            out.push_back(c);
        }
    }
}

// Builds `{k1="v1",k2="v2"}` into `out` (cleared first).
void labels(std::string& out,
            std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
    out.clear();
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : kv) {
        if (!first) out.push_back(',');
        first = false;
        out.append(k);
        out.append("=\"");
        append_label_value(out, v);
        out.push_back('"');
    }
    out.push_back('}');
}

thread_local std::string tl_key;

}  // namespace

Metrics::Metrics(int n_shards, std::vector<std::pair<std::string, std::string>> models)
    : models_(std::move(models)),
      model_in_flight_storage_(new std::atomic<int64_t>[models_.size()]),
      model_in_flight_(model_in_flight_storage_.get(), models_.size()) {
    for (auto& a : model_in_flight_)
        a.store(0);
    for (int i = 0; i < std::max(1, n_shards); ++i)
        shards_.push_back(std::make_unique<Shard>());
}

void Metrics::record_request(int shard, std::string_view endpoint, std::string_view model,
                             std::string_view provider, int status, double seconds) {
    auto& s = *shards_[static_cast<size_t>(shard) % shards_.size()];
    char status_buf[8];
    auto n = fmt::format_to_n(status_buf, sizeof status_buf, "{}", status).size;
    std::string_view status_sv(status_buf, n);
    std::lock_guard lock(s.mu);
    labels(
        tl_key,
        {{"endpoint", endpoint}, {"model", model}, {"provider", provider}, {"status", status_sv}});
    if (auto it = s.requests.find(tl_key); it != s.requests.end()) {
        ++it->second;
    } else {
        s.requests.emplace(tl_key, 1);
    }
    labels(tl_key, {{"endpoint", endpoint}, {"model", model}, {"provider", provider}});
    auto it = s.latency.find(tl_key);
    if (it == s.latency.end()) it = s.latency.emplace(tl_key, Histogram{}).first;
    auto& h = it->second;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        if (seconds <= kLatencyBuckets[i]) {
            ++h.buckets[i];
            break;
        }
    }
    ++h.count;
    h.sum += seconds;
}

void Metrics::record_upstream_error(int shard, std::string_view model, std::string_view provider,
                                    std::string_view kind) {
    auto& s = *shards_[static_cast<size_t>(shard) % shards_.size()];
    std::lock_guard lock(s.mu);
    labels(tl_key, {{"model", model}, {"provider", provider}, {"kind", kind}});
    ++s.upstream_errors[tl_key];
}

void Metrics::record_stream_chunks(int shard, std::string_view model, uint64_t n_chunks) {
    auto& s = *shards_[static_cast<size_t>(shard) % shards_.size()];
    std::lock_guard lock(s.mu);
    labels(tl_key, {{"model", model}});
    s.stream_chunks[tl_key] += n_chunks;
}

std::string Metrics::render() const {
    std::map<std::string, uint64_t, std::less<>> requests;
    std::map<std::string, Histogram, std::less<>> latency;
    std::map<std::string, uint64_t, std::less<>> upstream_errors;
    std::map<std::string, uint64_t, std::less<>> stream_chunks;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mu);
        for (const auto& [k, v] : shard->requests)
            requests[k] += v;
        for (const auto& [k, v] : shard->upstream_errors)
            upstream_errors[k] += v;
        for (const auto& [k, v] : shard->stream_chunks)
            stream_chunks[k] += v;
        for (const auto& [k, h] : shard->latency) {
            auto& m = latency[k];
            for (size_t i = 0; i < h.buckets.size(); ++i)
                m.buckets[i] += h.buckets[i];
            m.count += h.count;
            m.sum += h.sum;
        }
    }
    std::string out;
    out.reserve(4096);
    out.append(
        "# HELP switchyard_requests_total Requests answered, by endpoint, model, "
        "provider and HTTP status.\n# TYPE switchyard_requests_total counter\n");
    for (const auto& [k, v] : requests)
        out += fmt::format("switchyard_requests_total{} {}\n", k, v);

    out.append(
        "# HELP switchyard_request_duration_seconds Time from request received to "
        "response complete.\n# TYPE switchyard_request_duration_seconds histogram\n");
    for (const auto& [k, h] : latency) {
        const std::string_view inner(k.data() + 1, k.size() - 2);  // strip { }
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.buckets.size(); ++i) {
            cumulative += h.buckets[i];
            out += fmt::format("switchyard_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                               inner, kLatencyBuckets[i], cumulative);
        }
        out += fmt::format("switchyard_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                           inner, h.count);
        out += fmt::format("switchyard_request_duration_seconds_sum{} {}\n", k, h.sum);
        out += fmt::format("switchyard_request_duration_seconds_count{} {}\n", k, h.count);
    }

    out.append(
        "# HELP switchyard_upstream_errors_total Failed upstream calls, by model, "
        "provider and error kind.\n# TYPE switchyard_upstream_errors_total counter\n");
    for (const auto& [k, v] : upstream_errors) {
        out += fmt::format("switchyard_upstream_errors_total{} {}\n", k, v);
    }
    out.append(
        "# HELP switchyard_stream_chunks_total Streamed chunks sent to clients.\n"
        "# TYPE switchyard_stream_chunks_total counter\n");
    for (const auto& [k, v] : stream_chunks) {
        out += fmt::format("switchyard_stream_chunks_total{} {}\n", k, v);
    }
    out += fmt::format(
        "# HELP switchyard_requests_in_flight Requests being handled now.\n"
        "# TYPE switchyard_requests_in_flight gauge\nswitchyard_requests_in_flight {}\n",
        in_flight_.load(std::memory_order_relaxed));
    out += fmt::format(
        "# HELP switchyard_connections_open Client connections open now.\n"
        "# TYPE switchyard_connections_open gauge\nswitchyard_connections_open {}\n",
        connections_.load(std::memory_order_relaxed));
    out.append(
        "# HELP switchyard_upstream_in_flight Upstream calls in flight, by model and "
        "provider.\n# TYPE switchyard_upstream_in_flight gauge\n");
    std::string key;
    for (size_t i = 0; i < models_.size(); ++i) {
        labels(key, {{"model", models_[i].first}, {"provider", models_[i].second}});
        out += fmt::format("switchyard_upstream_in_flight{} {}\n", key,
                           model_in_flight_[i].load(std::memory_order_relaxed));
    }
    return out;
}

}  // namespace switchyard
