#include "switchyard/rag/chunking/recursive_chunker.hpp"

#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::rag {

namespace {

// Position of `needle` in `haystack` at or after `from`, or npos. With SSE2, sixteen
// candidate positions at a time, inline (no call per short line): the first and the last
// byte of the needle must both match
// (Muła's "SIMD-friendly" search), which skips the frequent first byte ('\n' of "\n\n") that
// makes memchr-based searches stop at every line.
#if defined(__x86_64__)
// The same search with AVX2, thirty-two positions at a time (chosen at run time: the build
// targets baseline x86-64); the tail goes to the SSE2 loop.
// Returns npos when there is no match before `resume`, where the caller goes on.
__attribute__((target("avx2"))) size_t find_from_avx2(std::string_view haystack,
                                                      std::string_view needle, size_t from,
                                                      size_t& resume) {
    const size_t n = needle.size();
    const char* h = haystack.data();
    const __m256i first = _mm256_set1_epi8(needle[0]);
    const __m256i last = _mm256_set1_epi8(needle[n - 1]);
    size_t i = from;
    for (; i + n - 1 + 32 <= haystack.size(); i += 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i + n - 1));
        auto mask = static_cast<unsigned>(_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last))));
        while (mask != 0) {
            const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
            if (n <= 2 || std::memcmp(h + at + 1, needle.data() + 1, n - 2) == 0) return at;
            mask &= mask - 1;
        }
    }
    resume = i;
    return std::string_view::npos;
}

const bool kHaveAvx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
#endif

size_t find_from(std::string_view haystack, std::string_view needle, size_t from) {
    const size_t n = needle.size();
#if defined(__x86_64__)
    if (n >= 1 && kHaveAvx2 && haystack.size() >= from + n - 1 + 32) {
        const size_t at = find_from_avx2(haystack, needle, from, from);
        if (at != std::string_view::npos) return at;
    }
#endif
#if defined(__SSE2__)
    if (n >= 1) {
        const char* h = haystack.data();
        const __m128i first = _mm_set1_epi8(needle[0]);
        const __m128i last = _mm_set1_epi8(needle[n - 1]);
        size_t i = from;
        for (; i + n - 1 + 16 <= haystack.size(); i += 16) {
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + n - 1));
            auto mask = static_cast<unsigned>(_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
            while (mask != 0) {
                const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
                if (n <= 2 || std::memcmp(h + at + 1, needle.data() + 1, n - 2) == 0) return at;
                mask &= mask - 1;
            }
        }
        return haystack.find(needle, i);
    }
#endif
    return haystack.find(needle, from);
}

}  // namespace

std::vector<std::string> default_separators() {
    return {"\n\n", "\n", " ", ""};
}

std::vector<std::string> separators_for_language(std::string_view language) {
    if (language == "markdown") {
        return {"\n## ",
                "\n### ",
                "\n#### ",
                "\n##### ",
                "\n###### ",
                "```\n\n",
                "\n\n***\n\n",
                "\n\n---\n\n",
                "\n\n___\n\n",
                "\n\n",
                "\n",
                " ",
                ""};
    }
    if (language == "python") return {"\nclass ", "\ndef ", "\n\tdef ", "\n\n", "\n", " ", ""};
    if (language == "cpp") {
        return {"\nclass ", "\nvoid ",   "\nint ",  "\nfloat ", "\ndouble ", "\nif ", "\nfor ",
                "\nwhile ", "\nswitch ", "\ncase ", "\n\n",     "\n",        " ",     ""};
    }
    if (language == "go") {
        return {"\nfunc ",   "\nvar ",  "\nconst ", "\ntype ", "\nif ", "\nfor ",
                "\nswitch ", "\ncase ", "\n\n",     "\n",      " ",     ""};
    }
    if (language == "js") {
        return {"\nfunction ", "\nconst ", "\nlet ",   "\nvar ",    "\nclass ",
                "\nif ",       "\nfor ",   "\nwhile ", "\nswitch ", "\ncase ",
                "\ndefault ",  "\n\n",     "\n",       " ",         ""};
    }
    if (language == "rust") {
        return {"\nfn ",    "\nconst ", "\nlet ", "\nif ", "\nwhile ", "\nfor ", "\nloop ",
                "\nmatch ", "\nconst ", "\n\n",   "\n",    " ",        ""};
    }
    if (language == "java") {
        return {"\nclass ", "\npublic ", "\nprotected ", "\nprivate ", "\nstatic ", "\nif ",
                "\nfor ",   "\nwhile ",  "\nswitch ",    "\ncase ",    "\n\n",      "\n",
                " ",        ""};
    }
    return {};
}

