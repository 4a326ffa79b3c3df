// Gateway: deployments, breakers, live statistics, the router's catalog and routes.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "single_flight.hpp"
#include "switchyard/cache/cache_store.hpp"
#include "switchyard/server/gateway.hpp"
#include "switchyard/storage/sqlite.hpp"

namespace switchyard {
namespace {

routing::ModelProfile profile_of(const ModelConfig& m) {
    routing::ModelProfile p;
    p.name = m.name;
    p.local = m.local;
    p.context_window = m.context_window;
    p.input_per_1m_usd = m.price.input_per_1m_usd;
    p.output_per_1m_usd = m.price.output_per_1m_usd;
    for (const auto& c : m.capabilities) {
        if (auto cap = routing::parse_capability(c))
            p.capabilities |= routing::capability_bit(*cap);
    }
    for (const auto& [task, q] : m.quality) {
        if (auto t = routing::parse_task_type(task))
            p.quality[static_cast<size_t>(*t)] = static_cast<float>(q);
    }
    p.max_concurrency = m.max_concurrency;
    return p;
}

size_t index_of(const Config& c, std::string_view name) {
    return static_cast<size_t>(c.find_model(name) - c.models.data());
}

int breaker_state_value(resilience::BreakerState s) {
    switch (s) {
        case resilience::BreakerState::kClosed:
            return 0;
        case resilience::BreakerState::kHalfOpen:
            return 1;
        case resilience::BreakerState::kOpen:
            return 2;
    }
    return 0;
}

// Causes that say the deployment is unhealthy (they count against its breaker). Rate limits,
// the request's own faults and content refusals come from a working upstream.
bool is_health_failure(UpstreamCause cause) {
    switch (cause) {
        case UpstreamCause::kConnect:
        case UpstreamCause::kConnectTimeout:
        case UpstreamCause::kFirstByteTimeout:
        case UpstreamCause::kBetweenChunksTimeout:
        case UpstreamCause::kTotalTimeout:
        case UpstreamCause::kConnectionReset:
        case UpstreamCause::kOverloaded:
        case UpstreamCause::kServerError:
        case UpstreamCause::kAuth:
        case UpstreamCause::kMalformed:
            return true;
        default:
            return false;
    }
}

}  // namespace

Deployment::Deployment(size_t model_index, std::string deployment_name,
                       ModelConfig deployment_config, const Config& c, uint64_t seed)
    : name(std::move(deployment_name)),
      model(model_index),
      config(std::move(deployment_config)),
      breaker(name, c.resilience.breaker, seed),
      stats(c.routing.stats_ewma_alpha) {}

void Gateway::build_routing() {
    const Config& c = config_;
    by_model_.resize(c.models.size());
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < c.models.size(); ++i) {
        const ModelConfig& m = c.models[i];
        for (const auto& dep : m.deployments) {
            ModelConfig dc = m;
            dc.base_url = dep.base_url;
            dc.url = dep.url;
            if (!dep.api_key_env.empty()) dc.api_key_env = dep.api_key_env;
            dc.deployments.clear();
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            auto d = std::make_unique<Deployment>(i, dep.name, std::move(dc), c, seed);
            d->weight = dep.weight;
            d->provider = make_provider(d->config);
            by_model_[i].push_back(d.get());
            deployments_.push_back(std::move(d));
        }
        std::vector<size_t> chain{i};
        for (const auto& f : m.fallbacks)
            chain.push_back(index_of(c, f));
        chains_.push_back(std::move(chain));
    }

