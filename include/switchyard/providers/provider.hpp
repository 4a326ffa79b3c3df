// The provider interface: one adapter per upstream API (OpenAI, Anthropic, OpenAI-compatible
// local servers), each turning the gateway's chat types into HTTP calls and back.
// Thread safety: a Provider is immutable after construction and shared by all threads; the
// per-call state (HTTP client, cancel signal) comes in a CallContext owned by one thread.
// Failure: every call returns a Result; upstream errors are mapped to OpenAI-style Errors
// and the provider's original error body is logged.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "switchyard/config/config.hpp"
#include "switchyard/core/asio.hpp"
#include "switchyard/core/chat.hpp"
#include "switchyard/core/error.hpp"
#include "switchyard/providers/http_client.hpp"

namespace switchyard {

struct CallContext {
    HttpClient& http;
    CancelSignal* cancel = nullptr;
    UpstreamTimeouts timeouts;
    std::string request_id;  // for logs
};

// A streamed answer: next() yields chunks in order, then nullopt at the end. Each chunk is
// read from the upstream as it arrives (nothing is buffered beyond one network read).
class ChatStream {
public:
    virtual ~ChatStream() = default;
    virtual awaitable<Result<std::optional<ChatChunk>>> next() = 0;
    // Id, model and created of the upstream stream (filled once the first event arrived).
    virtual const StreamMeta& meta() const = 0;
};

class Provider {
public:
    virtual ~Provider() = default;

    virtual awaitable<Result<ChatResponse>> chat(const ChatRequest& request,
                                                 const ModelConfig& model, CallContext& ctx) = 0;
    // Opens a stream: returns once the upstream answered 200 with a stream (errors before
    // that come back here, so the caller can still answer with a plain error).
    virtual awaitable<Result<std::unique_ptr<ChatStream>>> chat_stream(const ChatRequest& request,
                                                                       const ModelConfig& model,
                                                                       CallContext& ctx) = 0;
    virtual awaitable<Result<EmbeddingResponse>> embed(const EmbeddingRequest& request,
                                                       const ModelConfig& model,
                                                       CallContext& ctx) = 0;
};

// The adapter for a model's provider kind. API keys are read from the environment
// variable the model config names when the provider is made.
std::unique_ptr<Provider> make_provider(const ModelConfig& model);

}  // namespace switchyard
