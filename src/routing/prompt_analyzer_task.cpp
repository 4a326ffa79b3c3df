// Task classification features and scores. One pass per text: words are lower-cased into a
// small buffer and looked up in the lexicon; everything else is byte shapes (code fences,
// code-like line endings, punctuation density, arithmetic between digits, math symbols).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "analyzer_detail.hpp"

namespace switchyard::routing::detail {

namespace {

inline bool ascii_alpha(unsigned char c) {
    return static_cast<unsigned>((c | 0x20) - 'a') < 26u;
}
inline bool ascii_digit(unsigned char c) {
    return static_cast<unsigned>(c - '0') < 10u;
}

// What a UTF-8 sequence starting at s[i] is, for word splitting.
struct SeqInfo {
    uint8_t len;
    bool word;  // part of a word (letters of any script)
    bool math;  // a math symbol
};

SeqInfo classify_seq(const unsigned char* s, size_t n, size_t i) {
    const unsigned char c = s[i];
    const unsigned char c1 = i + 1 < n ? s[i + 1] : 0;
    if (c < 0xC2) return {1, false, false};  // continuation or invalid byte
    if (c < 0xE0) {
        if (c == 0xC2) return {2, false, c1 == 0xB2 || c1 == 0xB3 || c1 == 0xB1};  // ² ³ ±
        if (c == 0xC3 && (c1 == 0x97 || c1 == 0xB7)) return {2, false, true};      // × ÷
        return {2, true, false};
    }
    if (c < 0xF0) {
        if (c == 0xE2) return {3, false, c1 >= 0x88 && c1 <= 0x8B};  // U+2200-22FF operators
        if (c == 0xE3 && c1 == 0x80) return {3, false, false};       // CJK punctuation
        if (c == 0xEF && (c1 == 0xBC || c1 == 0xBD)) return {3, false, false};  // full width
        return {3, true, false};
    }
    return {4, false, false};  // emoji and other astral symbols
}

// Lower-cases one character of a word into `out`; returns bytes written.
size_t fold_into(const unsigned char* p, uint8_t len, char* out) {
    if (len == 1) {
        out[0] = static_cast<char>(p[0] | 0x20);
        return 1;
    }
    unsigned char a = p[0], b = p[1];
    if (len == 2) {
        if (a == 0xC3 && b >= 0x80 && b <= 0x9E) {
            b = static_cast<unsigned char>(b + 0x20);  // Latin-1 capitals
        } else if (a == 0xD0 && b >= 0x90 && b <= 0x9F) {
            b = static_cast<unsigned char>(b + 0x20);  // А-П
        } else if (a == 0xD0 && b >= 0xA0 && b <= 0xAF) {
            a = 0xD1;  // Р-Я
            b = static_cast<unsigned char>(b - 0x20);
        } else if (a == 0xD0 && b == 0x81) {
            a = 0xD1;  // Ё
            b = 0x91;
        }
    }
    out[0] = static_cast<char>(a);
    out[1] = static_cast<char>(b);
    for (uint8_t k = 2; k < len; ++k)
        out[k] = static_cast<char>(p[k]);
    return len;
}

bool is_code_punct(unsigned char c) {
    switch (c) {
        case '{':
        case '}':
        case '(':
        case ')':
        case '[':
        case ']':
        case ';':
        case '=':
        case '<':
        case '>':
            return true;
        default:
            return false;
    }
}

// "3 + 4", "x^2", "2*x", "a = b", "7 - 2" (spaced minus only: dates use bare '-').
bool math_expression_at(const unsigned char* s, size_t n, size_t i) {
    size_t j = i + 1;
    bool spaced = false;
    if (j < n && s[j] == ' ') {
        ++j;
        spaced = true;
    }
    if (j >= n) return false;
    const unsigned char op = s[j];
    const bool strong = op == '+' || op == '*' || op == '^' || op == '=';
    const bool weak = (op == '-' || op == '/') && spaced;
    if (!strong && !weak) return false;
    ++j;
    if (j < n && s[j] == ' ') ++j;
    return j < n && (ascii_digit(s[j]) || ascii_alpha(s[j]) || s[j] == '(');
}

}  // namespace

void accumulate_features(std::string_view text, float w, bool substrings, TextFeatures& f) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    WordKey word;
    bool in_fence = false;
    bool line_start = true;
    unsigned char last_nonspace = '\n';
    size_t line_indent = 0;
    bool counting_indent = true;
    float code_punct = 0, math_exprs = 0, math_symbols = 0, questions = 0, list_items = 0;
    float fences = 0, code_lines = 0, lines = 0;
    std::array<float, kCueCount> cues{};

