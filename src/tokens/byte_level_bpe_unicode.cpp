#include <utf8proc.h>

#include <cstdlib>
#include <cstring>
#include <map>

#include "byte_level_unicode.hpp"

namespace switchyard::tokens::byte_level {
namespace {

enum class Gc : uint8_t { kO, kLu, kLl, kLt, kLm, kLo, kM, kN };

struct Patch {
    char32_t first, last;
    Gc gc;
};

// Code points whose class differs between utf8proc 2.8 (Unicode 15.0) and tiktoken 1.0.22's
// Rust regex tables (Unicode 16.0: 15.1's CJK Extension I, 16.0's new scripts, U+0295 Ll->Lo).
// Derived by comparing utf8proc with Node's \p{..} and probing tiktoken ("X's" splits into X
// and 's only when X is a letter or number); tests/tokens/bytelevel_parity_test.mjs keeps
// samples of them in its corpus.
constexpr Patch kUnicode16[] = {
    {0x295, 0x295, Gc::kLo},     {0x897, 0x897, Gc::kM},      {0x1C89, 0x1C89, Gc::kLu},
    {0x1C8A, 0x1C8A, Gc::kLl},   {0xA7CB, 0xA7CC, Gc::kLu},   {0xA7CD, 0xA7CD, Gc::kLl},
    {0xA7DA, 0xA7DA, Gc::kLu},   {0xA7DB, 0xA7DB, Gc::kLl},   {0xA7DC, 0xA7DC, Gc::kLu},
    {0x105C0, 0x105F3, Gc::kLo}, {0x10D40, 0x10D49, Gc::kN},  {0x10D4A, 0x10D4D, Gc::kLo},
    {0x10D4E, 0x10D4E, Gc::kLm}, {0x10D4F, 0x10D4F, Gc::kLo}, {0x10D50, 0x10D65, Gc::kLu},
    {0x10D69, 0x10D6D, Gc::kM},  {0x10D6F, 0x10D6F, Gc::kLm}, {0x10D70, 0x10D85, Gc::kLl},
    {0x10EC2, 0x10EC4, Gc::kLo}, {0x10EFC, 0x10EFC, Gc::kM},  {0x11380, 0x11389, Gc::kLo},
    {0x1138B, 0x1138B, Gc::kLo}, {0x1138E, 0x1138E, Gc::kLo}, {0x11390, 0x113B5, Gc::kLo},
    {0x113B7, 0x113B7, Gc::kLo}, {0x113B8, 0x113C0, Gc::kM},  {0x113C2, 0x113C2, Gc::kM},
    {0x113C5, 0x113C5, Gc::kM},  {0x113C7, 0x113CA, Gc::kM},  {0x113CC, 0x113D0, Gc::kM},
    {0x113D1, 0x113D1, Gc::kLo}, {0x113D2, 0x113D2, Gc::kM},  {0x113D3, 0x113D3, Gc::kLo},
    {0x113E1, 0x113E2, Gc::kM},  {0x116D0, 0x116E3, Gc::kN},  {0x11BC0, 0x11BE0, Gc::kLo},
    {0x11BF0, 0x11BF9, Gc::kN},  {0x11F5A, 0x11F5A, Gc::kM},  {0x13460, 0x143FA, Gc::kLo},
    {0x16100, 0x1611D, Gc::kLo}, {0x1611E, 0x1612F, Gc::kM},  {0x16130, 0x16139, Gc::kN},
    {0x16D40, 0x16D42, Gc::kLm}, {0x16D43, 0x16D6A, Gc::kLo}, {0x16D6B, 0x16D6C, Gc::kLm},
    {0x16D70, 0x16D79, Gc::kN},  {0x18CFF, 0x18CFF, Gc::kLo}, {0x1CCF0, 0x1CCF9, Gc::kN},
    {0x1E5D0, 0x1E5ED, Gc::kLo}, {0x1E5EE, 0x1E5EF, Gc::kM},  {0x1E5F0, 0x1E5F0, Gc::kLo},
    {0x1E5F1, 0x1E5FA, Gc::kN},  {0x2EBF0, 0x2EE5D, Gc::kLo},
};

// The same against Node 20's V8 (ICU 78, Unicode 17.0), for llama3-tokenizer-js.
constexpr Patch kUnicode17[] = {
    {0x295, 0x295, Gc::kLo},     {0x88F, 0x88F, Gc::kLo},     {0x897, 0x897, Gc::kM},
    {0xC5C, 0xC5C, Gc::kLo},     {0xCDC, 0xCDC, Gc::kLo},     {0x1ACF, 0x1ADD, Gc::kM},
    {0x1AE0, 0x1AEB, Gc::kM},    {0x1C89, 0x1C89, Gc::kLu},   {0x1C8A, 0x1C8A, Gc::kLl},
    {0xA7CB, 0xA7CC, Gc::kLu},   {0xA7CD, 0xA7CD, Gc::kLl},   {0xA7CE, 0xA7CE, Gc::kLu},
    {0xA7CF, 0xA7CF, Gc::kLl},   {0xA7D2, 0xA7D2, Gc::kLu},   {0xA7D4, 0xA7D4, Gc::kLu},
    {0xA7DA, 0xA7DA, Gc::kLu},   {0xA7DB, 0xA7DB, Gc::kLl},   {0xA7DC, 0xA7DC, Gc::kLu},
    {0xA7F1, 0xA7F1, Gc::kLm},   {0x105C0, 0x105F3, Gc::kLo}, {0x10940, 0x10959, Gc::kLo},
    {0x10D40, 0x10D49, Gc::kN},  {0x10D4A, 0x10D4D, Gc::kLo}, {0x10D4E, 0x10D4E, Gc::kLm},
    {0x10D4F, 0x10D4F, Gc::kLo}, {0x10D50, 0x10D65, Gc::kLu}, {0x10D69, 0x10D6D, Gc::kM},
    {0x10D6F, 0x10D6F, Gc::kLm}, {0x10D70, 0x10D85, Gc::kLl}, {0x10EC2, 0x10EC4, Gc::kLo},
    {0x10EC5, 0x10EC5, Gc::kLm}, {0x10EC6, 0x10EC7, Gc::kLo}, {0x10EFA, 0x10EFC, Gc::kM},
    {0x11380, 0x11389, Gc::kLo}, {0x1138B, 0x1138B, Gc::kLo}, {0x1138E, 0x1138E, Gc::kLo},
    {0x11390, 0x113B5, Gc::kLo}, {0x113B7, 0x113B7, Gc::kLo}, {0x113B8, 0x113C0, Gc::kM},
    {0x113C2, 0x113C2, Gc::kM},  {0x113C5, 0x113C5, Gc::kM},  {0x113C7, 0x113CA, Gc::kM},
    {0x113CC, 0x113D0, Gc::kM},  {0x113D1, 0x113D1, Gc::kLo}, {0x113D2, 0x113D2, Gc::kM},
    {0x113D3, 0x113D3, Gc::kLo}, {0x113E1, 0x113E2, Gc::kM},  {0x116D0, 0x116E3, Gc::kN},
    {0x11B60, 0x11B67, Gc::kM},  {0x11BC0, 0x11BE0, Gc::kLo}, {0x11BF0, 0x11BF9, Gc::kN},
    {0x11DB0, 0x11DD8, Gc::kLo}, {0x11DD9, 0x11DD9, Gc::kLm}, {0x11DDA, 0x11DDB, Gc::kLo},
    {0x11DE0, 0x11DE9, Gc::kN},  {0x11F5A, 0x11F5A, Gc::kM},  {0x13460, 0x143FA, Gc::kLo},
    {0x16100, 0x1611D, Gc::kLo}, {0x1611E, 0x1612F, Gc::kM},  {0x16130, 0x16139, Gc::kN},
    {0x16D40, 0x16D42, Gc::kLm}, {0x16D43, 0x16D6A, Gc::kLo}, {0x16D6B, 0x16D6C, Gc::kLm},
    {0x16D70, 0x16D79, Gc::kN},  {0x16EA0, 0x16EB8, Gc::kLu}, {0x16EBB, 0x16ED3, Gc::kLl},
    {0x16FF2, 0x16FF3, Gc::kLm}, {0x16FF4, 0x16FF6, Gc::kN},  {0x187F8, 0x187FF, Gc::kLo},
    {0x18CFF, 0x18CFF, Gc::kLo}, {0x18D09, 0x18D1E, Gc::kLo}, {0x18D80, 0x18DF2, Gc::kLo},
    {0x1CCF0, 0x1CCF9, Gc::kN},  {0x1E5D0, 0x1E5ED, Gc::kLo}, {0x1E5EE, 0x1E5EF, Gc::kM},
    {0x1E5F0, 0x1E5F0, Gc::kLo}, {0x1E5F1, 0x1E5FA, Gc::kN},  {0x1E6C0, 0x1E6DE, Gc::kLo},
    {0x1E6E0, 0x1E6E2, Gc::kLo}, {0x1E6E3, 0x1E6E3, Gc::kM},  {0x1E6E4, 0x1E6E5, Gc::kLo},
    {0x1E6E6, 0x1E6E6, Gc::kM},  {0x1E6E7, 0x1E6ED, Gc::kLo}, {0x1E6EE, 0x1E6EF, Gc::kM},
    {0x1E6F0, 0x1E6F4, Gc::kLo}, {0x1E6F5, 0x1E6F5, Gc::kM},  {0x1E6FE, 0x1E6FE, Gc::kLo},
    {0x1E6FF, 0x1E6FF, Gc::kLm}, {0x2B73A, 0x2B73F, Gc::kLo}, {0x2CEA2, 0x2CEAD, Gc::kLo},
    {0x2EBF0, 0x2EE5D, Gc::kLo}, {0x323B0, 0x33479, Gc::kLo},
};

Gc gc_of(char32_t cp) {
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
        case UTF8PROC_CATEGORY_LU:
            return Gc::kLu;
        case UTF8PROC_CATEGORY_LL:
            return Gc::kLl;
        case UTF8PROC_CATEGORY_LT:
            return Gc::kLt;
        case UTF8PROC_CATEGORY_LM:
            return Gc::kLm;
        case UTF8PROC_CATEGORY_LO:
            return Gc::kLo;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
            return Gc::kM;
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return Gc::kN;
        default:
            return Gc::kO;
    }
}

uint8_t class_of_gc(Gc gc) {
    switch (gc) {
        case Gc::kLu:
        case Gc::kLt:
            return kLetter | kUpperish;
        case Gc::kLl:
            return kLetter | kLowerish;
        case Gc::kLm:
        case Gc::kLo:
            return kLetter | kUpperish | kLowerish;
        case Gc::kM:
            return kUpperish | kLowerish;
        case Gc::kN:
            return kNumber;
        case Gc::kO:
            return 0;
    }
    return 0;
}

bool is_space(char32_t cp, UnicodeProfile profile) {
    if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000) {
        return true;
    }
    return profile == UnicodeProfile::kTiktoken ? cp == 0x85 : cp == 0xFEFF;
}

}  // namespace

