// OpenAI wire format: chat request validation and extraction, completion bodies, the chunk
// stream and error bodies, shaped as api.openai.com answers them.

#include "openai_format.hpp"

#include "json_writer.hpp"

namespace mock_llm {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::string_view kFingerprint = "fp_mock";

std::string_view json_type_name(const element& e) {
    switch (e.type()) {
        case simdjson::dom::element_type::ARRAY:
            return "an array";
        case simdjson::dom::element_type::OBJECT:
            return "an object";
        case simdjson::dom::element_type::STRING:
            return "a string";
        case simdjson::dom::element_type::BOOL:
            return "a boolean";
        case simdjson::dom::element_type::NULL_VALUE:
            return "null";
        default:
            return "a number";
    }
}

// The text of a message's content: a string, or the text parts of an array, newline-joined.
std::optional<ApiError> content_text(const element& content, const std::string& param,
                                     std::string& text) {
    std::string_view s;
    if (content.get(s) == simdjson::SUCCESS) {
        text.append(s);
        return std::nullopt;
    }
    if (content.is_null()) return std::nullopt;
    array parts;
    if (content.get(parts) != simdjson::SUCCESS) {
        return openai_invalid_type(param, "one of a string or array of objects", content);
    }
    size_t i = 0;
    for (element part : parts) {
        std::string_view type;
        if (part["type"].get(type) != simdjson::SUCCESS) {
            return openai_invalid(
                "Missing required parameter: '" + param + "[" + std::to_string(i) + "].type'.",
                param + "[" + std::to_string(i) + "].type", "missing_required_parameter");
        }
        if (type == "text") {
            std::string_view part_text;
            if (part["text"].get(part_text) != simdjson::SUCCESS) {
                return openai_invalid(
                    "Missing required parameter: '" + param + "[" + std::to_string(i) + "].text'.",
                    param + "[" + std::to_string(i) + "].text", "missing_required_parameter");
            }
            if (!text.empty()) text += '\n';
            text.append(part_text);
        }
        ++i;
    }
    return std::nullopt;
}

bool is_known_role(std::string_view role) {
    return role == "system" || role == "developer" || role == "user" || role == "assistant" ||
           role == "tool" || role == "function";
}

std::optional<ApiError> parse_max_tokens(const object& root, std::optional<int64_t>& out) {
    for (const char* name : {"max_completion_tokens", "max_tokens"}) {
        element e;
        if (root[name].get(e) != simdjson::SUCCESS || e.is_null()) continue;
        int64_t v = 0;
        if (e.get(v) != simdjson::SUCCESS) return openai_invalid_type(name, "an integer", e);
        if (v < 1) {
            return openai_invalid(
                "Invalid '" + std::string(name) +
                    "': integer below minimum value. Expected a value >= 1, but got " +
                    std::to_string(v) + " instead.",
                name, "integer_below_min_value");
        }
        out = v;
        return std::nullopt;
    }
    return std::nullopt;
}

// Chooses the tool to call: the one tool_choice names, else the first; none for "none".
std::optional<ApiError> parse_tools(const object& root, std::string& tool_name) {
    element tools_el;
    if (root["tools"].get(tools_el) != simdjson::SUCCESS || tools_el.is_null()) {
        return std::nullopt;
    }
    array tools;
    if (tools_el.get(tools) != simdjson::SUCCESS) {
        return openai_invalid_type("tools", "an array", tools_el);
    }
    if (tools.size() == 0) return std::nullopt;
    std::string_view first_name;
    if (tools.at(0)["function"]["name"].get(first_name) != simdjson::SUCCESS) {
        return openai_invalid("Missing required parameter: 'tools[0].function.name'.",
                              "tools[0].function.name", "missing_required_parameter");
    }
    element choice;
    if (root["tool_choice"].get(choice) == simdjson::SUCCESS) {
        std::string_view mode;
        if (choice.get(mode) == simdjson::SUCCESS && mode == "none") return std::nullopt;
        std::string_view named;
        if (choice["function"]["name"].get(named) == simdjson::SUCCESS) first_name = named;
    }
    tool_name = std::string(first_name);
    return std::nullopt;
}

void write_usage(JsonWriter& json, int64_t prompt_tokens, int64_t completion_tokens) {
    json.key("usage").begin_object();
    json.key("prompt_tokens").number(prompt_tokens);
    json.key("completion_tokens").number(completion_tokens);
    json.key("total_tokens").number(prompt_tokens + completion_tokens);
    json.end_object();
}

std::string_view finish_reason(Finish finish) {
    switch (finish) {
        case Finish::kLength:
            return "length";
        case Finish::kToolCall:
            return "tool_calls";
        case Finish::kContentFilter:
            return "content_filter";
        case Finish::kStop:
            break;
    }
    return "stop";
}

void append_id(std::string& out, std::string_view prefix, uint64_t serial) {
    out += prefix;
    out += std::to_string(serial);
}

// The chat.completion.chunk stream: role chunk, one chunk per word (or argument fragment),
// the finish chunk, the usage chunk when asked for, then [DONE].
class OpenAiStream final : public SseStream {
public:
    OpenAiStream(Reply reply, bool include_usage)
        : reply_(std::move(reply)), include_usage_(include_usage) {
        append_id(id_, "chatcmpl-mock-", reply_.serial);
        if (reply_.is_tool_call()) fragments_ = argument_fragments(reply_.tool_arguments);
    }

