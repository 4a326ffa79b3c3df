// Unicode services of the byte-level BPE tokenizers: per-code-point classes for the
// pre-tokenisers, the WHATWG replacement of invalid UTF-8 and Claude's NFKC.
// Thread safety: the class tables are built once per process (thread-safe static init) and
// immutable afterwards; the functions are pure.
// Failure: none; any byte string is accepted.
//
// Classes come from utf8proc (Unicode 15.0 in Debian 12's 2.8) patched to the Unicode version
// each reference's regex engine uses: tiktoken 1.0.22's Rust regex knows Unicode 16.0, Node
// 20's V8/ICU 78 knows Unicode 17.0. The patches (code points assigned or re-categorised after
// 15.0) are in byte_level_bpe_unicode.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::tokens::byte_level {

// Bits of a code point's class.
enum CharClass : uint8_t {
    kLetter = 1,     // \p{L}
    kNumber = 2,     // \p{N}
    kSpace = 4,      // \s of the reference's engine
    kNewline = 8,    // \r or \n
    kUpperish = 16,  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k)
    kLowerish = 32,  // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k)
};

// Which regex engine a vocabulary's reference runs.
enum class UnicodeProfile : uint32_t {
    kTiktoken = 1,  // Rust regex: Unicode 16.0; \s = White_Space (has U+0085, not U+FEFF)
    kJs = 2,        // ECMAScript /u: Unicode 17.0; \s = WhiteSpace+LineTerminator (U+FEFF)
};

class ClassTable {
public:
    static const ClassTable& get(UnicodeProfile profile);

    uint8_t ascii(unsigned char byte) const { return ascii_[byte]; }
    uint8_t of(char32_t cp) const {
        return cp < 0x110000 ? blocks_[(size_t{stage1_[cp >> 8]} << 8) | (cp & 0xFF)] : 0;
    }

private:
    explicit ClassTable(UnicodeProfile profile);

    uint8_t ascii_[256] = {};
    uint16_t stage1_[0x1100] = {};
    std::basic_string<uint8_t> blocks_;
};

// Decodes one code point of valid UTF-8 at p (p < end); returns its length in bytes.
inline size_t decode_utf8(const unsigned char* p, char32_t& cp) {
    unsigned char b = p[0];
    if (b < 0x80) {
        cp = b;
        return 1;
    }
    if (b < 0xE0) {
        cp = (char32_t{b & 0x1Fu} << 6) | (p[1] & 0x3Fu);
        return 2;
    }
    if (b < 0xF0) {
        cp = (char32_t{b & 0x0Fu} << 12) | (char32_t{p[1] & 0x3Fu} << 6) | (p[2] & 0x3Fu);
        return 3;
    }
    cp = (char32_t{b & 0x07u} << 18) | (char32_t{p[1] & 0x3Fu} << 12) |
         (char32_t{p[2] & 0x3Fu} << 6) | (p[3] & 0x3Fu);
    return 4;
}

// Length of the valid UTF-8 prefix of `text` (text.size() when all of it is valid).
size_t valid_utf8_prefix(std::string_view text);

// `text` with every invalid sequence replaced by U+FFFD as the WHATWG Encoding Standard's
// decoder (TextDecoder, and wasm-bindgen's string passing) does: one U+FFFD per maximal
// subpart of an ill-formed sequence.
std::string replace_invalid_utf8(std::string_view text);

// NFKC as String.prototype.normalize('NFKC') in Node 20 (ICU, Unicode 17) for all code points
// utf8proc knows, plus the Unicode 16/17 compatibility singletons (outlined letters and digits,
// U+A7F1). Known divergence: canonical compositions and combining classes of characters
// assigned after Unicode 15.0 (20 composites in new scripts) are not applied. `text` must be
// valid UTF-8. Returns true with the normalised text in `out` when normalisation changes (or
// may change) the text; false when `text` is already NFKC (or utf8proc fails), `out` then
// unspecified. ASCII text and text without decomposable or combining characters is checked
// without calling utf8proc.
bool nfkc(std::string_view text, std::string& out);

}  // namespace switchyard::tokens::byte_level
