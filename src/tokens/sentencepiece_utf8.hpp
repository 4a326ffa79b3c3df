// UTF-8 decoding exactly as the WHATWG Encoding Standard does it (TextDecoder, and so the
// strings the JavaScript reference tokenizers see): every maximal subpart of an ill-formed
// sequence becomes one U+FFFD and the byte that broke it is decoded afresh.
// Thread safety: pure functions.
// Failure: none; any byte string decodes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace switchyard::tokens::sentencepiece {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point starting at p (p < end, *p >= 0x80 or not) into cp and returns the
// number of bytes consumed (at least 1).
inline size_t decode_utf8(const unsigned char* p, const unsigned char* end, char32_t& cp) {
    const unsigned char b0 = p[0];
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    unsigned need;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;  // surrogates are ill-formed
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        cp = kReplacementChar;
        return 1;
    }
    size_t i = 1;
    for (; need > 0; --need, ++i) {
        if (p + i >= end || p[i] < lo || p[i] > hi) {
            cp = kReplacementChar;
            return i;  // the offending byte (if any) is not consumed
        }
        cp = (cp << 6) | (p[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    return i;
}

// Writes the UTF-8 bytes of cp (a Unicode scalar value) to out; returns how many.
inline size_t encode_utf8(char32_t cp, unsigned char out[4]) {
    if (cp < 0x80) {
        out[0] = static_cast<unsigned char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<unsigned char>(0xC0 | (cp >> 6));
        out[1] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<unsigned char>(0xE0 | (cp >> 12));
        out[1] = static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<unsigned char>(0xF0 | (cp >> 18));
    out[1] = static_cast<unsigned char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
    return 4;
}

}  // namespace switchyard::tokens::sentencepiece
