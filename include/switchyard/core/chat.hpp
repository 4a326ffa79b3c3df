// The gateway's provider-neutral chat types: what a ChatRequest, a ChatResponse and a
// streamed ChatChunk hold once decoded from OpenAI or Anthropic wire formats.
// Shaped after OpenAI's Chat Completions API (the gateway's lingua franca); the Anthropic
// codec maps onto the same fields. Plain values; not synchronised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };
std::string_view to_string(Role role);

// Which wire format a request arrived in; pass-through fields only go to providers that
// speak the same format.
enum class WireFormat { kOpenAI, kAnthropic };

struct ContentPart {
    enum class Type { kText, kImage, kOther };
    Type type = Type::kText;
    std::string text;       // kText
    std::string image_url;  // kImage: https URL or a data: URI (base64)
    std::string detail;     // kImage: OpenAI "detail" hint, may be empty
    std::string raw_json;   // kOther: the part exactly as received (e.g. input_audio)
};

struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;  // JSON text as the model produced it
};

struct Message {
    Role role = Role::kUser;
    // Content is either a plain string (`text`), an array of parts (`parts`, with
    // `has_parts`), or null (`content_null`, e.g. an assistant turn with only tool calls).
    std::string text;
    std::vector<ContentPart> parts;
    bool has_parts = false;
    bool content_null = false;
    std::string name;                  // optional participant name
    std::vector<ToolCall> tool_calls;  // assistant turns
    std::string tool_call_id;          // tool turns: which call this answers
    bool tool_error = false;           // tool turns: the tool reported an error (Anthropic)

    // All text of this message: `text`, or the text parts joined with "\n".
    std::string joined_text() const;
};

struct ToolDefinition {
    std::string name;
    std::string description;
    std::string parameters_json;  // JSON Schema text; empty when absent
    // The OpenAI tool object exactly as received (OpenAI-origin requests), so fields the
    // gateway does not model (e.g. `strict`) reach OpenAI-compatible upstreams intact.
    std::string openai_json;
};

// A JSON object member the gateway does not interpret, kept minified: key and value text.
struct PassthroughField {
    std::string key;
    std::string value_json;
};

struct ChatRequest {
    std::string model;
    std::vector<Message> messages;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
    std::optional<int64_t> max_tokens;
    bool use_max_completion_tokens = false;  // the client named it max_completion_tokens
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::vector<std::string> stop;
    std::vector<ToolDefinition> tools;
    // OpenAI tool_choice as JSON text ("\"auto\"", "\"required\"", "\"none\"", or an
    // object naming a function); empty when absent.
    std::string tool_choice_json;
    std::optional<bool> parallel_tool_calls;
    std::string user;
    WireFormat format = WireFormat::kOpenAI;
    std::vector<PassthroughField> passthrough;
    // The gateway's `cache` extension object ({"no_store":true,"ttl_s":600,"namespace":".."}),
    // minified; empty when absent. Never sent upstream.
    std::string cache_json;
    // The gateway's `rag` extension object ({"collection":"..","top_k":6,...}), minified;
    // empty when absent. Never sent upstream (the server turns it into context).
    std::string rag_json;
};

enum class FinishReason { kNone, kStop, kLength, kToolCalls, kContentFilter };
std::string_view to_openai_string(FinishReason reason);

struct Usage {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    int64_t cached_prompt_tokens = 0;
    int64_t total() const { return prompt_tokens + completion_tokens; }
};

struct ChatResponse {
    std::string id;
    int64_t created = 0;  // unix seconds
    std::string model;
    std::string system_fingerprint;
    Message message;  // role kAssistant
    FinishReason finish_reason = FinishReason::kStop;
    std::optional<Usage> usage;
    std::string logprobs_json;  // choices[0].logprobs as the provider sent it; empty = null
};

// One fragment of a tool call in a stream; `index` identifies the call across chunks.
struct ToolCallDelta {
    int index = 0;
    std::string id;    // first fragment only
    std::string name;  // first fragment only
    std::string arguments;
};

// One streamed event, OpenAI chat.completion.chunk style with a single choice.
struct ChatChunk {
    bool role = false;  // carries delta.role = "assistant" (the first chunk)
    std::string content;
    std::vector<ToolCallDelta> tool_calls;
    FinishReason finish_reason = FinishReason::kNone;
    std::string logprobs_json;  // choices[0].logprobs, when the provider sent any
    // A usage-only chunk (OpenAI: choices = []) when set and nothing else is.
    std::optional<Usage> usage;
};

// Identity shared by every chunk of one stream.
struct StreamMeta {
    std::string id;
    int64_t created = 0;
    std::string model;
    std::string system_fingerprint;
    // Prompt tokens when the upstream reports them at the start (Anthropic message_start);
    // 0 when they only come with the final usage (OpenAI).
    int64_t prompt_tokens = 0;
};

struct EmbeddingRequest {
    std::string model;
    // Either texts or pre-tokenised inputs (arrays of token ids as JSON text).
    std::vector<std::string> inputs;
    bool input_is_tokens = false;
    std::string raw_input_json;  // `input` as received, forwarded verbatim
    std::optional<int64_t> dimensions;
    std::string encoding_format;  // "float" (default) or "base64"
    std::string user;
    std::vector<PassthroughField> passthrough;
};

struct EmbeddingResponse {
    std::string model;
    // `data` array as the provider returned it (float arrays or base64 strings), minified.
    std::string data_json;
    Usage usage;
};

}  // namespace switchyard