ClassTable::ClassTable(UnicodeProfile profile) {
    const Patch* patches = profile == UnicodeProfile::kTiktoken ? kUnicode16 : kUnicode17;
    size_t n_patches =
        profile == UnicodeProfile::kTiktoken ? std::size(kUnicode16) : std::size(kUnicode17);
    std::map<std::basic_string<uint8_t>, uint16_t> seen;
    std::basic_string<uint8_t> block(256, 0);
    size_t next_patch = 0;
    for (char32_t hi = 0; hi < 0x1100; ++hi) {
        for (char32_t lo = 0; lo < 256; ++lo) {
            char32_t cp = (hi << 8) | lo;
            Gc gc = gc_of(cp);
            while (next_patch < n_patches && patches[next_patch].last < cp)
                ++next_patch;
            if (next_patch < n_patches && patches[next_patch].first <= cp) {
                gc = patches[next_patch].gc;
            }
            uint8_t cls = class_of_gc(gc);
            if (is_space(cp, profile)) cls |= kSpace;
            if (cp == '\r' || cp == '\n') cls |= kNewline;
            block[lo] = cls;
        }
        auto [it, inserted] = seen.emplace(block, static_cast<uint16_t>(seen.size()));
        if (inserted) blocks_ += block;
        stage1_[hi] = it->second;
    }
    for (unsigned b = 0; b < 128; ++b)
        ascii_[b] = of(b);
}

