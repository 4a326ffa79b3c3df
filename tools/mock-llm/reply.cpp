// Deterministic answers: reply text and token counts shared by the OpenAI and Anthropic formats.

#include "reply.hpp"

#include <algorithm>
#include <cstdint>

#include "json_writer.hpp"

namespace mock_llm {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// Appends the words of `text` to `out`, single-spaced, at most `max_words` of them.
int64_t append_words(std::string& out, std::string_view text, int64_t max_words) {
    int64_t n = 0;
    size_t i = 0;
    while (i < text.size() && n < max_words) {
        while (i < text.size() && is_space(text[i]))
            ++i;
        if (i == text.size()) break;
        const size_t start = i;
        while (i < text.size() && !is_space(text[i]))
            ++i;
        if (!out.empty()) out += ' ';
        out.append(text.data() + start, i - start);
        ++n;
    }
    return n;
}

std::string_view truncate_utf8(std::string_view text, size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    size_t end = max_bytes;
    // Step back over continuation bytes (10xxxxxx) so a code point is never split.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return text.substr(0, end);
}

}  // namespace

int64_t count_words(std::string_view text) {
    int64_t n = 0;
    bool in_word = false;
    for (const char c : text) {
        const bool space = is_space(c);
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

int64_t count_prompt_words(std::string_view text) {
    if (text.find("[[mock:") == std::string_view::npos) return count_words(text);
    std::string ignored;
    return count_words(strip_directives(text, ignored));
}

std::string strip_directives(std::string_view text, std::string& specs) {
    static constexpr std::string_view kOpen = "[[mock:";
    static constexpr std::string_view kClose = "]]";
    std::string out;
    size_t pos = 0;
    for (;;) {
        const size_t open = text.find(kOpen, pos);
        if (open == std::string_view::npos) break;
        const size_t close = text.find(kClose, open + kOpen.size());
        if (close == std::string_view::npos) break;
        out.append(text.substr(pos, open - pos));
        std::string_view spec = text.substr(open + kOpen.size(), close - open - kOpen.size());
        while (!spec.empty() && is_space(spec.front()))
            spec.remove_prefix(1);
        while (!spec.empty() && is_space(spec.back()))
            spec.remove_suffix(1);
        if (!spec.empty()) {
            if (!specs.empty()) specs += ',';
            specs.append(spec);
        }
        out += ' ';  // keep the words on either side apart
        pos = close + kClose.size();
    }
    out.append(text.substr(pos));
    return out;
}

std::string clean_user_text(std::string_view raw, std::string& specs) {
    std::string collapsed;
    if (raw.find("[[mock:") != std::string_view::npos) {
        const std::string stripped = strip_directives(raw, specs);
        append_words(collapsed, stripped, INT64_MAX);
    } else {
        append_words(collapsed, raw, INT64_MAX);
    }
    collapsed.resize(truncate_utf8(collapsed, kMaxUserTextBytes).size());
    while (!collapsed.empty() && collapsed.back() == ' ')
        collapsed.pop_back();
    return collapsed;
}

Reply make_reply(const ChatCall& call, std::optional<int64_t> words, uint64_t serial,
                 int64_t created_s) {
    Reply reply;
    reply.serial = serial;
    reply.created_s = created_s;
    reply.model = call.model;
    reply.prompt_tokens = call.prompt_tokens;

    if (!call.tool_name.empty()) {
        reply.tool_name = call.tool_name;
        reply.tool_arguments.reserve(call.user_text.size() + 16);
        reply.tool_arguments = "{\"query\":\"";
        append_json_escaped(reply.tool_arguments, call.user_text);
        reply.tool_arguments += "\"}";
        reply.finish = Finish::kToolCall;
        reply.completion_tokens = count_words(reply.tool_arguments);
        return reply;
    }

    const int64_t limit = call.max_tokens.value_or(INT64_MAX);
    int64_t n = 0;
    if (words) {
        const int64_t wanted = *words;
        n = std::min(wanted, limit);
        reply.text.reserve(static_cast<size_t>(n) * (kFillerWord.size() + 1));
        for (int64_t i = 0; i < n; ++i) {
            if (i > 0) reply.text += ' ';
            reply.text += kFillerWord;
        }
        reply.finish = wanted > limit ? Finish::kLength : Finish::kStop;
    } else {
        std::string full;
        full.reserve(call.model.size() + call.user_text.size() + 24);
        full = "Mock reply from ";
        full += call.model;
        full += ": ";
        full += call.after_tool_result ? std::string_view("tool result received")
                                       : std::string_view(call.user_text);
        reply.text.reserve(full.size());
        n = append_words(reply.text, full, limit);
        reply.finish = count_words(full) > n ? Finish::kLength : Finish::kStop;
    }
    reply.completion_tokens = n;
    return reply;
}

std::array<std::string_view, 3> argument_fragments(std::string_view arguments) {
    // make_reply writes exactly {"query":"..."}; split after the colon and before the brace.
    static constexpr std::string_view kHead = "{\"query\":";
    if (arguments.size() < kHead.size() + 1) return {arguments, {}, {}};
    return {arguments.substr(0, kHead.size()),
            arguments.substr(kHead.size(), arguments.size() - kHead.size() - 1),
            arguments.substr(arguments.size() - 1)};
}

}  // namespace mock_llm
