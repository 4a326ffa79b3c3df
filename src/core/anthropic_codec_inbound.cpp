// Anthropic codec, inbound requests: a client's POST /v1/messages body -> ChatRequest, with
// Anthropic-style validation errors naming the offending field.
#include <utility>

#include "anthropic_codec_internal.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace {

namespace dom = simdjson::dom;
using namespace anthropic_detail;

// Where a field sits in the body ("messages.3.content.0.text"), made into text only when an
// error names it, so the success path allocates nothing for it. Children point at their
// parent: a path must not outlive the one it was derived from.
class FieldPath {
public:
    explicit FieldPath(std::string_view root) : member_(root) {}
    FieldPath operator/(std::string_view member) const { return FieldPath(this, member, kNone); }
    FieldPath operator[](size_t index) const { return FieldPath(this, {}, index); }

    std::string str() const {
        std::string out = parent_ != nullptr ? parent_->str() : std::string();
        if (!out.empty()) out.push_back('.');
        if (index_ == kNone) {
            out.append(member_);
        } else {
            out += std::to_string(index_);
        }
        return out;
    }

private:
    static constexpr size_t kNone = static_cast<size_t>(-1);
    FieldPath(const FieldPath* parent, std::string_view member, size_t index)
        : parent_(parent), member_(member), index_(index) {}

    const FieldPath* parent_ = nullptr;
    std::string_view member_;
    size_t index_ = kNone;
};

// invalid_request_error with message "<param>: <text>" and `param` set.
Error invalid_field(std::string param, std::string_view text) {
    std::string message = param;
    message.append(": ").append(text);
    return Error::invalid_request(std::move(message), std::move(param));
}
Error invalid_field(const FieldPath& path, std::string_view text) {
    return invalid_field(path.str(), text);
}

Error body_error(simdjson::error_code ec) {
    switch (ec) {
        case simdjson::UTF8_ERROR:
            return Error::invalid_request("request body is not valid UTF-8");
        case simdjson::EMPTY:
            return Error::invalid_request("request body is empty");
        case simdjson::DEPTH_ERROR:
            return Error::invalid_request("request body is nested too deeply");
        case simdjson::MEMALLOC:
        case simdjson::CAPACITY:
            return Error::internal("request body could not be parsed");
        default:
            return Error::invalid_request(std::string("request body is not valid JSON: ") +
                                          simdjson::error_message(ec));
    }
}

// Reads a required string member of a content block.
Result<std::string_view> required_string(dom::object obj, std::string_view key,
                                         const FieldPath& path) {
    std::string_view out;
    switch (find_string(obj, key, out)) {
        case Lookup::kOk:
            return out;
        case Lookup::kAbsent:
            return invalid_field(path / key, "Field required");
        case Lookup::kWrongType:
            return invalid_field(path / key, "Input should be a valid string");
    }
    return out;
}

ContentPart other_part(dom::object block) {
    ContentPart part;
    part.type = ContentPart::Type::kOther;
    part.raw_json = simdjson::minify(block);
    return part;
}

// {"type":"image","source":{...}}: base64 -> data: URI, url -> the URL; other sources (file
// ids) have no OpenAI equivalent and are kept as raw blocks.
Result<ContentPart> parse_image(dom::object block, const FieldPath& path) {
    dom::object source;
    const FieldPath source_path = path / "source";
    switch (find_object(block, "source", source)) {
        case Lookup::kAbsent:
            return invalid_field(source_path, "Field required");
        case Lookup::kWrongType:
            return invalid_field(source_path, "Input should be an object");
        case Lookup::kOk:
            break;
    }
    auto type = required_string(source, "type", source_path);
    if (!type) return type.error();
    ContentPart part;
    part.type = ContentPart::Type::kImage;
    if (*type == "base64") {
        auto media_type = required_string(source, "media_type", source_path);
        if (!media_type) return media_type.error();
        auto data = required_string(source, "data", source_path);
        if (!data) return data.error();
        part.image_url.reserve(5 + media_type->size() + 8 + data->size());
        part.image_url.append("data:").append(*media_type).append(";base64,").append(*data);
        return part;
    }
    if (*type == "url") {
        auto url = required_string(source, "url", source_path);
        if (!url) return url.error();
        part.image_url.assign(*url);
        return part;
    }
    return other_part(block);
}