    std::vector<routing::ModelProfile> profiles;
    for (const auto& m : c.models)
        profiles.push_back(profile_of(m));
    routing::RouterOptions ro;
    ro.local_only_at = routing::parse_privacy_level(c.routing.local_only_at)
                           .value_or(routing::PrivacyLevel::kPersonal);
    ro.latency_reference_ms = c.routing.latency_reference_ms;
    ro.load_reference = c.routing.load_reference;
    for (const auto& r : c.routing.policy) {
        routing::PolicyRule rule;
        rule.name = r.name;
        for (const auto& t : r.tasks)
            rule.tasks |= routing::task_bit(*routing::parse_task_type(t));
        if (!r.min_privacy.empty()) rule.min_privacy = routing::parse_privacy_level(r.min_privacy);
        if (!r.min_complexity.empty())
            rule.min_complexity = routing::parse_complexity(r.min_complexity);
        if (!r.max_complexity.empty())
            rule.max_complexity = routing::parse_complexity(r.max_complexity);
        rule.max_prompt_tokens = r.max_prompt_tokens;
        for (const auto& name : r.prefer)
            rule.prefer.push_back(index_of(c, name));
        rule.local_only = r.local_only;
        ro.policy.push_back(std::move(rule));
    }
    router_ = std::make_unique<routing::Router>(std::move(profiles), std::move(ro));

    routing::RouteProfile automatic;
    automatic.name = "auto";
    automatic.weights = c.routing.weights;
    routes_.push_back(std::move(automatic));
    for (const auto& r : c.routing.routes) {
        routing::RouteProfile p;
        p.name = r.name;
        for (const auto& name : r.models)
            p.models.push_back(index_of(c, name));
        p.local_only = r.local_only;
        p.use_policy = r.use_policy;
        p.weights = r.weights;
        routes_.push_back(std::move(p));
    }

    if (c.cache.enabled) {
        cache::CacheOptions co;
        co.max_bytes = static_cast<size_t>(c.cache.max_mb) << 20;
        co.max_entry_bytes = static_cast<size_t>(c.cache.max_entry_kb) << 10;
        co.policy =
            c.cache.policy == "lru" ? cache::EvictionPolicy::kLru : cache::EvictionPolicy::kGdsf;
        cache_ = std::make_unique<cache::ResponseCache>(co);
        if (!c.cache.persist_path.empty()) {
            cache::SqliteCacheStoreOptions so;
            so.path = c.cache.persist_path;
            try {
                // Loaded by warm_cache(), once the semantic side exists.
                cache_->set_store(std::make_shared<cache::SqliteCacheStore>(std::move(so)));
            } catch (const storage::SqliteError& e) {
                throw std::runtime_error(fmt::format("cache.persist_path: {}", e.what()));
            }
        }
    }
    flights_ = std::make_unique<SingleFlight>();
    incidents_ = std::make_unique<resilience::IncidentLog>(c.resilience.incidents_path);
    incidents_->set_executor(
        [this](std::function<void()> job) { net::post(blocking_pool_, std::move(job)); });
}

void Gateway::warm_cache() {
    if (!cache_ || cache_->store() == nullptr) return;
    const auto start = std::chrono::steady_clock::now();
    const auto w = cache_->warm(clock_());
    const size_t reindexed = cache_->reindex_semantic(clock_());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    spdlog::info(
        "response cache: {} entries loaded from {} ({} expired, {} over budget, {} corrupt "
        "skipped), {} prompts re-indexed by the semantic cache, in {} ms",
        w.loaded, config_.cache.persist_path, w.expired, w.over_budget, w.corrupt, reindexed, ms);
}

const routing::RouteProfile* Gateway::route(std::string_view name) const {
    for (const auto& r : routes_) {
        if (r.name == name) return &r;
    }
    return nullptr;
}

