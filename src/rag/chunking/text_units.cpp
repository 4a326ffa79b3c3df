#include "switchyard/rag/chunking/text_units.hpp"

#include <utf8proc.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdexcept>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::rag {

namespace {

constexpr size_t kGraphemeContextCodePoints = 64;

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// Byte length of the valid sequence at `pos`, or 0 when it is not valid UTF-8.
size_t valid_sequence_length(std::string_view text, size_t pos) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    const unsigned char c = s[pos];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return pos + 1 < n && is_continuation(s[pos + 1]) ? 2 : 0;
    if (c < 0xF0) {
        if (pos + 2 >= n || !is_continuation(s[pos + 1]) || !is_continuation(s[pos + 2])) return 0;
        if (c == 0xE0 && s[pos + 1] < 0xA0) return 0;   // overlong
        if (c == 0xED && s[pos + 1] >= 0xA0) return 0;  // surrogate
        return 3;
    }
    if (c < 0xF5) {
        if (pos + 3 >= n || !is_continuation(s[pos + 1]) || !is_continuation(s[pos + 2]) ||
            !is_continuation(s[pos + 3])) {
            return 0;
        }
        if (c == 0xF0 && s[pos + 1] < 0x90) return 0;   // overlong
        if (c == 0xF4 && s[pos + 1] >= 0x90) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

int grapheme_class(char32_t c) {
    return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->boundclass;
}

// Classes after which (or before which) a grapheme cluster can continue across several code
// points; a code point of any other class starts a safe context for the stateful rules.
bool is_context_class(int boundclass) {
    return boundclass == UTF8PROC_BOUNDCLASS_EXTEND || boundclass == UTF8PROC_BOUNDCLASS_ZWJ ||
           boundclass == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR ||
           boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
           boundclass == UTF8PROC_BOUNDCLASS_SPACINGMARK || boundclass == UTF8PROC_BOUNDCLASS_E_ZWG;
}

std::string_view extension_of(std::string_view source) {
    const size_t slash = source.find_last_of('/');
    const size_t dot = source.find_last_of('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return {};
    }
    return source.substr(dot + 1);
}

}  // namespace

size_t first_invalid_utf8(std::string_view text) {
    size_t pos = 0;
    const size_t n = text.size();
    while (pos < n) {
        // ASCII fast path, sixteen (SSE2) then eight bytes at a time.
#if defined(__SSE2__)
        while (pos + 16 <= n) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + pos));
            const auto high = static_cast<unsigned>(_mm_movemask_epi8(v));
            if (high != 0) {
                pos += static_cast<size_t>(__builtin_ctz(high));
                break;
            }
            pos += 16;
        }
#endif
        while (pos + 8 <= n) {
            uint64_t word;
            std::copy_n(text.data() + pos, 8, reinterpret_cast<char*>(&word));
            if ((word & 0x8080808080808080ULL) != 0) break;
            pos += 8;
        }
        if (pos >= n) break;
        const size_t len = valid_sequence_length(text, pos);
        if (len == 0) return pos;
        pos += len;
    }
    return n;
}

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t len = valid_sequence_length(text, pos);
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++pos;
            // One replacement per maximal invalid run of continuation bytes.
            while (pos < text.size() && is_continuation(static_cast<unsigned char>(text[pos]))) {
                ++pos;
            }
            continue;
        }
        out.append(text.data() + pos, len);
        pos += len;
    }
    return out;
}

Status check_utf8(const Document& document) {
    const size_t bad = first_invalid_utf8(document.text);
    if (bad == document.text.size()) return Ok{};
    return Error::invalid_request(
        fmt::format("document '{}' is not valid UTF-8 (first invalid byte at offset {}); "
                    "sanitize it (invalid sequences become U+FFFD) before chunking",
                    document.id, bad),
        "text", "invalid_utf8");
}

