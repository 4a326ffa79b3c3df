#include "accounting.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/tokens/chat_tokens.hpp"

namespace switchyard {
namespace {

// POSTs a budget alert. A named coroutine, not a lambda: its arguments live in the frame
// (GCC 12 destroys a coroutine lambda's captures twice). The client is kept alive by the
// shared_ptr until the post ends.
awaitable<void> post_webhook(std::shared_ptr<HttpClient> client, Url url, std::string body,
                             UpstreamTimeouts timeouts) {
    HttpRequestSpec spec;
    spec.url = &url;
    spec.target = url.path.empty() ? "/" : url.path;
    spec.method = http::verb::post;
    spec.headers.emplace_back("content-type", "application/json");
    spec.body = std::move(body);
    spec.timeouts = timeouts;
    spec.timeouts.total = std::chrono::milliseconds(10'000);
    auto ex = co_await client->start(spec, nullptr);
    if (!ex) {
        spdlog::warn("budget alert webhook {} failed: {}", url.host, ex.error().message);
        co_return;
    }
    auto rest = co_await (*ex)->read_all(64 * 1024);
    if (!rest || (*ex)->status() >= 300) {
        spdlog::warn("budget alert webhook {} answered HTTP {}", url.host, (*ex)->status());
    }
}

}  // namespace

RequestAccount::RequestAccount(RequestContext& ctx, const Gateway::Target& target)
    : ctx_(ctx), target_(target), start_ms_(ctx.gateway.now_ms()) {}

void RequestAccount::retarget(const Gateway::Target& target) {
    const bool same_vocabulary = ctx_.gateway.model_tokens(target.index).tokenizer ==
                                 ctx_.gateway.model_tokens(target_.index).tokenizer;
    target_ = target;
    if (!same_vocabulary) recount_prompt_ = true;
}

Result<Ok> RequestAccount::admit_chat(const ChatRequest& req, routing::PromptTokens* counts) {
    request_ = &req;
    counts_ = counts;
    recount_prompt_ = false;
    const ModelConfig& model = *target_.model;
    const auto& mt = ctx_.gateway.model_tokens(target_.index);
    prompt_tokens_ = counts != nullptr ? counts->for_model(target_.index)
                                       : tokens::count_chat_prompt(*mt.tokenizer, mt.family, req);

    int64_t completion = 0;
    if (req.max_tokens) {
        completion = *req.max_tokens;
    } else if (model.provider == ProviderKind::kAnthropic) {
        completion = model.default_max_tokens;
    } else if (model.max_output_tokens > 0) {
        completion = model.max_output_tokens;
    } else {
        completion = ctx_.gateway.config().budgets.default_max_tokens;
    }
    if (model.context_window > 0) {
        const bool explicit_max = req.max_tokens.has_value();
        if (prompt_tokens_ > model.context_window ||
            (explicit_max && prompt_tokens_ + completion > model.context_window)) {
            ctx_.gateway.metrics().count_event(
                ctx_.worker_index, "switchyard_context_rejections_total", {{"model", model.name}});
            Error e = Error::invalid_request(
                fmt::format("This model's maximum context length is {} tokens. However, you "
                            "requested {} tokens ({} in the messages, {} in the completion). "
                            "Please reduce the length of the messages or completion.",
                            model.context_window, prompt_tokens_ + (explicit_max ? completion : 0),
                            prompt_tokens_, explicit_max ? completion : 0),
                "messages", "context_length_exceeded");
            return e;
        }
        // Without max_tokens the answer can only fill what the window leaves.
        completion = std::min(completion, model.context_window - prompt_tokens_);
    }
    estimate_tokens_ = prompt_tokens_ + completion;
    estimate_nusd_ = tokens::cost_nusd(prompt_tokens_, completion, model.price.input_per_1m_usd,
                                       model.price.output_per_1m_usd);

    return take_allowances();
}

Result<Ok> RequestAccount::admit_embeddings(const EmbeddingRequest& req) {
    const ModelConfig& model = *target_.model;
    const auto& mt = ctx_.gateway.model_tokens(target_.index);
    prompt_tokens_ = 0;
    if (req.input_is_tokens) {
        // Pre-tokenised input: ids are tokens already; count the commas of each array.
        prompt_tokens_ = static_cast<int64_t>(std::count(req.raw_input_json.begin(),
                                                         req.raw_input_json.end(), ',')) +
                         1;
    } else {
        for (const auto& text : req.inputs)
            prompt_tokens_ += static_cast<int64_t>(mt.tokenizer->count(text));
    }
    estimate_tokens_ = prompt_tokens_;
    estimate_nusd_ = tokens::cost_nusd(prompt_tokens_, 0, model.price.input_per_1m_usd, 0);
    return take_allowances();
}

// Rate limit, then the key's budget, then the global one; on a refusal whatever was taken
// is given back.
Result<Ok> RequestAccount::take_allowances() {
    const int64_t now = ctx_.gateway.now_ms();
    admit_ms_ = now;
    KeyState* key = ctx_.key.get();
    if (key != nullptr && key->limiter) {
        auto admitted = key->limiter->admit(estimate_tokens_, now);
        if (!admitted) {
            ctx_.gateway.metrics().count_event(
                ctx_.worker_index, "switchyard_rate_limited_total",
                {{"key", key->key.name},
                 {"limit", admitted.error().code == "rate_limit_requests" ? "rpm" : "tpm"}});
            return admitted.error();
        }
    }
    if (key != nullptr && key->budget) {
        auto r = key->budget->reserve(estimate_nusd_, now);
        if (!r) {
            ctx_.gateway.metrics().count_event(ctx_.worker_index,
                                               "switchyard_budget_rejections_total",
                                               {{"budget", key->key.name}});
            if (key->limiter) key->limiter->settle(estimate_tokens_, 0, now, now);
            return r.error();
        }
        key_reservation_ = *r;
    }
    if (tokens::Budget* global = ctx_.gateway.global_budget()) {
        auto r = global->reserve(estimate_nusd_, now);
        if (!r) {
            ctx_.gateway.metrics().count_event(
                ctx_.worker_index, "switchyard_budget_rejections_total", {{"budget", "global"}});
            if (key_reservation_) key->budget->release(*key_reservation_, now);
            key_reservation_.reset();
            if (key != nullptr && key->limiter) key->limiter->settle(estimate_tokens_, 0, now, now);
            return r.error();
        }
        global_reservation_ = *r;
    }
    admitted_ = true;
    return Ok{};
}

void RequestAccount::finish() {
    if (finished_) return;
    finished_ = true;
    const ModelConfig& model = *target_.model;
    const int64_t now = ctx_.gateway.now_ms();
    const int status = ctx_.response.status() != 0 ? ctx_.response.status() : 499;

    // Usage: the provider's when it reported any; else our count of what passed (only when
    // an answer started: a failed call costs nothing).
    int64_t input = 0;
    int64_t output = 0;
    auto source = tokens::UsageSource::kNone;
    if (reported_) {
        input = reported_->prompt_tokens;
        output = reported_->completion_tokens;
        source = tokens::UsageSource::kProvider;
    } else if (admitted_ && (status == 200 || !output_text_.empty())) {
        const auto& mt = ctx_.gateway.model_tokens(target_.index);
        if (recount_prompt_ && counts_ != nullptr) {
            prompt_tokens_ = counts_->for_model(target_.index);  // memoised per vocabulary
        } else if (recount_prompt_ && request_ != nullptr) {
            prompt_tokens_ = tokens::count_chat_prompt(*mt.tokenizer, mt.family, *request_);
        }
        input = prompt_tokens_;
        output = static_cast<int64_t>(mt.tokenizer->count(output_text_));
        source = tokens::UsageSource::kCounted;
    }
    // A cache hit used no upstream tokens and paid nothing: its row records what the
    // original call cost as saved, and budgets and rate limits are charged nothing (the
    // stale-if-error path was admitted before its attempts failed; they cost nothing).
    if (cache_hit_) {
        input = 0;
        output = 0;
        source = tokens::UsageSource::kNone;
    }
    const int64_t cost = tokens::cost_nusd(input, output, model.price.input_per_1m_usd,
                                           model.price.output_per_1m_usd);

    KeyState* key = ctx_.key.get();
    if (admitted_) {
        if (key != nullptr && key->limiter) {
            key->limiter->settle(estimate_tokens_, input + output, admit_ms_, now);
        }
        if (key_reservation_) {
            for (double t : key->budget->settle(*key_reservation_, cost, now))
                post_alert(*key->budget, t);
        }
        if (global_reservation_) {
            tokens::Budget& g = *ctx_.gateway.global_budget();
            for (double t : g.settle(*global_reservation_, cost, now))
                post_alert(g, t);
        }
    }
    if (input > 0 || output > 0) {
        ctx_.gateway.metrics().record_usage(ctx_.worker_index, model.name, model.provider_name,
                                            input, output, cost);
    }
    tokens::UsageRecord row;
    row.time_ms = start_ms_;
    row.request_id = ctx_.id;
    if (key != nullptr) {
        row.key_id = key->key.id;
        row.key_name = key->key.name;
    }
    row.endpoint = std::string(ctx_.endpoint);
    row.model = model.name;
    row.provider = model.provider_name;
    row.deployment = model.base_url;
    row.input_tokens = input;
    row.output_tokens = output;
    row.cost_nusd = cost;
    row.saved_nusd = saved_nusd_;
    row.latency_ms = now - start_ms_;
    row.status = status;
    row.route_reason = route_;
    row.cache_hit = cache_hit_;
    row.source = source;
    row.streamed = streamed_;
    row.partial = partial_;
    ctx_.gateway.ledger().record(std::move(row));
}

void RequestAccount::post_alert(const tokens::Budget& budget, double threshold) {
    const int pct = static_cast<int>(threshold * 100 + 0.5);
    spdlog::warn("budget alert: {} reached {}% of ${:.4f} per {}", budget.label(), pct,
                 tokens::to_usd(budget.limit_nusd()), to_string(budget.period()));
    const std::string pct_text = std::to_string(pct);
    ctx_.gateway.metrics().count_event(ctx_.worker_index, "switchyard_budget_alerts_total",
                                       {{"budget", budget.label()}, {"threshold", pct_text}});
    const auto& url_text = ctx_.gateway.config().budgets.webhook_url;
    if (url_text.empty()) return;
    auto url = Url::parse(url_text);
    if (!url) return;
    std::string body;
    JsonWriter w(body);
    w.begin_object().kv("type", "budget_alert").kv("budget", budget.label());
    w.kv("threshold", threshold).kv("limit_usd", tokens::to_usd(budget.limit_nusd()));
    w.kv("period", to_string(budget.period())).kv("request_id", ctx_.id);
    w.end_object();
    // Fire and forget on this worker: the request does not wait for the webhook.
    auto client = ctx_.http.shared_from_this();
    net::io_context& ioc = client->io_context();
    net::co_spawn(ioc,
                  post_webhook(std::move(client), *url, std::move(body), ctx_.gateway.timeouts()),
                  net::detached);
}

}  // namespace switchyard
