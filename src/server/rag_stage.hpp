// Private to the server: the chat `rag` extension field. A request with
// "rag": {"collection": "handbook", "top_k": 6, "mode": "hybrid", "filters": {...},
//         "budget_tokens": 1500}
// has its last user message searched in the collection; the best chunks are packed into a
// context of at most budget_tokens tokens of the requested model (cl100k_base for a route or
// "auto"), with numbered citations, and put in front of the conversation as (part of) the
// system prompt. This runs before the cache and routing, so the cache key covers the
// context and the router sees the prompt as sent. The citations go back in the
// x-switchyard-rag-citations header (every answer, streamed or not) and, for JSON answers,
// in a top-level "rag" object.
#pragma once

#include <string>

#include "request_context.hpp"
#include "switchyard/core/chat.hpp"

namespace switchyard {

// Applies req.rag_json (when set) to `req`. False after answering an error (bad field,
// unknown collection, RAG disabled).
awaitable<bool> apply_rag(RequestContext& ctx, ChatRequest& req, ErrorStyle style);

// `body` (a JSON object the gateway wrote) with ctx's "rag" object added, if any.
void add_rag_field(const RequestContext& ctx, std::string& body);

}  // namespace switchyard