int64_t Gateway::steady_ms() const {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void Gateway::live_models(std::vector<routing::ModelLive>& out) {
    out.assign(config_.models.size(), routing::ModelLive{});
    const int64_t now = steady_ms();
    for (size_t i = 0; i < by_model_.size(); ++i) {
        routing::ModelLive& live = out[i];
        bool any_available = false;
        double total_weight = 0;
        double ttft = 0, total = 0, errors = 0, ttft_w = 0, total_w = 0;
        for (Deployment* d : by_model_[i]) {
            live.in_flight += d->in_flight.load(std::memory_order_relaxed);
            const auto b = d->breaker.snapshot(now);
            if (b.state != resilience::BreakerState::kOpen || b.next_probe_at_ms <= now)
                any_available = true;
            const auto s = d->stats.snapshot();
            errors += s.error_rate * d->weight;
            total_weight += d->weight;
            if (s.ttft_ms >= 0) {
                ttft += s.ttft_ms * d->weight;
                ttft_w += d->weight;
            }
            if (s.total_ms >= 0) {
                total += s.total_ms * d->weight;
                total_w += d->weight;
            }
        }
        live.available = any_available;
        live.error_rate = total_weight > 0 ? errors / total_weight : 0;
        live.ttft_ms = ttft_w > 0 ? ttft / ttft_w : -1;
        live.total_ms = total_w > 0 ? total / total_w : -1;
    }
}

Gateway::Pick Gateway::pick_deployment(size_t model, uint64_t skip, double unit, int worker) {
    Pick pick;
    const auto& list = by_model_[model];
    const size_t n = std::min<size_t>(list.size(), kMaxDeployments);
    const int64_t now = steady_ms();
    // One snapshot of the loads (in-flight per unit of weight): other threads change the
    // counters, and a sort must see stable values.
    std::array<double, kMaxDeployments> load{};
    std::array<size_t, kMaxDeployments> order{};
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
        if (skip & (uint64_t{1} << i)) continue;
        load[i] = static_cast<double>(list[i]->in_flight.load(std::memory_order_relaxed)) /
                  list[i]->weight;
        order[m++] = i;
    }
    if (m == 0) return pick;
    std::sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(m), [&](size_t a, size_t b) {
        return load[a] < load[b] || (load[a] == load[b] && a < b);
    });
    // Among the least loaded, a weighted draw picks who goes first (at low load every
    // deployment ties, and traffic then splits by weight).
    size_t ties = 1;
    double tie_weight = list[order[0]]->weight;
    while (ties < m && load[order[ties]] == load[order[0]])
        tie_weight += list[order[ties++]]->weight;
    double x = unit * tie_weight;
    size_t first = 0;
    for (size_t k = 0; k < ties; ++k) {
        x -= list[order[k]]->weight;
        if (x < 0) {
            first = k;
            break;
        }
    }
    std::rotate(order.begin(), order.begin() + static_cast<ptrdiff_t>(first),
                order.begin() + static_cast<ptrdiff_t>(ties));
    for (size_t k = 0; k < m; ++k) {
        Deployment& d = *list[order[k]];
        const auto adm = d.breaker.allow(now);
        if (adm.allowed) {
            pick.deployment = &d;
            pick.position = order[k];
            pick.probe = adm.probe;
            return pick;
        }
        metrics_.count_event(worker, "switchyard_breaker_rejections_total",
                             {{"deployment", d.name}});
        pick.retry_in_ms =
            pick.retry_in_ms < 0 ? adm.retry_in_ms : std::min(pick.retry_in_ms, adm.retry_in_ms);
    }
    return pick;
}

void Gateway::note_transition(Deployment& d, const resilience::CircuitBreaker::Transition& t,
                              int worker) {
    const auto to = resilience::to_string(t.to);
    metrics_.count_event(worker, "switchyard_breaker_transitions_total",
                         {{"deployment", d.name}, {"state", to}});
    const int64_t now = clock_();
    if (t.to == resilience::BreakerState::kOpen) {
        if (t.from == resilience::BreakerState::kClosed) {
            spdlog::warn("circuit breaker of deployment {} (model {}) opened: {}", d.name,
                         d.config.name, t.reason);
        }
        incidents_->open("circuit_open", d.name, t.reason, now);
    } else if (t.to == resilience::BreakerState::kClosed) {
        spdlog::info("circuit breaker of deployment {} (model {}) closed: {}", d.name,
                     d.config.name, t.reason);
        incidents_->resolve("circuit_open", d.name, "breaker closed: " + t.reason, now);
    }
}

void Gateway::report_first_byte(Deployment& d, bool probe, int worker) {
    if (auto t = d.breaker.on_success(steady_ms(), probe)) note_transition(d, *t, worker);
}

