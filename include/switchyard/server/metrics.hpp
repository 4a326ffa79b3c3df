// Prometheus metrics for the gateway: request counts and latency histograms per endpoint,
// model, provider and status; upstream errors per model, provider and kind; in-flight gauge.
// Thread safety: record_* may be called from any thread. Each worker thread writes its own
// shard (its mutex is only contended by a scrape), so the hot path takes no global lock.
// render() merges the shards.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard {

class Metrics {
public:
    // Histogram bucket upper bounds, seconds.
    static constexpr std::array<double, 14> kLatencyBuckets = {
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    // `models`: (model, provider) pairs of the catalog, for the per-model in-flight gauge.
    Metrics(int n_shards, std::vector<std::pair<std::string, std::string>> models);

    // `shard` is the calling worker's index (any value is safe; it is taken modulo).
    void record_request(int shard, std::string_view endpoint, std::string_view model,
                        std::string_view provider, int status, double seconds);
    void record_upstream_error(int shard, std::string_view model, std::string_view provider,
                               std::string_view kind);
    void record_stream_chunks(int shard, std::string_view model, uint64_t n_chunks);
    // Tokens and cost of one request (switchyard_tokens_total, switchyard_cost_usd_total).
    void record_usage(int shard, std::string_view model, std::string_view provider,
                      int64_t input_tokens, int64_t output_tokens, int64_t cost_nusd);
    // Counter families without a dedicated method, e.g. switchyard_auth_failures_total
    // {reason}. `family` must be one of kEventFamilies (its HELP text comes from there).
    void count_event(int shard, std::string_view family,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                     uint64_t n = 1);
    // `{k1="v1",k2="v2"}` with values escaped, for gauge sources.
    static std::string label_set(
        std::initializer_list<std::pair<std::string_view, std::string_view>> labels);
    // Appends extra gauge families to every render() (budgets' live state, ledger queue).
    void add_gauge_source(std::function<void(std::string&)> source);
    void add_in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
    void add_connections(int delta) { connections_.fetch_add(delta, std::memory_order_relaxed); }
    int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
    // Upstream calls in flight for the catalog's model at `model_index`.
    void add_model_in_flight(size_t model_index, int delta) {
        if (model_index < model_in_flight_.size()) {
            model_in_flight_[model_index].fetch_add(delta, std::memory_order_relaxed);
        }
    }

    struct EventFamily {
        std::string_view name;
        std::string_view help;
    };
    static const std::vector<EventFamily> kEventFamilies;

    // Prometheus text exposition format, version 0.0.4.
    std::string render() const;

private:
    struct Histogram {
        std::array<uint64_t, kLatencyBuckets.size()> buckets{};
        uint64_t count = 0;
        double sum = 0;
    };
    struct Shard {
        mutable std::mutex mu;
        // key: label set rendered as `{a="..",b=".."}` (escaped once, when first seen)
        std::map<std::string, uint64_t, std::less<>> requests;
        std::map<std::string, Histogram, std::less<>> latency;
        std::map<std::string, uint64_t, std::less<>> upstream_errors;
        std::map<std::string, uint64_t, std::less<>> stream_chunks;
        std::map<std::string, uint64_t, std::less<>> tokens;    // {model,provider,type}
        std::map<std::string, int64_t, std::less<>> cost_nusd;  // {model,provider}
        std::map<std::string, uint64_t, std::less<>> events;    // family + labels
        // record_request's resolved series: (endpoint, model, provider, status) -> its
        // counter and histogram (map nodes never move), so a repeated label set costs a
        // short scan instead of rendering two label keys and two map look-ups.
        struct RequestSeries {
            std::string endpoint;
            std::string model;
            std::string provider;
            int status = 0;
            uint64_t* count = nullptr;
            Histogram* latency = nullptr;
        };
        static constexpr size_t kMaxResolvedSeries = 64;  // beyond: the map path only
        std::vector<RequestSeries> resolved;
    };

    std::vector<std::unique_ptr<Shard>> shards_;
    std::atomic<int64_t> in_flight_{0};
    std::atomic<int64_t> connections_{0};
    std::vector<std::pair<std::string, std::string>> models_;
    std::unique_ptr<std::atomic<int64_t>[]> model_in_flight_storage_;
    std::span<std::atomic<int64_t>> model_in_flight_;
    mutable std::mutex gauge_mu_;
    std::vector<std::function<void(std::string&)>> gauge_sources_;  // guarded by gauge_mu_
};

}  // namespace switchyard
