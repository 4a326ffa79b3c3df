// OpenAI codec, requests: parsing client Chat Completions / Embeddings requests and
// writing them for OpenAI-compatible upstreams (see openai_codec.hpp).
#include <fmt/format.h>

#include "openai_codec_internal.hpp"
#include "switchyard/core/openai_codec.hpp"

namespace switchyard {
namespace openai_wire {

using json::element;

Status parse_tool_calls(const json::array& arr, std::string_view param, Message& msg) {
    size_t i = 0;
    for (element call : arr) {
        const std::string p = fmt::format("{}[{}]", param, i++);
        json::object obj;
        json::object fn;
        if (call.get_object().get(obj)) return json::wrong_type(p, "an object");
        if (obj["function"].get_object().get(fn)) return json::missing(p + ".function");
        ToolCall tc;
        std::string_view sv;
        if (!obj["id"].get_string().get(sv)) tc.id.assign(sv);
        if (fn["name"].get_string().get(sv)) return json::missing(p + ".function.name");
        tc.name.assign(sv);
        if (!fn["arguments"].get_string().get(sv)) tc.arguments.assign(sv);
        msg.tool_calls.push_back(std::move(tc));
    }
    return Ok{};
}

void write_tool_calls(JsonWriter& w, const std::vector<ToolCall>& calls) {
    w.key("tool_calls").begin_array();
    for (const auto& c : calls) {
        w.begin_object().kv("id", c.id).kv("type", "function").key("function").begin_object();
        w.kv("name", c.name).kv("arguments", c.arguments.empty() ? "{}" : c.arguments);
        w.end_object().end_object();
    }
    w.end_array();
}

}  // namespace openai_wire

namespace {

using json::element;
using openai_wire::parse_tool_calls;
using openai_wire::write_tool_calls;

Result<Role> parse_role(std::string_view s, std::string_view param) {
    if (s == "user") return Role::kUser;
    if (s == "assistant") return Role::kAssistant;
    if (s == "system") return Role::kSystem;
    if (s == "developer") return Role::kDeveloper;
    if (s == "tool") return Role::kTool;
    if (s == "function") {
        return Error::invalid_request(
            "role 'function' (deprecated) is not supported; use 'tool' messages",
            std::string(param));
    }
    return Error::invalid_request(
        fmt::format("'{}' must be one of system, developer, user, assistant, tool", param),
        std::string(param));
}

Status parse_parts(const json::array& arr, std::string_view param, Message& msg) {
    msg.has_parts = true;
    size_t i = 0;
    for (element part : arr) {
        const std::string p = fmt::format("{}[{}]", param, i++);
        json::object obj;
        if (part.get_object().get(obj)) return json::wrong_type(p, "an object");
        std::string_view type;
        if (obj["type"].get_string().get(type)) return json::missing(p + ".type");
        ContentPart cp;
        if (type == "text") {
            std::string_view text;
            if (obj["text"].get_string().get(text))
                return json::wrong_type(p + ".text", "a string");
            cp.type = ContentPart::Type::kText;
            cp.text.assign(text);
        } else if (type == "image_url") {
            json::object image;
            std::string_view url;
            if (obj["image_url"].get_object().get(image) || image["url"].get_string().get(url)) {
                return json::wrong_type(p + ".image_url", "an object with a string 'url'");
            }
            cp.type = ContentPart::Type::kImage;
            cp.image_url.assign(url);
            std::string_view detail;
            if (!image["detail"].get_string().get(detail)) cp.detail.assign(detail);
        } else {
            cp.type = ContentPart::Type::kOther;
            cp.raw_json = json::minify(part);
        }
        msg.parts.push_back(std::move(cp));
    }
    return Ok{};
}

Result<Message> parse_message(element e, size_t index) {
    const std::string p = fmt::format("messages[{}]", index);
    json::object obj;
    if (e.get_object().get(obj)) return json::wrong_type(p, "an object");
    Message msg;
    std::string_view role;
    if (obj["role"].get_string().get(role)) return json::missing(p + ".role");
    auto r = parse_role(role, p + ".role");
    if (!r) return r.error();
    msg.role = *r;

    element content;
    const bool has_content = !obj["content"].get(content);
    if (!has_content || content.is_null()) {
        if (msg.role != Role::kAssistant) return json::missing(p + ".content");
        msg.content_null = true;
    } else if (content.is_string()) {
        msg.text.assign(std::string_view(content));
    } else if (content.is_array()) {
        if (auto s = parse_parts(json::array(content), p + ".content", msg); !s) return s.error();
    } else {
        return json::wrong_type(p + ".content", "a string or an array of content parts");
    }

    std::string_view sv;
    if (!obj["name"].get_string().get(sv)) msg.name.assign(sv);
    element calls;
    if (!obj["tool_calls"].get(calls) && !calls.is_null()) {
        if (!calls.is_array()) return json::wrong_type(p + ".tool_calls", "an array");
        if (auto s = parse_tool_calls(json::array(calls), p + ".tool_calls", msg); !s) {
            return s.error();
        }
    }
    if (msg.role == Role::kTool) {
        if (obj["tool_call_id"].get_string().get(sv)) return json::missing(p + ".tool_call_id");
        msg.tool_call_id.assign(sv);
    }
    return msg;
}

Status parse_tools(element e, ChatRequest& req) {
    if (!e.is_array()) return json::wrong_type("tools", "an array");
    size_t i = 0;
    for (element t : json::array(e)) {
        const std::string p = fmt::format("tools[{}]", i++);
        json::object obj;
        json::object fn;
        if (t.get_object().get(obj)) return json::wrong_type(p, "an object");
        if (obj["function"].get_object().get(fn)) return json::missing(p + ".function");
        ToolDefinition def;
        std::string_view sv;
        if (fn["name"].get_string().get(sv)) return json::missing(p + ".function.name");
        def.name.assign(sv);
        if (!fn["description"].get_string().get(sv)) def.description.assign(sv);
        element params;
        if (!fn["parameters"].get(params)) def.parameters_json = json::minify(params);
        def.openai_json = json::minify(t);
        req.tools.push_back(std::move(def));
    }
    return Ok{};
}

Result<std::optional<double>> number_field(element v, std::string_view param) {
    double d;
    if (v.is_null()) return std::optional<double>{};
    if (v.get_double().get(d)) return json::wrong_type(param, "a number");
    return std::optional<double>(d);
}

Result<std::optional<int64_t>> int_field(element v, std::string_view param) {
    int64_t n;
    if (v.is_null()) return std::optional<int64_t>{};
    if (v.get_int64().get(n) || n < 1) return json::wrong_type(param, "a positive integer");
    return std::optional<int64_t>(n);
}

Result<std::optional<bool>> bool_field(element v, std::string_view param) {
    bool b;
    if (v.is_null()) return std::optional<bool>{};
    if (v.get_bool().get(b)) return json::wrong_type(param, "a boolean");
    return std::optional<bool>(b);
}

Status parse_chat_field(std::string_view key, element v, ChatRequest& req) {
    if (key == "model") {
        std::string_view s;
        if (v.get_string().get(s)) return json::wrong_type("model", "a string");
        req.model.assign(s);
    } else if (key == "messages") {
        if (!v.is_array()) return json::wrong_type("messages", "an array");
        size_t i = 0;
        for (element m : json::array(v)) {
            auto msg = parse_message(m, i++);
            if (!msg) return msg.error();
            req.messages.push_back(std::move(msg).value());
        }
    } else if (key == "stream") {
        auto b = bool_field(v, "stream");
        if (!b) return b.error();
        req.stream = b->value_or(false);
    } else if (key == "stream_options") {
        if (v.is_null()) return Ok{};
        json::object so;
        if (v.get_object().get(so)) return json::wrong_type("stream_options", "an object");
        element iu;
        if (!so["include_usage"].get(iu)) {
            auto b = bool_field(iu, "stream_options.include_usage");
            if (!b) return b.error();
            req.include_usage = b->value_or(false);
        }
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
        auto n = int_field(v, key);
        if (!n) return n.error();
        if (n->has_value()) {
            req.max_tokens = *n;
            req.use_max_completion_tokens = key == "max_completion_tokens";
        }
    } else if (key == "temperature") {
        auto d = number_field(v, key);
        if (!d) return d.error();
        req.temperature = *d;
    } else if (key == "top_p") {
        auto d = number_field(v, key);
        if (!d) return d.error();
        req.top_p = *d;
    } else if (key == "stop") {
        if (v.is_null()) return Ok{};
        if (v.is_string()) {
            req.stop.emplace_back(std::string_view(v));
        } else if (v.is_array()) {
            for (element s : json::array(v)) {
                std::string_view sv;
                if (s.get_string().get(sv))
                    return json::wrong_type("stop", "a string or an array of strings");
                req.stop.emplace_back(sv);
            }
        } else {
            return json::wrong_type("stop", "a string or an array of strings");
        }
    } else if (key == "tools") {
        if (v.is_null()) return Ok{};
        return parse_tools(v, req);
    } else if (key == "tool_choice") {
        if (!v.is_null()) req.tool_choice_json = json::minify(v);
    } else if (key == "parallel_tool_calls") {
        auto b = bool_field(v, key);
        if (!b) return b.error();
        req.parallel_tool_calls = *b;
    } else if (key == "user") {
        std::string_view s;
        if (v.get_string().get(s)) return json::wrong_type("user", "a string");
        req.user.assign(s);
    } else if (key == "cache") {
        if (v.type() != simdjson::dom::element_type::OBJECT) {
            return json::wrong_type("cache", "an object");
        }
        req.cache_json = json::minify(v);
    } else if (key == "rag") {
        if (v.type() != simdjson::dom::element_type::OBJECT) {
            return json::wrong_type("rag", "an object");
        }
        req.rag_json = json::minify(v);
    } else if (key == "n") {
        int64_t n;
        if (v.get_int64().get(n) || n < 1) return json::wrong_type("n", "a positive integer");
        if (n > 1) {
            return Error::invalid_request("n > 1 is not supported by the gateway; send n requests",
                                          "n");
        }
    } else {
        req.passthrough.push_back({std::string(key), json::minify(v)});
    }
    return Ok{};
}

// `origin`: the wire format the request arrived in. Parts the gateway kept verbatim (kOther)
// are only meaningful to a provider of the same format, so they are dropped otherwise.
void write_message(JsonWriter& w, const Message& m, WireFormat origin) {
    w.begin_object().kv("role", to_string(m.role));
    if (m.content_null) {
        w.kv_null("content");
    } else if (m.has_parts) {
        w.key("content").begin_array();
        for (const auto& p : m.parts) {
            switch (p.type) {
                case ContentPart::Type::kText:
                    w.begin_object().kv("type", "text").kv("text", p.text).end_object();
                    break;
                case ContentPart::Type::kImage:
                    w.begin_object().kv("type", "image_url").key("image_url").begin_object();
                    w.kv("url", p.image_url);
                    if (!p.detail.empty()) w.kv("detail", p.detail);
                    w.end_object().end_object();
                    break;
                case ContentPart::Type::kOther:
                    if (origin == WireFormat::kOpenAI) w.raw(p.raw_json);
                    break;
            }
        }
        w.end_array();
    } else {
        w.kv("content", m.text);
    }
    if (!m.name.empty()) w.kv("name", m.name);
    if (!m.tool_calls.empty()) write_tool_calls(w, m.tool_calls);
    if (m.role == Role::kTool) w.kv("tool_call_id", m.tool_call_id);
    w.end_object();
}

// Anthropic-origin tool_choice values are already translated into OpenAI JSON by the
// Anthropic codec, so tool_choice_json is always OpenAI-shaped here.
void write_tool_definitions(JsonWriter& w, const std::vector<ToolDefinition>& tools) {
    w.key("tools").begin_array();
    for (const auto& t : tools) {
        if (!t.openai_json.empty()) {
            w.raw(t.openai_json);
            continue;
        }
        w.begin_object().kv("type", "function").key("function").begin_object();
        w.kv("name", t.name);
        if (!t.description.empty()) w.kv("description", t.description);
        if (!t.parameters_json.empty()) w.kv_raw("parameters", t.parameters_json);
        w.end_object().end_object();
    }
    w.end_array();
}

}  // namespace

Result<ChatRequest> parse_openai_chat_request(std::string_view body) {
    auto doc = json::parse(body, "request body");
    if (!doc) return doc.error();
    json::object obj;
    if (doc->get_object().get(obj)) {
        return Error::invalid_request(
            fmt::format("request body must be a JSON object, not {}", json::type_name(*doc)));
    }
    ChatRequest req;
    req.format = WireFormat::kOpenAI;
    bool has_messages = false;
    for (auto field : obj) {
        if (field.key == "messages") has_messages = true;
        if (auto s = parse_chat_field(field.key, field.value, req); !s) return s.error();
    }
    if (req.model.empty()) return json::missing("model");
    if (!has_messages) return json::missing("messages");
    if (req.messages.empty()) {
        return Error::invalid_request("'messages' must contain at least one message", "messages");
    }
    if (!req.stream) req.include_usage = false;
    return req;
}

Result<EmbeddingRequest> parse_openai_embedding_request(std::string_view body) {
    auto doc = json::parse(body, "request body");
    if (!doc) return doc.error();
    json::object obj;
    if (doc->get_object().get(obj)) {
        return Error::invalid_request("request body must be a JSON object");
    }
    EmbeddingRequest req;
    bool has_input = false;
    for (auto field : obj) {
        const std::string_view key = field.key;
        element v = field.value;
        if (key == "model") {
            std::string_view s;
            if (v.get_string().get(s)) return json::wrong_type("model", "a string");
            req.model.assign(s);
        } else if (key == "input") {
            has_input = true;
            req.raw_input_json = json::minify(v);
            if (v.is_string()) {
                req.inputs.emplace_back(std::string_view(v));
            } else if (v.is_array()) {
                json::array arr(v);
                if (arr.size() == 0) {
                    return Error::invalid_request("'input' must not be empty", "input");
                }
                for (element item : arr) {
                    if (item.is_string()) {
                        req.inputs.emplace_back(std::string_view(item));
                    } else if (item.is_int64() || item.is_array()) {
                        req.input_is_tokens = true;
                    } else {
                        return json::wrong_type(
                            "input", "a string, an array of strings, or arrays of token ids");
                    }
                }
            } else {
                return json::wrong_type("input",
                                        "a string, an array of strings, or arrays of token ids");
            }
        } else if (key == "dimensions") {
            auto n = int_field(v, key);
            if (!n) return n.error();
            req.dimensions = *n;
        } else if (key == "encoding_format") {
            std::string_view s;
            if (v.get_string().get(s) || (s != "float" && s != "base64")) {
                return json::wrong_type("encoding_format", "\"float\" or \"base64\"");
            }
            req.encoding_format.assign(s);
        } else if (key == "user") {
            std::string_view s;
            if (v.get_string().get(s)) return json::wrong_type("user", "a string");
            req.user.assign(s);
        } else {
            req.passthrough.push_back({std::string(key), json::minify(v)});
        }
    }
    if (req.model.empty()) return json::missing("model");
    if (!has_input) return json::missing("input");
    return req;
}

std::string write_openai_chat_request(const ChatRequest& req, std::string_view upstream_model,
                                      bool stream) {
    std::string out;
    out.reserve(512);
    JsonWriter w(out);
    w.begin_object().kv("model", upstream_model).key("messages").begin_array();
    for (const auto& m : req.messages)
        write_message(w, m, req.format);
    w.end_array();
    if (stream) {
        w.kv("stream", true).key("stream_options").begin_object();
        w.kv("include_usage", true).end_object();
    }
    if (req.max_tokens) {
        w.kv(req.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens",
             *req.max_tokens);
    }
    if (req.temperature) w.kv("temperature", *req.temperature);
    if (req.top_p) w.kv("top_p", *req.top_p);
    if (!req.stop.empty()) {
        w.key("stop").begin_array();
        for (const auto& s : req.stop)
            w.value(s);
        w.end_array();
    }
    if (!req.tools.empty()) write_tool_definitions(w, req.tools);
    if (!req.tool_choice_json.empty()) w.kv_raw("tool_choice", req.tool_choice_json);
    if (req.parallel_tool_calls) w.kv("parallel_tool_calls", *req.parallel_tool_calls);
    if (!req.user.empty()) w.kv("user", req.user);
    if (req.format == WireFormat::kOpenAI) {
        for (const auto& f : req.passthrough)
            w.kv_raw(f.key, f.value_json);
    }
    w.end_object();
    return out;
}

std::string write_openai_embedding_request(const EmbeddingRequest& req,
                                           std::string_view upstream_model) {
    std::string out;
    out.reserve(req.raw_input_json.size() + 128);
    JsonWriter w(out);
    w.begin_object().kv("model", upstream_model).kv_raw("input", req.raw_input_json);
    if (req.dimensions) w.kv("dimensions", *req.dimensions);
    if (!req.encoding_format.empty()) w.kv("encoding_format", req.encoding_format);
    if (!req.user.empty()) w.kv("user", req.user);
    for (const auto& f : req.passthrough)
        w.kv_raw(f.key, f.value_json);
    w.end_object();
    return out;
}

}  // namespace switchyard