void Gateway::report_success(Deployment& d, bool probe, double ttft_ms, double total_ms,
                             int64_t output_tokens, int worker, bool breaker_reported) {
    d.stats.on_success(ttft_ms, total_ms, output_tokens);
    if (!breaker_reported) {
        if (auto t = d.breaker.on_success(steady_ms(), probe)) note_transition(d, *t, worker);
    }
    metrics_.count_event(worker, "switchyard_upstream_attempts_total",
                         {{"model", d.config.name}, {"deployment", d.name}, {"outcome", "ok"}});
}

void Gateway::report_failure(Deployment& d, bool probe, const Error& error, double elapsed_ms,
                             int worker) {
    const UpstreamCause cause = upstream_cause(error);
    metrics_.count_event(
        worker, "switchyard_upstream_attempts_total",
        {{"model", d.config.name}, {"deployment", d.name}, {"outcome", to_string(cause)}});
    if (cause == UpstreamCause::kCancelled || cause == UpstreamCause::kNone) {
        d.breaker.on_abandoned(probe);  // no upstream verdict
        return;
    }
    if (is_health_failure(cause)) d.stats.on_failure(elapsed_ms);
    std::optional<resilience::CircuitBreaker::Transition> t;
    if (is_health_failure(cause)) {
        t = d.breaker.on_failure(steady_ms(), probe);
    } else if (cause == UpstreamCause::kRateLimited) {
        d.breaker.on_abandoned(probe);  // alive but busy: says nothing about health
    } else {
        t = d.breaker.on_success(steady_ms(), probe);  // it answered; the request was at fault
    }
    if (t) note_transition(d, *t, worker);
}

void Gateway::report_abandoned(Deployment& d, bool probe) {
    d.breaker.on_abandoned(probe);
}