Result<ContentPart> parse_text(dom::object block, const FieldPath& path) {
    auto text = required_string(block, "text", path);
    if (!text) return text.error();
    ContentPart part;
    part.text.assign(*text);
    return part;
}

// The content of a tool_result block: a string, or text/image blocks.
Status parse_tool_result_content(dom::element content, const FieldPath& path, Message& out) {
    std::string_view text;
    if (content.get_string().get(text) == simdjson::SUCCESS) {
        out.text.assign(text);
        return Ok{};
    }
    dom::array blocks;
    if (content.get_array().get(blocks) != simdjson::SUCCESS) {
        return invalid_field(path, "Input should be a string or an array of content blocks");
    }
    out.has_parts = true;
    size_t j = 0;
    for (dom::element el : blocks) {
        const FieldPath block_path = path[j++];
        dom::object block;
        if (el.get_object().get(block) != simdjson::SUCCESS) {
            return invalid_field(block_path, "Input should be an object");
        }
        auto type = required_string(block, "type", block_path);
        if (!type) return type.error();
        Result<ContentPart> part = *type == "text"    ? parse_text(block, block_path)
                                   : *type == "image" ? parse_image(block, block_path)
                                                      : Result<ContentPart>(other_part(block));
        if (!part) return part.error();
        out.parts.push_back(std::move(*part));
    }
    return Ok{};
}

Result<Message> parse_tool_result(dom::object block, const FieldPath& path) {
    Message msg;
    msg.role = Role::kTool;
    auto id = required_string(block, "tool_use_id", path);
    if (!id) return id.error();
    msg.tool_call_id.assign(*id);
    dom::element content;
    if (block["content"].get(content) == simdjson::SUCCESS && !content.is_null()) {
        if (auto s = parse_tool_result_content(content, path / "content", msg); !s) {
            return s.error();
        }
    }
    dom::element is_error;
    if (block["is_error"].get(is_error) == simdjson::SUCCESS && !is_error.is_null() &&
        is_error.get_bool().get(msg.tool_error) != simdjson::SUCCESS) {
        return invalid_field(path / "is_error", "Input should be a valid boolean");
    }
    return msg;
}

Result<ToolCall> parse_tool_use(dom::object block, const FieldPath& path) {
    ToolCall call;
    auto id = required_string(block, "id", path);
    if (!id) return id.error();
    auto name = required_string(block, "name", path);
    if (!name) return name.error();
    call.id.assign(*id);
    call.name.assign(*name);
    dom::object input;
    switch (find_object(block, "input", input)) {
        case Lookup::kAbsent:
            call.arguments = "{}";
            break;
        case Lookup::kWrongType:
            return invalid_field(path / "input", "Input should be an object");
        case Lookup::kOk:
            call.arguments = simdjson::minify(input);
            break;
    }
    return call;
}

