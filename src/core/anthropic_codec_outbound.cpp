// Anthropic codec, outbound requests: ChatRequest (from either wire format) -> the body for
// POST {base_url}/messages. Builds a list of turns first (views into the request, no copies
// of content), then writes them, so merging and reordering never re-serialise anything.
#include <algorithm>
#include <array>
#include <utility>

#include "anthropic_codec_internal.hpp"
#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace {

namespace dom = simdjson::dom;
using namespace anthropic_detail;

// One content block of an outbound turn; views into the request.
struct Block {
    enum class Kind { kText, kImage, kPdf, kRaw, kToolUse, kToolResult };
    Kind kind = Kind::kText;
    std::string_view text;              // kText: text; kRaw: block JSON
    const ContentPart* part = nullptr;  // kImage
    const ToolCall* call = nullptr;     // kToolUse
    const Message* tool_msg = nullptr;  // kToolResult
    std::string pdf_base64;             // kPdf (converted, so owned)

    static Block of(Kind kind, std::string_view text) {
        Block b;
        b.kind = kind;
        b.text = text;
        return b;
    }
    static Block image(const ContentPart& part) {
        Block b;
        b.kind = Kind::kImage;
        b.part = &part;
        return b;
    }
    static Block tool_use(const ToolCall& call) {
        Block b;
        b.kind = Kind::kToolUse;
        b.call = &call;
        return b;
    }
    static Block tool_result(const Message& msg) {
        Block b;
        b.kind = Kind::kToolResult;
        b.tool_msg = &msg;
        return b;
    }
};

struct Turn {
    bool assistant = false;
    std::vector<Block> blocks;
    // Set while the turn is exactly one message with plain string content: written as
    // "content":"..." (Anthropic's shorthand), which keeps round trips byte-faithful.
    const std::string* shorthand = nullptr;
};

// An OpenAI `file` part carrying a PDF as a data: URI -> the base64 payload; empty when
// the part is anything else.
std::string openai_pdf_data(std::string_view raw_json) {
    constexpr std::string_view kPrefix = "data:application/pdf;base64,";
    JsonDocument doc;
    dom::object part, file;
    std::string_view type, data;
    if (doc.parse(raw_json, JsonDocument::Slot::kFragment) != simdjson::SUCCESS ||
        doc.root().get_object().get(part) != simdjson::SUCCESS ||
        find_string(part, "type", type) != Lookup::kOk || type != "file" ||
        find_object(part, "file", file) != Lookup::kOk ||
        find_string(file, "file_data", data) != Lookup::kOk || !data.starts_with(kPrefix)) {
        return {};
    }
    return std::string(data.substr(kPrefix.size()));
}

// Content parts -> blocks. kOther parts are Anthropic blocks when the request came in as
// Anthropic (written verbatim); from an OpenAI client only PDF `file` parts translate, other
// kinds (input_audio, file ids) have no Anthropic form and are dropped.
void add_part_blocks(const Message& msg, WireFormat format, std::vector<Block>& out) {
    if (!msg.has_parts) {
        if (!msg.text.empty()) out.push_back(Block::of(Block::Kind::kText, msg.text));
        return;
    }
    for (const ContentPart& part : msg.parts) {
        switch (part.type) {
            case ContentPart::Type::kText:
                if (!part.text.empty()) out.push_back(Block::of(Block::Kind::kText, part.text));
                break;
            case ContentPart::Type::kImage:
                out.push_back(Block::image(part));
                break;
            case ContentPart::Type::kOther:
                if (format == WireFormat::kAnthropic) {
                    if (!part.raw_json.empty())
                        out.push_back(Block::of(Block::Kind::kRaw, part.raw_json));
                } else if (auto pdf = openai_pdf_data(part.raw_json); !pdf.empty()) {
                    Block block;
                    block.kind = Block::Kind::kPdf;
                    block.pdf_base64 = std::move(pdf);
                    out.push_back(std::move(block));
                }
                break;
        }
    }
}

