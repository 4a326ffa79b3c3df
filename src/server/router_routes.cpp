// Routing and failover endpoints: GET /v1/router/models (catalog with live statistics per
// deployment), POST /v1/router/explain (analysis and ranked candidates, no model called),
// GET /v1/router/circuits (breakers) and GET /v1/incidents.
#include <fmt/format.h>

#include <charconv>

#include "request_context.hpp"
#include "routing_stage.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/openai_codec.hpp"

namespace switchyard {
namespace {

void write_number_or_null(JsonWriter& w, std::string_view key, double v) {
    if (v < 0) {
        w.kv_null(key);
    } else {
        w.kv(key, v);
    }
}

// Breaker times are monotonic; the API shows unix milliseconds.
int64_t to_unix_ms(const Gateway& g, int64_t steady_ms) {
    return steady_ms < 0 ? -1 : g.now_ms() - (g.steady_ms() - steady_ms);
}

void write_breaker(JsonWriter& w, const Gateway& g, const resilience::CircuitBreaker::Snapshot& b) {
    w.kv("state", resilience::to_string(b.state));
    w.kv("window_calls", b.calls).kv("window_failures", b.failures);
    w.kv("consecutive_failures", b.consecutive_failures).kv("times_opened", b.times_opened);
    if (b.opened_at_ms >= 0) {
        w.kv("opened_at_ms", to_unix_ms(g, b.opened_at_ms));
    } else {
        w.kv_null("opened_at_ms");
    }
    if (b.state != resilience::BreakerState::kClosed && b.next_probe_at_ms >= 0) {
        w.kv("next_probe_at_ms", to_unix_ms(g, b.next_probe_at_ms));
    } else {
        w.kv_null("next_probe_at_ms");
    }
}

awaitable<void> handle_router_models(RequestContext& ctx) {
    Gateway& g = ctx.gateway;
    const int64_t now = g.steady_ms();
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "list").key("data").begin_array();
    const auto& profiles = g.router().models();
    for (size_t i = 0; i < g.config().models.size(); ++i) {
        const ModelConfig& m = g.config().models[i];
        w.begin_object().kv("id", m.name).kv("provider", m.provider_name).kv("local", m.local);
        w.kv("context_window", m.context_window);
        w.key("price_per_1m").begin_object();
        w.kv("input", m.price.input_per_1m_usd).kv("output", m.price.output_per_1m_usd);
        w.end_object();
        w.key("capabilities").begin_array();
        for (const auto& c : m.capabilities)
            w.value(c);
        w.end_array();
        w.key("quality").begin_object();
        for (int t = 0; t < routing::kTaskTypeCount; ++t) {
            w.kv(routing::to_string(static_cast<routing::TaskType>(t)),
                 static_cast<double>(profiles[i].quality[static_cast<size_t>(t)]));
        }
        w.end_object();
        w.key("fallbacks").begin_array();
        for (const auto& f : m.fallbacks)
            w.value(f);
        w.end_array();
        w.kv("max_concurrency", m.max_concurrency);
        w.key("deployments").begin_array();
        for (Deployment* d : g.deployments_of(i)) {
            const auto s = d->stats.snapshot();
            w.begin_object().kv("name", d->name).kv("base_url", d->config.base_url);
            w.kv("weight", d->weight);
            w.kv("in_flight", d->in_flight.load(std::memory_order_relaxed));
            w.kv("successes", s.successes).kv("failures", s.failures);
            w.kv("error_rate", s.error_rate);
            write_number_or_null(w, "ttft_ewma_ms", s.ttft_ms);
            write_number_or_null(w, "latency_ewma_ms", s.total_ms);
            write_number_or_null(w, "latency_p50_ms", s.p50_ms);
            write_number_or_null(w, "latency_p95_ms", s.p95_ms);
            write_number_or_null(w, "latency_p99_ms", s.p99_ms);
            write_number_or_null(w, "tokens_per_second", s.tokens_per_s);
            w.key("breaker").begin_object();
            write_breaker(w, g, d->breaker.snapshot(now));
            w.end_object();
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.end_array().end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

awaitable<void> handle_circuits(RequestContext& ctx) {
    Gateway& g = ctx.gateway;
    const int64_t now = g.steady_ms();
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "list").key("data").begin_array();
    for (const auto& d : g.deployments()) {
        w.begin_object().kv("deployment", d->name).kv("model", d->config.name);
        write_breaker(w, g, d->breaker.snapshot(now));
        w.end_object();
    }
    w.end_array();
    const auto& c = g.config().resilience.breaker;
    w.key("config").begin_object();
    w.kv("failure_rate", c.failure_rate).kv("minimum_calls", c.minimum_calls);
    w.kv("consecutive_failures", c.consecutive_failures).kv("window_ms", c.window_ms);
    w.kv("open_ms", c.open_ms).kv("open_jitter", c.open_jitter);
    w.kv("half_open_probes", c.half_open_probes);
    w.end_object();
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

awaitable<void> handle_incidents(RequestContext& ctx, std::string_view target) {
    Gateway& g = ctx.gateway;
    size_t limit = 100;
    if (auto v = query_param(target, "limit")) {
        size_t n = 0;
        auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || p != v->data() + v->size() || n == 0 || n > 10'000) {
            const Error e =
                Error::invalid_request("limit must be an integer from 1 to 10000", "limit");
            co_await send_error(ctx, e, ErrorStyle::kOpenAI);
            co_return;
        }
        limit = n;
    }
    bool open_only = false;
    if (auto v = query_param(target, "open")) open_only = *v == "1" || *v == "true";
    const auto list = g.incidents().recent(limit, open_only);
    const auto st = g.incidents().stats();
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "list").key("data").begin_array();
    for (const auto& i : list)
        w.raw(resilience::IncidentLog::to_json(i));
    w.end_array();
    w.key("stats").begin_object();
    w.kv("opened", st.opened).kv("resolved", st.resolved).kv("open_now", st.open_now);
    w.kv("mttr_ms", st.mttr_ms).kv("write_errors", st.write_errors);
    w.end_object();
    w.kv("file", g.incidents().path());
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

void write_analysis(JsonWriter& w, const routing::PromptAnalysis& a) {
    w.begin_object();
    w.kv("task", routing::to_string(a.task))
        .kv("task_confidence", static_cast<double>(a.task_confidence));
    w.key("task_scores").begin_object();
    for (int t = 0; t < routing::kTaskTypeCount; ++t) {
        w.kv(routing::to_string(static_cast<routing::TaskType>(t)),
             static_cast<double>(a.task_scores[static_cast<size_t>(t)]));
    }
    w.end_object();
    w.kv("complexity", routing::to_string(a.complexity));
    w.kv("complexity_score", static_cast<double>(a.complexity_score));
    w.kv("language", a.language)
        .kv("language_confidence", static_cast<double>(a.language_confidence));
    w.kv("prompt_tokens", a.prompt_tokens).kv("prompt_tokens_exact", a.prompt_tokens_exact);
    w.key("needs").begin_object();
    w.kv("tools", a.needs_tools).kv("json", a.needs_json);
    w.kv("long_context", a.needs_long_context).kv("vision", a.needs_vision);
    w.end_object();
    w.kv("privacy", routing::to_string(a.privacy));
    w.key("pii").begin_array();
    for (const auto& f : a.pii) {
        w.begin_object().kv("kind", routing::to_string(f.kind));
        w.kv("message_index", static_cast<int64_t>(f.message_index));
        w.kv("offset", static_cast<int64_t>(f.offset)).kv("length", static_cast<int64_t>(f.length));
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

awaitable<void> handle_explain(RequestContext& ctx) {
    Gateway& g = ctx.gateway;
    auto req = parse_openai_chat_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    auto plan = plan_route(ctx, *req, true);
    if (!plan) {
        co_await send_error(ctx, plan.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "router.explanation").kv("model", req->model);
    w.kv("route", plan->route).kv("reason", plan->reason);
    if (plan->decision.rule.empty()) {
        w.kv_null("policy_rule");
    } else {
        w.kv("policy_rule", plan->decision.rule);
    }
    w.kv("local_only", plan->decision.local_only);
    w.key("analysis");
    write_analysis(w, *plan->analysis);
    w.key("candidates").begin_array();
    for (const auto& r : plan->decision.ranked) {
        const ModelConfig& m = g.config().models[r.model];
        w.begin_object().kv("model", m.name).kv("score", r.score).kv("preferred", r.preferred);
        w.kv("local", m.local);
        w.key("parts").begin_object();
        w.kv("quality", r.parts.quality).kv("cost", r.parts.cost).kv("latency", r.parts.latency);
        w.kv("errors", r.parts.errors).kv("load", r.parts.load).kv("policy", r.parts.policy);
        w.end_object();
        w.end_object();
    }
    w.end_array();
    w.key("rejected").begin_array();
    for (const auto& r : plan->decision.rejected) {
        w.begin_object().kv("model", g.config().models[r.model].name).kv("reason", r.reason);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

awaitable<void> wrong_method(RequestContext& ctx, std::string_view allowed) {
    Error e = Error::invalid_request(fmt::format("{} only", allowed), {}, "method_not_allowed");
    ctx.response.set_header("allow", allowed);
    co_await send_error(ctx, e, ErrorStyle::kOpenAI);
}

}  // namespace

awaitable<void> handle_router(RequestContext& ctx, std::string_view path, std::string_view target) {
    ctx.endpoint = "router";
    const auto method = ctx.request.method();
    if (path == "/v1/router/explain") {
        if (method != http::verb::post) {
            co_await wrong_method(ctx, "POST");
            co_return;
        }
        co_await handle_explain(ctx);
        co_return;
    }
    const bool known =
        path == "/v1/router/models" || path == "/v1/router/circuits" || path == "/v1/incidents";
    if (!known) {
        Error e;
        e.kind = ErrorKind::kNotFound;
        e.code = "unknown_url";
        e.message = fmt::format(
            "Unknown router URL {}; use GET /v1/router/models, POST /v1/router/explain, GET "
            "/v1/router/circuits or GET /v1/incidents",
            path);
        co_await send_error(ctx, e, ErrorStyle::kOpenAI);
        co_return;
    }
    if (method != http::verb::get) {
        co_await wrong_method(ctx, "GET");
        co_return;
    }
    const bool admin = co_await require_admin(ctx);
    if (!admin) co_return;
    if (path == "/v1/router/models") {
        co_await handle_router_models(ctx);
    } else if (path == "/v1/router/circuits") {
        co_await handle_circuits(ctx);
    } else {
        co_await handle_incidents(ctx, target);
    }
}

}  // namespace switchyard