// One Anthropic message. A user turn may expand into several internal messages: each
// tool_result becomes a kTool message, and the other blocks around them user messages.
Status parse_message(dom::element el, size_t index, std::vector<Message>& out) {
    const FieldPath messages("messages");
    const FieldPath path = messages[index];
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
        return invalid_field(path, "Input should be an object");
    }
    auto role_text = required_string(obj, "role", path);
    if (!role_text) return role_text.error();
    Role role;
    if (*role_text == "user") {
        role = Role::kUser;
    } else if (*role_text == "assistant") {
        role = Role::kAssistant;
    } else if (*role_text == "system") {
        // Newer API versions (and SDKs sending them) allow system turns inside `messages`.
        role = Role::kSystem;
    } else {
        return invalid_field(path / "role", "Input should be 'user', 'assistant' or 'system'");
    }

    const FieldPath content_path = path / "content";
    dom::element content;
    if (obj["content"].get(content) != simdjson::SUCCESS || content.is_null()) {
        return invalid_field(content_path, "Field required");
    }
    Message msg;
    msg.role = role;
    std::string_view text;
    if (content.get_string().get(text) == simdjson::SUCCESS) {
        msg.text.assign(text);
        out.push_back(std::move(msg));
        return Ok{};
    }
    dom::array blocks;
    if (content.get_array().get(blocks) != simdjson::SUCCESS) {
        return invalid_field(content_path,
                             "Input should be a string or an array of content blocks");
    }

    msg.has_parts = true;
    bool pending = true;  // `msg` still has to be appended
    size_t j = 0;
    for (dom::element block_el : blocks) {
        const FieldPath block_path = content_path[j++];
        dom::object block;
        if (block_el.get_object().get(block) != simdjson::SUCCESS) {
            return invalid_field(block_path, "Input should be an object");
        }
        auto type = required_string(block, "type", block_path);
        if (!type) return type.error();
        if (*type == "tool_result") {
            if (role != Role::kUser) {
                return invalid_field(block_path,
                                     "tool_result blocks are only allowed in user messages");
            }
            auto result = parse_tool_result(block, block_path);
            if (!result) return result.error();
            if (pending && !msg.parts.empty()) out.push_back(std::move(msg));
            out.push_back(std::move(*result));
            msg = Message{};
            msg.role = role;
            msg.has_parts = true;
            pending = false;
            continue;
        }
        pending = true;
        if (*type == "tool_use") {
            if (role != Role::kAssistant) {
                return invalid_field(block_path,
                                     "tool_use blocks are only allowed in assistant messages");
            }
            auto call = parse_tool_use(block, block_path);
            if (!call) return call.error();
            msg.tool_calls.push_back(std::move(*call));
            continue;
        }
        Result<ContentPart> part = *type == "text"    ? parse_text(block, block_path)
                                   : *type == "image" ? parse_image(block, block_path)
                                                      : Result<ContentPart>(other_part(block));
        if (!part) return part.error();
        msg.parts.push_back(std::move(*part));
    }
    if (pending) {
        if (msg.parts.empty() && !msg.tool_calls.empty()) {
            msg.has_parts = false;
            msg.content_null = true;
        }
        out.push_back(std::move(msg));
    }
    return Ok{};
}

// `system`: a string, or an array of text blocks -> one leading kSystem message.
Status parse_system(dom::element el, std::vector<Message>& out) {
    Message msg;
    msg.role = Role::kSystem;
    std::string_view text;
    if (el.get_string().get(text) == simdjson::SUCCESS) {
        msg.text.assign(text);
        out.push_back(std::move(msg));
        return Ok{};
    }
    dom::array blocks;
    if (el.get_array().get(blocks) != simdjson::SUCCESS) {
        return invalid_field("system", "Input should be a string or an array of text blocks");
    }
    msg.has_parts = true;
    const FieldPath system_root("system");
    size_t j = 0;
    for (dom::element block_el : blocks) {
        const FieldPath path = system_root[j++];
        dom::object block;
        if (block_el.get_object().get(block) != simdjson::SUCCESS) {
            return invalid_field(path, "Input should be an object");
        }
        auto type = required_string(block, "type", path);
        if (!type) return type.error();
        if (*type != "text") {
            return invalid_field(path / "type", "Input should be 'text'");
        }
        auto part = parse_text(block, path);
        if (!part) return part.error();
        msg.parts.push_back(std::move(*part));
    }
    if (!msg.parts.empty()) out.push_back(std::move(msg));
    return Ok{};
}

