// PromptAnalyzer::analyze: walks the request once. Every text (message text, text parts, tool
// call arguments) is scanned for PII; the last user message (weight 1), system/developer
// messages (0.5) and earlier user turns (0.25) feed the task and complexity features; the last
// user message alone decides the language.
#include "switchyard/routing/prompt_analyzer.hpp"

#include <algorithm>
#include <array>

#include "analyzer_detail.hpp"

namespace switchyard::routing {

std::string_view to_string(TaskType task) {
    switch (task) {
        case TaskType::kCode:
            return "code";
        case TaskType::kReasoning:
            return "reasoning";
        case TaskType::kSummarization:
            return "summarization";
        case TaskType::kExtraction:
            return "extraction";
        case TaskType::kTranslation:
            return "translation";
        case TaskType::kCreative:
            return "creative";
        case TaskType::kChat:
            return "chat";
    }
    return "unknown";
}

std::string_view to_string(Complexity complexity) {
    switch (complexity) {
        case Complexity::kLow:
            return "low";
        case Complexity::kMedium:
            return "medium";
        case Complexity::kHigh:
            return "high";
    }
    return "unknown";
}

namespace {

constexpr float kLastUserWeight = 1.0f;
constexpr float kSystemWeight = 0.5f;
constexpr float kEarlierUserWeight = 0.25f;

float role_weight(const Message& m, bool is_last_user) {
    if (is_last_user) return kLastUserWeight;
    switch (m.role) {
        case Role::kSystem:
        case Role::kDeveloper:
            return kSystemWeight;
        case Role::kUser:
            return kEarlierUserWeight;
        default:
            return 0.0f;
    }
}

// Head and tail windows of a long text, so a pasted log cannot make classification slow.
void accumulate_window(std::string_view text, float weight, bool substrings, uint32_t window,
                       detail::TextFeatures& f) {
    if (text.size() <= window + window / 2) {
        detail::accumulate_features(text, weight, substrings, f);
        return;
    }
    detail::accumulate_features(text.substr(0, window), weight, substrings, f);
    detail::accumulate_features(text.substr(text.size() - window / 2), weight, false, f);
}

// The text between the PII findings: a key's random characters ("sk-...tL8...") must not
// read as words ("tl" for TL;DR), nor a PEM block as code.
void accumulate_windowed(std::string_view text, const std::vector<PiiFinding>& findings,
                         float weight, bool substrings, uint32_t window, detail::TextFeatures& f) {
    if (findings.empty()) {
        accumulate_window(text, weight, substrings, window, f);
        return;
    }
    // The same head and tail windows as accumulate_window, cut around the findings.
    const size_t n = text.size();
    const size_t head_end = std::min<size_t>(n, window);
    const size_t tail_begin = n <= window + window / 2 ? head_end : n - window / 2;
    auto read = [&](size_t from, size_t to) {  // [from, to) minus what lies outside the windows
        const size_t a_end = std::min(to, head_end);
        if (from < a_end)
            detail::accumulate_features(text.substr(from, a_end - from), weight, substrings, f);
        const size_t b_begin = std::max(from, tail_begin);
        if (b_begin < to && b_begin >= head_end)
            detail::accumulate_features(text.substr(b_begin, to - b_begin), weight, false, f);
    };
    size_t from = 0;
    for (const auto& p : findings) {
        if (p.offset > from) read(from, p.offset);
        from = p.offset + p.length;
    }
    if (from < n) read(from, n);
}

// The language sample: the first `window` bytes of the text, minus its PII findings.
struct LanguageSample {
    static constexpr size_t kMaxSegments = 16;
    std::array<std::string_view, kMaxSegments> segments{};
    size_t n = 0;
    size_t bytes = 0;

