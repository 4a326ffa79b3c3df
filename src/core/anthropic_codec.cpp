// Anthropic codec, shared part: JSON helpers and vocabulary maps used by the other
// anthropic_codec_*.cpp files, non-streaming responses (both directions) and error bodies.
#include "switchyard/core/anthropic_codec.hpp"

#include <chrono>

#include "anthropic_codec_internal.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace anthropic_detail {

namespace dom = simdjson::dom;

simdjson::error_code JsonDocument::parse(std::string_view json, Slot slot) {
    if (json.size() > kMaxPooledBytes) {
        own_parser_ = std::make_unique<dom::parser>();
        own_buffer_ = simdjson::padded_string(json);
        if (own_buffer_.size() != json.size()) return simdjson::MEMALLOC;
        return own_parser_->parse(own_buffer_).get(root_);
    }
    struct Pool {
        dom::parser parser;
        std::string buffer;  // the text plus SIMDJSON_PADDING readable bytes
    };
    thread_local Pool pools[2];
    Pool& pool = pools[slot == Slot::kBody ? 0 : 1];
    pool.buffer.assign(json);
    pool.buffer.append(simdjson::SIMDJSON_PADDING, ' ');
    return pool.parser.parse(pool.buffer.data(), json.size(), false).get(root_);
}

Lookup find_string(dom::object obj, std::string_view key, std::string_view& out) {
    dom::element el;
    if (obj[key].get(el) != simdjson::SUCCESS || el.is_null()) return Lookup::kAbsent;
    return el.get_string().get(out) == simdjson::SUCCESS ? Lookup::kOk : Lookup::kWrongType;
}

Lookup find_int64(dom::object obj, std::string_view key, int64_t& out) {
    dom::element el;
    if (obj[key].get(el) != simdjson::SUCCESS || el.is_null()) return Lookup::kAbsent;
    return el.get_int64().get(out) == simdjson::SUCCESS ? Lookup::kOk : Lookup::kWrongType;
}

Lookup find_object(dom::object obj, std::string_view key, dom::object& out) {
    dom::element el;
    if (obj[key].get(el) != simdjson::SUCCESS || el.is_null()) return Lookup::kAbsent;
    return el.get_object().get(out) == simdjson::SUCCESS ? Lookup::kOk : Lookup::kWrongType;
}

AnthropicUsage read_usage(dom::object usage) {
    AnthropicUsage u;
    int64_t v = 0;
    if (find_int64(usage, "input_tokens", v) == Lookup::kOk) u.input_tokens = v;
    if (find_int64(usage, "cache_creation_input_tokens", v) == Lookup::kOk) {
        u.cache_creation_input_tokens = v;
    }
    if (find_int64(usage, "cache_read_input_tokens", v) == Lookup::kOk) {
        u.cache_read_input_tokens = v;
    }
    if (find_int64(usage, "output_tokens", v) == Lookup::kOk) u.output_tokens = v;
    return u;
}

bool read_error_body(dom::element root, std::string& type, std::string& message) {
    dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return false;
    dom::element err;
    if (obj["error"].get(err) != simdjson::SUCCESS) return false;
    std::string_view text;
    if (err.get_string().get(text) == simdjson::SUCCESS) {
        message.assign(text);
        return true;
    }
    dom::object err_obj;
    if (err.get_object().get(err_obj) != simdjson::SUCCESS) return false;
    if (find_string(err_obj, "type", text) == Lookup::kOk) type.assign(text);
    if (find_string(err_obj, "message", text) == Lookup::kOk) message.assign(text);
    return true;
}

FinishReason finish_from_anthropic(std::string_view stop_reason) {
    if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
        return FinishReason::kLength;
    }
    if (stop_reason == "tool_use") return FinishReason::kToolCalls;
    if (stop_reason == "refusal") return FinishReason::kContentFilter;
    return FinishReason::kStop;  // end_turn, stop_sequence, pause_turn, unknown
}

std::string_view anthropic_stop_reason(FinishReason reason) {
    switch (reason) {
        case FinishReason::kNone:
        case FinishReason::kStop:
            return "end_turn";
        case FinishReason::kLength:
            return "max_tokens";
        case FinishReason::kToolCalls:
            return "tool_use";
        case FinishReason::kContentFilter:
            return "refusal";
    }
    return "end_turn";
}