    bool next(SseEvent& event) override {
        event.bytes.clear();
        switch (state_) {
            case State::kRole:
                event.kind = EventKind::kPreamble;
                write_role(event.bytes);
                state_ = State::kContent;
                return true;
            case State::kContent:
                if (write_content(event.bytes)) {
                    event.kind = EventKind::kContent;
                    return true;
                }
                state_ = State::kFinish;
                [[fallthrough]];
            case State::kFinish:
                event.kind = EventKind::kTrailer;
                write_finish(event.bytes);
                state_ = include_usage_ ? State::kUsage : State::kDone;
                return true;
            case State::kUsage:
                event.kind = EventKind::kTrailer;
                write_usage_chunk(event.bytes);
                state_ = State::kDone;
                return true;
            case State::kDone:
                event.kind = EventKind::kTrailer;
                frame_data(event.bytes, "[DONE]");
                state_ = State::kEnd;
                return true;
            case State::kEnd:
                break;
        }
        return false;
    }

    std::string error_event() const override {
        std::string json;
        render_error_json(json);
        std::string out;
        frame_data(out, json);
        return out;
    }

private:
    enum class State { kRole, kContent, kFinish, kUsage, kDone, kEnd };

    void render_error_json(std::string& json) const {
        json = render_openai_error(openai_error_for_status(500, reply_.model));
    }

    // Opens a chunk up to and including "delta":, leaving the delta to the caller.
    JsonWriter open_chunk(std::string& json) const {
        JsonWriter w(json);
        w.begin_object();
        w.key("id").string(id_);
        w.key("object").string("chat.completion.chunk");
        w.key("created").number(reply_.created_s);
        w.key("model").string(reply_.model);
        w.key("system_fingerprint").string(kFingerprint);
        w.key("choices").begin_array().begin_object().key("index").number(int64_t{0});
        w.key("delta");
        return w;
    }

    void close_chunk(JsonWriter& w, std::string_view finish, std::string& out,
                     std::string& json) const {
        w.key("logprobs").null();
        w.key("finish_reason");
        finish.empty() ? w.null() : w.string(finish);
        w.end_object().end_array();
        if (include_usage_) w.key("usage").null();
        w.end_object();
        frame_data(out, json);
    }

    void write_role(std::string& out) {
        json_.clear();
        JsonWriter w = open_chunk(json_);
        w.begin_object().key("role").string("assistant");
        if (reply_.is_tool_call()) {
            w.key("content").null();
            w.key("tool_calls").begin_array().begin_object();
            w.key("index").number(int64_t{0});
            std::string call_id;
            append_id(call_id, "call_mock_", reply_.serial);
            w.key("id").string(call_id);
            w.key("type").string("function");
            w.key("function").begin_object();
            w.key("name").string(reply_.tool_name).key("arguments").string("");
            w.end_object().end_object().end_array();
        } else {
            w.key("content").string("");
        }
        w.end_object();
        close_chunk(w, {}, out, json_);
    }

    bool write_content(std::string& out) {
        json_.clear();
        if (reply_.is_tool_call()) {
            if (next_fragment_ == fragments_.size()) return false;
            JsonWriter w = open_chunk(json_);
            w.begin_object().key("tool_calls").begin_array().begin_object();
            w.key("index").number(int64_t{0});
            w.key("function").begin_object();
            w.key("arguments").string(fragments_[next_fragment_++]);
            w.end_object().end_object().end_array().end_object();
            close_chunk(w, {}, out, json_);
            return true;
        }
        if (text_pos_ >= reply_.text.size()) return false;
        const std::string_view text = reply_.text;
        size_t end = text.find(' ', text_pos_ == 0 ? 0 : text_pos_ + 1);
        if (end == std::string_view::npos) end = text.size();
        JsonWriter w = open_chunk(json_);
        w.begin_object().key("content").string(text.substr(text_pos_, end - text_pos_));
        w.end_object();
        close_chunk(w, {}, out, json_);
        text_pos_ = end;
        return true;
    }

