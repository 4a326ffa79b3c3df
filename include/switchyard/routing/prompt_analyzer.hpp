// PromptAnalyzer: what the router needs to know about a chat request before choosing a
// model: task type (with a score per type), complexity, language of the last user message,
// prompt length, needs (tools, JSON output, long context, vision) and privacy (PII and
// secrets findings, privacy level). Hand-written scanners over the message text, no regex.
// Thread safety: a PromptAnalyzer is immutable after construction; analyze() is const and may
// run on any number of threads at once.
// Failure: none; analysis never throws on the request path (it may throw std::bad_alloc).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "switchyard/core/chat.hpp"
#include "switchyard/routing/pii.hpp"

namespace switchyard::routing {

enum class TaskType : uint8_t {
    kCode,           // write, fix, explain or review code
    kReasoning,      // math, logic, step-by-step problem solving
    kSummarization,  // summarise / TL;DR / key points of a given text
    kExtraction,     // pull fields or entities out of a text, often as JSON
    kTranslation,    // translate into another language
    kCreative,       // poems, stories, lyrics, jokes
    kChat,           // everything else: conversation, short factual questions
};
inline constexpr int kTaskTypeCount = 7;
std::string_view to_string(TaskType task);

enum class Complexity : uint8_t { kLow, kMedium, kHigh };
std::string_view to_string(Complexity complexity);

// Where a finding sits in the request.
enum class TextField : uint8_t {
    kText,           // Message::text
    kPart,           // Message::parts[index].text
    kToolArguments,  // Message::tool_calls[index].arguments
};

struct PromptPiiFinding {
    PiiKind kind = PiiKind::kEmail;
    uint32_t message_index = 0;
    TextField field = TextField::kText;
    uint32_t field_index = 0;  // part or tool call index; 0 for kText
    uint32_t offset = 0;       // bytes into that text
    uint32_t length = 0;
};

struct PromptAnalysis {
    TaskType task = TaskType::kChat;
    // Normalised scores (sum 1) per TaskType, indexed by its value.
    std::array<float, kTaskTypeCount> task_scores{};
    float task_confidence = 0;  // task_scores[task]

    Complexity complexity = Complexity::kLow;
    float complexity_score = 0;  // 0..1; < 0.35 low, < 0.65 medium, else high

    // ISO 639-1 code of the last user message ("und" when undetermined); a static string.
    std::string_view language = "und";
    float language_confidence = 0;  // 0..1

    int64_t prompt_tokens = 0;  // as given, or estimated (bytes / 4) when not given
    bool prompt_tokens_exact = false;

    bool needs_tools = false;         // tools defined, or a tool_choice other than "none"
    bool needs_json = false;          // response_format json_object/json_schema, or asked for
    bool needs_long_context = false;  // prompt_tokens > options.long_context_tokens
    bool needs_vision = false;        // an image part in any message

    PrivacyLevel privacy = PrivacyLevel::kNone;
    uint32_t pii_kinds = 0;  // bit (1 << PiiKind) per kind found
    std::vector<PromptPiiFinding> pii;

    bool has_pii(PiiKind kind) const { return pii_kinds & (1u << static_cast<int>(kind)); }
};

struct AnalyzerOptions {
    int64_t long_context_tokens = 32'000;
    PiiOptions pii;
    // Classification and complexity read at most this many bytes from the head of each text
    // and half as many from its tail: the task is stated at the ends of a prompt, and a pasted
    // document or log in the middle says little more about it. PII scanning reads everything.
    uint32_t classify_window_bytes = 2 * 1024;
    // Language detection reads at most this many bytes of the last user message.
    uint32_t language_window_bytes = 1024;
};

class PromptAnalyzer {
public:
    explicit PromptAnalyzer(AnalyzerOptions options = {});

    // `prompt_tokens` < 0 means unknown: it is estimated from the text length.
    PromptAnalysis analyze(const ChatRequest& request, int64_t prompt_tokens = -1) const;

    const AnalyzerOptions& options() const { return options_; }

private:
    AnalyzerOptions options_;
};

// The language detector on its own: script of the letters, then stop-word voting for Latin
// script (en, de, fr, es, it, pt, nl). Returns an ISO 639-1 code or "und".
struct LanguageGuess {
    std::string_view language = "und";
    float confidence = 0;
};
LanguageGuess detect_language(std::string_view text);

}  // namespace switchyard::routing