    void set(std::string_view text, const std::vector<PiiFinding>& findings, size_t window) {
        n = 0;
        bytes = 0;
        size_t from = 0;
        for (const auto& p : findings) {
            if (n + 1 == kMaxSegments || p.offset >= window) break;
            if (p.offset > from) add(text.substr(from, p.offset - from), window);
            from = p.offset + p.length;
        }
        if (from < text.size()) add(text.substr(from), window);
    }
    void add(std::string_view s, size_t window) {
        if (bytes >= window) return;
        s = s.substr(0, window - bytes);
        segments[n++] = s;
        bytes += s.size();
    }
};

bool json_response_format(const ChatRequest& r) {
    for (const auto& p : r.passthrough) {
        if (p.key != "response_format" && p.key != "output_format" && p.key != "format") continue;
        const std::string_view v = p.value_json;
        if (v.find("json_object") != std::string_view::npos ||
            v.find("json_schema") != std::string_view::npos || v == "\"json\"")
            return true;
    }
    return false;
}

}  // namespace

PromptAnalyzer::PromptAnalyzer(AnalyzerOptions options) : options_(std::move(options)) {
    (void)detail::lex_lookup(
        std::string_view("the"));  // build the lexicon now, not on the first request
}

PromptAnalysis PromptAnalyzer::analyze(const ChatRequest& request, int64_t prompt_tokens) const {
    PromptAnalysis a;
    const auto& msgs = request.messages;
    size_t last_user = msgs.size();
    for (size_t i = msgs.size(); i-- > 0;)
        if (msgs[i].role == Role::kUser) {
            last_user = i;
            break;
        }

    thread_local std::vector<PiiFinding> scratch;
    detail::TextFeatures f;
    size_t text_bytes = 0;
    auto scan = [&](std::string_view text, uint32_t message, TextField field, uint32_t index) {
        text_bytes += text.size();
        scratch.clear();
        scan_pii(text, options_.pii, scratch);
        for (const auto& p : scratch) {
            a.pii.push_back({p.kind, message, field, index, p.offset, p.length});
            a.pii_kinds |= 1u << static_cast<int>(p.kind);
            a.privacy = std::max(a.privacy, options_.pii.level_of[static_cast<int>(p.kind)]);
        }
    };

    LanguageSample language;
    size_t language_text_bytes = 0;
    for (size_t i = 0; i < msgs.size(); ++i) {
        const Message& m = msgs[i];
        const bool is_last = i == last_user;
        const float w = role_weight(m, is_last);
        const auto mi = static_cast<uint32_t>(i);
        if (!m.has_parts) {
            scan(m.text, mi, TextField::kText, 0);
            if (w > 0)
                accumulate_windowed(m.text, scratch, w, is_last, options_.classify_window_bytes, f);
            if (is_last) language.set(m.text, scratch, options_.language_window_bytes);
        } else {
            for (size_t p = 0; p < m.parts.size(); ++p) {
                const ContentPart& part = m.parts[p];
                if (part.type == ContentPart::Type::kImage) {
                    a.needs_vision = true;
                    continue;
                }
                if (part.type != ContentPart::Type::kText) continue;
                scan(part.text, mi, TextField::kPart, static_cast<uint32_t>(p));
                if (w > 0)
                    accumulate_windowed(part.text, scratch, w, is_last,
                                        options_.classify_window_bytes, f);
                if (is_last && language_text_bytes < part.text.size()) {  // the longest part
                    language_text_bytes = part.text.size();
                    language.set(part.text, scratch, options_.language_window_bytes);
                }
            }
        }
        for (size_t t = 0; t < m.tool_calls.size(); ++t)
            scan(m.tool_calls[t].arguments, mi, TextField::kToolArguments,
                 static_cast<uint32_t>(t));
    }

    // Task: normalised scores, highest wins (ties go to the earlier TaskType).
    const auto scores = detail::score_tasks(f);
    float sum = 0;
    for (float s : scores)
        sum += s;
    int best = static_cast<int>(TaskType::kChat);
    for (int t = 0; t < kTaskTypeCount; ++t) {
        a.task_scores[t] = scores[t] / sum;  // sum >= the chat baseline, never 0
        if (scores[t] > scores[best]) best = t;
    }
    a.task = static_cast<TaskType>(best);
    a.task_confidence = a.task_scores[best];

    a.prompt_tokens_exact = prompt_tokens >= 0;
    a.prompt_tokens =
        prompt_tokens >= 0 ? prompt_tokens : static_cast<int64_t>((text_bytes + 3) / 4);

    a.complexity_score = detail::complexity_score(f, a.prompt_tokens, a.task);
    a.complexity = a.complexity_score < 0.35f   ? Complexity::kLow
                   : a.complexity_score < 0.65f ? Complexity::kMedium
                                                : Complexity::kHigh;

    const LanguageGuess lang = detail::detect_language_in({language.segments.data(), language.n});
    a.language = lang.language;
    a.language_confidence = lang.confidence;

    a.needs_tools = !request.tools.empty() ||
                    (!request.tool_choice_json.empty() && request.tool_choice_json != "\"none\"");
    a.needs_json = json_response_format(request) ||
                   (f.cue(detail::Cue::kJsonWord) > 0 &&
                    (f.cue(detail::Cue::kFormatWord) > 0 || f.cue(detail::Cue::kExtractWord) > 0));
    a.needs_long_context = a.prompt_tokens > options_.long_context_tokens;
    return a;
}

}  // namespace switchyard::routing
