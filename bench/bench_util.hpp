// Helpers shared by the micro-benchmarks: per-iteration latency percentiles (Google
// Benchmark reports means; tail targets need the distribution), the best-of-repetitions
// statistic, and the small chat request the cache benchmarks key on.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "switchyard/core/chat.hpp"

namespace switchyard::bench {

// Sorts `us` (per-iteration wall times in µs) and sets the p50_us, p99_us, p999_us and max_us
// counters.
inline void set_percentiles(benchmark::State& state, std::vector<double>& us) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    auto at = [&](double q) {
        return us[static_cast<size_t>(q * static_cast<double>(us.size() - 1))];
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
    state.counters["p999_us"] = at(0.999);
    state.counters["max_us"] = us.back();
}

// Best of the repetitions (ComputeStatistics("min", min_of)): on a shared 2-core machine the
// median carries other people's builds; the minimum is the closest to an idle machine.
inline double min_of(const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
}

// A system prompt and one user question to gpt-4-turbo at temperature 0 (cacheable).
inline ChatRequest support_request(const std::string& question) {
    ChatRequest r;
    r.model = "gpt-4-turbo";
    r.temperature = 0.0;
    Message sys;
    sys.role = Role::kSystem;
    sys.text = "You are a concise assistant for the support team.";
    Message user;
    user.role = Role::kUser;
    user.text = question;
    r.messages = {sys, user};
    return r;
}

}  // namespace switchyard::bench