    void write_finish(std::string& out) {
        json_.clear();
        JsonWriter w = open_chunk(json_);
        w.begin_object().end_object();
        close_chunk(w, finish_reason(reply_.finish), out, json_);
    }

    void write_usage_chunk(std::string& out) {
        json_.clear();
        JsonWriter w(json_);
        w.begin_object();
        w.key("id").string(id_);
        w.key("object").string("chat.completion.chunk");
        w.key("created").number(reply_.created_s);
        w.key("model").string(reply_.model);
        w.key("system_fingerprint").string(kFingerprint);
        w.key("choices").begin_array().end_array();
        write_usage(w, reply_.prompt_tokens, reply_.completion_tokens);
        w.end_object();
        frame_data(out, json_);
    }

    Reply reply_;
    bool include_usage_;
    std::string id_;
    std::string json_;  // scratch, reused for every chunk
    State state_ = State::kRole;
    size_t text_pos_ = 0;
    std::array<std::string_view, 3> fragments_{};
    size_t next_fragment_ = 0;
};

}  // namespace

ApiError openai_invalid(std::string message, std::string param, std::string code) {
    return ApiError{400, std::move(message), "invalid_request_error", std::move(param),
                    std::move(code)};
}

ApiError openai_invalid_type(std::string param, std::string_view expected, const element& got) {
    std::string message = "Invalid type for '" + param + "': expected " + std::string(expected) +
                          ", but got " + std::string(json_type_name(got)) + " instead.";
    return openai_invalid(std::move(message), std::move(param), "invalid_type");
}

std::optional<ApiError> parse_openai_body(simdjson::dom::parser& parser, const std::string& body,
                                          object& root) {
    element doc;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
        return openai_invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)");
    }
    if (doc.get(root) != simdjson::SUCCESS) {
        return openai_invalid_type("body", "an object", doc);
    }
    return std::nullopt;
}

std::optional<ApiError> parse_openai_model(const object& root, std::string& model) {
    element e;
    if (root["model"].get(e) != simdjson::SUCCESS || e.is_null()) {
        return openai_invalid("you must provide a model parameter");
    }
    std::string_view text;
    if (e.get(text) != simdjson::SUCCESS) return openai_invalid_type("model", "a string", e);
    model = std::string(text);
    return std::nullopt;
}

std::optional<ApiError> parse_openai_chat(simdjson::dom::parser& parser, const std::string& body,
                                          ChatCall& call) {
    object root;
    if (auto error = parse_openai_body(parser, body, root)) return error;
    if (auto error = parse_openai_model(root, call.model)) return error;

    element messages_el;
    if (root["messages"].get(messages_el) != simdjson::SUCCESS) {
        return openai_invalid("Missing required parameter: 'messages'.", "messages",
                              "missing_required_parameter");
    }
    array messages;
    if (messages_el.get(messages) != simdjson::SUCCESS) {
        return openai_invalid_type("messages", "an array of objects", messages_el);
    }
    if (messages.size() == 0) {
        return openai_invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            "messages", "empty_array");
    }

    std::string_view last_role;
    std::string last_user_raw;
    int64_t prompt_tokens = 0;
    std::string text;
    size_t i = 0;
    for (element message : messages) {
        const std::string param = "messages[" + std::to_string(i) + "]";
        std::string_view role;
        element role_el;
        if (message["role"].get(role_el) != simdjson::SUCCESS) {
            return openai_invalid("Missing required parameter: '" + param + ".role'.",
                                  param + ".role", "missing_required_parameter");
        }
        if (role_el.get(role) != simdjson::SUCCESS || !is_known_role(role)) {
            return openai_invalid("Invalid value: '" + std::string(role) +
                                      "'. Supported values are: 'system', 'assistant', 'user', "
                                      "'function', 'tool', and 'developer'.",
                                  param + ".role", "invalid_value");
        }
        text.clear();
        element content;
        if (message["content"].get(content) == simdjson::SUCCESS) {
            if (auto error = content_text(content, param + ".content", text)) return error;
        }
        prompt_tokens += 3 + count_prompt_words(text);
        if (role == "user") last_user_raw = text;
        last_role = role;
        ++i;
    }
    call.prompt_tokens = prompt_tokens;
    call.user_text = clean_user_text(last_user_raw, call.directive);
    call.after_tool_result = last_role == "tool" || last_role == "function";

    std::string tool_name;
    if (auto error = parse_tools(root, tool_name)) return error;
    if (last_role == "user") call.tool_name = std::move(tool_name);

    bool stream = false;
    element stream_el;
    if (root["stream"].get(stream_el) == simdjson::SUCCESS && !stream_el.is_null()) {
        if (stream_el.get(stream) != simdjson::SUCCESS) {
            return openai_invalid_type("stream", "a boolean", stream_el);
        }
    }
    call.stream = stream;
    bool include_usage = false;
    if (root["stream_options"]["include_usage"].get(include_usage) == simdjson::SUCCESS) {
        call.include_usage = include_usage;
    }
    return parse_max_tokens(root, call.max_tokens);
}