Status validate(const ChunkSize& size) {
    if (size.size == 0) {
        return Error::invalid_request("chunk_size must be at least 1", "chunk_size");
    }
    if (size.overlap >= size.size) {
        return Error::invalid_request(
            fmt::format("chunk_overlap ({}) must be smaller than chunk_size ({})", size.overlap,
                        size.size),
            "chunk_overlap");
    }
    if (size.unit == SizeUnit::kTokens && size.tokenizer == nullptr) {
        return Error::invalid_request("chunk sizes in tokens need a tokenizer (a model)",
                                      "chunk_size");
    }
    return Ok{};
}

char32_t decode_utf8(std::string_view text, size_t pos, size_t& len) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + pos;
    const unsigned char c = s[0];
    if (c < 0x80) {
        len = 1;
        return c;
    }
    if (c < 0xE0) {
        len = 2;
        return (char32_t(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (c < 0xF0) {
        len = 3;
        return (char32_t(c & 0x0F) << 12) | (char32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    len = 4;
    return (char32_t(c & 0x07) << 18) | (char32_t(s[1] & 0x3F) << 12) |
           (char32_t(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

char32_t decode_utf8_before(std::string_view text, size_t pos, size_t& len) {
    size_t start = pos - 1;
    while (start > 0 && is_continuation(static_cast<unsigned char>(text[start])))
        --start;
    return decode_utf8(text, start, len);
}

bool is_space(char32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
    switch (c) {
        case 0x00A0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
        case 0xFEFF:
            return true;
        default:
            return c >= 0x2000 && c <= 0x200A;
    }
}

TextSpan trim(std::string_view text, TextSpan span) {
    size_t len = 0;
    while (span.begin < span.end) {
        const unsigned char c = static_cast<unsigned char>(text[span.begin]);
        if (c < 0x80) {
            if (!is_space(c)) break;
            ++span.begin;
            continue;
        }
        if (!is_space(decode_utf8(text, span.begin, len))) break;
        span.begin += len;
    }
    while (span.end > span.begin) {
        const unsigned char c = static_cast<unsigned char>(text[span.end - 1]);
        if (c < 0x80) {
            if (!is_space(c)) break;
            --span.end;
            continue;
        }
        if (!is_space(decode_utf8_before(text, span.end, len))) break;
        span.end -= len;
    }
    return span;
}

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// How many bytes have bit 7 set in a mask of bit 7s (a multiply sums the bytes; no popcnt).
inline size_t count_high_bits(uint64_t mask) {
    return static_cast<size_t>(((mask >> 7) * 0x0101010101010101ULL) >> 56);
}

// Continuation bytes (10xxxxxx) in eight bytes: bit 7 set, bit 6 clear.
inline size_t continuation_bytes(uint64_t w) {
    return count_high_bits(w & ~(w << 1) & kHighBits);
}

// Lead bytes of four-byte sequences (11110xxx) in eight bytes.
inline size_t four_byte_leads(uint64_t w) {
    return count_high_bits(w & (w << 1) & (w << 2) & (w << 3) & ~(w << 4) & kHighBits);
}

inline uint64_t load8(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

}  // namespace

#if defined(__x86_64__)
namespace {

// Continuation bytes in the first `blocks` 32-byte blocks at p (AVX2).
__attribute__((target("avx2"))) size_t continuation_bytes_avx2(const char* p, size_t blocks) {
    const __m256i threshold = _mm256_set1_epi8(-64);
    size_t continuation = 0;
    size_t b = 0;
    while (b < blocks) {
        // Up to 255 blocks per 8-bit lane before the lanes are summed.
        __m256i lanes = _mm256_setzero_si256();
        for (size_t k = 0; k < 255 && b < blocks; ++k, ++b) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * b));
            lanes = _mm256_sub_epi8(lanes, _mm256_cmpgt_epi8(threshold, v));
        }
        const __m256i sums = _mm256_sad_epu8(lanes, _mm256_setzero_si256());
        continuation += static_cast<size_t>(_mm256_extract_epi64(sums, 0)) +
                        static_cast<size_t>(_mm256_extract_epi64(sums, 1)) +
                        static_cast<size_t>(_mm256_extract_epi64(sums, 2)) +
                        static_cast<size_t>(_mm256_extract_epi64(sums, 3));
    }
    return continuation;
}

// AVX2 is chosen at run time (the build targets baseline x86-64).
const bool kHaveAvx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));

}  // namespace
#endif

size_t count_code_points(std::string_view text) {
    // Code points = bytes - continuation bytes (0x80..0xBF, below -64 as signed bytes).
    const char* p = text.data();
    const size_t n = text.size();
    size_t i = 0;
    size_t continuation = 0;
#if defined(__x86_64__)
    if (kHaveAvx2 && n >= 64) {
        continuation = continuation_bytes_avx2(p, n / 32);
        i = n / 32 * 32;
    }
#endif
#if defined(__SSE2__)
    const __m128i threshold = _mm_set1_epi8(-64);
    while (i + 16 <= n) {
        // Up to 255 blocks per 8-bit lane before the lanes are summed.
        __m128i lanes = _mm_setzero_si128();
        for (size_t k = 0; k < 255 && i + 16 <= n; ++k, i += 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            lanes = _mm_sub_epi8(lanes, _mm_cmpgt_epi8(threshold, v));
        }
        const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
        continuation += static_cast<size_t>(_mm_cvtsi128_si32(sums)) +
                        static_cast<size_t>(_mm_extract_epi16(sums, 4));
    }
#endif
    for (; i + 8 <= n; i += 8)
        continuation += continuation_bytes(load8(p + i));
    for (; i < n; ++i)
        continuation += is_continuation(static_cast<unsigned char>(p[i]));
    return n - continuation;
}

size_t count_utf16_units(std::string_view text) {
    const char* p = text.data();
    const size_t n = text.size();
    size_t i = 0;
    size_t four = 0;
    for (; i + 8 <= n; i += 8)
        four += four_byte_leads(load8(p + i));
    for (; i < n; ++i)
        four += static_cast<unsigned char>(p[i]) >= 0xF0;
    return count_code_points(text) + four;
}

bool is_grapheme_boundary(std::string_view text, size_t pos) {
    if (pos == 0 || pos >= text.size()) return true;
    size_t len = 0;
    const char32_t next = decode_utf8(text, pos, len);
    const char32_t prev = decode_utf8_before(text, pos, len);
    if (prev < 0x80 && next < 0x80) return !(prev == '\r' && next == '\n');
    // Walk back to a code point whose class cannot carry state into what follows.
    size_t start = pos - len;
    for (size_t i = 0; i < kGraphemeContextCodePoints && start > 0; ++i) {
        size_t before_len = 0;
        const char32_t before = decode_utf8_before(text, start, before_len);
        if (!is_context_class(grapheme_class(before)) &&
            !is_context_class(grapheme_class(decode_utf8(text, start, len)))) {
            break;
        }
        start -= before_len;
    }
    utf8proc_int32_t state = 0;
    size_t at = start;
    char32_t cp = decode_utf8(text, at, len);
    at += len;
    while (at < pos) {
        const char32_t following = decode_utf8(text, at, len);
        utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(cp),
                                         static_cast<utf8proc_int32_t>(following), &state);
        cp = following;
        at += len;
    }
    return utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(cp),
                                            static_cast<utf8proc_int32_t>(next), &state);
}