const ClassTable& ClassTable::get(UnicodeProfile profile) {
    static const ClassTable tiktoken(UnicodeProfile::kTiktoken);
    static const ClassTable js(UnicodeProfile::kJs);
    return profile == UnicodeProfile::kTiktoken ? tiktoken : js;
}

namespace {

// WHATWG UTF-8 decoder state for one sequence starting at p[0] (>= 0x80): the number of bytes
// that form a valid sequence, or the length of the maximal ill-formed subpart as a negative.
long sequence_length(const unsigned char* p, size_t avail) {
    unsigned char b = p[0];
    size_t need = 0;
    unsigned char lower = 0x80, upper = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lower = 0xA0;
        if (b == 0xED) upper = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lower = 0x90;
        if (b == 0xF4) upper = 0x8F;
    } else {
        return -1;
    }
    for (size_t i = 1; i <= need; ++i) {
        if (i >= avail || p[i] < lower || p[i] > upper) return -static_cast<long>(i);
        lower = 0x80;
        upper = 0xBF;
    }
    return static_cast<long>(need + 1);
}

}  // namespace

size_t valid_utf8_prefix(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    size_t n = text.size(), i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t word;
            std::memcpy(&word, p + i, 8);
            if ((word & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        long len = sequence_length(p + i, n - i);
        if (len < 0) return i;
        i += static_cast<size_t>(len);
    }
    return n;
}

std::string replace_invalid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 16);
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    size_t n = text.size(), i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            out += static_cast<char>(p[i++]);
            continue;
        }
        long len = sequence_length(p + i, n - i);
        if (len > 0) {
            out.append(text.substr(i, static_cast<size_t>(len)));
            i += static_cast<size_t>(len);
        } else {
            out += "\xEF\xBF\xBD";
            i += static_cast<size_t>(-len);
        }
    }
    return out;
}

