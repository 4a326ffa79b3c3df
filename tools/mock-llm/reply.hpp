// Deterministic answers: what a chat request asks for (ChatCall, filled by either wire format),
// the reply the mock gives (text or tool call, token counts, ids) and the text rules behind it.
// Pure functions over owned values: thread-safe, never fail.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mock_llm {

// The part of a chat request that decides the answer. Owns its strings: nothing here points
// into a JSON parser, so it survives the waits a fault may impose.
struct ChatCall {
    std::string model;
    std::string user_text;           // last user message: directives removed, whitespace collapsed,
                                     // at most kMaxUserTextBytes
    std::string directive;           // fault specs found in [[mock: ...]] directives, comma-joined
    std::string tool_name;           // the tool to call; empty when no tool call is due
    bool after_tool_result = false;  // the last message carries a tool result
    bool stream = false;
    bool include_usage = false;  // OpenAI stream_options.include_usage
    std::optional<int64_t> max_tokens;
    int64_t prompt_tokens = 0;
};

// kContentFilter: the answer was withheld (fault content_filter): no text, no tool call.
enum class Finish { kStop, kLength, kToolCall, kContentFilter };

struct Reply {
    uint64_t serial = 0;  // the <n> in every id of this answer
    int64_t created_s = 0;
    std::string model;
    std::string text;  // words separated by single spaces; empty for a tool call
    std::string tool_name;
    std::string tool_arguments;  // JSON text: {"query":"<user text>"}
    Finish finish = Finish::kStop;
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;

    bool is_tool_call() const { return !tool_name.empty(); }
};

inline constexpr size_t kMaxUserTextBytes = 200;
inline constexpr std::string_view kFillerWord = "lorem";

// Builds the answer. `words` (from --reply-words or the words= fault) replaces the text with
// that many filler words. Completion tokens are the reply's words (for a tool call, the words of
// its arguments text); max_tokens cuts the text to that many words with Finish::kLength.
Reply make_reply(const ChatCall& call, std::optional<int64_t> words, uint64_t serial,
                 int64_t created_s);

// The arguments of a tool call split into three pieces that concatenate back to it:
// `{"query":`, the JSON string, `}`. Streams send them as separate deltas.
std::array<std::string_view, 3> argument_fragments(std::string_view arguments);

// Whitespace-separated words, the mock's token unit.
int64_t count_words(std::string_view text);

// Words of message text as prompt tokens: [[mock: ...]] directives do not count.
int64_t count_prompt_words(std::string_view text);

// Removes every `[[mock: SPEC]]` from `text`; appends each SPEC (comma-separated) to `specs`.
std::string strip_directives(std::string_view text, std::string& specs);

// Turns a raw user message into ChatCall::user_text: directives out, whitespace collapsed to
// single spaces, trimmed, cut to kMaxUserTextBytes on a UTF-8 boundary.
std::string clean_user_text(std::string_view raw, std::string& specs);

}  // namespace mock_llm