void Gateway::render_routing_gauges(std::string& out) {
    const int64_t now = steady_ms();
    std::string state, in_flight, ttft, total, errors, tps;
    for (const auto& d : deployments_) {
        const auto labels =
            Metrics::label_set({{"model", d->config.name}, {"deployment", d->name}});
        const auto b = d->breaker.snapshot(now);
        const auto s = d->stats.snapshot();
        state +=
            fmt::format("switchyard_breaker_state{} {}\n", labels, breaker_state_value(b.state));
        in_flight += fmt::format("switchyard_deployment_in_flight{} {}\n", labels,
                                 d->in_flight.load(std::memory_order_relaxed));
        if (s.ttft_ms >= 0)
            ttft += fmt::format("switchyard_deployment_ttft_ewma_ms{} {:.3f}\n", labels, s.ttft_ms);
        if (s.total_ms >= 0) {
            total +=
                fmt::format("switchyard_deployment_latency_ewma_ms{} {:.3f}\n", labels, s.total_ms);
        }
        errors += fmt::format("switchyard_deployment_error_rate{} {:.6f}\n", labels, s.error_rate);
        if (s.tokens_per_s >= 0) {
            tps += fmt::format("switchyard_deployment_tokens_per_second{} {:.3f}\n", labels,
                               s.tokens_per_s);
        }
    }
    out +=
        "# HELP switchyard_breaker_state Circuit breaker per deployment: 0 closed, 1 half-open, "
        "2 open.\n# TYPE switchyard_breaker_state gauge\n";
    out += state;
    out +=
        "# HELP switchyard_deployment_in_flight Upstream calls running per deployment.\n"
        "# TYPE switchyard_deployment_in_flight gauge\n";
    out += in_flight;
    out +=
        "# HELP switchyard_deployment_ttft_ewma_ms EWMA of time to first token, ms.\n"
        "# TYPE switchyard_deployment_ttft_ewma_ms gauge\n";
    out += ttft;
    out +=
        "# HELP switchyard_deployment_latency_ewma_ms EWMA of whole-call time, ms.\n"
        "# TYPE switchyard_deployment_latency_ewma_ms gauge\n";
    out += total;
    out +=
        "# HELP switchyard_deployment_error_rate EWMA of upstream failures (0..1).\n"
        "# TYPE switchyard_deployment_error_rate gauge\n";
    out += errors;
    out +=
        "# HELP switchyard_deployment_tokens_per_second EWMA of output tokens per second.\n"
        "# TYPE switchyard_deployment_tokens_per_second gauge\n";
    out += tps;
    const auto st = incidents_->stats();
    out += fmt::format(
        "# HELP switchyard_incidents_open Incidents open now.\n"
        "# TYPE switchyard_incidents_open gauge\n"
        "switchyard_incidents_open {}\n"
        "# HELP switchyard_incidents_total Incidents opened since start.\n"
        "# TYPE switchyard_incidents_total counter\n"
        "switchyard_incidents_total {}\n"
        "# HELP switchyard_incidents_mttr_seconds Mean time to resolve incidents since start.\n"
        "# TYPE switchyard_incidents_mttr_seconds gauge\n"
        "switchyard_incidents_mttr_seconds {:.3f}\n",
        st.open_now, st.opened, st.mttr_ms / 1000.0);
    if (cache_) {
        const auto cs = cache_->stats();
        out += fmt::format(
            "# HELP switchyard_cache_lookups_total Response cache lookups by result.\n"
            "# TYPE switchyard_cache_lookups_total counter\n"
            "switchyard_cache_lookups_total{{result=\"hit\"}} {}\n"
            "switchyard_cache_lookups_total{{result=\"stale\"}} {}\n"
            "switchyard_cache_lookups_total{{result=\"miss\"}} {}\n"
            "# HELP switchyard_cache_entries Entries in the response cache.\n"
            "# TYPE switchyard_cache_entries gauge\n"
            "switchyard_cache_entries {}\n"
            "# HELP switchyard_cache_bytes Memory held by the response cache.\n"
            "# TYPE switchyard_cache_bytes gauge\n"
            "switchyard_cache_bytes {}\n"
            "# HELP switchyard_cache_evictions_total Entries evicted for the memory budget.\n"
            "# TYPE switchyard_cache_evictions_total counter\n"
            "switchyard_cache_evictions_total {}\n"
            "# HELP switchyard_cache_saved_usd_total Upstream cost that cache hits replaced.\n"
            "# TYPE switchyard_cache_saved_usd_total counter\n"
            "switchyard_cache_saved_usd_total {:.9f}\n"
            "# HELP switchyard_cache_saved_tokens_total Prompt and completion tokens of the "
            "upstream calls cache hits replaced.\n"
            "# TYPE switchyard_cache_saved_tokens_total counter\n"
            "switchyard_cache_saved_tokens_total {}\n",
            cs.hits, cs.stale_hits, cs.misses, cs.entries, cs.bytes, cs.evictions,
            static_cast<double>(cs.saved_nusd) / 1e9, cs.saved_tokens);
        if (const cache::CacheStore* store = cache_->store()) {
            const auto ps = store->stats();
            out += fmt::format(
                "# HELP switchyard_cache_persist_writes_total Response cache store writes, by "
                "state.\n"
                "# TYPE switchyard_cache_persist_writes_total counter\n"
                "switchyard_cache_persist_writes_total{{state=\"queued\"}} {}\n"
                "switchyard_cache_persist_writes_total{{state=\"written\"}} {}\n"
                "switchyard_cache_persist_writes_total{{state=\"dropped\"}} {}\n"
                "# HELP switchyard_cache_persist_loaded Entries loaded from the store at start.\n"
                "# TYPE switchyard_cache_persist_loaded gauge\n"
                "switchyard_cache_persist_loaded {}\n"
                "# HELP switchyard_cache_persist_corrupt_skipped_total Stored entries skipped "
                "(checksum or decoding failed).\n"
                "# TYPE switchyard_cache_persist_corrupt_skipped_total counter\n"
                "switchyard_cache_persist_corrupt_skipped_total {}\n",
                ps.queued, ps.written, ps.dropped, cs.loaded, cs.corrupt_skipped);
        }
    }
    const auto rb = retry_budget_.snapshot(now);
    out += fmt::format(
        "# HELP switchyard_retry_budget_refused_total Retries the retry budget refused.\n"
        "# TYPE switchyard_retry_budget_refused_total counter\n"
        "switchyard_retry_budget_refused_total {}\n",
        rb.refused);
}

}  // namespace switchyard
