// Internal to the prompt analyser: one hash table of lower-cased words giving, per word, the
// Latin-script languages it is a stop word of and the task/complexity cue it carries, plus
// substring cues for scripts written without spaces (CJK) or with clitics (Arabic, Hindi).
// Thread safety: built once (function-local static), read-only afterwards.
// Failure: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace switchyard::routing::detail {

// Latin-script languages voted by stop words, as bits of LexEntry::langs.
enum LatinLang : uint8_t { kEn, kDe, kFr, kEs, kIt, kPt, kNl, kLatinLangCount };
inline constexpr std::string_view kLatinLangCodes[kLatinLangCount] = {"en", "de", "fr", "es",
                                                                      "it", "pt", "nl"};

enum class Cue : uint8_t {
    kNone,
    kCodeWord,     // "code", "function", "python", "bug", "refactor"
    kCodeKeyword,  // syntax: "def", "return", "const", "import", "void"
    kMathWord,     // "solve", "equation", "integral", "probability"
    kReasonWord,   // "why", "prove", "logic", "puzzle", "reason"
    kStepWord,     // "step", "then", "first", "finally": multi-step cues
    kConstraint,   // "must", "exactly", "without", "only", "ensure"
    kSummaryWord,  // "summarize", "tldr", "zusammenfassen", "résume"
    kExtractWord,  // "extract", "parse", "list all", "fields"
    kJsonWord,     // "json", "csv", "yaml"
    kFormatWord,   // "respond", "return", "output", "format"
    kTranslateWord,
    kLanguageName,  // "french", "deutsch", "español"
    kCreativeWord,  // "poem", "story", "haiku", "lyrics"
    kGreeting,      // "hi", "hello", "thanks"
    kCount,
};
inline constexpr int kCueCount = static_cast<int>(Cue::kCount);

struct LexEntry {
    uint8_t langs = 0;  // bit (1 << LatinLang)
    Cue cue = Cue::kNone;
};

// Lower-cased word (ASCII, Latin-1 and Cyrillic capitals folded by the caller) to entry;
// nullptr when unknown. Words longer than kMaxWordBytes are never in the table.
inline constexpr size_t kMaxWordBytes = 32;

// A word being read, byte by byte. Its first and last eight bytes are kept in registers as it
// grows, so a lookup never reloads bytes just stored (a store-forwarding stall per word).
struct WordKey {
    uint64_t head = 0;  // bytes 0..7, zero padded
    uint64_t tail = 0;  // the last eight bytes (meaningful when len > 8)
    uint32_t len = 0;   // may exceed kMaxWordBytes: such words are never looked up
    char bytes[kMaxWordBytes];

    void push(unsigned char b) {
        if (len < 8) head |= uint64_t{b} << (8 * len);
        tail = (tail >> 8) | (uint64_t{b} << 56);
        if (len < kMaxWordBytes) bytes[len] = static_cast<char>(b);
        ++len;
    }
    void clear() {
        head = 0;
        tail = 0;
        len = 0;
    }
};
// The lexicon key of an ASCII word of `len` letters at `p` (8 bytes readable at p), lower-cased.
inline void set_ascii_key(const unsigned char* p, size_t len, WordKey& w) {
    constexpr uint64_t kLower = 0x2020202020202020ull;
    uint64_t head;
    std::memcpy(&head, p, 8);
    head |= kLower;
    if (len < 8) head &= (uint64_t{1} << (8 * len)) - 1;
    uint64_t tail = 0;
    if (len > 8) {
        std::memcpy(&tail, p + len - 8, 8);
        tail |= kLower;
    }
    w.head = head;
    w.tail = tail;
    w.len = static_cast<uint32_t>(len);
    if (len > 16 && len <= kMaxWordBytes)
        for (size_t k = 0; k < len; ++k)
            w.bytes[k] = static_cast<char>(p[k] | 0x20);
}

const LexEntry* lex_lookup(const WordKey& word);
const LexEntry* lex_lookup(std::string_view lowered_word);  // slower; for tests and warm-up

struct SubstringCue {
    std::string_view text;
    Cue cue;
};
std::span<const SubstringCue> substring_cues();

}  // namespace switchyard::routing::detail
