// OpenAI Chat Completions and Embeddings codec (see openai_codec.hpp).
#include "switchyard/core/openai_codec.hpp"

#include <fmt/format.h>

#include <ctime>

#include "json_read.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/sse.hpp"

namespace switchyard {
namespace {

using json::element;

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

FinishReason parse_finish_reason(std::string_view s) {
    if (s == "stop") return FinishReason::kStop;
    if (s == "length") return FinishReason::kLength;
    if (s == "tool_calls" || s == "function_call") return FinishReason::kToolCalls;
    if (s == "content_filter") return FinishReason::kContentFilter;
    return FinishReason::kStop;
}

Usage parse_usage(const json::object& u) {
    Usage usage;
    int64_t n;
    if (!u["prompt_tokens"].get_int64().get(n)) usage.prompt_tokens = n;
    if (!u["completion_tokens"].get_int64().get(n)) usage.completion_tokens = n;
    json::object details;
    if (!u["prompt_tokens_details"].get_object().get(details) &&
        !details["cached_tokens"].get_int64().get(n)) {
        usage.cached_prompt_tokens = n;
    }
    return usage;
}

void write_usage(JsonWriter& w, const Usage& u) {
    w.begin_object()
        .kv("prompt_tokens", u.prompt_tokens)
        .kv("completion_tokens", u.completion_tokens)
        .kv("total_tokens", u.total());
    if (u.cached_prompt_tokens > 0) {
        w.key("prompt_tokens_details").begin_object();
        w.kv("cached_tokens", u.cached_prompt_tokens).end_object();
    }
    w.end_object();
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

// ---------------------------------------------------------------- inbound

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

std::string write_openai_chat_response(const ChatResponse& r) {
    std::string out;
    out.reserve(256 + r.message.text.size());
    JsonWriter w(out);
    w.begin_object()
        .kv("id", r.id)
        .kv("object", "chat.completion")
        .kv("created", r.created)
        .kv("model", r.model);
    w.key("choices").begin_array().begin_object().kv("index", 0).key("message");
    w.begin_object().kv("role", "assistant");
    if (r.message.content_null) {
        w.kv_null("content");
    } else {
        w.kv("content", r.message.joined_text());
    }
    if (!r.message.tool_calls.empty()) write_tool_calls(w, r.message.tool_calls);
    w.kv_null("refusal").end_object();
    if (r.logprobs_json.empty()) {
        w.kv_null("logprobs");
    } else {
        w.kv_raw("logprobs", r.logprobs_json);
    }
    w.kv("finish_reason", to_openai_string(r.finish_reason)).end_object().end_array();
    if (r.usage) {
        w.key("usage");
        write_usage(w, *r.usage);
    }
    if (!r.system_fingerprint.empty()) w.kv("system_fingerprint", r.system_fingerprint);
    w.end_object();
    return out;
}

std::string write_openai_embedding_response(const EmbeddingResponse& r) {
    std::string out;
    out.reserve(r.data_json.size() + 128);
    JsonWriter w(out);
    w.begin_object().kv("object", "list").kv_raw("data", r.data_json).kv("model", r.model);
    w.key("usage").begin_object();
    w.kv("prompt_tokens", r.usage.prompt_tokens).kv("total_tokens", r.usage.total());
    w.end_object().end_object();
    return out;
}

void append_openai_chunk_sse(std::string& out, const StreamMeta& meta, const ChatChunk& c,
                             bool include_usage) {
    std::string json;
    json.reserve(192 + c.content.size());
    JsonWriter w(json);
    w.begin_object()
        .kv("id", meta.id)
        .kv("object", "chat.completion.chunk")
        .kv("created", meta.created)
        .kv("model", meta.model);
    if (!meta.system_fingerprint.empty()) w.kv("system_fingerprint", meta.system_fingerprint);
    const bool usage_only = c.usage && !c.role && c.content.empty() && c.tool_calls.empty() &&
                            c.finish_reason == FinishReason::kNone;
    w.key("choices").begin_array();
    if (!usage_only) {
        w.begin_object().kv("index", 0).key("delta").begin_object();
        if (c.role) w.kv("role", "assistant");
        if (c.role || !c.content.empty()) w.kv("content", c.content);
        if (!c.tool_calls.empty()) {
            w.key("tool_calls").begin_array();
            for (const auto& t : c.tool_calls) {
                w.begin_object().kv("index", t.index);
                if (!t.id.empty()) w.kv("id", t.id).kv("type", "function");
                w.key("function").begin_object();
                if (!t.name.empty()) w.kv("name", t.name);
                w.kv("arguments", t.arguments).end_object().end_object();
            }
            w.end_array();
        }
        w.end_object();
        if (c.logprobs_json.empty()) {
            w.kv_null("logprobs");
        } else {
            w.kv_raw("logprobs", c.logprobs_json);
        }
        if (c.finish_reason == FinishReason::kNone) {
            w.kv_null("finish_reason");
        } else {
            w.kv("finish_reason", to_openai_string(c.finish_reason));
        }
        w.end_object();
    }
    w.end_array();
    if (include_usage) {
        if (usage_only) {
            w.key("usage");
            write_usage(w, *c.usage);
        } else {
            w.kv_null("usage");
        }
    }
    w.end_object();
    append_sse_data(out, json);
}

void append_openai_done_sse(std::string& out) {
    out.append("data: [DONE]\n\n");
}

void append_openai_error_sse(std::string& out, const Error& error) {
    append_sse_data(out, to_openai_json(error));
}

// ---------------------------------------------------------------- outbound

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

Result<ChatResponse> parse_openai_chat_response(std::string_view body) {
    auto doc = json::parse(body, "upstream response");
    auto malformed = [](std::string_view why) {
        Error e;
        e.kind = ErrorKind::kUpstream;
        e.message = fmt::format("malformed upstream response: {}", why);
        return e;
    };
    if (!doc) return malformed(doc.error().message);
    json::object obj;
    if (doc->get_object().get(obj)) return malformed("not a JSON object");
    ChatResponse r;
    std::string_view sv;
    int64_t n;
    if (!obj["id"].get_string().get(sv)) r.id.assign(sv);
    if (!obj["model"].get_string().get(sv)) r.model.assign(sv);
    if (!obj["created"].get_int64().get(n)) r.created = n;
    if (!obj["system_fingerprint"].get_string().get(sv)) r.system_fingerprint.assign(sv);
    json::array choices;
    if (obj["choices"].get_array().get(choices) || choices.size() == 0) {
        return malformed("no choices");
    }
    json::object choice;
    json::object msg;
    if (choices.at(0).get_object().get(choice) || choice["message"].get_object().get(msg)) {
        return malformed("choices[0].message missing");
    }
    r.message.role = Role::kAssistant;
    element content;
    if (msg["content"].get(content) || content.is_null()) {
        r.message.content_null = true;
    } else if (content.is_string()) {
        r.message.text.assign(std::string_view(content));
    } else {
        return malformed("choices[0].message.content is not a string");
    }
    json::array calls;
    if (!msg["tool_calls"].get_array().get(calls)) {
        if (auto s = parse_tool_calls(calls, "tool_calls", r.message); !s) {
            return malformed(s.error().message);
        }
    }
    if (!choice["finish_reason"].get_string().get(sv)) r.finish_reason = parse_finish_reason(sv);
    element logprobs;
    if (!choice["logprobs"].get(logprobs) && !logprobs.is_null()) {
        r.logprobs_json = json::minify(logprobs);
    }
    json::object usage;
    if (!obj["usage"].get_object().get(usage)) r.usage = parse_usage(usage);
    return r;
}

Result<EmbeddingResponse> parse_openai_embedding_response(std::string_view body) {
    auto doc = json::parse(body, "upstream response");
    Error malformed;
    malformed.kind = ErrorKind::kUpstream;
    malformed.message = "malformed upstream embeddings response";
    if (!doc) return malformed;
    json::object obj;
    element data;
    if (doc->get_object().get(obj) || obj["data"].get(data) || !data.is_array()) {
        return malformed;
    }
    EmbeddingResponse r;
    r.data_json = json::minify(data);
    std::string_view sv;
    if (!obj["model"].get_string().get(sv)) r.model.assign(sv);
    json::object usage;
    if (!obj["usage"].get_object().get(usage)) r.usage = parse_usage(usage);
    return r;
}

Result<ChatChunk> parse_openai_chunk(std::string_view data, StreamMeta& meta) {
    auto doc = json::parse(data, "upstream stream event");
    auto malformed = [](std::string_view why) {
        Error e;
        e.kind = ErrorKind::kUpstream;
        e.message = fmt::format("malformed upstream stream event: {}", why);
        return e;
    };
    if (!doc) return malformed(doc.error().message);
    json::object obj;
    if (doc->get_object().get(obj)) return malformed("not a JSON object");
    element err;
    if (!obj["error"].get(err) && !err.is_null()) {
        return parse_openai_error(500, data);
    }
    std::string_view sv;
    int64_t n;
    if (meta.id.empty() && !obj["id"].get_string().get(sv)) meta.id.assign(sv);
    if (meta.model.empty() && !obj["model"].get_string().get(sv)) meta.model.assign(sv);
    if (meta.created == 0 && !obj["created"].get_int64().get(n)) meta.created = n;
    if (meta.system_fingerprint.empty() && !obj["system_fingerprint"].get_string().get(sv)) {
        meta.system_fingerprint.assign(sv);
    }
    ChatChunk chunk;
    json::array choices;
    if (!obj["choices"].get_array().get(choices) && choices.size() > 0) {
        json::object choice;
        if (choices.at(0).get_object().get(choice)) return malformed("choices[0] not an object");
        json::object delta;
        if (!choice["delta"].get_object().get(delta)) {
            if (!delta["role"].get_string().get(sv)) chunk.role = true;
            if (!delta["content"].get_string().get(sv)) chunk.content.assign(sv);
            json::array calls;
            if (!delta["tool_calls"].get_array().get(calls)) {
                for (element c : calls) {
                    json::object call;
                    if (c.get_object().get(call)) return malformed("tool_calls entry");
                    ToolCallDelta d;
                    if (!call["index"].get_int64().get(n)) d.index = static_cast<int>(n);
                    if (!call["id"].get_string().get(sv)) d.id.assign(sv);
                    json::object fn;
                    if (!call["function"].get_object().get(fn)) {
                        if (!fn["name"].get_string().get(sv)) d.name.assign(sv);
                        if (!fn["arguments"].get_string().get(sv)) d.arguments.assign(sv);
                    }
                    chunk.tool_calls.push_back(std::move(d));
                }
            }
        }
        if (!choice["finish_reason"].get_string().get(sv)) {
            chunk.finish_reason = parse_finish_reason(sv);
        }
        element logprobs;
        if (!choice["logprobs"].get(logprobs) && !logprobs.is_null()) {
            chunk.logprobs_json = json::minify(logprobs);
        }
    }
    json::object usage;
    if (!obj["usage"].get_object().get(usage)) chunk.usage = parse_usage(usage);
    return chunk;
}

Error parse_openai_error(int status, std::string_view body) {
    Error e;
    e.upstream_status = status;
    std::string message;
    std::string code;
    auto doc = json::parse(body, "upstream error");
    json::object obj;
    if (doc && !doc->get_object().get(obj)) {
        element err;
        if (!obj["error"].get(err)) {
            json::object eo;
            std::string_view sv;
            if (!err.get_object().get(eo)) {
                if (!eo["message"].get_string().get(sv)) message.assign(sv);
                if (!eo["code"].get_string().get(sv)) code.assign(sv);
                if (!eo["param"].get_string().get(sv)) e.param.assign(sv);
            } else if (!err.get_string().get(sv)) {
                message.assign(sv);  // Ollama: {"error":"..."}
            }
        }
    }
    if (message.empty()) {
        message = fmt::format("upstream returned HTTP {}", status);
    }
    Error mapped = upstream_status_error(status, std::move(message));
    mapped.param = std::move(e.param);
    if (!code.empty() && status != 401 && status != 403) mapped.code = std::move(code);
    return mapped;
}

}  // namespace switchyard