    // Two-word cues: the previous word's first bytes.
    constexpr uint64_t kHow = 0x776F68, kIn = 0x6E69, kInto = 0x6F746E69, kTo = 0x6F74;
    uint64_t prev = 0;
    float how_many = 0, in_language = 0, code_tokens = 0;
    auto flush_word = [&] {
        if (word.len != 0) {
            if (const LexEntry* e = lex_lookup(word); e && e->cue != Cue::kNone) {
                cues[static_cast<int>(e->cue)] += 1;
                if (e->cue == Cue::kLanguageName && (prev == kIn || prev == kInto || prev == kTo))
                    in_language += 1;
            }
            if (prev == kHow && word.len == 4 &&
                (word.head == 0x796E616D || word.head == 0x6863756D))  // many, much
                how_many += 1;
            prev = word.len <= 8 ? word.head : 0;
        }
        word.clear();
    };
    auto end_line = [&] {
        lines += 1;
        if (in_fence) {
            code_lines += 1;
        } else if (last_nonspace == ';' || last_nonspace == '{' || last_nonspace == '}' ||
                   (line_indent >= 4 && last_nonspace != '\n')) {
            code_lines += 1;
        }
        line_start = true;
        last_nonspace = '\n';
        line_indent = 0;
        counting_indent = true;
    };

    for (size_t i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            if (ascii_alpha(c)) {
                line_start = false;
                counting_indent = false;
                size_t j = i + 1;
                while (j < n && ascii_alpha(s[j]))
                    ++j;
                last_nonspace = s[j - 1];
                const size_t len = j - i;
                if (word.len == 0 && i + 8 <= n && (j == n || s[j] < 0x80)) {
                    // A whole ASCII word: its key straight from two unaligned loads.
                    set_ascii_key(s + i, len, word);
                } else {
                    for (size_t k = i; k < j; ++k)
                        word.push(static_cast<unsigned char>(s[k] | 0x20));
                }
                i = j;
                continue;
            }
            flush_word();
            if (c == '\n') {
                end_line();
                ++i;
                continue;
            }
            if (c == ' ' || c == '\t') {
                if (counting_indent) line_indent += c == '\t' ? 4 : 1;
                ++i;
                continue;
            }
            counting_indent = false;
            if (line_start) {
                line_start = false;
                if ((c == '-' || c == '*') && i + 1 < n && s[i + 1] == ' ') list_items += 1;
                if (ascii_digit(c)) {
                    size_t j = i;
                    while (j < n && ascii_digit(s[j]))
                        ++j;
                    if (j < n && j - i <= 2 && (s[j] == '.' || s[j] == ')') && j + 1 < n &&
                        s[j + 1] == ' ')
                        list_items += 1;
                }
            }
            if (c == '`' && i + 2 < n && s[i + 1] == '`' && s[i + 2] == '`') {
                fences += 1;
                in_fence = !in_fence;
                i += 3;
                last_nonspace = '`';
                continue;
            }
            if (c == '(' && i > 0 && ascii_alpha(s[i - 1])) code_tokens += 1;  // name(
            if ((c == '%' && i > 0 && ascii_digit(s[i - 1])) ||
                ((c == '$' || c == '=') && i + 1 < n && ascii_digit(s[i + 1])))
                math_exprs += 1;  // 20%, $25
            if (ascii_digit(c) || c == ')') {
                if (math_expression_at(s, n, i)) math_exprs += 1;
            } else if (c == '?') {
                questions += 1;
            } else if (is_code_punct(c)) {
                code_punct += 1;
            }
            last_nonspace = c;
            ++i;
            continue;
        }
        const SeqInfo q = classify_seq(s, n, i);
        const uint8_t len = static_cast<uint8_t>(std::min<size_t>(q.len, n - i));
        line_start = false;
        counting_indent = false;
        last_nonspace = 'x';
        if (q.word) {
            char folded[4];
            const size_t fl = fold_into(s + i, len, folded);
            for (size_t k = 0; k < fl; ++k)
                word.push(static_cast<unsigned char>(folded[k]));
        } else {
            flush_word();
            if (q.math) math_symbols += 1;
        }
        i += len;
    }
    flush_word();
    if (last_nonspace != '\n') end_line();

    if (substrings) {
        bool wide = false;  // any CJK, Hangul, Devanagari or Arabic byte at all?
        for (size_t i = 0; i < n && !wide; ++i)
            wide = s[i] >= 0xD8 && s[i] < 0xF0;
        if (wide)
            for (const auto& sc : substring_cues())
                if (text.find(sc.text) != std::string_view::npos)
                    cues[static_cast<int>(sc.cue)] += 1;
    }

    for (int k = 0; k < kCueCount; ++k)
        f.cues[k] += w * cues[k];
    f.fences += w * fences;
    f.code_lines += w * code_lines;
    f.code_punct += w * code_punct;
    f.math_exprs += w * math_exprs;
    f.math_symbols += w * math_symbols;
    f.questions += w * questions;
    f.list_items += w * list_items;
    f.code_tokens += w * code_tokens;
    f.how_many += w * how_many;
    f.in_language += w * in_language;
    f.lines += w * lines;
    f.bytes += w * static_cast<float>(n);
}

