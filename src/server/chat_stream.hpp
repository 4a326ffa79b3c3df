// Private to the server: writing a committed chat stream to the client, chunk by chunk, in
// OpenAI's or Anthropic's SSE shape, and what the failover loop needs to know of how it ended.
// Thread safety: one per request, on the request's worker thread.
#pragma once

#include <optional>
#include <string>

#include "accounting.hpp"
#include "request_context.hpp"

namespace switchyard {

using FirstEvent = Result<std::optional<ChatChunk>>;

// How a committed stream ended.
struct StreamEnd {
    bool upstream_failed = false;  // the upstream broke mid-stream (error event sent)
    bool client_gone = false;
    Error error;  // when upstream_failed
    int64_t chunks = 0;
    // The answer as it passed, for the cache (text answers only).
    std::string text;
    FinishReason finish_reason = FinishReason::kNone;
    std::optional<Usage> usage;
    bool tool_calls = false;

    void take(const ChatChunk& c) {
        text += c.content;
        if (c.finish_reason != FinishReason::kNone) finish_reason = c.finish_reason;
        if (!c.tool_calls.empty()) tool_calls = true;
        if (c.usage) usage = c.usage;
    }
};

// Streams an answer whose first event (`next`, a success) was already read: OpenAI
// chat.completion.chunk events and [DONE], or Anthropic's message events. A failure after the
// head was sent ends the stream with an error event and marks the ledger row partial.
awaitable<StreamEnd> stream_openai(RequestContext& ctx, const ChatRequest& req, ChatStream& stream,
                                   RequestAccount& acct, FirstEvent next);
awaitable<StreamEnd> stream_anthropic(RequestContext& ctx, ChatStream& stream, RequestAccount& acct,
                                      FirstEvent next);

// Counts a failed upstream call in the metrics.
void note_upstream_failure(RequestContext& ctx, const Error& error);

int64_t now_unix();

}  // namespace switchyard
