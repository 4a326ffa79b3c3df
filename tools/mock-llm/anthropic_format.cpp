// Anthropic wire format: Messages API validation and extraction, message bodies, the typed
// event stream and error bodies.

#include "anthropic_format.hpp"

#include "json_writer.hpp"

namespace mock_llm {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

ApiError invalid(std::string message) {
    return ApiError{400, std::move(message), "invalid_request_error", {}, {}};
}

std::string field(std::string_view path, std::string_view problem) {
    std::string out(path);
    out += ": ";
    out += problem;
    return out;
}

bool is_known_block(std::string_view type) {
    return type == "text" || type == "image" || type == "document" || type == "tool_use" ||
           type == "tool_result" || type == "thinking" || type == "redacted_thinking";
}

// Appends the text of a string or of the text blocks of a list, newline-joined.
void append_text(const element& content, std::string& text) {
    std::string_view s;
    if (content.get(s) == simdjson::SUCCESS) {
        if (!text.empty()) text += '\n';
        text.append(s);
        return;
    }
    array blocks;
    if (content.get(blocks) != simdjson::SUCCESS) return;
    for (element block : blocks) {
        std::string_view type;
        std::string_view block_text;
        if (block["type"].get(type) == simdjson::SUCCESS && type == "text" &&
            block["text"].get(block_text) == simdjson::SUCCESS) {
            if (!text.empty()) text += '\n';
            text.append(block_text);
        }
    }
}

// One message's content: validates the blocks, collects the user-visible text (`text`) and
// the text the model reads, tool results included (`all_text`).
std::optional<ApiError> parse_content(const element& content, const std::string& path,
                                      std::string& text, std::string& all_text,
                                      bool& has_tool_result) {
    std::string_view s;
    if (content.get(s) == simdjson::SUCCESS) {
        text.append(s);
        all_text.append(s);
        return std::nullopt;
    }
    array blocks;
    if (content.get(blocks) != simdjson::SUCCESS) {
        return invalid(field(path, "Input should be a valid list"));
    }
    size_t i = 0;
    for (element block : blocks) {
        const std::string block_path = path + "." + std::to_string(i);
        std::string_view type;
        if (block["type"].get(type) != simdjson::SUCCESS) {
            return invalid(field(block_path + ".type", "Field required"));
        }
        if (!is_known_block(type)) {
            return invalid(field(block_path, "Input tag '" + std::string(type) +
                                                 "' found using 'type' does not match any of "
                                                 "the expected tags: 'text', 'image', "
                                                 "'document', 'tool_use', 'tool_result', "
                                                 "'thinking', 'redacted_thinking'"));
        }
        if (type == "text") {
            std::string_view block_text;
            if (block["text"].get(block_text) != simdjson::SUCCESS) {
                return invalid(field(block_path + ".text", "Field required"));
            }
            if (!text.empty()) text += '\n';
            text.append(block_text);
            if (!all_text.empty()) all_text += '\n';
            all_text.append(block_text);
        } else if (type == "tool_result") {
            has_tool_result = true;
            element result;
            if (block["content"].get(result) == simdjson::SUCCESS) append_text(result, all_text);
        } else if (type == "tool_use") {
            std::string_view name;
            if (block["name"].get(name) != simdjson::SUCCESS) {
                return invalid(field(block_path + ".name", "Field required"));
            }
        }
        ++i;
    }
    return std::nullopt;
}

std::optional<ApiError> parse_system(const object& root, int64_t& prompt_tokens) {
    element system;
    if (root["system"].get(system) != simdjson::SUCCESS || system.is_null()) return std::nullopt;
    std::string_view s;
    if (system.get(s) == simdjson::SUCCESS) {
        prompt_tokens += count_prompt_words(s);
        return std::nullopt;
    }
    array blocks;
    if (system.get(blocks) != simdjson::SUCCESS) {
        return invalid(field("system", "Input should be a valid list"));
    }
    size_t i = 0;
    for (element block : blocks) {
        std::string_view type;
        std::string_view text;
        if (block["type"].get(type) != simdjson::SUCCESS || type != "text" ||
            block["text"].get(text) != simdjson::SUCCESS) {
            return invalid(field("system." + std::to_string(i), "Input should be a text block"));
        }
        prompt_tokens += count_prompt_words(text);
        ++i;
    }
    return std::nullopt;
}

// The tool to call: the one tool_choice names, else the first; none for {"type":"none"}.
std::optional<ApiError> parse_tools(const object& root, std::string& tool_name) {
    element tools_el;
    if (root["tools"].get(tools_el) != simdjson::SUCCESS || tools_el.is_null()) {
        return std::nullopt;
    }
    array tools;
    if (tools_el.get(tools) != simdjson::SUCCESS) {
        return invalid(field("tools", "Input should be a valid list"));
    }
    if (tools.size() == 0) return std::nullopt;
    std::string_view name;
    if (tools.at(0)["name"].get(name) != simdjson::SUCCESS) {
        return invalid(field("tools.0.name", "Field required"));
    }
    element choice;
    if (root["tool_choice"].get(choice) == simdjson::SUCCESS) {
        std::string_view type;
        if (choice["type"].get(type) == simdjson::SUCCESS) {
            if (type == "none") return std::nullopt;
            std::string_view named;
            if (type == "tool" && choice["name"].get(named) == simdjson::SUCCESS) name = named;
        }
    }
    tool_name = std::string(name);
    return std::nullopt;
}

std::string_view stop_reason(Finish finish) {
    switch (finish) {
        case Finish::kLength:
            return "max_tokens";
        case Finish::kToolCall:
            return "tool_use";
        case Finish::kContentFilter:
            return "refusal";
        case Finish::kStop:
            break;
    }
    return "end_turn";
}

std::string id_of(std::string_view prefix, uint64_t serial) {
    std::string id(prefix);
    id += std::to_string(serial);
    return id;
}

// The Messages API event sequence; deltas are the kContent events.
class AnthropicStream final : public SseStream {
public:
    explicit AnthropicStream(Reply reply) : reply_(std::move(reply)) {
        if (reply_.is_tool_call()) {
            const auto pieces = argument_fragments(reply_.tool_arguments);
            fragments_ = {std::string_view(), pieces[0], pieces[1], pieces[2]};
        }
    }