namespace {

// Compatibility singletons ICU (Unicode 17) has and utf8proc 2.8 lacks; each maps to one
// ASCII character, so replacing before utf8proc's NFKC gives ICU's result.
utf8proc_int32_t newer_compat(utf8proc_int32_t cp, void*) {
    if (cp >= 0x1CCD6 && cp <= 0x1CCEF) return 'A' + (cp - 0x1CCD6);  // outlined A..Z
    if (cp >= 0x1CCF0 && cp <= 0x1CCF9) return '0' + (cp - 0x1CCF0);  // outlined 0..9
    if (cp == 0xA7F1) return 'S';                                     // modifier capital S
    return cp;
}

}  // namespace

namespace {

// True if NFKC leaves the code point alone whatever follows it and whatever starter precedes
// it: no decomposition, combining class 0, in no composition pair, not a conjoining jamo,
// not a character utf8proc does not know but ICU decomposes. Conservative: false is safe.
bool nfkc_inert(char32_t cp) {
    if (cp >= 0x1100 && cp <= 0x11FF) return false;  // conjoining jamo compose algorithmically
    if (newer_compat(static_cast<utf8proc_int32_t>(cp), nullptr) != static_cast<int32_t>(cp)) {
        return false;
    }
    const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
    return p->decomp_seqindex == UINT16_MAX && p->combining_class == 0 &&
           p->comb_index == UINT16_MAX;
}

bool nfkc_segment(std::string_view text, std::string& out) {
    utf8proc_uint8_t* mapped = nullptr;
    auto options =
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    utf8proc_ssize_t n = utf8proc_map_custom(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                             static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                             options, newer_compat, nullptr);
    if (n < 0) return false;
    out.append(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
    std::free(mapped);
    return true;
}

}  // namespace

bool nfkc(std::string_view text, std::string& out) {
    // ASCII and inert characters (nfkc_inert) are starters that compose with nothing, so NFKC
    // works run by run between them: only runs of other characters, with the character before
    // them (a starter they may compose with), go through utf8proc.
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    size_t n = text.size(), i = 0, prev_start = 0, copied_to = 0;
    bool changed = false;
    while (i < n) {
        if (p[i] < 0x80) {
            prev_start = i++;
            continue;
        }
        char32_t cp;
        size_t len = decode_utf8(p + i, cp);
        if (nfkc_inert(cp)) {
            prev_start = i;
            i += len;
            continue;
        }
        size_t start = i > 0 ? prev_start : 0, j = i + len;
        while (j < n && p[j] >= 0x80) {
            size_t len2 = decode_utf8(p + j, cp);
            if (nfkc_inert(cp)) break;
            j += len2;
        }
        if (!changed) out.clear();
        out.append(text.substr(copied_to, start - copied_to));
        if (!nfkc_segment(text.substr(start, j - start), out)) return false;
        copied_to = j;
        changed = true;
        i = j;
    }
    if (changed) out.append(text.substr(copied_to));
    return changed;
}

}  // namespace switchyard::tokens::byte_level
