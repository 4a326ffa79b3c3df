// Language of a text: the script of its letters first (utf8proc decodes; Unicode blocks name
// the script), then, for Latin script, stop-word voting among en, de, fr, es, it, pt, nl with
// a few diacritics as tie-breakers.
#include <utf8proc.h>

#include <array>
#include <cstring>

#include "lexicon.hpp"
#include "switchyard/routing/prompt_analyzer.hpp"

namespace switchyard::routing {

namespace {

using detail::kLatinLangCount;
using detail::LatinLang;

enum Script { kLatin, kCyrillic, kArabic, kDevanagari, kHan, kKana, kHangul, kOther, kScripts };

bool is_ascii_letter(unsigned char c) {
    return static_cast<unsigned>((c | 0x20) - 'a') < 26u;
}

Script script_of(utf8proc_int32_t cp) {
    if (cp < 0x250) return kLatin;  // caller passes letters only
    if (cp >= 0x400 && cp <= 0x52F) return kCyrillic;
    if ((cp >= 0x600 && cp <= 0x6FF) || (cp >= 0x750 && cp <= 0x77F) ||
        (cp >= 0xFB50 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF))
        return kArabic;
    if (cp >= 0x900 && cp <= 0x97F) return kDevanagari;
    if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
        (cp >= 0xFF66 && cp <= 0xFF9F))
        return kKana;
    if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF) ||
        (cp >= 0x3130 && cp <= 0x318F))
        return kHangul;
    if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FA1F))
        return kHan;
    if (cp >= 0x1E00 && cp <= 0x1EFF) return kLatin;
    return kOther;
}

bool is_letter(utf8proc_int32_t cp) {
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
            return true;
        default:
            return false;
    }
}

// Diacritics that lean towards one language (lower-case code points).
void diacritic_vote(utf8proc_int32_t cp, std::array<float, kLatinLangCount>& votes) {
    switch (cp) {
        case 0xDF:
        case 0xE4:
        case 0xF6:
        case 0xFC:
            votes[detail::kDe] += 0.5f;
            break;  // ß ä ö ü
        case 0xF1:
            votes[detail::kEs] += 0.5f;
            break;  // ñ
        case 0xE7:
        case 0xE8:
        case 0xEA:
        case 0xEB:
        case 0x153:
        case 0xEE:
        case 0xF9:
            votes[detail::kFr] += 0.3f;
            break;  // ç è ê ë œ î ù
        case 0xE3:
        case 0xF5:
            votes[detail::kPt] += 0.5f;
            break;  // ã õ
        case 0xEC:
        case 0xF2:
            votes[detail::kIt] += 0.3f;
            break;  // ì ò
        default:
            break;
    }
}

}  // namespace

namespace detail {

struct LanguageCounts {
    std::array<float, kScripts> letters{};
    std::array<float, kLatinLangCount> votes{};
};

void count_language(std::string_view text, LanguageCounts& counts) {
    const auto* s = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    const auto n = static_cast<utf8proc_ssize_t>(text.size());
    auto& letters = counts.letters;
    auto& votes = counts.votes;
    detail::WordKey word;
    auto flush = [&] {
        if (word.len != 0) {
            if (const auto* e = detail::lex_lookup(word); e && e->langs != 0) {
                const float share = 1.0f / static_cast<float>(__builtin_popcount(e->langs));
                for (int l = 0; l < kLatinLangCount; ++l)
                    if (e->langs & (1u << l)) votes[l] += share;
            }
        }
        word.clear();
    };
    for (utf8proc_ssize_t i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            if (is_ascii_letter(c)) {
                utf8proc_ssize_t j = i + 1;
                while (j < n && is_ascii_letter(s[j]))
                    ++j;
                letters[kLatin] += static_cast<float>(j - i);
                if (word.len == 0 && i + 8 <= n && (j == n || s[j] < 0x80)) {
                    detail::set_ascii_key(s + i, static_cast<size_t>(j - i), word);
                } else {
                    for (auto k = i; k < j; ++k)
                        word.push(static_cast<unsigned char>(s[k] | 0x20));
                }
                i = j;
                continue;
            } else {
                flush();
            }
            ++i;
            continue;
        }
        utf8proc_int32_t cp = -1;
        const utf8proc_ssize_t len = utf8proc_iterate(s + i, n - i, &cp);
        if (len <= 0) {
            flush();
            ++i;
            continue;
        }
        if (cp < 0 || !is_letter(cp)) {
            flush();
            i += len;
            continue;
        }
        const Script sc = script_of(cp);
        letters[sc] += 1;
        if (sc == kLatin) {
            const utf8proc_int32_t lower = utf8proc_tolower(cp);
            diacritic_vote(lower, votes);
            utf8proc_uint8_t buf[4];
            const utf8proc_ssize_t bl = utf8proc_encode_char(lower, buf);
            for (utf8proc_ssize_t k = 0; k < bl; ++k)
                word.push(buf[k]);
        } else {
            flush();
        }
        i += len;
    }
    flush();
}

LanguageGuess decide_language(const LanguageCounts& counts) {
    const auto& letters = counts.letters;
    const auto& votes = counts.votes;
    // Non-Latin scripts: a character of CJK carries about a word, so it counts double.
    const float cjk = 2.0f * (letters[kHan] + letters[kKana]);
    const float hangul = 2.0f * letters[kHangul];
    struct Cand {
        std::string_view lang;
        float weight;
    };
    const Cand cands[] = {{"ru", letters[kCyrillic]},
                          {"ar", letters[kArabic]},
                          {"hi", letters[kDevanagari]},
                          {"zh", cjk},
                          {"ko", hangul}};
    Cand best{"und", 0};
    float non_latin = 0;
    for (const auto& c : cands) {
        non_latin += c.weight;
        if (c.weight > best.weight) best = c;
    }
    const float latin = letters[kLatin];
    const float total = latin + non_latin + letters[kOther];
    if (total < 1) return {};
    if (best.weight > 0 && best.weight >= 0.3f * latin) {
        // Japanese mixes kana with Han; Chinese has none.
        if (best.lang == "zh" && letters[kKana] >= 0.1f * (letters[kHan] + letters[kKana]))
            best.lang = "ja";
        return {best.lang, best.weight / (latin + non_latin)};
    }
    if (letters[kOther] > latin) return {};
    int top = -1;
    float top_v = 0, second_v = 0, sum = 0;
    for (int l = 0; l < kLatinLangCount; ++l) {
        sum += votes[l];
        if (votes[l] > top_v) {
            second_v = top_v;
            top_v = votes[l];
            top = l;
        } else if (votes[l] > second_v) {
            second_v = votes[l];
        }
    }
    if (top < 0 || top_v < 0.5f || top_v <= second_v) return {};
    return {detail::kLatinLangCodes[top], top_v / sum};
}

LanguageGuess detect_language_in(std::span<const std::string_view> segments) {
    LanguageCounts counts;
    for (auto s : segments)
        count_language(s, counts);
    return decide_language(counts);
}

}  // namespace detail

LanguageGuess detect_language(std::string_view text) {
    return detail::detect_language_in({&text, 1});
}

}  // namespace switchyard::routing