std::array<float, kTaskTypeCount> score_tasks(const TextFeatures& f) {
    std::array<float, kTaskTypeCount> s{};
    const float density = f.bytes > 0 ? f.code_punct / f.bytes : 0;
    auto& code = s[static_cast<int>(TaskType::kCode)];
    code = 2.5f * f.cue(Cue::kCodeWord) + 0.6f * std::min(f.cue(Cue::kCodeKeyword), 5.0f) +
           3.0f * std::min(f.fences, 2.0f) + 0.4f * std::min(f.code_lines, 10.0f) +
           0.6f * std::min(f.code_tokens, 5.0f) + (density > 0.05f && f.bytes >= 60 ? 2.0f : 0.0f);

    s[static_cast<int>(TaskType::kReasoning)] =
        2.0f * f.cue(Cue::kMathWord) + 0.8f * f.cue(Cue::kReasonWord) +
        1.0f * std::min(f.math_exprs, 4.0f) + 1.5f * std::min(f.math_symbols, 3.0f) +
        0.4f * std::min(f.cue(Cue::kStepWord), 3.0f) + 2.0f * std::min(f.how_many, 1.0f);

    const float summary = f.cue(Cue::kSummaryWord);
    s[static_cast<int>(TaskType::kSummarization)] =
        3.5f * summary + (summary > 0 && f.bytes > 600 ? 1.0f : 0.0f);

    const float extract = f.cue(Cue::kExtractWord);
    s[static_cast<int>(TaskType::kExtraction)] =
        3.0f * extract + (extract > 0 ? 1.5f : 0.3f) * std::min(f.cue(Cue::kJsonWord), 2.0f) +
        // "reply with a JSON array only": structured output from given text
        (f.cue(Cue::kJsonWord) > 0 && f.cue(Cue::kFormatWord) > 0 ? 1.5f : 0.0f);

    const float translate = f.cue(Cue::kTranslateWord);
    s[static_cast<int>(TaskType::kTranslation)] =
        4.0f * translate +
        (translate > 0 ? 1.0f : 0.3f) * std::min(f.cue(Cue::kLanguageName), 2.0f) +
        2.5f * std::min(f.in_language, 1.0f);  // "... in Portuguese?"

    s[static_cast<int>(TaskType::kCreative)] = 3.0f * f.cue(Cue::kCreativeWord);

    s[static_cast<int>(TaskType::kChat)] =
        1.2f + 1.5f * std::min(f.cue(Cue::kGreeting), 2.0f) + (f.bytes < 80 ? 0.5f : 0.0f);
    return s;
}

float complexity_score(const TextFeatures& f, int64_t tokens, TaskType task) {
    auto clamp01 = [](float v) { return std::clamp(v, 0.0f, 1.0f); };
    const float t = static_cast<float>(std::max<int64_t>(tokens, 1));
    const float length = clamp01(std::log2(t / 40.0f) / std::log2(4000.0f / 40.0f));
    const float steps = clamp01((f.cue(Cue::kStepWord) + f.list_items) / 6.0f);
    const float constraints = clamp01(f.cue(Cue::kConstraint) / 5.0f);
    const float questions = clamp01((f.questions - 1.0f) / 4.0f);
    const float code = clamp01(f.code_lines / 60.0f);
    const float bonus = task == TaskType::kReasoning || task == TaskType::kCode ? 0.1f : 0.0f;
    return clamp01(0.35f * length + 0.25f * steps + 0.2f * constraints + 0.1f * questions +
                   0.1f * code + bonus);
}

}  // namespace switchyard::routing::detail
