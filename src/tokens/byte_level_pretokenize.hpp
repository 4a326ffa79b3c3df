// Hand-written pre-tokenisers: each splits text into the pieces its reference regex would match
// (leftmost-first alternation, greedy quantifiers with backtracking), without a regex engine.
// The patterns, as the reference packages ship them:
//   cl100k (tiktoken 1.0.22): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//                             ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   llama3 (llama3-tokenizer-js, JS /u): the same with (?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|
//                             [lL][lL]|[dD])) for the contractions
//   o200k (tiktoken 1.0.22):  [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}
//                             \p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?
//                             [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|
//                             't|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|
//                             \s*[\r\n]+|\s+(?!\S)|\s+
//   gpt2 (claude.json):       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|
//                             \s+(?!\S)|\s+
// (?i) in Rust's regex folds 's' with U+017F (long s); JS's [sS] does not.
// Thread safety: pure functions over immutable tables. Failure: none; input must be valid UTF-8.
#pragma once

#include <emmintrin.h>
#include <cstddef>

#include <cstdint>
#include <string_view>

#include "byte_level_unicode.hpp"
#include "byte_level_vocab.hpp"

namespace switchyard::tokens::byte_level {

class PieceScanner {
public:
    PieceScanner(std::string_view text, const ClassTable& table)
        : p_(reinterpret_cast<const unsigned char*>(text.data())), n_(text.size()), table_(table) {}

    size_t size() const { return n_; }
    const unsigned char* data() const { return p_; }

    // The piece that starts at `i` (< size()) ends at the returned offset.
    template <Pattern P>
    size_t next(size_t i) const {
        if constexpr (P == Pattern::kO200k) {
            return next_o200k(i);
        } else if constexpr (P == Pattern::kGpt2) {
            return next_gpt2(i);
        } else {
            return next_cl100k(i, P == Pattern::kCl100k);
        }
    }

private:
    static constexpr uint8_t kWordish = kLetter | kNumber | kSpace;

    uint8_t cls(size_t i, size_t& len) const {
        unsigned char b = p_[i];
        if (b < 0x80) {
            len = 1;
            return table_.ascii(b);
        }
        char32_t cp;
        len = decode_utf8(p_ + i, cp);
        return table_.of(cp);
    }
    uint8_t cls(size_t i) const {
        size_t len;
        return cls(i, len);
    }
    static bool is_other(uint8_t c) { return (c & kWordish) == 0; }
    // [^\r\n\p{L}\p{N}]
    static bool is_prefix(uint8_t c) { return (c & (kLetter | kNumber | kNewline)) == 0; }

