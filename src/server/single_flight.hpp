// Private to the server: single-flight for cacheable requests. When several identical
// cacheable requests arrive at once, the first (the leader) calls the upstream; the others
// wait (bounded) for it to finish and then read its answer from the cache instead of making
// their own calls. If the leader fails or its answer is not cacheable, the waiters wake and
// proceed on their own.
// Thread safety: one mutex over the map of flights in progress; waiters on other worker
// threads are woken by posting a cancel of their timer onto their own executor.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "switchyard/cache/response_cache.hpp"
#include "switchyard/core/asio.hpp"

namespace switchyard {

class SingleFlight {
public:
    using Timer = net::steady_timer;

    // True: no flight for `key` was in progress and the caller now leads it (it must call
    // finish(key) when its answer is stored or has failed). False: `timer` (owned by the
    // caller, already set to expire at the longest wait) is cancelled when the leader
    // finishes.
    bool begin(const cache::CacheKey& key, const std::shared_ptr<Timer>& timer);
    // Ends the flight and wakes its waiters.
    void finish(const cache::CacheKey& key);

private:
    struct KeyHash {
        size_t operator()(const cache::CacheKey& k) const { return static_cast<size_t>(k.lo); }
    };
    std::mutex mu_;
    std::unordered_map<cache::CacheKey, std::vector<std::shared_ptr<Timer>>, KeyHash>
        flights_;  // guarded by mu_
};

// Ends a led flight when the request's leader is done, whatever the path.
class FlightLease {
public:
    FlightLease() = default;
    FlightLease(SingleFlight* flights, cache::CacheKey key) : flights_(flights), key_(key) {}
    FlightLease(const FlightLease&) = delete;
    FlightLease& operator=(const FlightLease&) = delete;
    ~FlightLease() { release(); }
    void release() {
        if (flights_ != nullptr) flights_->finish(key_);
        flights_ = nullptr;
    }

private:
    SingleFlight* flights_ = nullptr;
    cache::CacheKey key_;
};

}  // namespace switchyard