    bool next(SseEvent& event) override {
        event.bytes.clear();
        json_.clear();
        JsonWriter w(json_);
        switch (state_) {
            case State::kMessageStart:
                event.kind = EventKind::kPreamble;
                write_message_start(w);
                frame_event(event.bytes, "message_start", json_);
                state_ = refused() ? State::kPing : State::kBlockStart;
                return true;
            case State::kBlockStart:
                event.kind = EventKind::kPreamble;
                write_block_start(w);
                frame_event(event.bytes, "content_block_start", json_);
                state_ = State::kPing;
                return true;
            case State::kPing:
                event.kind = EventKind::kPreamble;
                frame_event(event.bytes, "ping", R"({"type":"ping"})");
                state_ = refused() ? State::kMessageDelta : State::kDelta;
                return true;
            case State::kDelta:
                if (write_delta(w)) {
                    event.kind = EventKind::kContent;
                    frame_event(event.bytes, "content_block_delta", json_);
                    return true;
                }
                state_ = State::kBlockStop;
                [[fallthrough]];
            case State::kBlockStop:
                event.kind = EventKind::kTrailer;
                frame_event(event.bytes, "content_block_stop",
                            R"({"type":"content_block_stop","index":0})");
                state_ = State::kMessageDelta;
                return true;
            case State::kMessageDelta:
                event.kind = EventKind::kTrailer;
                w.begin_object().key("type").string("message_delta");
                w.key("delta").begin_object();
                w.key("stop_reason").string(stop_reason(reply_.finish));
                w.key("stop_sequence").null();
                w.end_object();
                w.key("usage").begin_object();
                w.key("output_tokens").number(reply_.completion_tokens);
                w.end_object().end_object();
                frame_event(event.bytes, "message_delta", json_);
                state_ = State::kMessageStop;
                return true;
            case State::kMessageStop:
                event.kind = EventKind::kTrailer;
                frame_event(event.bytes, "message_stop", R"({"type":"message_stop"})");
                state_ = State::kEnd;
                return true;
            case State::kEnd:
                break;
        }
        return false;
    }