ErrorKind kind_from_anthropic_error_type(std::string_view type) {
    if (type == "invalid_request_error") return ErrorKind::kInvalidRequest;
    if (type == "not_found_error") return ErrorKind::kInvalidRequest;
    if (type == "request_too_large") return ErrorKind::kRequestTooLarge;
    if (type == "rate_limit_error") return ErrorKind::kRateLimited;
    if (type == "overloaded_error") return ErrorKind::kUnavailable;
    if (type == "timeout_error") return ErrorKind::kUpstreamTimeout;
    // api_error, authentication_error, permission_error, billing_error, unknown types.
    return ErrorKind::kUpstream;
}

Error error_from_anthropic_type(std::string_view type, std::string message) {
    Error e;
    e.kind = kind_from_anthropic_error_type(type);
    if (type == "authentication_error" || type == "permission_error") {
        message.insert(0, "upstream authentication failed: ");
    }
    e.message = std::move(message);
    return e;
}

std::string anthropic_message_id(std::string_view id) {
    if (id.starts_with("msg_")) return std::string(id);
    std::string out = "msg_";
    out.append(id);
    return out;
}

std::string sanitize_tool_id(std::string_view id) {
    std::string out(id);
    for (char& c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) c = '_';
    }
    return out;
}

void write_tool_input(JsonWriter& w, std::string_view arguments) {
    JsonDocument doc;
    dom::object obj;
    if (doc.parse(arguments, JsonDocument::Slot::kFragment) == simdjson::SUCCESS &&
        doc.root().get_object().get(obj) == simdjson::SUCCESS) {
        w.raw(simdjson::minify(obj));
    } else {
        w.raw("{}");
    }
}

void write_usage_object(JsonWriter& w, const Usage& usage) {
    const int64_t cached = usage.cached_prompt_tokens > 0 ? usage.cached_prompt_tokens : 0;
    const int64_t uncached = usage.prompt_tokens > cached ? usage.prompt_tokens - cached : 0;
    w.begin_object();
    w.kv("input_tokens", uncached);
    w.kv("cache_creation_input_tokens", int64_t{0});
    w.kv("cache_read_input_tokens", cached);
    w.kv("output_tokens", usage.completion_tokens);
    w.end_object();
}

void write_image_block(JsonWriter& w, const ContentPart& part) {
    std::string_view url = part.image_url;
    w.begin_object().kv("type", "image").key("source").begin_object();
    const size_t comma = url.find(',');
    if (url.starts_with("data:") && comma != std::string_view::npos) {
        std::string_view header = url.substr(5, comma - 5);  // media type [;params];base64
        if (header.ends_with(";base64")) {
            w.kv("type", "base64");
            w.kv("media_type", header.substr(0, header.find(';')));
            w.kv("data", url.substr(comma + 1));
            w.end_object().end_object();
            return;
        }
    }
    w.kv("type", "url").kv("url", url);
    w.end_object().end_object();
}

int64_t unix_now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace anthropic_detail

namespace {

namespace dom = simdjson::dom;
using namespace anthropic_detail;

Error upstream_error(std::string message) {
    Error e;
    e.kind = ErrorKind::kUpstream;
    e.message = std::move(message);
    return e;
}

Usage to_usage(const AnthropicUsage& u) {
    Usage usage;
    usage.prompt_tokens = u.input_tokens.value_or(0) + u.cache_creation_input_tokens.value_or(0) +
                          u.cache_read_input_tokens.value_or(0);
    usage.cached_prompt_tokens = u.cache_read_input_tokens.value_or(0);
    usage.completion_tokens = u.output_tokens.value_or(0);
    return usage;
}

}  // namespace

// ---- responses ----

