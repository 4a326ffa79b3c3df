// Internal to the prompt analyser: the per-text feature pass (words through the lexicon,
// code and math shapes, lines, questions) and the functions that turn features into task
// scores and a complexity score.
// Thread safety: pure functions. Failure: none.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "lexicon.hpp"
#include "switchyard/routing/prompt_analyzer.hpp"

namespace switchyard::routing::detail {

// Sums over the texts read, each scaled by its weight (the message's role weight).
struct TextFeatures {
    std::array<float, kCueCount> cues{};
    float fences = 0;        // ``` markers
    float code_lines = 0;    // lines inside fences, or ending in ; { }, or indented code
    float code_punct = 0;    // { } ( ) [ ] ; = < > bytes
    float math_exprs = 0;    // "3 + 4", "x^2", "a = b"
    float math_symbols = 0;  // ∑ ∫ √ ≤ ≠ × ÷ ² and friends
    float questions = 0;     // '?'
    float list_items = 0;    // lines starting "1." "2)" "- " "* "
    float code_tokens = 0;   // obj.method( and name( with no space: call syntax
    float how_many = 0;      // "how many" / "how much"
    float in_language = 0;   // "in French", "into German", "to Spanish": a target language
    float lines = 0;
    float bytes = 0;
    float cue(Cue c) const { return cues[static_cast<int>(c)]; }
};

// Reads `text` (the caller windows it) into `f`, scaled by `weight`. `substrings` also runs
// the CJK/Arabic/Hindi substring cues (only worth it on the last user message).
void accumulate_features(std::string_view text, float weight, bool substrings, TextFeatures& f);

std::array<float, kTaskTypeCount> score_tasks(const TextFeatures& f);

// Language over several pieces of one text (the gaps between its PII findings).
LanguageGuess detect_language_in(std::span<const std::string_view> segments);

float complexity_score(const TextFeatures& f, int64_t tokens, TaskType task);

}  // namespace switchyard::routing::detail