RecursiveChunker::RecursiveChunker(ChunkSize size, std::vector<std::string> separators,
                                   bool graphemes)
    : size_(size), sizer_(size), separators_(std::move(separators)), graphemes_(graphemes) {}

Result<std::vector<Chunk>> RecursiveChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    std::vector<TextSpan> spans;
    split_span(document.text, {0, document.text.size()}, spans);
    ChunkEmitter emitter(document, size_);
    emitter.reserve(spans.size());
    for (const TextSpan& span : spans)
        emitter.emit(span);
    return emitter.take();
}

void RecursiveChunker::split_span(std::string_view text, TextSpan span,
                                  std::vector<TextSpan>& out) const {
    if (span.begin >= span.end) return;
    split_recursive(text, span, 0, out);
}

void RecursiveChunker::split_recursive(std::string_view text, TextSpan span, size_t first_separator,
                                       std::vector<TextSpan>& out) const {
    const std::string_view piece_text = text.substr(span.begin, span.size());
    // The separator: the first of the list present in the text; "" (or an exhausted list)
    // means characters; none present means the last one (which then splits nothing).
    std::string_view separator;
    bool by_characters = first_separator >= separators_.size();
    bool has_next = false;
    size_t next_separator = 0;
    if (!by_characters) separator = separators_.back();
    for (size_t i = first_separator; i < separators_.size(); ++i) {
        const std::string& s = separators_[i];
        if (s.empty()) {
            separator = {};
            break;
        }
        if (find_from(piece_text, s, 0) != std::string_view::npos) {
            separator = s;
            has_next = true;
            next_separator = i + 1;
            break;
        }
    }
    if (separator.empty()) by_characters = true;

    // Pieces: split before every occurrence of the separator (overlapping ones included, as
    // a look-ahead regex split does), or into code points.
    std::vector<Piece> pieces;
    auto add_piece = [&](size_t b, size_t e) {
        pieces.push_back({b, e, sizer_.measure(text.substr(b, e - b))});
    };
    if (by_characters) {
        size_t pos = span.begin;
        while (pos < span.end) {
            size_t len = 1;
            const auto c = static_cast<unsigned char>(text[pos]);
            if (c >= 0x80) len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            size_t end = pos + len;
            if (graphemes_) {
                while (end < span.end && !is_grapheme_boundary(text, end)) {
                    const auto d = static_cast<unsigned char>(text[end]);
                    end += d < 0x80 ? 1 : d >= 0xF0 ? 4 : d >= 0xE0 ? 3 : 2;
                }
            }
            add_piece(pos, end);
            pos = end;
        }
    } else {
        size_t start = 0;
        size_t found = find_from(piece_text, separator, 1);
        while (found != std::string_view::npos) {
            add_piece(span.begin + start, span.begin + found);
            start = found;
            found = find_from(piece_text, separator, found + 1);
        }
        add_piece(span.begin + start, span.end);
    }

    // Runs of pieces under the size are merged; a larger one is split further (or emitted as
    // is when no separator is left). The pieces of a run are consecutive: [first_good, k).
    size_t first_good = 0;
    for (size_t k = 0; k < pieces.size(); ++k) {
        const Piece& p = pieces[k];
        if (p.length < size_.size) continue;
        if (first_good < k) merge(text, {pieces.data() + first_good, k - first_good}, out);
        first_good = k + 1;
        if (!has_next) {
            out.push_back({p.begin, p.end});
        } else {
            split_recursive(text, {p.begin, p.end}, next_separator, out);
        }
    }
    if (first_good < pieces.size()) {
        merge(text, {pieces.data() + first_good, pieces.size() - first_good}, out);
    }
}

void RecursiveChunker::merge(std::string_view text, std::span<const Piece> pieces,
                             std::vector<TextSpan>& out) const {
    auto emit = [&](size_t lo, size_t hi) {
        const TextSpan joined = trim(text, {pieces[lo].begin, pieces[hi - 1].end});
        if (joined.begin < joined.end) out.push_back(joined);
    };
    size_t lo = 0;
    size_t total = 0;
    for (size_t hi = 0; hi < pieces.size(); ++hi) {
        const size_t length = pieces[hi].length;
        if (total + length > size_.size && hi > lo) {
            emit(lo, hi);
            while (total > size_.overlap || (total + length > size_.size && total > 0)) {
                total -= pieces[lo].length;
                ++lo;
            }
        }
        total += length;
    }
    if (lo < pieces.size()) emit(lo, pieces.size());
}

}  // namespace switchyard::rag
