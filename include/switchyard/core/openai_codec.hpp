// Translation between OpenAI's Chat Completions / Embeddings wire format and the gateway's
// chat types, both directions: inbound (clients) and outbound (OpenAI-compatible
// providers: OpenAI, Ollama, llama.cpp server, vLLM). Pure functions; no I/O.
// Thread safety: all functions are reentrant (each thread uses its own parser).
// Failure: parse functions return an Error naming the offending field (`param`); they
// never throw and accept any byte sequence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/core/chat.hpp"
#include "switchyard/core/error.hpp"

namespace switchyard {

// ---- inbound ----

// Parses a POST /v1/chat/completions body. Unknown top-level fields are kept verbatim in
// `passthrough` (format kOpenAI).
Result<ChatRequest> parse_openai_chat_request(std::string_view body);
// Parses a POST /v1/embeddings body.
Result<EmbeddingRequest> parse_openai_embedding_request(std::string_view body);

std::string write_openai_chat_response(const ChatResponse& response);
std::string write_openai_embedding_response(const EmbeddingResponse& response);

// Appends one `data: {chat.completion.chunk}\n\n` event. With `include_usage`, chunks
// carry "usage":null and a usage-only chunk carries choices:[] (OpenAI's shape).
void append_openai_chunk_sse(std::string& out, const StreamMeta& meta, const ChatChunk& chunk,
                             bool include_usage);
// Appends the terminating `data: [DONE]\n\n`.
void append_openai_done_sse(std::string& out);
// An in-stream error event (OpenAI sends {"error":{...}} as a data line).
void append_openai_error_sse(std::string& out, const Error& error);

// ---- outbound ----

// Body for POST {base_url}/chat/completions with `model` replaced by `upstream_model`.
// Passthrough fields are forwarded only for OpenAI-origin requests. When streaming,
// stream_options.include_usage is always requested so usage can be accounted.
std::string write_openai_chat_request(const ChatRequest& request, std::string_view upstream_model,
                                      bool stream);
std::string write_openai_embedding_request(const EmbeddingRequest& request,
                                           std::string_view upstream_model);

Result<ChatResponse> parse_openai_chat_response(std::string_view body);
Result<EmbeddingResponse> parse_openai_embedding_response(std::string_view body);

// Parses one streamed `data:` payload (not "[DONE]"). Fills `meta` from the first chunk.
// A payload carrying {"error":...} becomes an Error.
Result<ChatChunk> parse_openai_chunk(std::string_view data, StreamMeta& meta);

// Maps an OpenAI-style upstream error (status + body) to an Error. 401/403 from an upstream
// are the gateway's credentials failing, so they map to kUpstream, not kAuthentication.
Error parse_openai_error(int http_status, std::string_view body);

}  // namespace switchyard
