// Private to the server: the accounting stage of one chat or embeddings request.
// Before the upstream call, admit() counts the prompt, checks it and max_tokens against the
// model's context window, takes the key's rate-limit allowance and reserves the key's and the
// global budget from an estimate (prompt + max_tokens at list price). While the answer passes,
// the handler reports the provider's usage or the text it streamed. finish() (or the
// destructor) settles the budgets with the real cost, records the ledger row and the token
// and cost metrics, and fires budget alerts. A cache hit is recorded with cost 0 and the cost
// it saved, and charges no budget or rate limit.
// Thread safety: one per request, on the request's worker thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "request_context.hpp"
#include "switchyard/core/chat.hpp"
#include "switchyard/routing/router.hpp"
#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/ledger.hpp"

namespace switchyard {

class RequestAccount {
public:
    RequestAccount(RequestContext& ctx, const Gateway::Target& target);
    RequestAccount(const RequestAccount&) = delete;
    RequestAccount& operator=(const RequestAccount&) = delete;
    ~RequestAccount() { finish(); }

    // Admission; on error nothing is held and the error is the answer.
    // `counts` (optional) memoises prompt counts per vocabulary across routing and admission.
    Result<Ok> admit_chat(const ChatRequest& req, routing::PromptTokens* counts = nullptr);
    Result<Ok> admit_embeddings(const EmbeddingRequest& req);

    // What the answer used, as it passes.
    void on_usage(const Usage& usage) { reported_ = usage; }
    void on_output_text(std::string_view text) { output_text_.append(text); }
    void set_streamed() { streamed_ = true; }
    void set_partial() { partial_ = true; }
    int64_t prompt_tokens() const { return prompt_tokens_; }
    // Failover moved the call to another model or deployment: the ledger row, the prices and
    // the count of the answer follow it. Admission (and the reservations) stay as taken; the
    // settlement uses the real cost on the model that answered.
    void retarget(const Gateway::Target& target);
    void set_route(std::string reason) { route_ = std::move(reason); }
    // Answered from the response cache: the row is marked, uses no tokens, costs nothing and
    // records `saved_nusd` (what the original call cost) as saved.
    void set_cache_hit(int64_t saved_nusd) {
        cache_hit_ = true;
        saved_nusd_ = saved_nusd;
    }

    // Settles and records once; later calls do nothing.
    void finish();

private:
    // Takes the rate-limit allowance and the budget reservations for the estimate.
    Result<Ok> take_allowances();
    void post_alert(const tokens::Budget& budget, double threshold);

    RequestContext& ctx_;
    Gateway::Target target_;
    int64_t start_ms_ = 0;
    int64_t admit_ms_ = 0;
    int64_t prompt_tokens_ = 0;
    int64_t estimate_tokens_ = 0;  // prompt + completion allowance (rate limit)
    int64_t estimate_nusd_ = 0;
    bool admitted_ = false;
    bool finished_ = false;
    bool streamed_ = false;
    bool partial_ = false;
    std::optional<tokens::Budget::Reservation> key_reservation_;
    std::optional<tokens::Budget::Reservation> global_reservation_;
    std::optional<Usage> reported_;
    std::string output_text_;
    std::string route_ = "explicit";
    const ChatRequest* request_ = nullptr;  // set by admit_chat; outlives the account
    bool recount_prompt_ = false;           // the answering model counts in another vocabulary
    bool cache_hit_ = false;
    int64_t saved_nusd_ = 0;                   // a cache hit: what the original call cost
    routing::PromptTokens* counts_ = nullptr;  // the request memo, when admit_chat had one
};

}  // namespace switchyard