    std::string error_event() const override {
        std::string out;
        frame_event(
            out, "error",
            R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
        return out;
    }

private:
    enum class State {
        kMessageStart,
        kBlockStart,
        kPing,
        kDelta,
        kBlockStop,
        kMessageDelta,
        kMessageStop,
        kEnd
    };

    // A refusal has no content block at all.
    bool refused() const { return reply_.finish == Finish::kContentFilter; }

    void write_message_start(JsonWriter& w) const {
        w.begin_object().key("type").string("message_start");
        w.key("message").begin_object();
        w.key("id").string(id_of("msg_mock_", reply_.serial));
        w.key("type").string("message");
        w.key("role").string("assistant");
        w.key("model").string(reply_.model);
        w.key("content").begin_array().end_array();
        w.key("stop_reason").null();
        w.key("stop_sequence").null();
        w.key("usage").begin_object();
        w.key("input_tokens").number(reply_.prompt_tokens);
        w.key("output_tokens").number(int64_t{1});
        w.end_object().end_object().end_object();
    }

    void write_block_start(JsonWriter& w) const {
        w.begin_object().key("type").string("content_block_start");
        w.key("index").number(int64_t{0});
        w.key("content_block").begin_object();
        if (reply_.is_tool_call()) {
            w.key("type").string("tool_use");
            w.key("id").string(id_of("toolu_mock_", reply_.serial));
            w.key("name").string(reply_.tool_name);
            w.key("input").begin_object().end_object();
        } else {
            w.key("type").string("text").key("text").string("");
        }
        w.end_object().end_object();
    }

    bool write_delta(JsonWriter& w) {
        std::string_view piece;
        std::string_view delta_type;
        std::string_view delta_key;
        if (reply_.is_tool_call()) {
            if (next_fragment_ == fragments_.size()) return false;
            piece = fragments_[next_fragment_++];
            delta_type = "input_json_delta";
            delta_key = "partial_json";
        } else {
            const std::string_view text = reply_.text;
            if (text_pos_ >= text.size()) return false;
            size_t end = text.find(' ', text_pos_ == 0 ? 0 : text_pos_ + 1);
            if (end == std::string_view::npos) end = text.size();
            piece = text.substr(text_pos_, end - text_pos_);
            text_pos_ = end;
            delta_type = "text_delta";
            delta_key = "text";
        }
        w.begin_object().key("type").string("content_block_delta");
        w.key("index").number(int64_t{0});
        w.key("delta").begin_object();
        w.key("type").string(delta_type).key(delta_key).string(piece);
        w.end_object().end_object();
        return true;
    }

    Reply reply_;
    std::string json_;  // scratch, reused for every event
    State state_ = State::kMessageStart;
    size_t text_pos_ = 0;
    std::array<std::string_view, 4> fragments_{};  // "" first, as the real API sends
    size_t next_fragment_ = 0;
};

}  // namespace

std::optional<ApiError> parse_anthropic_messages(simdjson::dom::parser& parser,
                                                 const std::string& body, ChatCall& call) {
    element doc;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
        return invalid("There was an issue with your request body: invalid JSON");
    }
    object root;
    if (doc.get(root) != simdjson::SUCCESS) {
        return invalid("There was an issue with your request body: expected a JSON object");
    }

    element model;
    if (root["model"].get(model) != simdjson::SUCCESS) {
        return invalid(field("model", "Field required"));
    }
    std::string_view model_name;
    if (model.get(model_name) != simdjson::SUCCESS) {
        return invalid(field("model", "Input should be a valid string"));
    }
    call.model = std::string(model_name);

    element max_tokens;
    if (root["max_tokens"].get(max_tokens) != simdjson::SUCCESS) {
        return invalid(field("max_tokens", "Field required"));
    }
    int64_t max_tokens_value = 0;
    if (max_tokens.get(max_tokens_value) != simdjson::SUCCESS) {
        return invalid(field("max_tokens", "Input should be a valid integer"));
    }
    if (max_tokens_value < 1) {
        return invalid(field("max_tokens", "Input should be greater than or equal to 1"));
    }
    call.max_tokens = max_tokens_value;

    element messages_el;
    if (root["messages"].get(messages_el) != simdjson::SUCCESS) {
        return invalid(field("messages", "Field required"));
    }
    array messages;
    if (messages_el.get(messages) != simdjson::SUCCESS) {
        return invalid(field("messages", "Input should be a valid list"));
    }
    if (messages.size() == 0) {
        return invalid(field("messages", "at least one message is required"));
    }

    int64_t prompt_tokens = 0;
    if (auto error = parse_system(root, prompt_tokens)) return error;

