#include "switchyard/rag/chunking/paragraph_chunker.hpp"

#include "switchyard/rag/chunking/sentence_chunker.hpp"

namespace switchyard::rag {

std::vector<TextSpan> split_paragraphs(std::string_view text, TextSpan span) {
    std::vector<TextSpan> out;
    size_t start = span.begin;
    size_t pos = span.begin;
    while (pos < span.end) {
        const size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos || eol >= span.end) break;
        // A blank line follows when only spaces/tabs/\r stand before the next '\n'.
        size_t next = eol + 1;
        size_t after = next;
        bool blank = false;
        while (after < span.end) {
            const char c = text[after];
            if (c == '\n') {
                blank = true;
                next = ++after;
                continue;
            }
            if (c != ' ' && c != '\t' && c != '\r') break;
            ++after;
        }
        if (blank) {
            out.push_back({start, next});
            start = next;
        }
        pos = next;
    }
    if (start < span.end) out.push_back({start, span.end});
    return out;
}

ParagraphChunker::ParagraphChunker(ChunkSize size) : size_(size), sizer_(size) {}

Result<std::vector<Chunk>> ParagraphChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    const std::string_view text = document.text;
    std::vector<TextSpan> units;
    for (const TextSpan& paragraph : split_paragraphs(text, {0, text.size()})) {
        if (sizer_.measure(text.substr(paragraph.begin, paragraph.size())) <= size_.size) {
            units.push_back(paragraph);
            continue;
        }
        for (const TextSpan& sentence : split_sentences(text, paragraph))
            units.push_back(sentence);
    }
    ChunkEmitter emitter(document, size_);
    for (const TextSpan& span : pack_units(text, units, sizer_))
        emitter.emit(span);
    return emitter.take();
}

}  // namespace switchyard::rag
