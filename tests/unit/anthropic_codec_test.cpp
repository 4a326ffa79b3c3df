// Anthropic codec: data-driven golden files (tests/golden/anthropic/, see README.md there)
// plus unit tests for what goldens cannot express (invalid UTF-8, fuzzing, round trips).
//
// Golden JSON is compared semantically: both sides are parsed and re-printed with sorted keys
// and normalised numbers. Internal types are written in an OpenAI-shaped form (the gateway's
// lingua franca) with a few `_`-prefixed annotations for what OpenAI cannot express.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/sse.hpp"

namespace switchyard {
namespace {

namespace dom = simdjson::dom;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kGolden = fs::path(SWITCHYARD_GOLDEN_DIR) / "anthropic";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- semantic JSON comparison ----

void canonical(dom::element e, std::string& out, int depth) {
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

std::string canonical(std::string_view json) {
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

std::string_view finish_name(FinishReason r) {
    return to_openai_string(r);
}

FinishReason finish_from_name(std::string_view s) {
    if (s == "stop") return FinishReason::kStop;
    if (s == "length") return FinishReason::kLength;
    if (s == "tool_calls") return FinishReason::kToolCalls;
    if (s == "content_filter") return FinishReason::kContentFilter;
    return FinishReason::kNone;
}

std::string kind_name(ErrorKind kind) {
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

ErrorKind kind_from_name(std::string_view s) {
    for (int k = 0; k <= static_cast<int>(ErrorKind::kUpstreamTimeout); ++k) {
        if (kind_name(static_cast<ErrorKind>(k)) == s) return static_cast<ErrorKind>(k);
    }
    ADD_FAILURE() << "unknown error kind " << s;
    return ErrorKind::kInternal;
}

Role role_from_name(std::string_view s) {
    if (s == "system") return Role::kSystem;
    if (s == "developer") return Role::kDeveloper;
    if (s == "assistant") return Role::kAssistant;
    if (s == "tool") return Role::kTool;
    return Role::kUser;
}

void dump_message(JsonWriter& w, const Message& m) {
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

std::string dump_request(const ChatRequest& r) {
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

Message load_message(dom::object obj) {
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

ChatRequest load_request(const std::string& json) {
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

void dump_usage(JsonWriter& w, const Usage& u) {
    w.begin_object().kv("prompt_tokens", u.prompt_tokens);
    w.kv("completion_tokens", u.completion_tokens).kv("total_tokens", u.total());
    w.key("prompt_tokens_details").begin_object();
    w.kv("cached_tokens", u.cached_prompt_tokens).end_object().end_object();
}

Usage load_usage(dom::element e) {
    Usage u;
    u.prompt_tokens = int64_t(e["prompt_tokens"]);
    u.completion_tokens = int64_t(e["completion_tokens"]);
    dom::element details;
    if (e["prompt_tokens_details"].get(details) == simdjson::SUCCESS) {
        u.cached_prompt_tokens = int64_t(details["cached_tokens"]);
    }
    return u;
}

std::string dump_response(const ChatResponse& r) {
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

ChatResponse load_response(const std::string& json) {
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

void dump_chunk(JsonWriter& w, const ChatChunk& c) {
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

ChatChunk load_chunk(dom::object o) {
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
std::vector<std::string> list_cases(const fs::path& dir, std::string_view suffix,
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

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string s = info.param;
    for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
}

fs::path first_existing(const fs::path& a, const fs::path& b) {
    return fs::exists(a) ? a : b;
}

std::string model_of(const std::string& json) {
    dom::parser parser;
    return std::string(std::string_view(parser.parse(json)["model"]));
}

// ---- requests ----

const fs::path kRequests = kGolden / "requests";
constexpr int64_t kDefaultMaxTokens = 4096;

class RequestInbound : public ::testing::TestWithParam<std::string> {};

// NAME.anthropic.json (a client's body) parses to NAME.openai.json.
TEST_P(RequestInbound, ParsesToInternal) {
    const std::string body = read_file(kRequests / (GetParam() + ".anthropic.json"));
    auto parsed = parse_anthropic_request(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(canonical(dump_request(*parsed)),
              canonical(read_file(kRequests / (GetParam() + ".openai.json"))));
}

INSTANTIATE_TEST_SUITE_P(Golden, RequestInbound,
                         ::testing::ValuesIn(list_cases(kRequests, ".anthropic.json")), case_name);

class RequestOutbound : public ::testing::TestWithParam<std::string> {};

// NAME.openai.json written for an Anthropic upstream gives NAME.upstream.json (or, for
// faithful round trips, NAME.anthropic.json). The upstream model is the expected file's.
TEST_P(RequestOutbound, WritesUpstreamBody) {
    const ChatRequest request = load_request(read_file(kRequests / (GetParam() + ".openai.json")));
    const std::string expected = read_file(first_existing(
        kRequests / (GetParam() + ".upstream.json"), kRequests / (GetParam() + ".anthropic.json")));
    const std::string body =
        write_anthropic_request(request, model_of(expected), kDefaultMaxTokens, request.stream);
    EXPECT_EQ(canonical(body), canonical(expected));
}

INSTANTIATE_TEST_SUITE_P(Golden, RequestOutbound,
                         ::testing::ValuesIn(list_cases(kRequests, ".openai.json")), case_name);

// invalid_requests.json: bodies the gateway must refuse, with Anthropic-style messages.
TEST(AnthropicRequest, InvalidRequestsGolden) {
    const std::string cases = read_file(kGolden / "invalid_requests.json");
    dom::parser parser;
    dom::array arr(parser.parse(cases));
    ASSERT_GT(arr.size(), 10u);
    for (dom::element c : arr) {
        const std::string name{std::string_view(c["name"])};
        SCOPED_TRACE(name);
        auto parsed = parse_anthropic_request(std::string_view(c["body"]));
        ASSERT_FALSE(parsed.ok());
        EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidRequest);
        std::string_view s;
        if (c["message"].get(s) == simdjson::SUCCESS) {
            EXPECT_EQ(parsed.error().message, s);
        }
        if (c["message_prefix"].get(s) == simdjson::SUCCESS) {
            EXPECT_TRUE(parsed.error().message.starts_with(s)) << parsed.error().message;
        }
        if (c["param"].get(s) == simdjson::SUCCESS) {
            EXPECT_EQ(parsed.error().param, s);
        }
    }
}

// ---- responses ----

const fs::path kResponses = kGolden / "responses";

class ResponseInbound : public ::testing::TestWithParam<std::string> {};

// NAME.anthropic.json (an upstream's body) parses to NAME.openai.json.
TEST_P(ResponseInbound, ParsesToInternal) {
    const std::string body = read_file(kResponses / (GetParam() + ".anthropic.json"));
    auto parsed = parse_anthropic_response(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_GT(parsed->created, 1700000000);
    EXPECT_EQ(canonical(dump_response(*parsed)),
              canonical(read_file(kResponses / (GetParam() + ".openai.json"))));
}

INSTANTIATE_TEST_SUITE_P(Golden, ResponseInbound,
                         ::testing::ValuesIn(list_cases(kResponses, ".anthropic.json")), case_name);

class ResponseOutbound : public ::testing::TestWithParam<std::string> {};

// NAME.openai.json written for an Anthropic client gives NAME.client.json (or, for faithful
// round trips, NAME.anthropic.json).
TEST_P(ResponseOutbound, WritesClientBody) {
    const ChatResponse response =
        load_response(read_file(kResponses / (GetParam() + ".openai.json")));
    const std::string expected = read_file(first_existing(
        kResponses / (GetParam() + ".client.json"), kResponses / (GetParam() + ".anthropic.json")));
    EXPECT_EQ(canonical(write_anthropic_response(response)), canonical(expected));
}

INSTANTIATE_TEST_SUITE_P(Golden, ResponseOutbound,
                         ::testing::ValuesIn(list_cases(kResponses, ".openai.json")), case_name);

// upstream_errors.json: status + body -> Error.
TEST(AnthropicError, UpstreamErrorsGolden) {
    const std::string cases = read_file(kGolden / "upstream_errors.json");
    dom::parser parser;
    dom::array arr(parser.parse(cases));
    ASSERT_GT(arr.size(), 5u);
    for (dom::element c : arr) {
        const std::string name{std::string_view(c["name"])};
        SCOPED_TRACE(name);
        const int status = static_cast<int>(int64_t(c["status"]));
        const Error e = parse_anthropic_error(status, std::string_view(c["body"]));
        EXPECT_EQ(kind_name(e.kind), std::string_view(c["kind"]));
        EXPECT_EQ(e.message, std::string_view(c["message"]));
        EXPECT_EQ(e.upstream_status, status);
        std::string_view code;
        EXPECT_EQ(e.code, c["code"].get(code) == simdjson::SUCCESS ? code : "");
    }
}

// ---- streams ----

const fs::path kStreams = kGolden / "streams";

// Feeds an SSE transcript through SseParser (in small pieces, as reads arrive) and the
// decoder; returns the golden-shaped result.
std::string decode_transcript(const std::string& sse, size_t piece) {
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

class StreamDecode : public ::testing::TestWithParam<std::string> {};

// decode_NAME.sse (an upstream's stream) decodes to decode_NAME.json.
TEST_P(StreamDecode, DecodesToChunks) {
    const std::string sse = read_file(kStreams / (GetParam() + ".sse"));
    const std::string expected = canonical(read_file(kStreams / (GetParam() + ".json")));
    for (size_t piece : {size_t{1}, size_t{7}, sse.size()}) {
        SCOPED_TRACE("piece size " + std::to_string(piece));
        EXPECT_EQ(canonical(decode_transcript(sse, piece)), expected);
    }
}

INSTANTIATE_TEST_SUITE_P(Golden, StreamDecode,
                         ::testing::ValuesIn(list_cases(kStreams, ".sse", "decode_")), case_name);

struct EncoderInput {
    StreamMeta meta;
    int64_t input_tokens = 0;
    std::vector<ChatChunk> chunks;
    std::optional<Error> fail;
};

EncoderInput load_encoder_input(const std::string& json) {
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

std::string encode(const EncoderInput& in) {
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

class StreamEncode : public ::testing::TestWithParam<std::string> {};

// encode_NAME.json (chunks from any upstream) gives exactly encode_NAME.sse.
TEST_P(StreamEncode, EncodesExactEvents) {
    const EncoderInput in = load_encoder_input(read_file(kStreams / (GetParam() + ".json")));
    EXPECT_EQ(encode(in), read_file(kStreams / (GetParam() + ".sse")));
}

// Decoding what the encoder produced gives back the same text and tool calls.
TEST_P(StreamEncode, DecoderReadsEncoderOutput) {
    const EncoderInput in = load_encoder_input(read_file(kStreams / (GetParam() + ".json")));
    const std::string decoded = decode_transcript(encode(in), 5);
    std::string text, args;
    for (const ChatChunk& c : in.chunks) {
        text += c.content;
        for (const ToolCallDelta& d : c.tool_calls)
            args += d.arguments;
    }
    dom::parser parser;
    dom::element root = parser.parse(decoded);
    std::string got_text, got_args;
    for (dom::element c : dom::array(root["chunks"])) {
        std::string_view s;
        if (c["content"].get(s) == simdjson::SUCCESS) got_text += s;
        dom::array calls;
        if (c["tool_calls"].get(calls) == simdjson::SUCCESS) {
            for (dom::element d : calls) {
                if (d["arguments"].get(s) == simdjson::SUCCESS) got_args += s;
            }
        }
    }
    EXPECT_EQ(got_text, text);
    EXPECT_EQ(got_args, args);
    EXPECT_EQ(bool(root["done"]), !in.fail.has_value());
}

INSTANTIATE_TEST_SUITE_P(Golden, StreamEncode,
                         ::testing::ValuesIn(list_cases(kStreams, ".json", "encode_")), case_name);

// ---- unit tests ----

TEST(AnthropicRequest, InvalidUtf8IsNamed) {
    auto parsed = parse_anthropic_request(
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]"
        "}");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(parsed.error().message, "request body is not valid UTF-8");
}

TEST(AnthropicRequest, DeepNestingIsAnErrorNotACrash) {
    std::string body = R"({"model":"m","max_tokens":5,"messages":)";
    body += std::string(100000, '[') + std::string(100000, ']') + "}";
    auto parsed = parse_anthropic_request(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message, "request body is nested too deeply");
}

TEST(AnthropicRequest, LargeBodyUsesItsOwnParser) {
    const std::string big(3 << 20, 'x');
    const std::string body =
        R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":")" + big + "\"}]}";
    auto parsed = parse_anthropic_request(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->messages.at(0).text.size(), big.size());
    // The per-thread parser still works for small bodies afterwards.
    auto small = parse_anthropic_request(
        R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})");
    ASSERT_TRUE(small.ok());
    EXPECT_EQ(small->messages.at(0).text, "hi");
}

TEST(AnthropicRequest, ManyBlocksParse) {
    std::string body = R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[)";
    constexpr int kBlocks = 100000;
    for (int i = 0; i < kBlocks; ++i) {
        if (i) body += ',';
        body += R"({"type":"text","text":"a"})";
    }
    body += "]}]}";
    auto parsed = parse_anthropic_request(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->messages.at(0).parts.size(), size_t{kBlocks});
}

// Every golden body, truncated anywhere or with random bytes flipped, gives a value or an
// error: never a crash (run under ASan/UBSan to make this bite).
TEST(AnthropicFuzz, TruncatedAndMutatedBodies) {
    std::vector<std::string> bodies;
    for (const auto& name : list_cases(kRequests, ".anthropic.json")) {
        bodies.push_back(read_file(kRequests / (name + ".anthropic.json")));
    }
    for (const auto& name : list_cases(kResponses, ".anthropic.json")) {
        bodies.push_back(read_file(kResponses / (name + ".anthropic.json")));
    }
    ASSERT_FALSE(bodies.empty());
    std::mt19937 rng(1234);
    for (std::string& body : bodies) {
        while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
            body.pop_back();
        }
        for (size_t n = 0; n < body.size(); ++n) {
            const std::string_view prefix(body.data(), n);
            // A strict prefix of a JSON object is never valid JSON.
            EXPECT_FALSE(parse_anthropic_request(prefix).ok());
            EXPECT_FALSE(parse_anthropic_response(prefix).ok());
            (void)parse_anthropic_error(500, prefix);
        }
        for (int round = 0; round < 200; ++round) {
            std::string mutated = body;
            for (int k = 0; k < 3; ++k) {
                mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xFF);
            }
            auto req = parse_anthropic_request(mutated);
            if (req.ok()) {
                const std::string out = write_anthropic_request(*req, "m", 100, true);
                EXPECT_THAT(canonical(out), ::testing::Not(HasSubstr("<invalid JSON"))) << out;
            }
            auto resp = parse_anthropic_response(mutated);
            if (resp.ok()) {
                const std::string out = write_anthropic_response(*resp);
                EXPECT_THAT(canonical(out), ::testing::Not(HasSubstr("<invalid JSON"))) << out;
            }
            AnthropicStreamDecoder decoder;
            StreamMeta meta;
            std::vector<ChatChunk> chunks;
            (void)decoder.on_event("content_block_delta", mutated, meta, chunks);
        }
    }
    for (int round = 0; round < 2000; ++round) {
        std::string random(rng() % 64, '\0');
        for (char& c : random)
            c = static_cast<char>(rng() & 0xFF);
        EXPECT_FALSE(parse_anthropic_request(random).ok());
        (void)parse_anthropic_response(random);
        (void)parse_anthropic_error(400, random);
    }
}

// Stream transcripts with bytes flipped: the decoder returns chunks or an Error, never
// crashes, and never reports done() without having seen message_stop's usage chunk.
TEST(AnthropicFuzz, MutatedStreamTranscripts) {
    std::mt19937 rng(99);
    for (const auto& name : list_cases(kStreams, ".sse", "decode_")) {
        const std::string sse = read_file(kStreams / (name + ".sse"));
        for (int round = 0; round < 300; ++round) {
            std::string mutated = sse;
            for (int k = 0; k < 4; ++k) {
                mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xFF);
            }
            SseParser parser;
            std::vector<SseEvent> events;
            (void)parser.feed(mutated, events);
            AnthropicStreamDecoder decoder;
            StreamMeta meta;
            std::vector<ChatChunk> chunks;
            for (const SseEvent& ev : events) {
                if (!decoder.on_event(ev.event, ev.data, meta, chunks).ok()) break;
            }
            if (decoder.done()) {
                ASSERT_FALSE(chunks.empty());
                EXPECT_TRUE(chunks.back().usage.has_value());
            }
        }
    }
}

// Random OpenAI-style chunk streams (text and tool calls in index order, arbitrary UTF-8,
// quotes and control characters): every event the encoder writes is valid JSON, blocks
// open and close in order, and decoding gives back the same text, calls and arguments.
TEST(AnthropicStreamEncoder, RandomStreamsRoundTrip) {
    std::mt19937 rng(7);
    const std::vector<std::string> alphabet = {"a",    "Z", " ", "\"", "\\", "\n", "\t",
                                               "\x01", "é", "✓", "😀",  "{",  "}",  ":"};
    auto random_text = [&](size_t max_len) {
        std::string s;
        for (size_t n = rng() % (max_len + 1); n > 0; --n)
            s += alphabet[rng() % alphabet.size()];
        return s;
    };
    for (int round = 0; round < 300; ++round) {
        std::vector<ChatChunk> chunks(1);
        chunks[0].role = true;
        std::string text, calls;
        int next_tool = 0;
        for (int seg = rng() % 6; seg > 0; --seg) {
            if (rng() % 2) {
                for (int k = 1 + rng() % 3; k > 0; --k) {
                    ChatChunk c;
                    c.content = random_text(8);
                    text += c.content;
                    chunks.push_back(c);
                }
            } else {
                const int index = next_tool++;
                ChatChunk first;
                first.tool_calls.push_back(
                    {index, "call_" + std::to_string(round) + "_" + std::to_string(index),
                     "fn" + std::to_string(index), random_text(4)});
                calls += first.tool_calls[0].id + "|" + first.tool_calls[0].name + "|" +
                         first.tool_calls[0].arguments;
                chunks.push_back(first);
                for (int k = rng() % 3; k > 0; --k) {
                    ChatChunk c;
                    c.tool_calls.push_back({index, "", "", random_text(6)});
                    calls += c.tool_calls[0].arguments;
                    chunks.push_back(c);
                }
                calls += ";";
            }
        }
        ChatChunk last;
        last.finish_reason = next_tool > 0 ? FinishReason::kToolCalls : FinishReason::kStop;
        chunks.push_back(last);

        AnthropicStreamEncoder encoder;
        std::string out;
        encoder.begin(StreamMeta{"r" + std::to_string(round), 0, "m", ""}, 1, out);
        for (const ChatChunk& c : chunks)
            encoder.on_chunk(c, out);
        encoder.finish(out);

        SseParser parser;
        std::vector<SseEvent> events;
        ASSERT_TRUE(parser.feed(out, events));
        dom::parser json;
        int open = -1, last_index = -1;
        for (const SseEvent& ev : events) {
            dom::element root;
            ASSERT_EQ(json.parse(ev.data).get(root), simdjson::SUCCESS) << ev.data;
            ASSERT_EQ(std::string_view(root["type"]), ev.event);
            if (ev.event == "content_block_start") {
                ASSERT_EQ(open, -1);
                open = static_cast<int>(int64_t(root["index"]));
                ASSERT_EQ(open, last_index + 1);
                last_index = open;
            } else if (ev.event == "content_block_delta") {
                ASSERT_EQ(int64_t(root["index"]), open);
            } else if (ev.event == "content_block_stop") {
                ASSERT_EQ(int64_t(root["index"]), open);
                open = -1;
            }
        }
        ASSERT_EQ(open, -1);

        AnthropicStreamDecoder decoder;
        StreamMeta meta;
        std::vector<ChatChunk> decoded;
        for (const SseEvent& ev : events) {
            ASSERT_TRUE(decoder.on_event(ev.event, ev.data, meta, decoded).ok());
        }
        ASSERT_TRUE(decoder.done());
        EXPECT_EQ(meta.id, "msg_r" + std::to_string(round));
        std::string got_text, got_calls;
        for (const ChatChunk& c : decoded) {
            got_text += c.content;
            for (const ToolCallDelta& d : c.tool_calls) {
                if (!d.id.empty()) {
                    if (!got_calls.empty()) got_calls += ";";
                    got_calls += d.id + "|" + d.name + "|";
                }
                got_calls += d.arguments;
            }
        }
        if (!got_calls.empty()) got_calls += ";";
        EXPECT_EQ(got_text, text);
        EXPECT_EQ(got_calls, calls);
    }
}

TEST(AnthropicStreamEncoder, MessageStartWaitsForTheFirstChunk) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(StreamMeta{"msg_1", 0, "m", ""}, 0, out);
    EXPECT_EQ(out, "");
    Error e;
    e.kind = ErrorKind::kUnavailable;
    e.message = "down";
    encoder.fail(e, out);  // nothing started: the error event stands alone
    EXPECT_EQ(out,
              "event: error\ndata: "
              R"({"type":"error","error":{"type":"overloaded_error","message":"down"}})"
              "\n\n");
}

TEST(AnthropicStreamEncoder, FragmentOfAClosedCallIsDropped) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(StreamMeta{"msg_1", 0, "m", ""}, 0, out);
    ChatChunk call;
    call.tool_calls.push_back({0, "call_1", "f", "{}"});
    encoder.on_chunk(call, out);
    ChatChunk text;
    text.content = "after";
    encoder.on_chunk(text, out);
    ChatChunk stray;
    stray.tool_calls.push_back({0, "", "", "late"});
    encoder.on_chunk(stray, out);
    encoder.finish(out);
    EXPECT_THAT(out, ::testing::Not(HasSubstr("late")));
    EXPECT_THAT(out, HasSubstr(R"("stop_reason":"end_turn")"));
}

TEST(AnthropicStreamDecoder, ContentBeforeMessageStartStillCarriesTheRole) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    ASSERT_TRUE(decoder
                    .on_event("content_block_delta",
                              R"({"type":"content_block_delta","index":0,)"
                              R"("delta":{"type":"text_delta","text":"hi"}})",
                              meta, chunks)
                    .ok());
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_TRUE(chunks[0].role);
    EXPECT_EQ(chunks[0].content, "hi");
}

TEST(AnthropicStreamDecoder, MalformedJsonIsAnUpstreamError) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    Status s =
        decoder.on_event("content_block_delta", R"({"type":"content_block_delta",)", meta, chunks);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kUpstream);
    EXPECT_THAT(s.error().message,
                HasSubstr("malformed Anthropic stream event 'content_block_delta'"));
    EXPECT_THAT(s.error().message, HasSubstr("not valid JSON"));
}

TEST(AnthropicStreamDecoder, HugeBlockIndexIsRejected) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    Status s = decoder.on_event(
        "content_block_start",
        R"({"type":"content_block_start","index":4000000000,"content_block":{"type":"text","text":""}})",
        meta, chunks);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kUpstream);
}

TEST(AnthropicStreamDecoder, EventsAfterStopAreIgnored) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    ASSERT_TRUE(decoder.on_event("message_stop", R"({"type":"message_stop"})", meta, chunks).ok());
    EXPECT_TRUE(decoder.done());
    ASSERT_TRUE(decoder.on_event("error", "not even json", meta, chunks).ok());
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_FALSE(chunks[0].role);  // the usage-only chunk never carries the role
    EXPECT_TRUE(chunks[0].usage.has_value());
}

TEST(AnthropicStreamEncoder, NothingAfterFinish) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(StreamMeta{"msg_1", 0, "m", ""}, 3, out);
    encoder.finish(out);
    const std::string finished = out;
    ChatChunk chunk;
    chunk.content = "late";
    encoder.on_chunk(chunk, out);
    encoder.finish(out);
    encoder.fail(Error::internal("late"), out);
    EXPECT_EQ(out, finished);
    EXPECT_THAT(out, HasSubstr(R"("stop_reason":"end_turn")"));
}

TEST(AnthropicOutbound, UpstreamModelDefaultMaxTokensAndStreamFlag) {
    ChatRequest r;
    r.model = "alias";
    Message m;
    m.text = "hi";
    r.messages.push_back(m);
    const std::string body = write_anthropic_request(r, "claude-x", 321, false);
    EXPECT_EQ(
        body,
        R"({"model":"claude-x","max_tokens":321,"messages":[{"role":"user","content":"hi"}]})");
    r.max_tokens = 7;
    r.stream = false;
    EXPECT_THAT(write_anthropic_request(r, "claude-x", 321, true), HasSubstr(R"("max_tokens":7,)"));
    EXPECT_THAT(write_anthropic_request(r, "claude-x", 321, true), HasSubstr(R"("stream":true)"));
}

TEST(AnthropicOutbound, ToolArgumentsThatAreNotAnObjectBecomeEmptyInput) {
    for (const char* args : {"", "not json", "[1,2]", "{\"a\":", "42"}) {
        SCOPED_TRACE(args);
        ChatRequest r;
        Message u;
        u.text = "q";
        Message a;
        a.role = Role::kAssistant;
        a.content_null = true;
        a.tool_calls.push_back({"call_1", "f", args});
        r.messages = {u, a};
        EXPECT_THAT(write_anthropic_request(r, "m", 10, false),
                    HasSubstr(R"({"type":"tool_use","id":"call_1","name":"f","input":{}})"));
    }
}

TEST(AnthropicOutbound, PassthroughOnlyForAnthropicOrigin) {
    ChatRequest r;
    Message m;
    m.text = "hi";
    r.messages.push_back(m);
    r.passthrough.push_back({"top_k", "5"});
    r.format = WireFormat::kOpenAI;
    EXPECT_THAT(write_anthropic_request(r, "m", 10, false), ::testing::Not(HasSubstr("top_k")));
    r.format = WireFormat::kAnthropic;
    EXPECT_THAT(write_anthropic_request(r, "m", 10, false), HasSubstr(R"("top_k":5)"));
}

TEST(AnthropicResponse, ErrorBodyWithStatus200IsAnError) {
    auto parsed = parse_anthropic_response(
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().kind, ErrorKind::kUnavailable);
    EXPECT_EQ(parsed.error().message, "Overloaded");
}

TEST(AnthropicResponse, MessageIdPrefix) {
    ChatResponse r;
    r.id = "chatcmpl-9";
    EXPECT_THAT(write_anthropic_response(r), HasSubstr(R"("id":"msg_chatcmpl-9")"));
    r.id = "msg_abc";
    EXPECT_THAT(write_anthropic_response(r), HasSubstr(R"("id":"msg_abc")"));
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

TEST(AnthropicInbound, SystemTurnsInsideMessagesBecomeSystemMessages) {
    auto req = parse_anthropic_request(
        R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]})");
    ASSERT_TRUE(req.ok()) << req.error().message;
    ASSERT_EQ(req->messages.size(), 2u);
    EXPECT_EQ(req->messages[0].role, Role::kSystem);
    EXPECT_EQ(req->messages[0].joined_text(), "be brief");
    // ... and an Anthropic upstream gets it lifted into `system`.
    const auto out = write_anthropic_request(*req, "up", 100, false);
    EXPECT_NE(out.find(R"("system":"be brief")"), std::string::npos) << out;
}

}  // namespace
}  // namespace switchyard