std::vector<Turn> build_turns(const ChatRequest& request) {
    std::vector<Turn> turns;
    std::vector<Block> blocks;
    for (const Message& msg : request.messages) {
        if (msg.role == Role::kSystem || msg.role == Role::kDeveloper) continue;
        blocks.clear();
        const bool assistant = msg.role == Role::kAssistant;
        if (msg.role == Role::kTool) {
            blocks.push_back(Block::tool_result(msg));
        } else {
            add_part_blocks(msg, request.format, blocks);
            if (assistant) {
                for (const ToolCall& call : msg.tool_calls) {
                    blocks.push_back(Block::tool_use(call));
                }
            }
        }
        if (blocks.empty()) continue;  // Anthropic rejects empty turns; nothing is lost
        const bool plain = !msg.has_parts && msg.role != Role::kTool && msg.tool_calls.empty();
        if (!turns.empty() && turns.back().assistant == assistant) {
            Turn& turn = turns.back();
            turn.shorthand = nullptr;
            turn.blocks.insert(turn.blocks.end(), std::make_move_iterator(blocks.begin()),
                               std::make_move_iterator(blocks.end()));
        } else {
            Turn turn;
            turn.assistant = assistant;
            turn.blocks = std::move(blocks);
            turn.shorthand = plain ? &msg.text : nullptr;
            turns.push_back(std::move(turn));
        }
    }
    // Anthropic wants a user turn's tool_result blocks before any other block.
    for (Turn& turn : turns) {
        if (turn.assistant) continue;
        std::stable_partition(turn.blocks.begin(), turn.blocks.end(),
                              [](const Block& b) { return b.kind == Block::Kind::kToolResult; });
    }
    return turns;
}

void write_text_block(JsonWriter& w, std::string_view text) {
    w.begin_object().kv("type", "text").kv("text", text).end_object();
}

void write_tool_result(JsonWriter& w, const Message& msg, WireFormat format) {
    w.begin_object().kv("type", "tool_result");
    w.kv("tool_use_id", sanitize_tool_id(msg.tool_call_id));
    if (!msg.has_parts) {
        if (!msg.text.empty()) w.kv("content", msg.text);
    } else {
        w.key("content").begin_array();
        for (const ContentPart& part : msg.parts) {
            if (part.type == ContentPart::Type::kText && !part.text.empty()) {
                write_text_block(w, part.text);
            } else if (part.type == ContentPart::Type::kImage) {
                write_image_block(w, part);
            } else if (part.type == ContentPart::Type::kOther && !part.raw_json.empty() &&
                       format == WireFormat::kAnthropic) {
                w.raw(part.raw_json);  // a document or search_result block as received
            }
        }
        w.end_array();
    }
    if (msg.tool_error) w.kv("is_error", true);
    w.end_object();
}

void write_block(JsonWriter& w, const Block& block, WireFormat format) {
    switch (block.kind) {
        case Block::Kind::kText:
            write_text_block(w, block.text);
            break;
        case Block::Kind::kImage:
            write_image_block(w, *block.part);
            break;
        case Block::Kind::kPdf:
            w.begin_object().kv("type", "document").key("source").begin_object();
            w.kv("type", "base64").kv("media_type", "application/pdf").kv("data", block.pdf_base64);
            w.end_object().end_object();
            break;
        case Block::Kind::kRaw:
            w.raw(block.text);
            break;
        case Block::Kind::kToolUse:
            w.begin_object().kv("type", "tool_use").kv("id", sanitize_tool_id(block.call->id));
            w.kv("name", block.call->name).key("input");
            write_tool_input(w, block.call->arguments);
            w.end_object();
            break;
        case Block::Kind::kToolResult:
            write_tool_result(w, *block.tool_msg, format);
            break;
    }
}

// System and developer messages, wherever they appear, lifted into `system`: a string when
// there is exactly one plain-text one, text blocks otherwise.
void write_system(JsonWriter& w, const ChatRequest& request) {
    const Message* single = nullptr;
    size_t n_blocks = 0;
    bool plain = true;
    for (const Message& msg : request.messages) {
        if (msg.role != Role::kSystem && msg.role != Role::kDeveloper) continue;
        if (msg.has_parts) {
            plain = false;
            for (const ContentPart& p : msg.parts) {
                n_blocks += p.type == ContentPart::Type::kText && !p.text.empty();
            }
        } else if (!msg.text.empty()) {
            ++n_blocks;
            single = &msg;
        }
    }
    if (n_blocks == 0) return;
    if (n_blocks == 1 && plain && single != nullptr) {
        w.kv("system", single->text);
        return;
    }
    w.key("system").begin_array();
    for (const Message& msg : request.messages) {
        if (msg.role != Role::kSystem && msg.role != Role::kDeveloper) continue;
        if (!msg.has_parts) {
            if (!msg.text.empty()) write_text_block(w, msg.text);
            continue;
        }
        for (const ContentPart& p : msg.parts) {
            if (p.type == ContentPart::Type::kText && !p.text.empty()) write_text_block(w, p.text);
        }
    }
    w.end_array();
}

// The built-in tools an Anthropic client sent (kept in passthrough under "tools").
std::string_view server_tools_json(const ChatRequest& request) {
    if (request.format != WireFormat::kAnthropic) return {};
    for (const PassthroughField& f : request.passthrough) {
        if (f.key == "tools") return f.value_json;
    }
    return {};
}