Result<ChatResponse> parse_anthropic_response(std::string_view body) {
    JsonDocument doc;
    if (auto ec = doc.parse(body); ec != simdjson::SUCCESS) {
        return upstream_error(std::string("Anthropic response is not valid JSON: ") +
                              simdjson::error_message(ec));
    }
    dom::object root;
    if (doc.root().get_object().get(root) != simdjson::SUCCESS) {
        return upstream_error("Anthropic response is not a JSON object");
    }
    std::string_view text;
    if (find_string(root, "type", text) == Lookup::kOk && text == "error") {
        std::string type, message;
        read_error_body(doc.root(), type, message);
        return error_from_anthropic_type(type, std::move(message));
    }

    ChatResponse response;
    response.created = unix_now_s();
    response.message.role = Role::kAssistant;
    if (find_string(root, "id", text) == Lookup::kOk) response.id.assign(text);
    if (find_string(root, "model", text) == Lookup::kOk) response.model.assign(text);

    dom::array content;
    if (root["content"].get_array().get(content) != simdjson::SUCCESS) {
        return upstream_error("Anthropic response has no `content` array");
    }
    Message& message = response.message;
    bool has_other = false;
    for (dom::element block_el : content) {
        dom::object block;
        std::string_view type;
        if (block_el.get_object().get(block) != simdjson::SUCCESS ||
            find_string(block, "type", type) != Lookup::kOk) {
            return upstream_error("Anthropic response has a content block without a type");
        }
        if (type == "text") {
            if (find_string(block, "text", text) != Lookup::kOk) {
                return upstream_error("Anthropic response has a text block without text");
            }
            message.text.append(text);
            ContentPart part;
            part.text.assign(text);
            message.parts.push_back(std::move(part));
        } else if (type == "tool_use") {
            ToolCall call;
            if (find_string(block, "id", text) == Lookup::kOk) call.id.assign(text);
            if (find_string(block, "name", text) != Lookup::kOk) {
                return upstream_error("Anthropic response has a tool_use block without a name");
            }
            call.name.assign(text);
            dom::element input;
            call.arguments = block["input"].get(input) == simdjson::SUCCESS && !input.is_null()
                                 ? simdjson::minify(input)
                                 : "{}";
            message.tool_calls.push_back(std::move(call));
        } else {
            // thinking, redacted_thinking, server tool blocks, ...: kept for Anthropic
            // clients; they carry no text.
            has_other = true;
            ContentPart part;
            part.type = ContentPart::Type::kOther;
            part.raw_json = simdjson::minify(block);
            message.parts.push_back(std::move(part));
        }
    }
    if (has_other) {
        message.has_parts = true;
        message.text.clear();
    } else {
        message.parts.clear();
        message.content_null = message.text.empty() && !message.tool_calls.empty();
    }

    response.finish_reason = FinishReason::kStop;
    if (find_string(root, "stop_reason", text) == Lookup::kOk) {
        response.finish_reason = finish_from_anthropic(text);
    }
    dom::object usage;
    if (find_object(root, "usage", usage) == Lookup::kOk) {
        response.usage = to_usage(read_usage(usage));
    }
    return response;
}

std::string write_anthropic_response(const ChatResponse& response) {
    std::string out;
    JsonWriter w(out);
    const Message& message = response.message;
    w.begin_object();
    w.kv("id", anthropic_message_id(response.id));
    w.kv("type", "message").kv("role", "assistant").kv("model", response.model);
    w.key("content").begin_array();
    if (message.has_parts) {
        for (const ContentPart& part : message.parts) {
            switch (part.type) {
                case ContentPart::Type::kText:
                    if (part.text.empty()) break;
                    w.begin_object().kv("type", "text").kv("text", part.text).end_object();
                    break;
                case ContentPart::Type::kImage:
                    write_image_block(w, part);
                    break;
                case ContentPart::Type::kOther:
                    if (!part.raw_json.empty()) w.raw(part.raw_json);
                    break;
            }
        }
    } else if (!message.text.empty()) {
        w.begin_object().kv("type", "text").kv("text", message.text).end_object();
    }
    for (const ToolCall& call : message.tool_calls) {
        w.begin_object().kv("type", "tool_use").kv("id", sanitize_tool_id(call.id));
        w.kv("name", call.name).key("input");
        write_tool_input(w, call.arguments);
        w.end_object();
    }
    w.end_array();
    w.kv("stop_reason", anthropic_stop_reason(response.finish_reason));
    w.kv_null("stop_sequence");
    w.key("usage");
    write_usage_object(w, response.usage.value_or(Usage{}));
    w.end_object();
    return out;
}

// ---- errors ----

Error parse_anthropic_error(int http_status, std::string_view body) {
    std::string type, message;
    JsonDocument doc;
    if (doc.parse(body) == simdjson::SUCCESS) read_error_body(doc.root(), type, message);
    if (message.empty()) {
        constexpr size_t kMaxSnippet = 200;
        message = "Anthropic upstream returned HTTP " + std::to_string(http_status);
        if (!body.empty()) {
            message.append(": ");
            message.append(body.substr(0, kMaxSnippet));
        }
    }

    // A 4xx outside the common set is classified by Anthropic's error.type.
    const bool common = http_status >= 500 || http_status == 400 || http_status == 401 ||
                        http_status == 403 || http_status == 404 || http_status == 408 ||
                        http_status == 413 || http_status == 422 || http_status == 429;
    if (!common) {
        Error typed = error_from_anthropic_type(type, std::move(message));
        typed.upstream_status = http_status;
        return typed;
    }
    return upstream_status_error(http_status, std::move(message));
}

}  // namespace switchyard
