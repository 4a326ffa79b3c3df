// Anthropic codec, streaming: the encoder (internal chunks -> Anthropic SSE events for a
// client) and the decoder (an Anthropic upstream's SSE events -> internal chunks).
#include <algorithm>
#include <utility>

#include "anthropic_codec_internal.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/sse.hpp"

namespace switchyard {
namespace {

namespace dom = simdjson::dom;
using namespace anthropic_detail;

// Content block indexes past this are treated as malformed (bounds block_to_tool_).
constexpr int64_t kMaxBlocks = int64_t{1} << 16;
// block_to_tool_ values for blocks that are not client tool calls.
constexpr int kTextBlock = -1;
constexpr int kIgnoredBlock = -2;  // thinking, server tool blocks, ...

void emit(std::string& out, std::string_view name, std::string_view json) {
    append_sse_event(out, name, json);
}

Error stream_error(std::string_view event, std::string_view what) {
    Error e;
    e.kind = ErrorKind::kUpstream;
    e.message = "malformed Anthropic stream event";
    if (!event.empty()) {
        e.message.append(" '").append(event).append("'");
    }
    e.message.append(": ").append(what);
    return e;
}

}  // namespace

// ---- encoder ----

void AnthropicStreamEncoder::begin(const StreamMeta& meta, int64_t input_tokens, std::string& out) {
    (void)out;  // message_start waits for the first chunk; see start()
    *this = AnthropicStreamEncoder{};
    model_ = meta.model;
    id_ = anthropic_message_id(meta.id);
    input_tokens_ = input_tokens;
}

void AnthropicStreamEncoder::start(std::string& out) {
    started_ = true;
    std::string json;
    JsonWriter w(json);
    w.begin_object().kv("type", "message_start").key("message").begin_object();
    w.kv("id", id_).kv("type", "message").kv("role", "assistant").kv("model", model_);
    w.key("content").begin_array().end_array();
    w.kv_null("stop_reason").kv_null("stop_sequence");
    w.key("usage").begin_object();
    w.kv("input_tokens", input_tokens_);
    w.kv("cache_creation_input_tokens", int64_t{0});
    w.kv("cache_read_input_tokens", cached_tokens_);
    w.kv("output_tokens", output_tokens_);
    w.end_object().end_object().end_object();
    emit(out, "message_start", json);
    emit(out, "ping", R"({"type":"ping"})");
}

void AnthropicStreamEncoder::take_usage(const Usage& usage) {
    usage_seen_ = true;
    cached_tokens_ = std::max<int64_t>(usage.cached_prompt_tokens, 0);
    input_tokens_ = std::max<int64_t>(usage.prompt_tokens - cached_tokens_, 0);
    output_tokens_ = usage.completion_tokens;
}

void AnthropicStreamEncoder::on_chunk(const ChatChunk& chunk, std::string& out) {
    if (finished_) return;
    if (chunk.usage) take_usage(*chunk.usage);
    if (!started_) start(out);
    std::string json;
    if (!chunk.content.empty()) {
        if (block_ != Block::kText) {
            close_block(out);
            block_ = Block::kText;
            ++block_index_;
            json.clear();
            JsonWriter w(json);
            w.begin_object().kv("type", "content_block_start").kv("index", block_index_);
            w.key("content_block").begin_object().kv("type", "text").kv("text", "");
            w.end_object().end_object();
            emit(out, "content_block_start", json);
        }
        json.clear();
        JsonWriter w(json);
        w.begin_object().kv("type", "content_block_delta").kv("index", block_index_);
        w.key("delta").begin_object().kv("type", "text_delta").kv("text", chunk.content);
        w.end_object().end_object();
        emit(out, "content_block_delta", json);
    }
    for (const ToolCallDelta& delta : chunk.tool_calls) {
        const bool continues = block_ == Block::kToolUse && delta.index == tool_index_ &&
                               (delta.id.empty() || delta.id == tool_id_);
        if (!continues) {
            // A new call has a higher index or carries its id (some servers repeat index 0
            // for every call). Anything else belongs to a call whose block is closed.
            if (delta.index <= tool_index_ && delta.id.empty()) continue;
            close_block(out);
            block_ = Block::kToolUse;
            ++block_index_;
            tool_index_ = delta.index;
            tool_id_ = delta.id.empty()
                           ? "toolu_" + sanitize_tool_id(id_) + "_" + std::to_string(block_index_)
                           : delta.id;
            json.clear();
            JsonWriter w(json);
            w.begin_object().kv("type", "content_block_start").kv("index", block_index_);
            w.key("content_block").begin_object().kv("type", "tool_use");
            w.kv("id", sanitize_tool_id(tool_id_)).kv("name", delta.name);
            w.key("input").begin_object().end_object();
            w.end_object().end_object();
            emit(out, "content_block_start", json);
        }
        if (delta.arguments.empty()) continue;
        json.clear();
        JsonWriter w(json);
        w.begin_object().kv("type", "content_block_delta").kv("index", block_index_);
        w.key("delta").begin_object().kv("type", "input_json_delta");
        w.kv("partial_json", delta.arguments).end_object().end_object();
        emit(out, "content_block_delta", json);
    }
    if (chunk.finish_reason != FinishReason::kNone) finish_ = chunk.finish_reason;
}

void AnthropicStreamEncoder::finish(std::string& out) {
    if (finished_) return;
    if (!started_) start(out);
    close_block(out);
    std::string json;
    JsonWriter w(json);
    w.begin_object().kv("type", "message_delta").key("delta").begin_object();
    w.kv("stop_reason", anthropic_stop_reason(finish_)).kv_null("stop_sequence").end_object();
    w.key("usage").begin_object();
    if (usage_seen_) {
        w.kv("input_tokens", input_tokens_);
        w.kv("cache_creation_input_tokens", int64_t{0});
        w.kv("cache_read_input_tokens", cached_tokens_);
    }
    w.kv("output_tokens", output_tokens_).end_object().end_object();
    emit(out, "message_delta", json);
    emit(out, "message_stop", R"({"type":"message_stop"})");
    finished_ = true;
}

void AnthropicStreamEncoder::fail(const Error& error, std::string& out) {
    if (finished_) return;
    // Before any chunk there is no message to start: the error event stands alone.
    emit(out, "error", to_anthropic_json(error));
    finished_ = true;
}

void AnthropicStreamEncoder::close_block(std::string& out) {
    if (block_ == Block::kNone) return;
    std::string json;
    JsonWriter w(json);
    w.begin_object().kv("type", "content_block_stop").kv("index", block_index_).end_object();
    emit(out, "content_block_stop", json);
    block_ = Block::kNone;
}

// ---- decoder ----

Status AnthropicStreamDecoder::on_event(std::string_view event, std::string_view data,
                                        StreamMeta& meta, std::vector<ChatChunk>& out) {
    if (done_) return Ok{};
    if (event == "ping") return Ok{};

    JsonDocument doc;
    if (auto ec = doc.parse(data); ec != simdjson::SUCCESS) {
        return stream_error(event,
                            std::string("data is not valid JSON: ") + simdjson::error_message(ec));
    }
    dom::object root;
    if (doc.root().get_object().get(root) != simdjson::SUCCESS) {
        return stream_error(event, "data is not a JSON object");
    }
    std::string_view type = event;
    if (find_string(root, "type", type) == Lookup::kWrongType || type.empty()) {
        return stream_error(event, "missing `type`");
    }

    // A chunk to fill; the first one also carries the assistant role.
    auto new_chunk = [&]() -> ChatChunk& {
        out.emplace_back();
        if (!role_sent_) {
            out.back().role = true;
            role_sent_ = true;
        }
        return out.back();
    };
    auto update_usage = [&](dom::object usage_obj) {
        const AnthropicUsage u = read_usage(usage_obj);
        if (u.input_tokens) input_tokens_ = *u.input_tokens;
        if (u.cache_creation_input_tokens) cache_creation_tokens_ = *u.cache_creation_input_tokens;
        if (u.cache_read_input_tokens) cache_read_tokens_ = *u.cache_read_input_tokens;
        if (u.output_tokens) usage_.completion_tokens = *u.output_tokens;
        usage_.prompt_tokens = input_tokens_ + cache_creation_tokens_ + cache_read_tokens_;
        usage_.cached_prompt_tokens = cache_read_tokens_;
    };
    // The `index` of a content block event, bounded.
    auto block_index = [&](int64_t& index) -> Status {
        if (find_int64(root, "index", index) != Lookup::kOk || index < 0 || index >= kMaxBlocks) {
            return stream_error(type, "missing or invalid content block `index`");
        }
        return Ok{};
    };

    std::string_view text;
    if (type == "message_start") {
        dom::object message;
        if (find_object(root, "message", message) != Lookup::kOk) {
            return stream_error(type, "missing `message`");
        }
        if (find_string(message, "id", text) == Lookup::kOk) meta.id.assign(text);
        if (find_string(message, "model", text) == Lookup::kOk) meta.model.assign(text);
        meta.created = unix_now_s();
        dom::object usage_obj;
        if (find_object(message, "usage", usage_obj) == Lookup::kOk) update_usage(usage_obj);
        // The role chunk carries the usage known so far (the prompt's tokens), so a client
        // stream can report them up front; message_stop's usage chunk supersedes it.
        ChatChunk& chunk = role_sent_ ? out.emplace_back() : new_chunk();
        chunk.usage = usage_;
    } else if (type == "content_block_start") {
        int64_t index = 0;
        if (auto s = block_index(index); !s) return s;
        dom::object block;
        std::string_view block_type;
        if (find_object(root, "content_block", block) != Lookup::kOk ||
            find_string(block, "type", block_type) != Lookup::kOk) {
            return stream_error(type, "missing `content_block` or its `type`");
        }
        if (block_to_tool_.size() <= static_cast<size_t>(index)) {
            block_to_tool_.resize(static_cast<size_t>(index) + 1, kIgnoredBlock);
        }
        if (block_type == "text") {
            block_to_tool_[index] = kTextBlock;
            if (find_string(block, "text", text) == Lookup::kOk && !text.empty()) {
                new_chunk().content.assign(text);
            }
        } else if (block_type == "tool_use") {
            const int tool = n_tools_++;
            block_to_tool_[index] = tool;
            ToolCallDelta delta;
            delta.index = tool;
            if (find_string(block, "id", text) == Lookup::kOk) delta.id.assign(text);
            if (find_string(block, "name", text) == Lookup::kOk) delta.name.assign(text);
            // The API starts with "input":{} and streams the text; a complete input here
            // (some proxies send one) is the whole argument text.
            dom::object input;
            if (find_object(block, "input", input) == Lookup::kOk && input.size() > 0) {
                delta.arguments = simdjson::minify(input);
            }
            new_chunk().tool_calls.push_back(std::move(delta));
        } else {
            block_to_tool_[index] = kIgnoredBlock;
        }
    } else if (type == "content_block_delta") {
        int64_t index = 0;
        if (auto s = block_index(index); !s) return s;
        dom::object delta;
        std::string_view delta_type;
        if (find_object(root, "delta", delta) != Lookup::kOk ||
            find_string(delta, "type", delta_type) != Lookup::kOk) {
            return stream_error(type, "missing `delta` or its `type`");
        }
        const int kind =
            static_cast<size_t>(index) < block_to_tool_.size() ? block_to_tool_[index] : kTextBlock;
        if (delta_type == "text_delta") {
            if (find_string(delta, "text", text) != Lookup::kOk) {
                return stream_error(type, "text_delta without `text`");
            }
            if (!text.empty() && kind != kIgnoredBlock) new_chunk().content.assign(text);
        } else if (delta_type == "input_json_delta") {
            if (find_string(delta, "partial_json", text) != Lookup::kOk) {
                return stream_error(type, "input_json_delta without `partial_json`");
            }
            if (kind >= 0 && !text.empty()) {
                ToolCallDelta fragment;
                fragment.index = kind;
                fragment.arguments.assign(text);
                new_chunk().tool_calls.push_back(std::move(fragment));
            }
        }
        // thinking_delta, signature_delta, citations_delta: no internal form.
    } else if (type == "message_delta") {
        dom::object delta;
        if (find_object(root, "delta", delta) == Lookup::kOk &&
            find_string(delta, "stop_reason", text) == Lookup::kOk) {
            finish_ = finish_from_anthropic(text);
            new_chunk().finish_reason = finish_;
        }
        dom::object usage_obj;
        if (find_object(root, "usage", usage_obj) == Lookup::kOk) update_usage(usage_obj);
    } else if (type == "message_stop") {
        done_ = true;
        out.emplace_back().usage = usage_;  // usage-only: never carries the role
    } else if (type == "error") {
        std::string error_type, message;
        if (!read_error_body(doc.root(), error_type, message) || message.empty()) {
            message = "Anthropic stream reported an error without a message";
        }
        return error_from_anthropic_type(error_type, std::move(message));
    }
    // ping, content_block_stop and event types added after this was written: nothing to do.
    return Ok{};
}

}  // namespace switchyard