// Custom tools -> `tools`; Anthropic built-in tools (a `type` other than "custom") have no
// internal form and are collected, raw, into `server_tools`.
Status parse_tools(dom::element el, ChatRequest& req, std::string& server_tools) {
    dom::array tools;
    if (el.get_array().get(tools) != simdjson::SUCCESS) {
        return invalid_field("tools", "Input should be a valid list");
    }
    JsonWriter server(server_tools);
    const FieldPath tools_root("tools");
    size_t i = 0;
    for (dom::element tool_el : tools) {
        const FieldPath path = tools_root[i++];
        dom::object tool;
        if (tool_el.get_object().get(tool) != simdjson::SUCCESS) {
            return invalid_field(path, "Input should be an object");
        }
        std::string_view type;
        if (find_string(tool, "type", type) == Lookup::kOk && type != "custom") {
            if (server_tools.empty()) server.begin_array();
            server.raw(simdjson::minify(tool));
            continue;
        }
        auto name = required_string(tool, "name", path);
        if (!name) return name.error();
        ToolDefinition def;
        def.name.assign(*name);
        std::string_view description;
        if (find_string(tool, "description", description) == Lookup::kWrongType) {
            return invalid_field(path / "description", "Input should be a valid string");
        }
        def.description.assign(description);
        dom::object schema;
        switch (find_object(tool, "input_schema", schema)) {
            case Lookup::kAbsent:
                break;
            case Lookup::kWrongType:
                return invalid_field(path / "input_schema", "Input should be an object");
            case Lookup::kOk:
                def.parameters_json = simdjson::minify(schema);
                break;
        }
        req.tools.push_back(std::move(def));
    }
    if (!server_tools.empty()) server.end_array();
    return Ok{};
}

// {"type":"auto"|"any"|"tool"|"none", "name", "disable_parallel_tool_use"} -> OpenAI's
// "auto"/"required"/{function}/"none" and parallel_tool_calls.
Status parse_tool_choice(dom::element el, ChatRequest& req) {
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
        return invalid_field("tool_choice", "Input should be an object");
    }
    const FieldPath tool_choice("tool_choice");
    auto type = required_string(obj, "type", tool_choice);
    if (!type) return type.error();
    if (*type == "auto") {
        req.tool_choice_json = "\"auto\"";
    } else if (*type == "any") {
        req.tool_choice_json = "\"required\"";
    } else if (*type == "none") {
        req.tool_choice_json = "\"none\"";
    } else if (*type == "tool") {
        auto name = required_string(obj, "name", tool_choice);
        if (!name) return name.error();
        JsonWriter w(req.tool_choice_json);
        w.begin_object().kv("type", "function").key("function").begin_object();
        w.kv("name", *name).end_object().end_object();
    } else {
        return invalid_field("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'");
    }
    dom::element disable;
    if (obj["disable_parallel_tool_use"].get(disable) == simdjson::SUCCESS && !disable.is_null()) {
        bool v = false;
        if (disable.get_bool().get(v) != simdjson::SUCCESS) {
            return invalid_field("tool_choice.disable_parallel_tool_use",
                                 "Input should be a valid boolean");
        }
        req.parallel_tool_calls = !v;
    }
    return Ok{};
}

Status parse_stop_sequences(dom::element el, ChatRequest& req) {
    dom::array arr;
    if (el.get_array().get(arr) != simdjson::SUCCESS) {
        return invalid_field("stop_sequences", "Input should be a valid list");
    }
    size_t i = 0;
    for (dom::element item : arr) {
        std::string_view s;
        if (item.get_string().get(s) != simdjson::SUCCESS) {
            return invalid_field(FieldPath("stop_sequences")[i], "Input should be a valid string");
        }
        req.stop.emplace_back(s);
        ++i;
    }
    return Ok{};
}

Status parse_metadata(dom::element el, ChatRequest& req) {
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
        return invalid_field("metadata", "Input should be an object");
    }
    std::string_view user;
    if (find_string(obj, "user_id", user) == Lookup::kWrongType) {
        return invalid_field("metadata.user_id", "Input should be a valid string");
    }
    req.user.assign(user);
    return Ok{};
}

Result<double> parse_number(dom::element el, std::string_view key) {
    double v = 0;
    if (el.get_double().get(v) != simdjson::SUCCESS) {
        return invalid_field(std::string(key), "Input should be a valid number");
    }
    return v;
}

}  // namespace