// Returns whether any tool was written.
bool write_tools(JsonWriter& w, const ChatRequest& request) {
    std::string_view server = server_tools_json(request);
    // Strip the brackets of the raw array to splice its elements after the custom tools.
    if (server.size() >= 2 && server.front() == '[' && server.back() == ']') {
        server = server.substr(1, server.size() - 2);
    } else {
        server = {};
    }
    if (request.tools.empty() && server.empty()) return false;
    w.key("tools").begin_array();
    for (const ToolDefinition& tool : request.tools) {
        w.begin_object().kv("name", tool.name);
        if (!tool.description.empty()) w.kv("description", tool.description);
        w.kv_raw("input_schema", tool.parameters_json.empty()
                                     ? std::string_view(R"({"type":"object","properties":{}})")
                                     : std::string_view(tool.parameters_json));
        w.end_object();
    }
    if (!server.empty()) w.raw(server);
    w.end_array();
    return true;
}

// OpenAI tool_choice JSON text -> Anthropic tool_choice; parallel_tool_calls:false ->
// disable_parallel_tool_use. Unknown shapes are left out (Anthropic's default is auto).
void write_tool_choice(JsonWriter& w, const ChatRequest& request) {
    std::string_view type;
    std::string name;
    if (!request.tool_choice_json.empty()) {
        JsonDocument doc;
        if (doc.parse(request.tool_choice_json, JsonDocument::Slot::kFragment) ==
            simdjson::SUCCESS) {
            std::string_view s;
            dom::object obj, function;
            if (doc.root().get_string().get(s) == simdjson::SUCCESS) {
                type = s == "auto" ? "auto" : s == "required" ? "any" : s == "none" ? "none" : "";
            } else if (doc.root().get_object().get(obj) == simdjson::SUCCESS &&
                       find_object(obj, "function", function) == Lookup::kOk &&
                       find_string(function, "name", s) == Lookup::kOk) {
                type = "tool";
                name.assign(s);
            }
        }
    }
    const bool disable_parallel =
        request.parallel_tool_calls.has_value() && !*request.parallel_tool_calls;
    if (type.empty()) {
        if (!disable_parallel) return;
        type = "auto";
    }
    w.key("tool_choice").begin_object().kv("type", type);
    if (type == "tool") w.kv("name", name);
    if (disable_parallel && type != "none") w.kv("disable_parallel_tool_use", true);
    w.end_object();
}

constexpr std::array<std::string_view, 12> kWrittenKeys = {
    "model", "max_tokens", "system", "messages",    "stop_sequences", "temperature",
    "top_p", "metadata",   "tools",  "tool_choice", "stream",         "stream_options"};

}  // namespace

std::string write_anthropic_request(const ChatRequest& request, std::string_view upstream_model,
                                    int64_t default_max_tokens, bool stream) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.kv("model", upstream_model);
    w.kv("max_tokens", request.max_tokens.value_or(default_max_tokens));
    write_system(w, request);

    w.key("messages").begin_array();
    for (const Turn& turn : build_turns(request)) {
        w.begin_object().kv("role", turn.assistant ? "assistant" : "user");
        if (turn.shorthand != nullptr) {
            w.kv("content", *turn.shorthand);
        } else {
            w.key("content").begin_array();
            for (const Block& block : turn.blocks)
                write_block(w, block, request.format);
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();

    if (!request.stop.empty()) {
        w.key("stop_sequences").begin_array();
        for (const std::string& s : request.stop)
            w.value(s);
        w.end_array();
    }
    if (request.temperature) {
        double t = *request.temperature;
        // OpenAI's range is 0..2, Anthropic's 0..1: clamp rather than fail the request.
        if (request.format == WireFormat::kOpenAI) t = std::clamp(t, 0.0, 1.0);
        w.kv("temperature", t);
    }
    if (request.top_p) w.kv("top_p", *request.top_p);
    if (!request.user.empty()) {
        w.key("metadata").begin_object().kv("user_id", request.user).end_object();
    }
    if (write_tools(w, request)) write_tool_choice(w, request);
    if (stream) w.kv("stream", true);

    if (request.format == WireFormat::kAnthropic) {
        for (const PassthroughField& f : request.passthrough) {
            if (std::find(kWrittenKeys.begin(), kWrittenKeys.end(), f.key) != kWrittenKeys.end()) {
                continue;
            }
            w.kv_raw(f.key, f.value_json);
        }
    }
    w.end_object();
    return out;
}

}  // namespace switchyard