Sizer::Sizer(const ChunkSize& size) : size_(size) {
    const Status ok = validate(size);
    if (!ok) throw std::invalid_argument(ok.error().message);
}

size_t Sizer::measure(std::string_view text) const {
    switch (size_.unit) {
        case SizeUnit::kCharacters:
            return count_code_points(text);
        case SizeUnit::kUtf16:
            return count_utf16_units(text);
        case SizeUnit::kTokens:
            return size_.tokenizer->count(text);
    }
    return 0;
}

namespace {

size_t next_code_point(std::string_view text, size_t pos) {
    ++pos;
    while (pos < text.size() && is_continuation(static_cast<unsigned char>(text[pos])))
        ++pos;
    return pos;
}

size_t previous_code_point(std::string_view text, size_t pos) {
    --pos;
    while (pos > 0 && is_continuation(static_cast<unsigned char>(text[pos])))
        --pos;
    return pos;
}

size_t snap_back_to_grapheme(std::string_view text, size_t pos, size_t floor) {
    while (pos > floor && !is_grapheme_boundary(text, pos))
        pos = previous_code_point(text, pos);
    return pos;
}

size_t snap_forward_to_grapheme(std::string_view text, size_t pos, size_t limit) {
    while (pos < limit && !is_grapheme_boundary(text, pos))
        pos = next_code_point(text, pos);
    return pos;
}

size_t code_point_floor(std::string_view text, size_t pos) {
    while (pos > 0 && pos < text.size() && is_continuation(static_cast<unsigned char>(text[pos]))) {
        --pos;
    }
    return pos;
}

}  // namespace

