// Private helpers shared by the anthropic_codec*.cpp files: JSON parsing with a reusable
// per-thread parser, the Anthropic vocabulary maps (stop reasons, error types, ids) and small
// emit helpers. Not part of the public API; not installed.
// Thread safety: functions are reentrant; JsonDocument uses thread-local buffers (see below).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/chat.hpp"
#include "switchyard/core/error.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::anthropic_detail {

// One parsed JSON text. Documents up to kMaxPooledBytes reuse this thread's parser for
// `slot` (so the root stays valid only until the next parse in the same slot on this
// thread); larger ones get a parser of their own, so no thread keeps buffers sized for the
// largest body it has ever seen. Use kBody for whole bodies/events and kFragment for small
// texts parsed while a body may still be live (tool arguments, tool_choice).
class JsonDocument {
public:
    enum class Slot { kBody, kFragment };
    static constexpr size_t kMaxPooledBytes = size_t{1} << 20;

    simdjson::error_code parse(std::string_view json, Slot slot = Slot::kBody);
    simdjson::dom::element root() const { return root_; }

private:
    std::unique_ptr<simdjson::dom::parser> own_parser_;
    simdjson::padded_string own_buffer_;
    simdjson::dom::element root_;
};

// Typed member lookups that treat a missing member and JSON null alike (absent).
enum class Lookup { kAbsent, kWrongType, kOk };
Lookup find_string(simdjson::dom::object obj, std::string_view key, std::string_view& out);
Lookup find_int64(simdjson::dom::object obj, std::string_view key, int64_t& out);
Lookup find_object(simdjson::dom::object obj, std::string_view key, simdjson::dom::object& out);

// Anthropic usage members; absent or null ones stay empty.
struct AnthropicUsage {
    std::optional<int64_t> input_tokens;
    std::optional<int64_t> cache_creation_input_tokens;
    std::optional<int64_t> cache_read_input_tokens;
    std::optional<int64_t> output_tokens;
};
AnthropicUsage read_usage(simdjson::dom::object usage);

// Reads {"type":"error","error":{"type":..,"message":..}} (or a bare {"error":{..}} /
// {"error":"text"} from a proxy in front). False when no error object is there.
bool read_error_body(simdjson::dom::element root, std::string& type, std::string& message);

// end_turn/stop_sequence/pause_turn -> kStop, max_tokens -> kLength, tool_use -> kToolCalls,
// refusal -> kContentFilter; anything else -> kStop.
FinishReason finish_from_anthropic(std::string_view stop_reason);
// Inverse; kNone (no reason known) is written as end_turn.
std::string_view anthropic_stop_reason(FinishReason reason);

// Error kind for an Anthropic error.type (stream `error` events, bodies with no decisive
// status). Credentials failing upstream are the gateway's problem, never the client's.
ErrorKind kind_from_anthropic_error_type(std::string_view type);

// An Error for an Anthropic error.type + message (stream `error` events, error bodies whose
// status decides nothing). Authentication/permission failures get the message prefix
// "upstream authentication failed: ".
Error error_from_anthropic_type(std::string_view type, std::string message);

// Anthropic message ids start with "msg_"; other ids get that prefix.
std::string anthropic_message_id(std::string_view id);

// Anthropic requires tool_use ids to match ^[a-zA-Z0-9_-]+$; other bytes become '_'.
// Deterministic, so a tool_use id and the tool_result naming it stay equal.
std::string sanitize_tool_id(std::string_view id);

// Writes `arguments` (OpenAI tool-call JSON text) as an Anthropic `input` object: minified
// when it is a JSON object, `{}` otherwise (including empty or truncated text).
void write_tool_input(JsonWriter& w, std::string_view arguments);

// {"input_tokens":prompt-cached,"cache_creation_input_tokens":0,
//  "cache_read_input_tokens":cached,"output_tokens":completion}
void write_usage_object(JsonWriter& w, const Usage& usage);

// An image block for a part whose image_url is a base64 data: URI (source type base64) or
// anything else (source type url).
void write_image_block(JsonWriter& w, const ContentPart& part);

// Unix seconds now (Anthropic bodies carry no creation time).
int64_t unix_now_s();

}  // namespace switchyard::anthropic_detail
