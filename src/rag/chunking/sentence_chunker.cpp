#include "switchyard/rag/chunking/sentence_chunker.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace switchyard::rag {

namespace {

// Lowercase, without the final '.': never end a sentence (a name or a number follows).
constexpr std::array<std::string_view, 36> kTitles = {
    "mr",  "mrs",  "ms",  "dr",  "prof", "sr",  "jr",   "st",     "rev", "gen", "capt", "col",
    "lt",  "sgt",  "gov", "sen", "rep",  "hon", "pres", "mt",     "ft",  "no",  "nos",  "vol",
    "fig", "figs", "p",   "pp",  "ch",   "sec", "art",  "approx", "ca",  "cf",  "vs",   "eq"};
// Abbreviations that end a sentence only when an uppercase word follows them... unless they
// are these, which are almost always mid-sentence.
constexpr std::array<std::string_view, 8> kMidSentence = {"e.g", "i.e",   "etc",  "viz",
                                                          "al",  "et al", "incl", "resp"};

bool is_terminator(char32_t c) {
    switch (c) {
        case '.':
        case '!':
        case '?':
        case 0x2026:  // …
        case 0x203C:  // ‼
        case 0x2047:  // ⁇
        case 0x2048:  // ⁈
        case 0x2049:  // ⁉
        case 0x061F:  // ؟ Arabic question mark
        case 0x06D4:  // ۔ Arabic full stop
        case 0x0964:  // । Devanagari danda
        case 0x0965:  // ॥
            return true;
        default:
            return false;
    }
}

// CJK terminators end a sentence without any space after them.
bool is_cjk_terminator(char32_t c) {
    return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF61 || c == 0xFF0E;
}

bool is_closing(char32_t c) {
    switch (c) {
        case '"':
        case '\'':
        case ')':
        case ']':
        case '}':
        case 0x2019:  // ’
        case 0x201D:  // ”
        case 0x00BB:  // »
        case 0x203A:  // ›
        case 0x300D:  // 」
        case 0x300F:  // 』
        case 0x3009:  // 〉
        case 0x300B:  // 》
        case 0x3011:  // 】
        case 0xFF09:  // ）
        case 0xFF02:  // ＂
            return true;
        default:
            return false;
    }
}

bool is_opening(char32_t c) {
    switch (c) {
        case '"':
        case '\'':
        case '(':
        case '[':
        case 0x2018:
        case 0x201C:
        case 0x00AB:
        case 0x300C:
        case 0x300E:
            return true;
        default:
            return false;
    }
}

bool is_lower(char32_t c) {
    return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_LL;
}

bool is_letter(char32_t c) {
    const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

// The word before the '.' at `dot` (back to whitespace or an opening quote), lowercased ASCII.
std::string word_before(std::string_view text, size_t begin, size_t dot) {
    size_t start = dot;
    while (start > begin) {
        size_t len = 0;
        const char32_t c = decode_utf8_before(text, start, len);
        if (is_space(c) || is_opening(c)) break;
        start -= len;
    }
    std::string word(text.substr(start, dot - start));
    for (char& c : word)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return word;
}

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view word) {
    return std::find(list.begin(), list.end(), word) != list.end();
}

// Whether the '.' at `dot` (followed by whitespace, then `next` or the end) ends a sentence.
bool period_ends_sentence(std::string_view text, size_t begin, size_t dot, char32_t next,
                          bool at_end) {
    if (at_end) return true;
    const std::string word = word_before(text, begin, dot);
    if (word.empty()) return true;
    if (contains(kTitles, word)) return false;
    if (contains(kMidSentence, word)) return false;
    // A single letter ("J. Smith") or dotted initials ("U.S.", "a.m.").
    size_t len = 0;
    const char32_t first = decode_utf8(word, 0, len);
    if (len == word.size() && is_letter(first)) return false;
    if (word.find('.') != std::string::npos) {
        bool initials = true;
        for (size_t i = 0; i < word.size(); ++i) {
            const bool letter = std::isalpha(static_cast<unsigned char>(word[i])) != 0;
            if ((i % 2 == 0) != letter || (i % 2 == 1 && word[i] != '.')) initials = false;
        }
        if (initials) return false;
    }
    // "approx. five", "... and so on": a lowercase word goes on the same sentence.
    return !is_lower(next);
}

}  // namespace

std::vector<TextSpan> split_sentences(std::string_view text, TextSpan span) {
    std::vector<TextSpan> out;
    size_t start = span.begin;
    size_t pos = span.begin;
    auto next_non_space = [&](size_t from, size_t& at) -> char32_t {
        at = from;
        while (at < span.end) {
            size_t len = 0;
            const char32_t c = decode_utf8(text, at, len);
            if (!is_space(c)) return c;
            at += len;
        }
        return 0;
    };
    while (pos < span.end) {
        size_t len = 0;
        const auto b = static_cast<unsigned char>(text[pos]);
        const char32_t c = b < 0x80 ? b : decode_utf8(text, pos, len);
        if (b < 0x80) len = 1;
        // A blank line ends a sentence (headings, list items, paragraphs without a period).
        if (c == '\n') {
            size_t at = pos + 1;
            while (at < span.end && (text[at] == ' ' || text[at] == '\t' || text[at] == '\r')) {
                ++at;
            }
            if (at < span.end && text[at] == '\n') {
                size_t end = 0;
                next_non_space(at, end);
                out.push_back({start, end});
                start = pos = end;
                continue;
            }
            pos += len;
            continue;
        }
        const bool cjk = is_cjk_terminator(c);
        if (!cjk && !is_terminator(c)) {
            pos += len;
            continue;
        }
        // Runs of terminators ("?!", "...") and closing quotes/brackets stay with the sentence.
        const size_t terminator = pos;
        size_t after = pos + len;
        while (after < span.end) {
            const char32_t d = decode_utf8(text, after, len);
            if (!is_terminator(d) && !is_cjk_terminator(d) && !is_closing(d)) break;
            after += len;
        }
        if (after >= span.end) break;
        const char32_t following = decode_utf8(text, after, len);
        if (!cjk && !is_space(following)) {
            pos = after;  // 3.14, e.g.x, "U.S.A": no space, no end
            continue;
        }
        size_t next_at = 0;
        const char32_t next = next_non_space(after, next_at);
        const bool at_end = next_at >= span.end;
        bool ends = true;
        if (c == '.' && !cjk) {
            ends = period_ends_sentence(text, start, terminator, next, at_end);
        } else if (!cjk && !at_end && is_lower(next) && (c == '!' || c == '?' || c == 0x2026)) {
            ends = false;  // "Really?" she asked.
        }
        if (!ends) {
            pos = after;
            continue;
        }
        out.push_back({start, next_at});
        start = pos = next_at;
    }
    if (start < span.end) out.push_back({start, span.end});
    return out;
}

SentenceChunker::SentenceChunker(ChunkSize size) : size_(size), sizer_(size) {}

Result<std::vector<Chunk>> SentenceChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    const std::string_view text = document.text;
    ChunkEmitter emitter(document, size_);
    for (const TextSpan& span : pack_units(text, split_sentences(text, {0, text.size()}), sizer_)) {
        emitter.emit(span);
    }
    return emitter.take();
}

}  // namespace switchyard::rag