    // End of the run of characters from i whose class has any bit of `mask`. ASCII letters and
    // digits go 16 bytes at a time (SSE2: a branch per run, not per byte).
    size_t run(size_t i, uint8_t mask) const {
        if (mask == kLetter || mask == kLowerish || mask == kUpperish || mask == kNumber) {
            i = ascii_run(i, mask);
        }
        while (i < n_) {
            unsigned char b = p_[i];
            if (b < 0x80) {
                if ((table_.ascii(b) & mask) == 0) break;
                ++i;
                continue;
            }
            size_t len;
            if ((cls(i, len) & mask) == 0) break;
            i += len;
        }
        return i;
    }
    // Skips the ASCII bytes from i that belong to the run (mask: letters, lower, upper or
    // digits); stops at the first other byte, or a non-ASCII one, or near the end.
    size_t ascii_run(size_t i, uint8_t mask) const {
        char lo = mask == kNumber ? '0' : mask == kUpperish ? 'A' : 'a';
        char hi = mask == kNumber ? '9' : mask == kUpperish ? 'Z' : 'z';
        const __m128i below = _mm_set1_epi8(static_cast<char>(lo - 1));
        const __m128i above = _mm_set1_epi8(static_cast<char>(hi + 1));
        const __m128i fold = _mm_set1_epi8(mask == kLetter ? 0x20 : 0);
        while (i + 16 <= n_) {
            __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + i));
            v = _mm_or_si128(v, fold);
            __m128i in = _mm_and_si128(_mm_cmpgt_epi8(v, below), _mm_cmpgt_epi8(above, v));
            unsigned out = ~static_cast<unsigned>(_mm_movemask_epi8(in)) & 0xFFFFu;
            if (out != 0) return i + static_cast<size_t>(__builtin_ctz(out));
            i += 16;
        }
        return i;
    }

    size_t run_other(size_t i) const {
        while (i < n_) {
            size_t len;
            if (!is_other(cls(i, len))) break;
            i += len;
        }
        return i;
    }

    // Length of a contraction suffix after the apostrophe at i - 1 ('s 't 're 've 'm 'll 'd),
    // or 0. fold: case-insensitive; long_s: also U+017F for s (Rust's (?i)).
    size_t contraction(size_t i, bool fold, bool long_s) const {
        if (i >= n_) return 0;
        auto lower = [&](unsigned char c) -> unsigned char {
            return fold && c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c;
        };
        unsigned char c = lower(p_[i]);
        if (c == 's' || c == 't' || c == 'm' || c == 'd') return 1;
        if (long_s && p_[i] == 0xC5 && i + 1 < n_ && p_[i + 1] == 0xBF) return 2;
        if (i + 1 >= n_) return 0;
        unsigned char d = lower(p_[i + 1]);
        if ((c == 'r' && d == 'e') || (c == 'v' && d == 'e') || (c == 'l' && d == 'l')) return 2;
        return 0;
    }

    // \s*[\r\n]+ | \s+(?!\S) | \s+ at i, where the character at i is whitespace.
    size_t whitespace(size_t i, size_t first_len) const {
        size_t j = i, last_start = i, after_newline = 0;
        while (j < n_) {
            size_t len;
            uint8_t c = cls(j, len);
            if ((c & kSpace) == 0) break;
            if (c & kNewline) after_newline = j + len;
            last_start = j;
            j += len;
        }
        if (after_newline != 0) return after_newline;
        if (j == n_) return j;
        if (last_start > i) return last_start;
        return i + first_len;
    }

    size_t next_cl100k(size_t i, bool long_s) const {
        if (p_[i] == '\'') {
            if (size_t k = contraction(i + 1, true, long_s)) return i + 1 + k;
        }
        size_t len0;
        uint8_t c0 = cls(i, len0);
        if (c0 & kLetter) return run(i + len0, kLetter);
        size_t i1 = i + len0;
        uint8_t c1 = 0;
        size_t len1 = 0;
        if (i1 < n_) c1 = cls(i1, len1);
        if (is_prefix(c0) && i1 < n_ && (c1 & kLetter)) return run(i1 + len1, kLetter);
        if (c0 & kNumber) {
            size_t j = i1;
            for (int k = 1; k < 3 && j < n_; ++k) {
                size_t len;
                if ((cls(j, len) & kNumber) == 0) break;
                j += len;
            }
            return j;
        }
        size_t start = 0;
        if (is_other(c0)) {
            start = i1;
        } else if (p_[i] == ' ' && i1 < n_ && is_other(c1)) {
            start = i1 + len1;
        }
        if (start != 0) {
            size_t j = run_other(start);
            while (j < n_ && (p_[j] == '\r' || p_[j] == '\n'))
                ++j;
            return j;
        }
        return whitespace(i, len0);
    }

    size_t next_gpt2(size_t i) const {
        if (p_[i] == '\'') {
            if (size_t k = contraction(i + 1, false, false)) return i + 1 + k;
        }
        size_t len0;
        uint8_t c0 = cls(i, len0);
        size_t j = i, lenj = len0;
        uint8_t cj = c0;
        if (p_[i] == ' ' && i + 1 < n_) {
            size_t len1;
            uint8_t c1 = cls(i + 1, len1);
            if ((c1 & kSpace) == 0) {
                j = i + 1;
                lenj = len1;
                cj = c1;
            }
        }
        if (cj & kLetter) return run(j + lenj, kLetter);
        if (cj & kNumber) return run(j + lenj, kNumber);
        if (is_other(cj)) return run_other(j + lenj);
        // \s+(?!\S) | \s+
        size_t k = i, last_start = i;
        while (k < n_) {
            size_t len;
            if ((cls(k, len) & kSpace) == 0) break;
            last_start = k;
            k += len;
        }
        if (k == n_) return k;
        if (last_start > i) return last_start;
        return i + len0;
    }

    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ at s, or npos.
    size_t o200k_lower_word(size_t s) const {
        size_t k = s, last_lowerish_end = npos;
        uint8_t c = 0;
        size_t len = 0;
        while (k < n_) {
            c = cls(k, len);
            if ((c & kUpperish) == 0) break;
            if (c & kLowerish) last_lowerish_end = k + len;
            k += len;
        }
        if (k < n_ && (c & kLowerish)) return run(k + len, kLowerish);
        return last_lowerish_end;
    }
    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* at s, or npos.
    size_t o200k_upper_word(size_t s) const {
        if (s >= n_ || (cls(s) & kUpperish) == 0) return npos;
        return run(run(s, kUpperish), kLowerish);
    }
    size_t with_contraction(size_t e) const {
        if (e < n_ && p_[e] == '\'') {
            if (size_t k = contraction(e + 1, true, true)) return e + 1 + k;
        }
        return e;
    }

    size_t next_o200k(size_t i) const {
        size_t len0;
        uint8_t c0 = cls(i, len0);
        size_t i1 = i + len0;
        bool prefix = is_prefix(c0) && i1 < n_;
        if (prefix) {
            if (size_t e = o200k_lower_word(i1); e != npos) return with_contraction(e);
        }
        if (size_t e = o200k_lower_word(i); e != npos) return with_contraction(e);
        if (prefix) {
            if (size_t e = o200k_upper_word(i1); e != npos) return with_contraction(e);
        }
        if (size_t e = o200k_upper_word(i); e != npos) return with_contraction(e);
        if (c0 & kNumber) {
            size_t j = i1;
            for (int k = 1; k < 3 && j < n_; ++k) {
                size_t len;
                if ((cls(j, len) & kNumber) == 0) break;
                j += len;
            }
            return j;
        }
        size_t start = 0;
        if (is_other(c0)) {
            start = i1;
        } else if (p_[i] == ' ' && i1 < n_) {
            size_t len1;
            if (is_other(cls(i1, len1))) start = i1 + len1;
        }
        if (start != 0) {
            size_t j = run_other(start);
            while (j < n_ && (p_[j] == '\r' || p_[j] == '\n' || p_[j] == '/'))
                ++j;
            return j;
        }
        return whitespace(i, len0);
    }

    static constexpr size_t npos = ~size_t{0};

    const unsigned char* p_;
    size_t n_;
    const ClassTable& table_;
};

}  // namespace switchyard::tokens::byte_level
