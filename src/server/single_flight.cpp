#include "single_flight.hpp"

namespace switchyard {

bool SingleFlight::begin(const cache::CacheKey& key, const std::shared_ptr<Timer>& timer) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = flights_.try_emplace(key);
    if (inserted) return true;
    it->second.push_back(timer);
    return false;
}

void SingleFlight::finish(const cache::CacheKey& key) {
    std::vector<std::shared_ptr<Timer>> waiters;
    {
        std::lock_guard lock(mu_);
        auto it = flights_.find(key);
        if (it == flights_.end()) return;
        waiters = std::move(it->second);
        flights_.erase(it);
    }
    // Each waiter's timer belongs to its own worker thread: cancel it there.
    for (auto& t : waiters) {
        auto ex = t->get_executor();
        net::post(ex, [t = std::move(t)] { t->cancel(); });
    }
}

}  // namespace switchyard