Result<ChatRequest> parse_anthropic_request(std::string_view body) {
    JsonDocument doc;
    if (auto ec = doc.parse(body); ec != simdjson::SUCCESS) return body_error(ec);
    dom::object root;
    if (doc.root().get_object().get(root) != simdjson::SUCCESS) {
        return Error::invalid_request("request body must be a JSON object");
    }

    ChatRequest req;
    req.format = WireFormat::kAnthropic;
    bool has_model = false;
    dom::element system, messages, tools, tool_choice;
    bool has_system = false, has_messages = false, has_tools = false, has_tool_choice = false;
    // One pass over the members: known ones are checked (or kept for after the loop, where
    // their order matters), the rest pass through. Null means absent, as in the SDKs.
    for (dom::key_value_pair field : root) {
        const std::string_view key = field.key;
        const dom::element value = field.value;
        if (value.is_null() && key != "model" && key != "max_tokens" && key != "messages") {
            continue;
        }
        if (key == "model") {
            std::string_view model;
            if (value.get_string().get(model) != simdjson::SUCCESS) {
                return invalid_field("model", "Input should be a valid string");
            }
            req.model.assign(model);
            has_model = true;
        } else if (key == "max_tokens") {
            int64_t max_tokens = 0;
            if (value.get_int64().get(max_tokens) != simdjson::SUCCESS || max_tokens < 1) {
                return invalid_field("max_tokens", "Input should be a positive integer");
            }
            req.max_tokens = max_tokens;
        } else if (key == "messages") {
            messages = value;
            has_messages = true;
        } else if (key == "system") {
            system = value;
            has_system = true;
        } else if (key == "tools") {
            tools = value;
            has_tools = true;
        } else if (key == "tool_choice") {
            tool_choice = value;
            has_tool_choice = true;
        } else if (key == "stream") {
            if (value.get_bool().get(req.stream) != simdjson::SUCCESS) {
                return invalid_field("stream", "Input should be a valid boolean");
            }
        } else if (key == "temperature" || key == "top_p") {
            auto v = parse_number(value, key);
            if (!v) return v.error();
            (key == "temperature" ? req.temperature : req.top_p) = *v;
        } else if (key == "stop_sequences") {
            if (auto s = parse_stop_sequences(value, req); !s) return s.error();
        } else if (key == "metadata") {
            if (auto s = parse_metadata(value, req); !s) return s.error();
        } else if (key == "cache") {  // the gateway's extension, never sent upstream
            if (value.type() != dom::element_type::OBJECT) {
                return invalid_field("cache", "Input should be a valid dictionary");
            }
            req.cache_json = simdjson::minify(value);
        } else if (key == "rag") {  // the gateway's extension, never sent upstream
            if (value.type() != dom::element_type::OBJECT) {
                return invalid_field("rag", "Input should be a valid dictionary");
            }
            req.rag_json = simdjson::minify(value);
        } else {
            req.passthrough.push_back({std::string(key), simdjson::minify(value)});
        }
    }

    if (!has_model) return invalid_field("model", "Field required");
    if (!req.max_tokens) return invalid_field("max_tokens", "Field required");
    if (!has_messages || messages.is_null()) return invalid_field("messages", "Field required");
    dom::array message_array;
    if (messages.get_array().get(message_array) != simdjson::SUCCESS) {
        return invalid_field("messages", "Input should be a valid list");
    }
    if (message_array.size() == 0) {
        return invalid_field("messages", "at least one message is required");
    }

    if (has_system) {
        if (auto s = parse_system(system, req.messages); !s) return s.error();
    }
    size_t i = 0;
    for (dom::element message : message_array) {
        if (auto s = parse_message(message, i++, req.messages); !s) return s.error();
    }
    if (has_tools) {
        std::string server_tools;
        if (auto s = parse_tools(tools, req, server_tools); !s) return s.error();
        if (!server_tools.empty()) req.passthrough.push_back({"tools", std::move(server_tools)});
    }
    if (has_tool_choice) {
        if (auto s = parse_tool_choice(tool_choice, req); !s) return s.error();
    }
    return req;
}

}  // namespace switchyard
