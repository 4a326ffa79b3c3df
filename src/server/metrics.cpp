// Metrics shards and Prometheus text rendering.
#include "switchyard/server/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

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

const std::vector<Metrics::EventFamily> Metrics::kEventFamilies = {
    {"switchyard_auth_failures_total",
     "Requests refused for a missing, unknown or revoked API "
     "key, or a key without the permission, by reason."},
    {"switchyard_rate_limited_total", "Requests refused by a key's rate limit, by key and limit."},
    {"switchyard_budget_rejections_total", "Requests refused because a budget would be exceeded."},
    {"switchyard_budget_alerts_total", "Budget alert thresholds crossed, by budget and threshold."},
    {"switchyard_context_rejections_total",
     "Requests refused because prompt + max_tokens exceed the model's context window."},
    {"switchyard_upstream_attempts_total",
     "Upstream calls by model, deployment and outcome (ok or the failure cause)."},
    {"switchyard_retries_total", "Retries of the same model after a failure, by model and cause."},
    {"switchyard_failovers_total",
     "Moves to the next candidate model after a failure, by from, to and cause."},
    {"switchyard_retry_budget_exhausted_total",
     "Retries refused because the retry budget was used up."},
    {"switchyard_breaker_transitions_total",
     "Circuit breaker state changes, by deployment and new state."},
    {"switchyard_breaker_rejections_total",
     "Calls not made because the deployment's circuit breaker was open, by deployment."},
    {"switchyard_routed_requests_total",
     "Requests routed by model auto or a route alias, by route, "
     "chosen model and reason."},
    {"switchyard_chain_exhausted_total",
     "Requests whose every candidate failed (answered 503 or the last error), by route."},
    {"switchyard_cache_semantic_lookups_total",
     "Semantic cache lookups after an exact miss, by result (hit, miss, vetoed by a guard, "
     "tightened by feedback, gone: the exact entry had expired or been evicted)."},
};

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
    std::lock_guard lock(s.mu);
    Histogram* hist = nullptr;
    for (const auto& r : s.resolved) {
        if (r.status == status && r.endpoint == endpoint && r.model == model &&
            r.provider == provider) {
            ++*r.count;
            hist = r.latency;
            break;
        }
    }
    if (hist == nullptr) {
        char status_buf[8];
        auto n = fmt::format_to_n(status_buf, sizeof status_buf, "{}", status).size;
        std::string_view status_sv(status_buf, n);
        labels(tl_key, {{"endpoint", endpoint},
                        {"model", model},
                        {"provider", provider},
                        {"status", status_sv}});
        auto counter = s.requests.find(tl_key);
        if (counter == s.requests.end()) counter = s.requests.emplace(tl_key, 0).first;
        ++counter->second;
        labels(tl_key, {{"endpoint", endpoint}, {"model", model}, {"provider", provider}});
        auto it = s.latency.find(tl_key);
        if (it == s.latency.end()) it = s.latency.emplace(tl_key, Histogram{}).first;
        hist = &it->second;
        if (s.resolved.size() < Shard::kMaxResolvedSeries) {
            s.resolved.push_back({std::string(endpoint), std::string(model), std::string(provider),
                                  status, &counter->second, hist});
        }
    }
    auto& h = *hist;
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

void Metrics::record_usage(int shard, std::string_view model, std::string_view provider,
                           int64_t input_tokens, int64_t output_tokens, int64_t cost_nusd) {
    auto& s = *shards_[static_cast<size_t>(shard) % shards_.size()];
    std::lock_guard lock(s.mu);
    labels(tl_key, {{"model", model}, {"provider", provider}, {"type", "input"}});
    s.tokens[tl_key] += static_cast<uint64_t>(std::max<int64_t>(input_tokens, 0));
    labels(tl_key, {{"model", model}, {"provider", provider}, {"type", "output"}});
    s.tokens[tl_key] += static_cast<uint64_t>(std::max<int64_t>(output_tokens, 0));
    labels(tl_key, {{"model", model}, {"provider", provider}});
    s.cost_nusd[tl_key] += cost_nusd;
}

void Metrics::count_event(int shard, std::string_view family,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> kv,
                          uint64_t n) {
    auto& s = *shards_[static_cast<size_t>(shard) % shards_.size()];
    std::lock_guard lock(s.mu);
    labels(tl_key, kv);
    tl_key.insert(0, family);
    s.events[tl_key] += n;
}

std::string Metrics::label_set(
    std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
    std::string out;
    labels(out, kv);
    return out;
}

void Metrics::add_gauge_source(std::function<void(std::string&)> source) {
    std::lock_guard lock(gauge_mu_);
    gauge_sources_.push_back(std::move(source));
}

std::string Metrics::render() const {
    std::map<std::string, uint64_t, std::less<>> requests;
    std::map<std::string, Histogram, std::less<>> latency;
    std::map<std::string, uint64_t, std::less<>> upstream_errors;
    std::map<std::string, uint64_t, std::less<>> stream_chunks;
    std::map<std::string, uint64_t, std::less<>> tokens;
    std::map<std::string, int64_t, std::less<>> cost_nusd;
    std::map<std::string, uint64_t, std::less<>> events;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mu);
        for (const auto& [k, v] : shard->tokens)
            tokens[k] += v;
        for (const auto& [k, v] : shard->cost_nusd)
            cost_nusd[k] += v;
        for (const auto& [k, v] : shard->events)
            events[k] += v;
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
    out.append(
        "# HELP switchyard_tokens_total Tokens used, by model, provider and type "
        "(input or output).\n# TYPE switchyard_tokens_total counter\n");
    for (const auto& [k, v] : tokens)
        out += fmt::format("switchyard_tokens_total{} {}\n", k, v);
    out.append(
        "# HELP switchyard_cost_usd_total Cost at list price, USD, by model and provider.\n"
        "# TYPE switchyard_cost_usd_total counter\n");
    for (const auto& [k, v] : cost_nusd)
        out += fmt::format("switchyard_cost_usd_total{} {:.9f}\n", k, static_cast<double>(v) / 1e9);
    for (const auto& family : kEventFamilies) {
        out +=
            fmt::format("# HELP {} {}\n# TYPE {} counter\n", family.name, family.help, family.name);
        for (auto it = events.lower_bound(family.name);
             it != events.end() && std::string_view(it->first).starts_with(family.name); ++it) {
            if (it->first.size() > family.name.size() && it->first[family.name.size()] != '{')
                continue;  // a longer family name sharing the prefix
            out += fmt::format("{} {}\n", it->first, it->second);
        }
    }
    std::lock_guard lock(gauge_mu_);
    for (const auto& source : gauge_sources_)
        source(out);
    return out;
}

}  // namespace switchyard
