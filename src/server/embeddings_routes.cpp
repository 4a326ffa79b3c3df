// POST /v1/embeddings: the requested model's deployments only (another model would answer
// with vectors of another space), with the chat path's retry rules, breakers and budgets.
#include <fmt/format.h>

#include <bit>

#include "accounting.hpp"
#include "attempt.hpp"
#include "chat_stream.hpp"
#include "request_context.hpp"
#include "routing_stage.hpp"
#include "switchyard/core/openai_codec.hpp"

namespace switchyard {

awaitable<void> handle_embeddings(RequestContext& ctx) {
    ctx.endpoint = "embeddings";
    auto req = parse_openai_embedding_request(ctx.request.body());
    if (!req) {
        co_await send_error(ctx, req.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    Gateway& g = ctx.gateway;
    auto target = g.resolve(req->model);
    if (!target) {
        co_await send_error(ctx, target.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    const ModelConfig& model = *target->model;
    ctx.model = model.name;
    ctx.provider = model.provider_name;
    if (auto allowed = check_model_allowed(ctx, model); !allowed) {
        co_await send_error(ctx, allowed.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    RequestAccount acct(ctx, *target);
    if (auto admitted = acct.admit_embeddings(*req); !admitted) {
        co_await send_error(ctx, admitted.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    ctx.response.set_header("x-switchyard-model", model.name);
    const auto& rc = g.config().resilience;
    const int64_t deadline = g.steady_ms() + rc.request_deadline_ms;
    g.retry_budget().on_request(g.steady_ms());
    uint64_t skip = 0;
    int attempts = 0;
    Error last;
    for (;;) {
        auto pick = g.pick_deployment(target->index, skip, unit_random(), ctx.worker_index);
        if (pick.deployment == nullptr) {
            if (attempts == 0) last = circuit_open_error(model.name, pick.retry_in_ms);
            break;
        }
        Deployment& d = *pick.deployment;
        ++attempts;
        CallContext call{ctx.http, &ctx.cancel, g.timeouts(), ctx.id};
        std::optional<Attempt> attempt;  // reset before a backoff sleep
        attempt.emplace(g, d, pick.probe, ctx.worker_index);
        auto response = co_await d.provider->embed(*req, d.config, call);
        const double ms = attempt->elapsed_ms();
        if (response) {
            attempt->succeeded(ms, ms, 0);
            acct.on_usage(response->usage);
            response->model = model.name;
            ctx.response.set_header("x-switchyard-attempts", std::to_string(attempts));
            std::string body = write_openai_embedding_response(*response);
            co_await ctx.response.send(http::status::ok, "application/json", std::move(body));
            co_return;
        }
        attempt->failed(response.error(), ms);
        if (ctx.cancel.cancelled()) co_return;
        note_upstream_failure(ctx, response.error());
        last = std::move(response.error());
        const UpstreamCause cause = upstream_cause(last);
        const auto next = decide(cause);
        if (next == Next::kAnswer || cause == UpstreamCause::kContextLength) break;
        skip |= uint64_t{1} << pick.position;
        if (attempts >= rc.retry.max_attempts) break;
        // Another deployment first (a 429 or a bad key belongs to one deployment).
        if (std::popcount(skip) < static_cast<int>(g.deployments_of(target->index).size())) {
            if (!g.retry_budget().try_retry(g.steady_ms())) break;
            continue;
        }
        if (next != Next::kRetrySame && cause != UpstreamCause::kRateLimited) break;
        std::optional<int64_t> retry_after;
        if (last.retry_after_s >= 0) retry_after = int64_t{last.retry_after_s} * 1000;
        const auto wait = g.retry_policy().backoff_ms(attempts, unit_random(), retry_after,
                                                      g.steady_ms(), deadline);
        if (!wait || !g.retry_budget().try_retry(g.steady_ms())) break;
        skip = 0;
        attempt.reset();
        co_await sleep_ms(*wait);
    }
    ctx.response.set_header("x-switchyard-attempts", std::to_string(attempts));
    co_await send_error(ctx, last, ErrorStyle::kOpenAI);
}

}  // namespace switchyard
