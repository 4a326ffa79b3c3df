// Word splitting shared by the built-in embedders (private to src/rag): Unicode-aware,
// lower-cased, allocation-free after the scratch string has grown.
// Thread safety: pure functions; the caller owns the scratch string.
// Failure: none. Invalid UTF-8 bytes are separators, never an error.
#pragma once

#include <utf8proc.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::rag::detail {

// Letters, marks and numbers (Unicode general categories L*, M*, N*) make words.
inline bool is_word_code_point(int32_t cp) {
    if (cp < 0x80) {
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    }
    const int cat = utf8proc_category(cp);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
}

// Han ideographs and kana are written without spaces: each is a word of its own (as
// BERT's basic tokenizer does), so "東京大学" gives four words rather than one.
inline bool is_ideograph(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x2FA1F);
}

// Apostrophes and hyphens join two word characters ("don't", "e-mail"); the typographic
// apostrophe U+2019 is written as '.
inline bool is_joiner(int32_t cp) {
    return cp == '\'' || cp == 0x2019 || cp == '-';
}

inline void append_utf8(std::string& out, int32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
        return;
    }
    uint8_t buf[4];
    const auto n = utf8proc_encode_char(cp, buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// Calls on_word(std::string_view) for each lower-cased word of `text`, in order. A word is
// a maximal run of word code points, with single joiners kept between two word code points.
// Words longer than max_word_bytes are cut there (the rest starts a new word), which bounds
// the work per word on hostile input such as a megabyte without spaces.
template <class OnWord>
void for_each_word(std::string_view text, std::string& scratch, OnWord&& on_word,
                   size_t max_word_bytes = 256) {
    scratch.clear();
    int32_t pending_joiner = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    const auto* end = p + text.size();
    auto flush = [&] {
        if (!scratch.empty()) on_word(std::string_view(scratch));
        scratch.clear();
        pending_joiner = 0;
    };
    while (p < end) {
        int32_t cp;
        if (*p < 0x80) {
            cp = *p++;
        } else {
            const auto n = utf8proc_iterate(p, end - p, &cp);
            if (n <= 0) {  // invalid byte: a separator
                flush();
                ++p;
                continue;
            }
            p += n;
        }
        if (is_ideograph(cp)) {
            flush();
            append_utf8(scratch, cp);
            flush();
            continue;
        }
        if (is_word_code_point(cp)) {
            if (pending_joiner != 0) {
                scratch.push_back(pending_joiner == '-' ? '-' : '\'');
                pending_joiner = 0;
            }
            if (cp < 0x80) {
                scratch.push_back(
                    static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp));
            } else {
                append_utf8(scratch, utf8proc_tolower(cp));
            }
            if (scratch.size() >= max_word_bytes) flush();
            continue;
        }
        if (is_joiner(cp) && !scratch.empty() && pending_joiner == 0) {
            pending_joiner = cp;
            continue;
        }
        flush();
    }
    flush();
}

}  // namespace switchyard::rag::detail