std::string render_openai_completion(const Reply& reply, bool with_usage) {
    std::string out;
    out.reserve(400 + reply.text.size() + reply.tool_arguments.size());
    JsonWriter w(out);
    std::string id;
    append_id(id, "chatcmpl-mock-", reply.serial);
    w.begin_object();
    w.key("id").string(id);
    w.key("object").string("chat.completion");
    w.key("created").number(reply.created_s);
    w.key("model").string(reply.model);
    w.key("system_fingerprint").string(kFingerprint);
    w.key("choices").begin_array().begin_object();
    w.key("index").number(int64_t{0});
    w.key("message").begin_object().key("role").string("assistant");
    if (reply.is_tool_call()) {
        std::string call_id;
        append_id(call_id, "call_mock_", reply.serial);
        w.key("content").null();
        w.key("tool_calls").begin_array().begin_object();
        w.key("id").string(call_id);
        w.key("type").string("function");
        w.key("function").begin_object();
        w.key("name").string(reply.tool_name);
        w.key("arguments").string(reply.tool_arguments);
        w.end_object().end_object().end_array();
    } else {
        w.key("content").string(reply.text);
    }
    w.key("refusal").null();
    w.end_object();
    w.key("logprobs").null();
    w.key("finish_reason").string(finish_reason(reply.finish));
    w.end_object().end_array();
    if (with_usage) write_usage(w, reply.prompt_tokens, reply.completion_tokens);
    w.end_object();
    return out;
}

std::unique_ptr<SseStream> make_openai_stream(Reply reply, bool include_usage) {
    return std::make_unique<OpenAiStream>(std::move(reply), include_usage);
}

std::string render_openai_error(const ApiError& error) {
    std::string out;
    out.reserve(160 + error.message.size());
    JsonWriter w(out);
    w.begin_object().key("error").begin_object();
    w.key("message").string(error.message);
    w.key("type").string(error.type.empty() ? "invalid_request_error" : error.type);
    w.key("param");
    error.param.empty() ? w.null() : w.string(error.param);
    w.key("code");
    error.code.empty() ? w.null() : w.string(error.code);
    w.end_object().end_object();
    return out;
}

ApiError openai_context_length_error(int status, int64_t prompt_tokens, int64_t context_window) {
    ApiError e = openai_invalid(
        "This model's maximum context length is " + std::to_string(context_window) +
            " tokens. However, your messages resulted in " + std::to_string(prompt_tokens) +
            " tokens. Please reduce the length of the messages.",
        "messages", std::string(kContextLengthExceeded));
    e.status = status;
    return e;
}

ApiError openai_error_for_status(int status, std::string_view model) {
    ApiError e;
    e.status = status;
    switch (status) {
        case 400:
            e = openai_invalid("mock: injected bad request");
            break;
        case 401:
            e.type = "invalid_request_error";
            e.code = "invalid_api_key";
            e.message = "Incorrect API key provided";
            break;
        case 403:
            e.type = "invalid_request_error";
            e.code = "permission_denied";
            e.message = "You are not allowed to sample from this model";
            break;
        case 404:
            e.type = "invalid_request_error";
            e.code = "model_not_found";
            e.message = "The model `" + std::string(model) +
                        "` does not exist or you do not have access to it.";
            break;
        case 408:
        case 504:
            e.type = "timeout";
            e.message = "Request timed out.";
            break;
        case 429:
            e.type = "requests";
            e.code = "rate_limit_exceeded";
            e.message = "Rate limit reached for requests. Please try again in 1s.";
            break;
        case 500:
            e.type = "server_error";
            e.message = "The server had an error while processing your request. Sorry about that!";
            break;
        case 502:
            e.type = "server_error";
            e.message = "Bad gateway.";
            break;
        case 503:
            e.type = "service_unavailable";
            e.code = "overloaded";
            e.message = "The engine is currently overloaded, please try again later.";
            break;
        default:
            e.type = status >= 500 ? "server_error" : "invalid_request_error";
            e.message = "mock: injected status " + std::to_string(status);
    }
    e.status = status;
    return e;
}

}  // namespace mock_llm
