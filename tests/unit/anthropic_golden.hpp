// Test support for the Anthropic codec tests: golden-file discovery, semantic JSON
// comparison, and the OpenAI-shaped dump/load of internal types that golden files use
// (see tests/golden/anthropic/README.md). Header-only; shared by the golden and unit tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/sse.hpp"

namespace switchyard::anthropic_golden {

namespace dom = simdjson::dom;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

inline const fs::path kGolden = fs::path(SWITCHYARD_GOLDEN_DIR) / "anthropic";

inline std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- semantic JSON comparison ----

inline void canonical(dom::element e, std::string& out, int depth) {
    const std::string pad(2 * (depth + 1), ' ');
    const std::string close_pad(2 * depth, ' ');
    switch (e.type()) {
        case dom::element_type::OBJECT: {
            std::vector<std::pair<std::string_view, dom::element>> fields;
            for (dom::key_value_pair kv : dom::object(e))
                fields.emplace_back(kv.key, kv.value);
            std::stable_sort(fields.begin(), fields.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
            if (fields.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            for (size_t i = 0; i < fields.size(); ++i) {
                out += pad;
                append_json_string(out, fields[i].first);
                out += ": ";
                canonical(fields[i].second, out, depth + 1);
                out += i + 1 < fields.size() ? ",\n" : "\n";
            }
            out += close_pad + "}";
            return;
        }
        case dom::element_type::ARRAY: {
            dom::array arr(e);
            if (arr.size() == 0) {
                out += "[]";
                return;
            }
            out += "[\n";
            size_t i = 0;
            const size_t n = arr.size();
            for (dom::element item : arr) {
                out += pad;
                canonical(item, out, depth + 1);
                out += ++i < n ? ",\n" : "\n";
            }
            out += close_pad + "]";
            return;
        }
        case dom::element_type::STRING:
            append_json_string(out, std::string_view(e));
            return;
        case dom::element_type::INT64:
        case dom::element_type::UINT64:
        case dom::element_type::DOUBLE: {
            const double d = double(e);
            char buf[40];
            if (d == std::floor(d) && std::fabs(d) < 1e15) {
                std::snprintf(buf, sizeof buf, "%.0f", d);
            } else {
                std::snprintf(buf, sizeof buf, "%.17g", d);
            }
            out += buf;
            return;
        }
        case dom::element_type::BOOL:
            out += bool(e) ? "true" : "false";
            return;
        case dom::element_type::NULL_VALUE:
            out += "null";
            return;
    }
}

inline std::string canonical(std::string_view json) {
    dom::parser parser;
    dom::element root;
    simdjson::padded_string padded(json);
    if (auto ec = parser.parse(padded).get(root); ec) {
        return "<invalid JSON: " + std::string(simdjson::error_message(ec)) + ">\n" +
               std::string(json);
    }
    std::string out;
    canonical(root, out, 0);
    return out;
}

// ---- internal types <-> OpenAI-shaped golden JSON ----

inline std::string_view finish_name(FinishReason r) {
    return to_openai_string(r);
}

inline FinishReason finish_from_name(std::string_view s) {
    if (s == "stop") return FinishReason::kStop;
    if (s == "length") return FinishReason::kLength;
    if (s == "tool_calls") return FinishReason::kToolCalls;
    if (s == "content_filter") return FinishReason::kContentFilter;
    return FinishReason::kNone;
}

inline std::string kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidRequest:
            return "invalid_request";
        case ErrorKind::kAuthentication:
            return "authentication";
        case ErrorKind::kPermission:
            return "permission";
        case ErrorKind::kNotFound:
            return "not_found";
        case ErrorKind::kModelNotFound:
            return "model_not_found";
        case ErrorKind::kRequestTooLarge:
            return "request_too_large";
        case ErrorKind::kRateLimited:
            return "rate_limited";
        case ErrorKind::kInternal:
            return "internal";
        case ErrorKind::kNotImplemented:
            return "not_implemented";
        case ErrorKind::kUpstream:
            return "upstream";
        case ErrorKind::kUnavailable:
            return "unavailable";
        case ErrorKind::kUpstreamTimeout:
            return "upstream_timeout";
    }
    return "?";
}

inline ErrorKind kind_from_name(std::string_view s) {
    for (int k = 0; k <= static_cast<int>(ErrorKind::kUpstreamTimeout); ++k) {
        if (kind_name(static_cast<ErrorKind>(k)) == s) return static_cast<ErrorKind>(k);
    }
    ADD_FAILURE() << "unknown error kind " << s;
    return ErrorKind::kInternal;
}

inline Role role_from_name(std::string_view s) {
    if (s == "system") return Role::kSystem;
    if (s == "developer") return Role::kDeveloper;
    if (s == "assistant") return Role::kAssistant;
    if (s == "tool") return Role::kTool;
    return Role::kUser;
}

inline void dump_message(JsonWriter& w, const Message& m) {
    w.begin_object().kv("role", to_string(m.role));
    if (m.content_null) {
        w.kv_null("content");
    } else if (m.has_parts) {
        w.key("content").begin_array();
        for (const ContentPart& p : m.parts) {
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
                    w.raw(p.raw_json);
                    break;
            }
        }
        w.end_array();
    } else {
        w.kv("content", m.text);
    }
    if (!m.name.empty()) w.kv("name", m.name);
    if (!m.tool_calls.empty()) {
        w.key("tool_calls").begin_array();
        for (const ToolCall& c : m.tool_calls) {
            w.begin_object().kv("id", c.id).kv("type", "function").key("function");
            w.begin_object().kv("name", c.name).kv("arguments", c.arguments).end_object();
            w.end_object();
        }
        w.end_array();
    }
    if (!m.tool_call_id.empty()) w.kv("tool_call_id", m.tool_call_id);
    if (m.tool_error) w.kv("_is_error", true);
    w.end_object();
}

