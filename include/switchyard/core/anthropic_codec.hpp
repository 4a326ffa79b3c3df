// Translation between Anthropic's Messages API wire format and the gateway's chat types,
// both directions: inbound (clients calling POST /v1/messages) and outbound (the Anthropic
// provider adapter). Pure functions and small state machines; no I/O.
// Thread safety: functions are reentrant (each thread parses with its own simdjson parser);
// an encoder/decoder object serves one stream and is not synchronised.
// Failure: parsers return an Error and never throw, whatever the bytes; invalid requests
// get Anthropic-style messages ("messages.0.role: Field required") with `param` set.
//
// Mapping (Anthropic <-> internal, which is OpenAI-shaped):
//   top-level `system` (string or text blocks)  <-> leading kSystem message(s)
//   user text/image blocks                       <-> user message parts (image: data: URI)
//   assistant tool_use blocks                    <-> assistant tool_calls (input as JSON text)
//   user tool_result blocks                      <-> kTool messages (tool_call_id)
//   stop_sequences <-> stop; metadata.user_id <-> user; tool_choice auto/any/tool/none
//   <-> "auto"/"required"/{function}/"none"; stop_reason end_turn/stop_sequence <-> stop,
//   max_tokens <-> length, tool_use <-> tool_calls, refusal <-> content_filter.
//
// Decisions and trade-offs:
// - Content blocks with no internal form (document, thinking, redacted_thinking, server
//   tool blocks, images with a `file` source) are kept as ContentPart::kOther with their
//   raw JSON and written back verbatim to Anthropic; writers for other formats must skip
//   them. Streaming thinking/signature/citations deltas are dropped (ChatChunk has no slot).
// - `cache_control` and `citations` on blocks and tools are dropped: the internal types
//   have nowhere to keep them, so prompt-caching markers do not survive the gateway.
// - Anthropic built-in tools (a `type` other than "custom", e.g. web_search) stay out of
//   `tools` and ride in passthrough under "tools" as a raw array, appended to the custom
//   tools when writing to Anthropic; other providers never see them.
// - Usage: prompt_tokens = input + cache_creation + cache_read input tokens, and
//   cached_prompt_tokens = cache_read. Written back as input_tokens = prompt - cached,
//   cache_read_input_tokens = cached, cache_creation_input_tokens = 0 (the split of cache
//   writes is lost; the sum is kept).
// - stop_sequence maps to kStop and is written back as end_turn with stop_sequence null:
//   which sequence matched is not kept.
// - Message ids: an id that does not start with "msg_" gets that prefix ("chatcmpl-1" ->
//   "msg_chatcmpl-1"). Tool-use ids sent to Anthropic have bytes outside [A-Za-z0-9_-]
//   replaced by '_' (Anthropic's pattern), identically in tool_use and tool_result.
// - Tool-call `arguments` that are not JSON object text (empty, truncated, an array) are
//   sent as `input: {}` rather than failing the request: the call stays answerable and
//   the model sees an empty input. A tool with no schema gets
//   {"type":"object","properties":{}} (Anthropic requires input_schema).
// - Outbound turns: system and developer messages, wherever they are, are lifted into
//   `system`; messages with no content left (empty text, only untranslatable parts) are
//   dropped; consecutive same-role turns are merged, with a user turn's tool_result blocks
//   moved before its other blocks. A lone plain-string message keeps the string shorthand.
//   For OpenAI-origin requests, temperature is clamped to Anthropic's 0..1, `name` is
//   dropped, image `detail` is dropped, PDF `file` parts become document blocks and other
//   non-text parts (input_audio, file ids) are dropped.
// - Parsing copies small bodies into a per-thread padded buffer and parser (no allocation
//   once warm); bodies over 1 MiB get a parser of their own, so no thread keeps buffers
//   sized for the largest body it has seen.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/chat.hpp"
#include "switchyard/core/error.hpp"

namespace switchyard {

// ---- inbound: a client speaks Anthropic to the gateway ----

// Parses a POST /v1/messages body. Fields the gateway does not interpret (top_k,
// thinking, ...) are kept in `passthrough` with format kAnthropic. Missing max_tokens is
// an error, as with Anthropic. JSON null counts as absent for optional fields. A user turn
// with tool_result blocks becomes one kTool message per result plus user messages for the
// blocks around them, in order.
Result<ChatRequest> parse_anthropic_request(std::string_view body);

// A complete (non-streaming) Anthropic message body for `response`.
std::string write_anthropic_response(const ChatResponse& response);

// Turns the gateway's chunk stream into Anthropic SSE events:
// message_start, ping, content_block_start/delta/stop per block, message_delta, message_stop.
// Tool-call fragments are expected in index order, as OpenAI-compatible upstreams send
// them; a new call is recognised by a higher index or by carrying its id (some servers
// repeat index 0), and a fragment for a call whose block is already closed is dropped.
// A call with no id gets "toolu_<message id>_<block index>". message_delta carries
// output_tokens, plus the input usage when a usage chunk arrived.
class AnthropicStreamEncoder {
public:
    // Starts a message. `input_tokens` may be 0 when not yet known. message_start (+ a
    // ping) is written with the first chunk (or by finish), so the prompt usage an upstream
    // reports up front (the Anthropic decoder puts it on its role chunk) reaches it; `out`
    // is left unchanged here.
    void begin(const StreamMeta& meta, int64_t input_tokens, std::string& out);
    // Emits the events for one chunk (opening/closing content blocks as needed).
    void on_chunk(const ChatChunk& chunk, std::string& out);
    // Closes the open block and emits message_delta (stop_reason, usage) and message_stop.
    void finish(std::string& out);
    // Emits an `error` event (for failures after the stream started); nothing follows it.
    void fail(const Error& error, std::string& out);

private:
    enum class Block { kNone, kText, kToolUse };
    void start(std::string& out);
    void take_usage(const Usage& usage);
    void close_block(std::string& out);

