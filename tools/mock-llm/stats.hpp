// Introspection: request counters (GET /_mock/stats) and the last /v1 request seen
// (GET /_mock/last_request). One shard per worker thread: a worker writes only its own shard
// (relaxed atomics, and an uncontended lock for the per-path/per-model maps); readers and
// reset() lock each shard in turn. Never fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "asio.hpp"

namespace mock_llm {

// How a counted request ended.
enum class Ending {
    kCompleted,  // the mock finished its answer (an injected error or reset included)
    kCancelled,  // the client went away first
};

class Stats {
public:
    explicit Stats(size_t workers);

    // A /v1 request arrived on `worker`; `path` is its route ("/v1/chat/completions").
    void on_request(size_t worker, std::string_view path);
    void on_model(size_t worker, std::string_view model);
    void on_end(size_t worker, Ending ending);
    void on_connection(size_t worker);
    // Keeps `request` as the last one seen (the newest across all workers wins).
    void remember(size_t worker, std::shared_ptr<const HttpRequest> request);

    // Zeroes requests/completed/cancelled/connections and the maps; in_flight is a gauge
    // and stays.
    void reset();
    std::string render_stats() const;
    std::string render_last_request() const;

private:
    struct alignas(64) Shard {
        std::atomic<int64_t> requests{0};
        std::atomic<int64_t> completed{0};
        std::atomic<int64_t> cancelled{0};
        std::atomic<int64_t> in_flight{0};
        std::atomic<int64_t> connections{0};
        mutable std::mutex mutex;
        std::map<std::string, int64_t, std::less<>> by_path;   // guarded by mutex
        std::map<std::string, int64_t, std::less<>> by_model;  // guarded by mutex
        uint64_t last_seq = 0;                                 // guarded by mutex
        std::shared_ptr<const HttpRequest> last;               // guarded by mutex
    };

    std::vector<std::unique_ptr<Shard>> shards_;
    std::atomic<uint64_t> seq_{0};
};

}  // namespace mock_llm