inline std::string dump_request(const ChatRequest& r) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("model", r.model);
    if (r.format == WireFormat::kAnthropic) w.kv("_format", "anthropic");
    w.key("messages").begin_array();
    for (const Message& m : r.messages)
        dump_message(w, m);
    w.end_array();
    if (r.stream) w.kv("stream", true);
    if (r.include_usage) {
        w.key("stream_options").begin_object().kv("include_usage", true).end_object();
    }
    if (r.max_tokens) {
        w.kv(r.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens", *r.max_tokens);
    }
    if (r.temperature) w.kv("temperature", *r.temperature);
    if (r.top_p) w.kv("top_p", *r.top_p);
    if (!r.stop.empty()) {
        w.key("stop").begin_array();
        for (const auto& s : r.stop)
            w.value(s);
        w.end_array();
    }
    if (!r.tools.empty()) {
        w.key("tools").begin_array();
        for (const ToolDefinition& t : r.tools) {
            w.begin_object().kv("type", "function").key("function").begin_object();
            w.kv("name", t.name);
            if (!t.description.empty()) w.kv("description", t.description);
            if (!t.parameters_json.empty()) w.kv_raw("parameters", t.parameters_json);
            w.end_object().end_object();
        }
        w.end_array();
    }
    if (!r.tool_choice_json.empty()) w.kv_raw("tool_choice", r.tool_choice_json);
    if (r.parallel_tool_calls) w.kv("parallel_tool_calls", *r.parallel_tool_calls);
    if (!r.user.empty()) w.kv("user", r.user);
    if (!r.passthrough.empty()) {
        w.key("_passthrough").begin_object();
        for (const PassthroughField& f : r.passthrough)
            w.kv_raw(f.key, f.value_json);
        w.end_object();
    }
    w.end_object();
    return out;
}

inline Message load_message(dom::object obj) {
    Message m;
    for (dom::key_value_pair kv : obj) {
        if (kv.key == "role") {
            m.role = role_from_name(std::string_view(kv.value));
        } else if (kv.key == "content") {
            if (kv.value.is_null()) {
                m.content_null = true;
            } else if (kv.value.is_string()) {
                m.text = std::string_view(kv.value);
            } else {
                m.has_parts = true;
                for (dom::element pe : dom::array(kv.value)) {
                    dom::object po(pe);
                    ContentPart p;
                    const std::string_view type(po["type"]);
                    if (type == "text") {
                        p.text = std::string_view(po["text"]);
                    } else if (type == "image_url") {
                        p.type = ContentPart::Type::kImage;
                        dom::object img(po["image_url"]);
                        p.image_url = std::string_view(img["url"]);
                        std::string_view detail;
                        if (img["detail"].get(detail) == simdjson::SUCCESS) p.detail = detail;
                    } else {
                        p.type = ContentPart::Type::kOther;
                        p.raw_json = simdjson::minify(pe);
                    }
                    m.parts.push_back(std::move(p));
                }
            }
        } else if (kv.key == "name") {
            m.name = std::string_view(kv.value);
        } else if (kv.key == "tool_calls") {
            for (dom::element ce : dom::array(kv.value)) {
                dom::object fn(ce["function"]);
                m.tool_calls.push_back({std::string(std::string_view(ce["id"])),
                                        std::string(std::string_view(fn["name"])),
                                        std::string(std::string_view(fn["arguments"]))});
            }
        } else if (kv.key == "tool_call_id") {
            m.tool_call_id = std::string_view(kv.value);
        } else if (kv.key == "_is_error") {
            m.tool_error = bool(kv.value);
        } else {
            ADD_FAILURE() << "unknown message key " << kv.key;
        }
    }
    return m;
}

