// POST /v1/chat/completions and POST /v1/messages: decode, plan the
// route (an explicit model and its fallbacks, or the router's ranking for "auto" and route
// aliases), then walk the candidates: pick a deployment its breaker admits, call it, and on
// failure retry (backoff with full jitter, within the retry budget and the request deadline)
// or fail over to the next candidate. Answers are encoded as JSON or SSE, flushed chunk by
// chunk. A streamed answer commits to a model when its first event arrives: a failure before
// that fails over invisibly, one after it ends the stream with an error event.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "accounting.hpp"
#include "attempt.hpp"
#include "cache_stage.hpp"
#include "chat_stream.hpp"
#include "rag_stage.hpp"
#include "request_context.hpp"
#include "routing_stage.hpp"
#include "single_flight.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/openai_codec.hpp"
#include "switchyard/tokens/chat_tokens.hpp"

namespace switchyard {
namespace {

// What an answer cost upstream (saved by each cache hit).
int64_t answer_cost(const ModelConfig& model, const Usage& usage) {
    return tokens::cost_nusd(usage.prompt_tokens, usage.completion_tokens,
                             model.price.input_per_1m_usd, model.price.output_per_1m_usd);
}

// One failed attempt, for the 503 message and the x-switchyard-failures header.
struct Failure {
    std::string model;
    std::string what;  // "rate_limited (HTTP 429)", "circuit open"
};

std::string describe(const Error& e) {
    const auto cause = upstream_cause(e);
    if (e.upstream_status > 0)
        return fmt::format("{} (HTTP {})", to_string(cause), e.upstream_status);
    return std::string(to_string(cause));
}

// The headers every answer of the chat pipeline carries.
void set_route_headers(RequestContext& ctx, const RoutePlan& plan, int attempts,
                       const std::vector<Failure>& failures) {
    ctx.response.set_header("x-switchyard-route", plan.route == "explicit"
                                                      ? std::string("explicit")
                                                      : plan.route + "; " + plan.reason);
    ctx.response.set_header("x-switchyard-attempts", std::to_string(attempts));
    if (!failures.empty()) {
        std::string list;
        for (const auto& f : failures) {
            if (!list.empty()) list += ", ";
            list += f.model + "=" + f.what;
        }
        ctx.response.set_header("x-switchyard-failures", list);
    }
}

// Moves local models ahead of remote ones among the candidates not yet tried (after a 429
// from a remote model: local capacity is not rate-limited by the provider).
void prefer_local(const Config& config, std::vector<size_t>& candidates, size_t from) {
    std::stable_partition(candidates.begin() + static_cast<ptrdiff_t>(from), candidates.end(),
                          [&](size_t i) { return config.models[i].local; });
}

awaitable<void> answer_json(RequestContext& ctx, ChatResponse& response, ErrorStyle style,
                            RequestAccount& acct) {
    if (response.usage) {
        acct.on_usage(*response.usage);
    } else {
        acct.on_output_text(response.message.joined_text());
        for (const auto& t : response.message.tool_calls) {
            acct.on_output_text(t.name);
            acct.on_output_text(t.arguments);
        }
    }
    response.id = (style == ErrorStyle::kOpenAI ? "chatcmpl-" : "msg_") + ctx.id;
    response.created = now_unix();
    response.model = ctx.model;
    // (GCC 12 double-destroys class temporaries of a ?: inside co_await: build first.)
    std::string body;
    if (style == ErrorStyle::kOpenAI) {
        body = write_openai_chat_response(response);
    } else {
        body = write_anthropic_response(response);
    }
    add_rag_field(ctx, body);
    co_await ctx.response.send(http::status::ok, "application/json", std::move(body));
}

// The error for a request whose every candidate failed: the last error itself when one model
// was tried (its status says what happened: 429 with Retry-After, 502, 504...), else a 503
// naming what was tried.
Error exhausted_error(const std::vector<Failure>& failures, const Error& last,
                      const RoutePlan& plan, size_t models_tried) {
    if (models_tried <= 1 && last.kind != ErrorKind::kInternal) return last;
    std::string list;
    for (const auto& f : failures) {
        if (!list.empty()) list += "; ";
        list += f.model + ": " + f.what;
    }
    Error e;
    e.kind = ErrorKind::kUnavailable;
    e.code = "all_candidates_failed";
    e.message = fmt::format("No model could answer this request ({} '{}'). Tried: {}.",
                            plan.routed ? "route" : "model", plan.subject, list);
    return e;
}

// Answers from a cache hit, when the model that answered is still served and the caller may
// use it (false otherwise: the request goes on as a miss). The ledger row is marked a hit.
// `semantic`: the hit was found for a similar prompt (x-switchyard-cache: semantic, with the
// similarity; remembered for POST /v1/cache/feedback).
awaitable<bool> answer_from_cache(RequestContext& ctx, const ChatRequest& req, ErrorStyle style,
                                  const cache::ResponseCache::Hit& hit, std::string route,
                                  const CachePlan* plan = nullptr,
                                  const SemanticHit* semantic = nullptr) {
    auto target = ctx.gateway.resolve(hit.entry->answer.model);
    if (!target) co_return false;
    if (ctx.key && !ctx.key->key.allows_model(target->model->name)) co_return false;
    RequestAccount acct(ctx, *target);
    acct.set_cache_hit(hit.entry->cost_nusd);
    acct.set_route(std::move(route));
    std::string_view how = "hit";
    if (semantic != nullptr && plan != nullptr) {
        how = "semantic";
        ctx.response.set_header("x-switchyard-cache-similarity",
                                fmt::format("{:.4f}", semantic->match.similarity));
        remember_semantic_hit(ctx, *plan, *semantic, style);
    }
    co_await replay_cached(ctx, req, style, hit, how);
    co_return true;
}

awaitable<void> run_chat(RequestContext& ctx, ChatRequest& req, ErrorStyle style) {
    Gateway& g = ctx.gateway;
    // The cache comes first: a hit needs no routing (no prompt analysis, no counting).
    auto cache_planned = plan_cache(ctx, req);
    if (!cache_planned) {
        co_await send_error(ctx, cache_planned.error(), style);
        co_return;
    }
    CachePlan& cplan = *cache_planned;
    if (cplan.active && cplan.lookup) {
        auto hit = g.response_cache()->lookup(cplan.key, g.now_ms(), cplan.max_age_ms);
        if (hit) {
            // (GCC 12: no class temporaries inside a co_await expression: name the string.)
            std::string route = "cache hit";
            const bool answered =
                co_await answer_from_cache(ctx, req, style, *hit, std::move(route));
            if (answered) co_return;
        } else if (cplan.semantic) {
            auto similar = semantic_lookup(ctx, cplan);
            if (similar) {
                std::string route =
                    fmt::format("semantic cache hit ({:.3f})", similar->match.similarity);
                const bool answered = co_await answer_from_cache(
                    ctx, req, style, similar->hit, std::move(route), &cplan, &*similar);
                if (answered) co_return;
            }
        }
    }

    auto planned = plan_route(ctx, req, false);
    if (!planned) {
        co_await send_error(ctx, planned.error(), style);
        co_return;
    }
    RoutePlan& plan = *planned;
    std::vector<size_t>& candidates = plan.candidates;

    // Single-flight: identical cacheable requests at once make one upstream call.
    std::optional<FlightLease> lease;
    const int64_t flight_wait_ms = g.config().cache.single_flight_wait_ms;
    if (cplan.active && cplan.lookup && cplan.store && flight_wait_ms > 0) {
        auto ex = co_await net::this_coro::executor;
        auto timer = std::make_shared<SingleFlight::Timer>(ex);
        timer->expires_after(std::chrono::milliseconds(flight_wait_ms));
        if (g.flights().begin(cplan.key, timer)) {
            lease.emplace(&g.flights(), cplan.key);
        } else {
            beast::error_code ec;
            co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
            if (ctx.cancel.cancelled()) co_return;
            auto hit = g.response_cache()->lookup(cplan.key, g.now_ms(), cplan.max_age_ms);
            if (hit) {
                std::string route = "cache hit (coalesced)";
                const bool answered =
                    co_await answer_from_cache(ctx, req, style, *hit, std::move(route));
                if (answered) co_return;
            }
            // The leader's answer was not stored (it failed, or was not cacheable): go on.
        }
    }
    if (cplan.active) ctx.response.set_header("x-switchyard-cache", "miss");

    // Admission on the first candidate; a prompt too long for it moves on to a candidate
    // with a larger window (an explicit model's configured fallbacks included).
    auto first_target = Gateway::target_of(*g.deployments_of(candidates.front()).front());
    ctx.model = first_target.model->name;
    ctx.provider = first_target.model->provider_name;
    RequestAccount acct(ctx, first_target);
    acct.set_route(plan.routed ? plan.route + ": " + plan.reason : "explicit");
    for (;;) {
        auto admitted = acct.admit_chat(req, plan.counts.get());
        if (admitted) break;
        const bool context = admitted.error().code == "context_length_exceeded";
        if (!context || candidates.size() == 1) {
            co_await send_error(ctx, admitted.error(), style);
            co_return;
        }
        const int64_t window = g.config().models[candidates.front()].context_window;
        candidates.erase(candidates.begin());
        std::erase_if(candidates, [&](size_t i) {
            const int64_t w = g.config().models[i].context_window;
            return w != 0 && w <= window;
        });
        if (candidates.empty()) {
            co_await send_error(ctx, admitted.error(), style);
            co_return;
        }
        acct.retarget(Gateway::target_of(*g.deployments_of(candidates.front()).front()));
    }
    if (plan.routed) {
        g.metrics().count_event(ctx.worker_index, "switchyard_routed_requests_total",
                                {{"route", plan.route},
                                 {"model", g.config().models[candidates.front()].name},
                                 {"reason", plan.reason}});
    }

    const auto& rc = g.config().resilience;
    const int64_t start = g.steady_ms();
    const int64_t deadline = start + rc.request_deadline_ms;
    g.retry_budget().on_request(start);
    std::vector<Failure> failures;
    Error last;
    last.kind = ErrorKind::kInternal;
    last.message = "no attempt was made";
    int attempts = 0;
    size_t models_tried = 0;
    std::string_view last_cause = "circuit_open";

    for (size_t ci = 0; ci < candidates.size(); ++ci) {
        const size_t m = candidates[ci];
        const ModelConfig& model = g.config().models[m];
        uint64_t skip = 0;  // deployments of this model that failed this request
        int64_t model_attempts = 0;
        bool tried_model = false;
        if (!plan.context_verified[m] && !fits(g, *plan.counts, m, req.max_tokens.value_or(0))) {
            failures.push_back({model.name, "context window too small"});
            continue;
        }
        if (model.max_concurrency > 0 && g.model_in_flight(m) >= model.max_concurrency) {
            failures.push_back({model.name, "at max concurrency"});
            last_cause = "max_concurrency";
            if (models_tried == 0) {
                last = Error{};
                last.kind = ErrorKind::kRateLimited;
                last.code = "model_at_capacity";
                last.retry_after_s = 1;
                last.message = fmt::format(
                    "Model '{}' is at its concurrency limit ({} calls in flight); retry shortly.",
                    model.name, model.max_concurrency);
            }
            continue;
        }
        for (;;) {
            if (ctx.cancel.cancelled()) co_return;
            if (attempts >= rc.max_total_attempts || g.steady_ms() >= deadline) break;
            auto pick = g.pick_deployment(m, skip, unit_random(), ctx.worker_index);
            if (pick.deployment == nullptr) {
                if (pick.retry_in_ms >= 0) {
                    failures.push_back({model.name, "circuit open"});
                    last_cause = "circuit_open";
                    if (!tried_model) last = circuit_open_error(model.name, pick.retry_in_ms);
                    tried_model = true;
                }
                break;
            }
            Deployment& d = *pick.deployment;
            tried_model = true;
            ++attempts;
            ++model_attempts;
            if (ci > 0 || d.model != first_target.index || &d.config != first_target.model) {
                acct.retarget(Gateway::target_of(d));
            }
            ctx.model = model.name;
            ctx.provider = model.provider_name;
            // The deadline bounds when attempts start, not how long an answer may stream
            // (that is upstream.total_timeout_ms).
            CallContext call{ctx.http, &ctx.cancel, g.timeouts(), ctx.id};
            std::optional<Attempt> attempt;  // reset before a backoff sleep
            attempt.emplace(g, d, pick.probe, ctx.worker_index);

            Error error;
            if (!req.stream) {
                auto response = co_await d.provider->chat(req, d.config, call);
                if (response) {
                    const double ms = attempt->elapsed_ms();
                    const int64_t out = response->usage ? response->usage->completion_tokens : 0;
                    attempt->succeeded(ms, ms, out);
                    if (g.incidents().is_open("route_outage", plan.subject)) {
                        g.incidents().resolve("route_outage", plan.subject,
                                              "a request succeeded on " + model.name, g.now_ms());
                    }
                    if (cplan.active) {
                        const cache::CachedAnswer answer{model.name, response->system_fingerprint,
                                                         response->message, response->finish_reason,
                                                         response->usage.value_or(Usage{})};
                        store_answer(ctx, cplan, req, answer, answer_cost(model, answer.usage));
                    }
                    if (lease) lease->release();  // waiters read the stored answer now
                    set_route_headers(ctx, plan, attempts, failures);
                    ctx.response.set_header("x-switchyard-model", model.name);
                    ctx.response.set_header("x-switchyard-provider", model.provider_name);
                    co_await answer_json(ctx, *response, style, acct);
                    co_return;
                }
                error = std::move(response.error());
            } else {
                auto stream = co_await d.provider->chat_stream(req, d.config, call);
                if (stream) {
                    FirstEvent first = co_await (*stream)->next();
                    if (first) {
                        const double ttft = attempt->elapsed_ms();
                        attempt->first_byte();
                        if (g.incidents().is_open("route_outage", plan.subject)) {
                            g.incidents().resolve("route_outage", plan.subject,
                                                  "a request succeeded on " + model.name,
                                                  g.now_ms());
                        }
                        set_route_headers(ctx, plan, attempts, failures);
                        ctx.response.set_header("x-switchyard-model", model.name);
                        ctx.response.set_header("x-switchyard-provider", model.provider_name);
                        acct.set_streamed();
                        StreamEnd end;
                        if (style == ErrorStyle::kOpenAI) {
                            end =
                                co_await stream_openai(ctx, req, **stream, acct, std::move(first));
                        } else {
                            end = co_await stream_anthropic(ctx, **stream, acct, std::move(first));
                        }
                        g.metrics().record_stream_chunks(ctx.worker_index, ctx.model,
                                                         static_cast<uint64_t>(end.chunks));
                        const double total = attempt->elapsed_ms();
                        if (end.upstream_failed) {
                            attempt->failed(end.error, total);
                        } else if (!end.client_gone) {
                            attempt->succeeded(ttft, total, end.chunks);
                            if (cplan.active && !end.tool_calls) {
                                cache::CachedAnswer answer;
                                answer.model = model.name;
                                answer.system_fingerprint = (*stream)->meta().system_fingerprint;
                                answer.message.role = Role::kAssistant;
                                answer.message.text = std::move(end.text);
                                answer.finish_reason = end.finish_reason;
                                answer.usage = end.usage.value_or(Usage{});
                                store_answer(ctx, cplan, req, answer,
                                             answer_cost(model, answer.usage));
                            }
                            if (lease) lease->release();
                        }  // a client that left: abandoned (the destructor)
                        co_return;
                    }
                    error = std::move(first.error());
                } else {
                    error = std::move(stream.error());
                }
            }

            // The attempt failed before anything reached the client.
            const double elapsed = attempt->elapsed_ms();
            attempt->failed(error, elapsed);
            if (ctx.cancel.cancelled()) co_return;  // the client left; nobody to answer
            note_upstream_failure(ctx, error);
            const UpstreamCause cause = upstream_cause(error);
            const Next next = decide(cause);
            if (next == Next::kAnswer) {
                set_route_headers(ctx, plan, attempts, failures);
                ctx.response.set_header("x-switchyard-model", model.name);
                co_await send_error(ctx, error, style);
                co_return;
            }
            failures.push_back({model.name, describe(error)});
            last_cause = to_string(cause);
            spdlog::info("request {}: attempt {} on {} ({}) failed: {}", ctx.id, attempts, d.name,
                         model.name, error.message);
            last = std::move(error);
            if (cause == UpstreamCause::kContextLength) {
                // Only a larger window can help.
                const int64_t window = model.context_window;
                std::erase_if(candidates, [&, pos = size_t{0}](size_t i) mutable {
                    const bool later = pos++ > ci;
                    const int64_t w = g.config().models[i].context_window;
                    return later && window != 0 && w != 0 && w <= window;
                });
                break;
            }
            if (cause == UpstreamCause::kRateLimited && rc.rate_limit_to_local && !model.local) {
                prefer_local(g.config(), candidates, ci + 1);
            }
            const bool more_candidates = ci + 1 < candidates.size();
            // Another deployment of the same model that has not failed this request: go now.
            skip |= uint64_t{1} << pick.position;
            // Each later candidate keeps one attempt of the request's total: retries on this
            // model never starve the rest of the chain.
            const auto reserved = static_cast<int64_t>(candidates.size() - ci - 1);
            const bool may_retry = model_attempts < rc.retry.max_attempts &&
                                   attempts + 1 + reserved <= rc.max_total_attempts;
            // Another deployment of this model that has not failed this request goes at once
            // (a 429 or a bad key belongs to one deployment, not to the model).
            const bool per_deployment = next == Next::kRetrySame ||
                                        cause == UpstreamCause::kRateLimited ||
                                        cause == UpstreamCause::kAuth;
            const bool other_deployment =
                per_deployment && may_retry &&
                std::popcount(skip) < static_cast<int>(g.deployments_of(m).size());
            if (other_deployment) {
                if (!g.retry_budget().try_retry(g.steady_ms())) {
                    g.metrics().count_event(ctx.worker_index,
                                            "switchyard_retry_budget_exhausted_total", {});
                    break;
                }
                g.metrics().count_event(ctx.worker_index, "switchyard_retries_total",
                                        {{"model", model.name}, {"cause", to_string(cause)}});
                continue;
            }
            // The same model again after a backoff, when that is the best left: a retryable
            // failure, or a 429 with no other candidate (waiting out a short Retry-After).
            if (next == Next::kNextCandidate &&
                (cause != UpstreamCause::kRateLimited || more_candidates)) {
                break;
            }
            if (next == Next::kRetrySame && more_candidates && model_attempts >= 1 &&
                cause != UpstreamCause::kServerError && cause != UpstreamCause::kOverloaded &&
                cause != UpstreamCause::kFirstByteTimeout &&
                cause != UpstreamCause::kConnectionReset) {
                break;  // connect failures and long timeouts: the next model is the better bet
            }
            if (!may_retry) break;
            std::optional<int64_t> retry_after;
            if (last.retry_after_s >= 0) retry_after = int64_t{last.retry_after_s} * 1000;
            const auto wait = g.retry_policy().backoff_ms(model_attempts, unit_random(),
                                                          retry_after, g.steady_ms(), deadline);
            if (!wait) break;
            if (!g.retry_budget().try_retry(g.steady_ms())) {
                g.metrics().count_event(ctx.worker_index, "switchyard_retry_budget_exhausted_total",
                                        {});
                break;
            }
            g.metrics().count_event(ctx.worker_index, "switchyard_retries_total",
                                    {{"model", model.name}, {"cause", to_string(cause)}});
            skip = 0;
            attempt.reset();
            co_await sleep_ms(*wait);
        }
        if (tried_model) ++models_tried;
        if (ci + 1 < candidates.size() && tried_model) {
            g.metrics().count_event(ctx.worker_index, "switchyard_failovers_total",
                                    {{"from", model.name},
                                     {"to", g.config().models[candidates[ci + 1]].name},
                                     {"cause", last_cause}});
        }
        if (attempts >= rc.max_total_attempts || g.steady_ms() >= deadline) break;
    }

    // Every candidate failed.
    g.metrics().count_event(ctx.worker_index, "switchyard_chain_exhausted_total",
                            {{"route", plan.subject}});
    std::string tried;
    for (const auto& f : failures) {
        if (!tried.empty()) tried += "; ";
        tried += f.model + ": " + f.what;
    }
    // An outage is upstreams failing; a request refused by open breakers or capacity
    // caps alone is not a new incident (the breakers have theirs).
    if (attempts > 0) {
        g.incidents().open("route_outage", plan.subject, "every candidate failed: " + tried,
                           g.now_ms());
    }
    // Stale-if-error: the last good answer for this request, past its TTL but inside its
    // grace period, beats an error.
    if (cplan.active) {
        auto stale = g.response_cache()->lookup(cplan.key, g.now_ms(), -1, true);
        if (stale) {
            set_route_headers(ctx, plan, attempts, failures);
            acct.set_cache_hit(stale->entry->cost_nusd);
            co_await replay_cached(ctx, req, style, *stale, stale->stale ? "stale" : "hit");
            co_return;
        }
    }
    Error answer = exhausted_error(failures, last, plan, models_tried);
    set_route_headers(ctx, plan, attempts, failures);
    co_await send_error(ctx, answer, style);
}

}  // namespace

awaitable<void> handle_chat_completions(RequestContext& ctx) {
    ctx.endpoint = "chat_completions";
    auto req = parse_openai_chat_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    const bool ready = co_await apply_rag(ctx, *req, ErrorStyle::kOpenAI);
    if (!ready) co_return;
    co_await run_chat(ctx, *req, ErrorStyle::kOpenAI);
}

awaitable<void> handle_messages(RequestContext& ctx) {
    ctx.endpoint = "messages";
    auto req = parse_anthropic_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kAnthropic);
        co_return;
    }
    const bool ready = co_await apply_rag(ctx, *req, ErrorStyle::kAnthropic);
    if (!ready) co_return;
    co_await run_chat(ctx, *req, ErrorStyle::kAnthropic);
}

}  // namespace switchyard