    std::string last_user_raw;
    std::string_view last_role;
    bool last_has_tool_result = false;
    std::string text;
    std::string all_text;
    size_t i = 0;
    for (element message : messages) {
        const std::string path = "messages." + std::to_string(i);
        std::string_view role;
        if (message["role"].get(role) != simdjson::SUCCESS) {
            return invalid(field(path + ".role", "Field required"));
        }
        if (role == "system") {
            return invalid(
                "messages: Unexpected role \"system\". The Messages API accepts a top-level "
                "`system` parameter, not \"system\" as an input message role.");
        }
        if (role != "user" && role != "assistant") {
            return invalid(field(path + ".role", "Input should be 'user' or 'assistant'"));
        }
        element content;
        if (message["content"].get(content) != simdjson::SUCCESS) {
            return invalid(field(path + ".content", "Field required"));
        }
        text.clear();
        all_text.clear();
        bool has_tool_result = false;
        if (auto error =
                parse_content(content, path + ".content", text, all_text, has_tool_result)) {
            return error;
        }
        prompt_tokens += 3 + count_prompt_words(all_text);
        if (role == "user") last_user_raw = text;
        last_role = role;
        last_has_tool_result = has_tool_result;
        ++i;
    }
    call.prompt_tokens = prompt_tokens;
    call.user_text = clean_user_text(last_user_raw, call.directive);
    call.after_tool_result = last_role == "user" && last_has_tool_result;

    std::string tool_name;
    if (auto error = parse_tools(root, tool_name)) return error;
    if (last_role == "user" && !last_has_tool_result) call.tool_name = std::move(tool_name);

    element stream;
    if (root["stream"].get(stream) == simdjson::SUCCESS && !stream.is_null()) {
        if (stream.get(call.stream) != simdjson::SUCCESS) {
            return invalid(field("stream", "Input should be a valid boolean"));
        }
    }
    return std::nullopt;
}

std::string render_anthropic_message(const Reply& reply) {
    std::string out;
    out.reserve(300 + reply.text.size() + reply.tool_arguments.size());
    JsonWriter w(out);
    w.begin_object();
    w.key("id").string(id_of("msg_mock_", reply.serial));
    w.key("type").string("message");
    w.key("role").string("assistant");
    w.key("model").string(reply.model);
    w.key("content").begin_array();  // a refusal (Finish::kContentFilter) has no blocks
    if (reply.is_tool_call()) {
        w.begin_object();
        w.key("type").string("tool_use");
        w.key("id").string(id_of("toolu_mock_", reply.serial));
        w.key("name").string(reply.tool_name);
        w.key("input").raw(reply.tool_arguments);
        w.end_object();
    } else if (reply.finish != Finish::kContentFilter) {
        w.begin_object().key("type").string("text").key("text").string(reply.text);
        w.end_object();
    }
    w.end_array();
    w.key("stop_reason").string(stop_reason(reply.finish));
    w.key("stop_sequence").null();
    w.key("usage").begin_object();
    w.key("input_tokens").number(reply.prompt_tokens);
    w.key("output_tokens").number(reply.completion_tokens);
    w.end_object().end_object();
    return out;
}

std::unique_ptr<SseStream> make_anthropic_stream(Reply reply) {
    return std::make_unique<AnthropicStream>(std::move(reply));
}

std::string render_anthropic_error(const ApiError& error) {
    std::string out;
    out.reserve(96 + error.message.size());
    JsonWriter w(out);
    w.begin_object().key("type").string("error").key("error").begin_object();
    w.key("type").string(error.type.empty() ? "invalid_request_error" : error.type);
    w.key("message").string(error.message);
    w.end_object().end_object();
    return out;
}

ApiError anthropic_prompt_too_long_error(int status, int64_t prompt_tokens,
                                         int64_t context_window) {
    return ApiError{status,
                    "prompt is too long: " + std::to_string(prompt_tokens) + " tokens > " +
                        std::to_string(context_window) + " maximum",
                    "invalid_request_error",
                    {},
                    {}};
}

ApiError anthropic_error_for_status(int status, std::string_view model) {
    ApiError e;
    e.status = status;
    switch (status) {
        case 400:
            e.type = "invalid_request_error";
            e.message = "mock: injected bad request";
            break;
        case 401:
            e.type = "authentication_error";
            e.message = "invalid x-api-key";
            break;
        case 403:
            e.type = "permission_error";
            e.message = "Your API key does not have permission to use the specified resource.";
            break;
        case 404:
            e.type = "not_found_error";
            e.message = "model: " + std::string(model);
            break;
        case 413:
            e.type = "request_too_large";
            e.message = "Request exceeds the maximum allowed number of bytes.";
            break;
        case 429:
            e.type = "rate_limit_error";
            e.message = "Number of requests has exceeded your per-minute rate limit";
            break;
        case 500:
            e.type = "api_error";
            e.message = "Internal server error";
            break;
        case 504:
            e.type = "timeout_error";
            e.message = "Request timed out";
            break;
        case 529:
            e.type = "overloaded_error";
            e.message = "Overloaded";
            break;
        default:
            e.type = status >= 500 ? "api_error" : "invalid_request_error";
            e.message = "mock: injected status " + std::to_string(status);
    }
    return e;
}

}  // namespace mock_llm