inline ChatRequest load_request(const std::string& json) {
    dom::parser parser;
    dom::object root(parser.parse(json));
    ChatRequest r;
    for (dom::key_value_pair kv : root) {
        const std::string_view k = kv.key;
        dom::element v = kv.value;
        if (k == "model") {
            r.model = std::string_view(v);
        } else if (k == "_format") {
            r.format =
                std::string_view(v) == "anthropic" ? WireFormat::kAnthropic : WireFormat::kOpenAI;
        } else if (k == "messages") {
            for (dom::element me : dom::array(v))
                r.messages.push_back(load_message(me));
        } else if (k == "stream") {
            r.stream = bool(v);
        } else if (k == "stream_options") {
            r.include_usage = bool(v["include_usage"]);
        } else if (k == "max_tokens" || k == "max_completion_tokens") {
            r.max_tokens = int64_t(v);
            r.use_max_completion_tokens = k == "max_completion_tokens";
        } else if (k == "temperature") {
            r.temperature = double(v);
        } else if (k == "top_p") {
            r.top_p = double(v);
        } else if (k == "stop") {
            for (dom::element s : dom::array(v))
                r.stop.emplace_back(std::string_view(s));
        } else if (k == "tools") {
            for (dom::element te : dom::array(v)) {
                dom::object fn(te["function"]);
                ToolDefinition t;
                t.name = std::string_view(fn["name"]);
                std::string_view desc;
                if (fn["description"].get(desc) == simdjson::SUCCESS) t.description = desc;
                dom::element params;
                if (fn["parameters"].get(params) == simdjson::SUCCESS) {
                    t.parameters_json = simdjson::minify(params);
                }
                r.tools.push_back(std::move(t));
            }
        } else if (k == "tool_choice") {
            r.tool_choice_json = simdjson::minify(v);
        } else if (k == "parallel_tool_calls") {
            r.parallel_tool_calls = bool(v);
        } else if (k == "user") {
            r.user = std::string_view(v);
        } else if (k == "_passthrough") {
            for (dom::key_value_pair f : dom::object(v)) {
                r.passthrough.push_back({std::string(f.key), simdjson::minify(f.value)});
            }
        } else {
            ADD_FAILURE() << "unknown request key " << k;
        }
    }
    return r;
}

inline void dump_usage(JsonWriter& w, const Usage& u) {
    w.begin_object().kv("prompt_tokens", u.prompt_tokens);
    w.kv("completion_tokens", u.completion_tokens).kv("total_tokens", u.total());
    w.key("prompt_tokens_details").begin_object();
    w.kv("cached_tokens", u.cached_prompt_tokens).end_object().end_object();
}

inline Usage load_usage(dom::element e) {
    Usage u;
    u.prompt_tokens = int64_t(e["prompt_tokens"]);
    u.completion_tokens = int64_t(e["completion_tokens"]);
    dom::element details;
    if (e["prompt_tokens_details"].get(details) == simdjson::SUCCESS) {
        u.cached_prompt_tokens = int64_t(details["cached_tokens"]);
    }
    return u;
}

inline std::string dump_response(const ChatResponse& r) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("id", r.id).kv("object", "chat.completion").kv("model", r.model);
    if (!r.system_fingerprint.empty()) w.kv("system_fingerprint", r.system_fingerprint);
    w.key("choices").begin_array().begin_object().kv("index", 0).key("message");
    dump_message(w, r.message);
    w.kv("finish_reason", finish_name(r.finish_reason)).end_object().end_array();
    if (r.usage) {
        w.key("usage");
        dump_usage(w, *r.usage);
    }
    w.end_object();
    return out;
}

inline ChatResponse load_response(const std::string& json) {
    dom::parser parser;
    dom::element root = parser.parse(json);
    ChatResponse r;
    r.id = std::string_view(root["id"]);
    r.model = std::string_view(root["model"]);
    dom::element choice = dom::array(root["choices"]).at(0);
    r.message = load_message(choice["message"]);
    r.finish_reason = finish_from_name(std::string_view(choice["finish_reason"]));
    dom::element usage;
    if (root["usage"].get(usage) == simdjson::SUCCESS) r.usage = load_usage(usage);
    return r;
}

inline void dump_chunk(JsonWriter& w, const ChatChunk& c) {
    w.begin_object();
    if (c.role) w.kv("role", "assistant");
    if (!c.content.empty()) w.kv("content", c.content);
    if (!c.tool_calls.empty()) {
        w.key("tool_calls").begin_array();
        for (const ToolCallDelta& d : c.tool_calls) {
            w.begin_object().kv("index", d.index);
            if (!d.id.empty()) w.kv("id", d.id);
            if (!d.name.empty()) w.kv("name", d.name);
            if (!d.arguments.empty()) w.kv("arguments", d.arguments);
            w.end_object();
        }
        w.end_array();
    }
    if (c.finish_reason != FinishReason::kNone) w.kv("finish_reason", finish_name(c.finish_reason));
    if (c.usage) {
        w.key("usage");
        dump_usage(w, *c.usage);
    }
    w.end_object();
}