size_t Sizer::fit_forward(std::string_view text, size_t begin, size_t limit, size_t budget) const {
    if (begin >= limit) return limit;
    size_t end = begin;
    if (size_.unit != SizeUnit::kTokens) {
        size_t used = 0;
        while (end < limit) {
            const auto c = static_cast<unsigned char>(text[end]);
            const size_t cost = size_.unit == SizeUnit::kUtf16 && c >= 0xF0 ? 2 : 1;
            if (used + cost > budget) break;
            used += cost;
            end = next_code_point(text, end);
        }
    } else {
        // Exponential then binary search on code point boundaries (token counts of prefixes
        // grow with the prefix, give or take a merge at the cut).
        size_t good = begin;
        size_t probe = std::min(limit, begin + std::max<size_t>(budget * 4, 16));
        size_t bad = limit + 1;
        while (true) {
            probe = code_point_floor(text, probe);
            if (probe <= good) break;
            if (measure(text.substr(begin, probe - begin)) <= budget) {
                good = probe;
                if (probe == limit) break;
                probe = std::min(limit, begin + (probe - begin) * 2);
            } else {
                bad = probe;
                break;
            }
        }
        while (bad != limit + 1 && bad > good + 1) {
            const size_t mid = code_point_floor(text, good + (bad - good) / 2);
            if (mid <= good) break;
            if (measure(text.substr(begin, mid - begin)) <= budget) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        end = good;
    }
    if (end < limit) end = snap_back_to_grapheme(text, end, begin);
    if (end == begin) {
        // Nothing fits: take one whole grapheme.
        end = snap_forward_to_grapheme(text, next_code_point(text, begin), limit);
    }
    return end;
}

size_t Sizer::fit_backward(std::string_view text, size_t floor, size_t end, size_t budget) const {
    if (budget == 0 || end <= floor) return end;
    size_t start = end;
    if (size_.unit != SizeUnit::kTokens) {
        size_t used = 0;
        while (start > floor) {
            const size_t prev = previous_code_point(text, start);
            const auto c = static_cast<unsigned char>(text[prev]);
            const size_t cost = size_.unit == SizeUnit::kUtf16 && c >= 0xF0 ? 2 : 1;
            if (used + cost > budget || prev <= floor) break;
            used += cost;
            start = prev;
        }
    } else {
        // Binary search for the smallest start whose suffix fits.
        size_t good = end;   // fits (empty)
        size_t bad = floor;  // assumed not to fit (or not allowed)
        while (good > bad + 1) {
            const size_t mid = code_point_floor(text, bad + (good - bad) / 2);
            if (mid <= bad) break;
            if (measure(text.substr(mid, end - mid)) <= budget) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        start = good;
    }
    start = snap_forward_to_grapheme(text, start, end);
    return start;
}

std::vector<TextSpan> hard_split(std::string_view text, TextSpan span, const Sizer& sizer,
                                 bool prefer_space) {
    std::vector<TextSpan> out;
    const size_t size = sizer.size().size;
    const size_t overlap = sizer.size().overlap;
    size_t begin = span.begin;
    while (begin < span.end) {
        size_t end = sizer.fit_forward(text, begin, span.end, size);
        if (prefer_space && end < span.end) {
            // Back off to just after the last whitespace in the second half, if any.
            const size_t half = begin + (end - begin) / 2;
            for (size_t pos = end; pos > half; --pos) {
                const auto c = static_cast<unsigned char>(text[pos - 1]);
                if (c == ' ' || c == '\n' || c == '\t') {
                    end = pos;
                    break;
                }
            }
        }
        out.push_back({begin, end});
        if (end >= span.end) break;
        size_t next = overlap > 0 ? sizer.fit_backward(text, begin, end, overlap) : end;
        if (next <= begin) next = end;
        begin = next;
    }
    return out;
}

std::vector<TextSpan> pack_units(std::string_view text, const std::vector<TextSpan>& units,
                                 const Sizer& sizer) {
    std::vector<TextSpan> out;
    const size_t size = sizer.size().size;
    const size_t overlap = sizer.size().overlap;
    std::vector<size_t> measures(units.size());
    for (size_t i = 0; i < units.size(); ++i) {
        measures[i] = sizer.measure(text.substr(units[i].begin, units[i].size()));
    }
    auto push = [&](TextSpan span) {
        span = trim(text, span);
        if (span.begin < span.end) out.push_back(span);
    };
    const bool exact_check = sizer.size().unit == SizeUnit::kTokens;
    size_t i = 0;
    while (i < units.size()) {
        size_t j = i;
        size_t total = 0;
        while (j < units.size() && total + measures[j] <= size)
            total += measures[j++];
        // Token counts of a concatenation can exceed the sum of the parts: check the whole.
        while (exact_check && j > i + 1 &&
               sizer.measure(text.substr(units[i].begin, units[j - 1].end - units[i].begin)) >
                   size) {
            --j;
        }
        if (j == i) {
            for (const TextSpan& piece : hard_split(text, units[i], sizer, true))
                push(piece);
            ++i;
            continue;
        }
        push({units[i].begin, units[j - 1].end});
        if (j == units.size()) break;
        size_t k = j;
        size_t repeated = 0;
        while (k - 1 > i && repeated + measures[k - 1] <= overlap)
            repeated += measures[--k];
        i = k;
    }
    return out;
}

namespace {

// The next '#', '`' or '~' at or after `from` (npos if none): the bytes that can start a
// heading or a fence line. Sixteen bytes at a time with SSE2.
size_t find_line_marker(std::string_view text, size_t from) {
    const char* p = text.data();
    const size_t n = text.size();
    size_t i = from;
#if defined(__SSE2__)
    const __m128i hash = _mm_set1_epi8('#');
    const __m128i tick = _mm_set1_epi8('`');
    const __m128i tilde = _mm_set1_epi8('~');
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        const __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, hash), _mm_cmpeq_epi8(v, tick)),
                         _mm_cmpeq_epi8(v, tilde));
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    }
#endif
    for (; i < n; ++i) {
        if (p[i] == '#' || p[i] == '`' || p[i] == '~') return i;
    }
    return std::string_view::npos;
}

}  // namespace

