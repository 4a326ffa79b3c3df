#include "switchyard/rag/chunking/sliding_window_chunker.hpp"

namespace switchyard::rag {

namespace {

bool is_unspaced_script(char32_t c) {
    return (c >= 0x3040 && c <= 0x30FF) ||    // Hiragana, Katakana
           (c >= 0x3400 && c <= 0x4DBF) ||    // CJK extension A
           (c >= 0x4E00 && c <= 0x9FFF) ||    // CJK unified ideographs
           (c >= 0xF900 && c <= 0xFAFF) ||    // CJK compatibility ideographs
           (c >= 0x20000 && c <= 0x3FFFF) ||  // CJK extensions B..
           (c >= 0x0E00 && c <= 0x0E7F);      // Thai
}

// Words: a run of non-space characters plus the whitespace after it; each character of an
// unspaced script is a word of its own.
std::vector<TextSpan> split_words(std::string_view text) {
    std::vector<TextSpan> words;
    size_t pos = 0;
    size_t start = 0;
    bool in_space = false;
    while (pos < text.size()) {
        size_t len = 1;
        const auto b = static_cast<unsigned char>(text[pos]);
        const char32_t c = b < 0x80 ? b : decode_utf8(text, pos, len);
        const bool space = is_space(c);
        if (in_space && !space) {
            words.push_back({start, pos});
            start = pos;
        }
        if (!space && c >= 0x0E00 && is_unspaced_script(c)) {
            if (start < pos && is_grapheme_boundary(text, pos)) words.push_back({start, pos});
            if (is_grapheme_boundary(text, pos)) start = pos;
        }
        in_space = space;
        pos += len;
    }
    if (start < text.size()) words.push_back({start, text.size()});
    return words;
}

}  // namespace

SlidingWindowChunker::SlidingWindowChunker(ChunkSize size) : size_(size), sizer_(size) {}

Result<std::vector<Chunk>> SlidingWindowChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    ChunkEmitter emitter(document, size_);
    for (const TextSpan& span : pack_units(document.text, split_words(document.text), sizer_)) {
        emitter.emit(span);
    }
    return emitter.take();
}

}  // namespace switchyard::rag
