#include "switchyard/rag/chunking/character_chunker.hpp"

namespace switchyard::rag {

CharacterChunker::CharacterChunker(ChunkSize size) : size_(size), sizer_(size) {}

Result<std::vector<Chunk>> CharacterChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    ChunkEmitter emitter(document, size_);
    if (trim(document.text, {0, document.text.size()}).size() == 0) return emitter.take();
    for (const TextSpan& span :
         hard_split(document.text, {0, document.text.size()}, sizer_, false)) {
        emitter.emit(span);
    }
    return emitter.take();
}

}  // namespace switchyard::rag