HeadingIndex::HeadingIndex(std::string_view text) {
    // Only lines whose first byte after at most three spaces is '#', '`' or '~' can be
    // headings or fences: found by scanning for those bytes, not line by line. The first
    // marker of a line is found first (from is always a line start), and when it does not
    // begin the line's body no later marker of that line can.
    std::string_view fence;
    size_t from = 0;
    while (from < text.size()) {
        const size_t mark = find_line_marker(text, from);
        if (mark == std::string_view::npos) break;
        size_t eol = text.find('\n', mark);
        if (eol == std::string_view::npos) eol = text.size();
        from = eol + 1;
        size_t pos = mark;
        while (pos > 0 && mark - pos < 4 && text[pos - 1] == ' ')
            --pos;
        if (mark - pos >= 4 || (pos > 0 && text[pos - 1] != '\n')) continue;
        std::string_view line = text.substr(pos, eol - pos);
        size_t indent = 0;
        while (indent < line.size() && indent < 4 && line[indent] == ' ')
            ++indent;
        const std::string_view body = line.substr(indent);
        if (indent < 4 && (body.starts_with("```") || body.starts_with("~~~"))) {
            if (fence.empty()) {
                fence = body.substr(0, 3);
            } else if (body.starts_with(fence)) {
                fence = {};
            }
        } else if (fence.empty() && indent < 4 && body.starts_with('#')) {
            int level = 0;
            while (level < static_cast<int>(body.size()) && body[level] == '#')
                ++level;
            if (level <= 6 && (static_cast<size_t>(level) == body.size() || body[level] == ' ' ||
                               body[level] == '\t')) {
                TextSpan title = trim(body, {static_cast<size_t>(level), body.size()});
                std::string_view t = body.substr(title.begin, title.size());
                while (!t.empty() && t.back() == '#')
                    t.remove_suffix(1);  // closing #s
                while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
                    t.remove_suffix(1);
                size_t parent = headings_.empty() ? std::string_view::npos : headings_.size() - 1;
                while (parent != std::string_view::npos && headings_[parent].level >= level) {
                    parent = headings_[parent].parent;
                }
                headings_.push_back({pos, level, std::string(t), parent});
            }
        }
    }
}