    std::string model_;
    Block block_ = Block::kNone;
    int block_index_ = -1;
    int tool_index_ = -1;  // OpenAI tool call index of the open tool_use block
    FinishReason finish_ = FinishReason::kNone;
    int64_t input_tokens_ = 0;
    int64_t output_tokens_ = 0;
    bool finished_ = false;
    std::string id_;             // the Anthropic message id
    std::string tool_id_;        // id of the open tool_use block
    int64_t cached_tokens_ = 0;  // cache_read_input_tokens, from a usage chunk
    bool usage_seen_ = false;    // a usage chunk arrived: message_delta repeats input usage
    bool started_ = false;       // message_start written
};

// ---- outbound: the gateway calls an Anthropic upstream ----

// Body for POST {base_url}/messages. System messages are lifted to `system`; tool turns
// become tool_result blocks in a user turn; consecutive same-role turns are merged;
// max_tokens defaults to `default_max_tokens` when the request has none. Passthrough
// fields are included only when the request arrived in Anthropic format. `stream` (not
// request.stream) decides "stream":true. Tool schemas (parameters_json) are written
// verbatim and must be valid JSON, as the codecs produce them.
std::string write_anthropic_request(const ChatRequest& request, std::string_view upstream_model,
                                    int64_t default_max_tokens, bool stream);

// Parses a non-streaming Anthropic message body. Text blocks are concatenated into
// message.text (no separator, as a stream would deliver them) unless kOther blocks are
// present, in which case the message has parts in block order. `created` is now.
// A body that is an Anthropic error object becomes that Error.
Result<ChatResponse> parse_anthropic_response(std::string_view body);

// Maps an Anthropic error response (status + body) to an Error (kind from the status and
// error.type; message kept; upstream_status set). The gateway's own credentials failing
// (401/403) is kUpstream with "upstream authentication failed: <msg>", not the client's
// fault; 404 is kInvalidRequest with code "model_not_found"; 413 kRequestTooLarge; 429
// kRateLimited; 503/529 kUnavailable; other 5xx kUpstream; other statuses by error.type.
// A body that is not JSON gives "Anthropic upstream returned HTTP <status>: <first 200 B>".
Error parse_anthropic_error(int http_status, std::string_view body);

// Turns Anthropic SSE events into the gateway's chunks: message_start fills `meta` (created
// = now) and yields the role chunk, carrying the usage known so far (the prompt's tokens);
// text deltas yield content; each tool_use block yields a ToolCallDelta with id and name
// (index = count of tool calls so far) and its input_json_delta fragments yield arguments;
// message_delta yields the finish reason; message_stop yields a usage-only chunk (the final
// usage, superseding the role chunk's) and sets done(). ping, content_block_stop,
// thinking/server-tool blocks and unknown event types are ignored. An `error` event
// becomes an Error by error.type (overloaded_error -> kUnavailable, rate_limit_error ->
// kRateLimited, api_error -> kUpstream, ...); malformed data is kUpstream.
class AnthropicStreamDecoder {
public:
    // Feeds one SSE event. Appends zero or more chunks to `out` and fills `meta` from
    // message_start. Returns an Error for an `error` event or malformed data.
    Status on_event(std::string_view event, std::string_view data, StreamMeta& meta,
                    std::vector<ChatChunk>& out);
    // True after message_stop.
    bool done() const { return done_; }
    const Usage& usage() const { return usage_; }

private:
    bool done_ = false;
    bool role_sent_ = false;
    Usage usage_;
    // Anthropic content block index -> OpenAI tool call index (-1 text, -2 ignored block).
    std::vector<int> block_to_tool_;
    int n_tools_ = 0;
    FinishReason finish_ = FinishReason::kNone;
    // Usage components as last reported (message_start, then message_delta may update).
    int64_t input_tokens_ = 0;
    int64_t cache_creation_tokens_ = 0;
    int64_t cache_read_tokens_ = 0;
};

}  // namespace switchyard
