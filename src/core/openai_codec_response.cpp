// OpenAI codec, answers: writing and parsing chat.completion responses, streamed chunks,
// embeddings responses and error bodies (see openai_codec.hpp).
#include <fmt/format.h>

#include "openai_codec_internal.hpp"
#include "switchyard/core/openai_codec.hpp"
#include "switchyard/core/sse.hpp"

namespace switchyard {
namespace {

using json::element;
using openai_wire::parse_tool_calls;
using openai_wire::write_tool_calls;

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

}  // namespace

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