std::vector<std::string> HeadingIndex::path_at(size_t byte_offset) const {
    // The last heading at or before the offset, then its ancestors.
    auto after =
        std::upper_bound(headings_.begin(), headings_.end(), byte_offset,
                         [](size_t offset, const Heading& h) { return offset < h.offset; });
    std::vector<std::string> path;
    if (after == headings_.begin()) return path;
    for (size_t k = static_cast<size_t>(after - headings_.begin()) - 1; k != std::string_view::npos;
         k = headings_[k].parent) {
        path.push_back(headings_[k].title);
    }
    std::reverse(path.begin(), path.end());
    return path;
}

bool is_code_source(std::string_view source) {
    static constexpr std::array<std::string_view, 34> kCode = {
        "c",  "h",    "cc",  "cpp", "cxx", "hpp",   "hh",    "hxx", "py", "go", "rs",    "java",
        "js", "mjs",  "cjs", "ts",  "tsx", "jsx",   "rb",    "php", "cs", "kt", "swift", "scala",
        "sh", "bash", "lua", "pl",  "sql", "proto", "cmake", "m",   "mm", "zig"};
    const std::string_view ext = extension_of(source);
    return std::find(kCode.begin(), kCode.end(), ext) != kCode.end();
}

ChunkEmitter::ChunkEmitter(const Document& document, const ChunkSize& size)
    : document_(document),
      size_(size),
      headings_(is_code_source(document.source) ? std::string_view() : document.text),
      with_headings_(!is_code_source(document.source)) {}

size_t ChunkEmitter::char_offset(size_t byte_offset) {
    const std::string_view text = document_.text;
    if (byte_offset >= cursor_byte_) {
        cursor_char_ += count_code_points(text.substr(cursor_byte_, byte_offset - cursor_byte_));
    } else {
        cursor_char_ -= count_code_points(text.substr(byte_offset, cursor_byte_ - byte_offset));
    }
    cursor_byte_ = byte_offset;
    return cursor_char_;
}

void ChunkEmitter::emit(TextSpan span) {
    Chunk chunk;
    chunk.text.assign(document_.text, span.begin, span.size());
    chunk.document_id = document_.id;
    chunk.source = document_.source;
    chunk.index = chunks_.size();
    chunk.byte_begin = span.begin;
    chunk.byte_end = span.end;
    chunk.char_begin = char_offset(span.begin);
    chunk.char_end = char_offset(span.end);
    chunk.n_chars = chunk.char_end - chunk.char_begin;
    if (with_headings_) chunk.heading_path = headings_.path_at(span.begin);
    if (size_.tokenizer != nullptr) chunk.n_tokens = size_.tokenizer->count(chunk.text);
    chunk.metadata = document_.metadata;
    chunks_.push_back(std::move(chunk));
}

}  // namespace switchyard::rag