inline ChatChunk load_chunk(dom::object o) {
    ChatChunk c;
    for (dom::key_value_pair kv : o) {
        if (kv.key == "role") {
            c.role = true;
        } else if (kv.key == "content") {
            c.content = std::string_view(kv.value);
        } else if (kv.key == "tool_calls") {
            for (dom::element de : dom::array(kv.value)) {
                ToolCallDelta d;
                d.index = static_cast<int>(int64_t(de["index"]));
                std::string_view s;
                if (de["id"].get(s) == simdjson::SUCCESS) d.id = s;
                if (de["name"].get(s) == simdjson::SUCCESS) d.name = s;
                if (de["arguments"].get(s) == simdjson::SUCCESS) d.arguments = s;
                c.tool_calls.push_back(std::move(d));
            }
        } else if (kv.key == "finish_reason") {
            c.finish_reason = finish_from_name(std::string_view(kv.value));
        } else if (kv.key == "usage") {
            c.usage = load_usage(kv.value);
        } else {
            ADD_FAILURE() << "unknown chunk key " << kv.key;
        }
    }
    return c;
}

// ---- golden case discovery ----

// Stems NAME of files NAME<suffix> in `dir`, sorted.
inline std::vector<std::string> list_cases(const fs::path& dir, std::string_view suffix,
                                           std::string_view prefix = "") {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > suffix.size() && name.ends_with(suffix) && name.starts_with(prefix)) {
            out.push_back(name.substr(0, name.size() - suffix.size()));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

inline std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string s = info.param;
    for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
}

inline fs::path first_existing(const fs::path& a, const fs::path& b) {
    return fs::exists(a) ? a : b;
}

inline std::string model_of(const std::string& json) {
    dom::parser parser;
    return std::string(std::string_view(parser.parse(json)["model"]));
}

inline const fs::path kRequests = kGolden / "requests";
inline constexpr int64_t kDefaultMaxTokens = 4096;
inline const fs::path kResponses = kGolden / "responses";
inline const fs::path kStreams = kGolden / "streams";
// Feeds an SSE transcript through SseParser (in small pieces, as reads arrive) and the
// decoder; returns the golden-shaped result.
inline std::string decode_transcript(const std::string& sse, size_t piece) {
    SseParser parser;
    std::vector<SseEvent> events;
    for (size_t i = 0; i < sse.size(); i += piece) {
        EXPECT_TRUE(parser.feed(std::string_view(sse).substr(i, piece), events));
    }
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    std::optional<Error> error;
    for (const SseEvent& ev : events) {
        Status s = decoder.on_event(ev.event, ev.data, meta, chunks);
        if (!s.ok()) {
            error = s.error();
            break;
        }
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("meta").begin_object().kv("id", meta.id).kv("model", meta.model);
    w.end_object().key("chunks").begin_array();
    for (const ChatChunk& c : chunks)
        dump_chunk(w, c);
    w.end_array().kv("done", decoder.done());
    if (error) {
        w.key("error").begin_object().kv("kind", kind_name(error->kind));
        w.kv("message", error->message).end_object();
    }
    w.end_object();
    return out;
}

struct EncoderInput {
    StreamMeta meta;
    int64_t input_tokens = 0;
    std::vector<ChatChunk> chunks;
    std::optional<Error> fail;
};

inline EncoderInput load_encoder_input(const std::string& json) {
    dom::parser parser;
    dom::element root = parser.parse(json);
    EncoderInput in;
    in.meta.id = std::string_view(root["meta"]["id"]);
    in.meta.model = std::string_view(root["meta"]["model"]);
    in.input_tokens = int64_t(root["input_tokens"]);
    for (dom::element c : dom::array(root["chunks"]))
        in.chunks.push_back(load_chunk(c));
    dom::element fail;
    if (root["fail"].get(fail) == simdjson::SUCCESS) {
        Error e;
        e.kind = kind_from_name(std::string_view(fail["kind"]));
        e.message = std::string_view(fail["message"]);
        in.fail = e;
    }
    return in;
}

inline std::string encode(const EncoderInput& in) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(in.meta, in.input_tokens, out);
    for (const ChatChunk& c : in.chunks)
        encoder.on_chunk(c, out);
    if (in.fail) {
        encoder.fail(*in.fail, out);
    } else {
        encoder.finish(out);
    }
    return out;
}

}  // namespace switchyard::anthropic_golden
