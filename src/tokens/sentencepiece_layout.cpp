#include "sentencepiece_layout.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>

namespace switchyard::tokens::sentencepiece {
namespace {

// A section of `count` items of T at `offset`, checked to lie inside the payload and be aligned.
template <class T>
bool section(std::span<const std::byte> payload, uint64_t offset, uint64_t count,
             std::span<const T>& out) {
    if (offset % alignof(T) != 0 || offset > payload.size()) return false;
    if (count > (payload.size() - offset) / sizeof(T)) return false;
    out = {reinterpret_cast<const T*>(payload.data() + offset), static_cast<size_t>(count)};
    return true;
}

}  // namespace

std::string check_layout(std::span<const std::byte> payload, Layout& out) {
    if (payload.size() < sizeof(LayoutHeader) ||
        reinterpret_cast<uintptr_t>(payload.data()) % alignof(LayoutHeader) != 0) {
        return "payload too small for a SentencePiece BPE header";
    }
    const auto* h = reinterpret_cast<const LayoutHeader*>(payload.data());
    if (std::memcmp(h->magic, kLayoutMagic, sizeof kLayoutMagic) != 0) {
        return "payload is not a SentencePiece BPE vocabulary (bad payload magic)";
    }
    if (h->layout_version != kLayoutVersion) {
        return fmt::format("payload layout version {}, this build reads {}", h->layout_version,
                           kLayoutVersion);
    }
    const uint32_t n = h->vocab_size;
    if (n == 0 || n > 0xFFFF) return fmt::format("vocabulary size {} out of range", n);
    if (h->space_id >= n || h->unk_id >= n || h->bos_id >= n || h->eos_id >= n) {
        return "space or control piece id out of range";
    }
    const uint32_t cap = h->merge_capacity;
    if (!std::has_single_bit(cap) || cap < 2 || h->merge_count >= cap) {
        return fmt::format("merge table capacity {} invalid for {} merges", cap, h->merge_count);
    }
    Layout l;
    l.header = h;
    if (!section(payload, h->byte_ids_offset, 256, l.byte_ids)) return "byte piece table";
    if (!section(payload, h->bmp_offset, 65536, l.bmp)) return "BMP character table";
    if (!section(payload, h->astral_offset, h->astral_count, l.astral)) return "astral table";
    if (!section(payload, h->merges_offset, cap, l.merges)) return "merge table";
    if (!section(payload, h->piece_offsets_offset, uint64_t{n} + 1, l.piece_offsets)) {
        return "piece offsets";
    }
    if (!section(payload, h->piece_kinds_offset, n, l.piece_kinds)) return "piece kinds";
    if (!section(payload, h->pieces_offset, h->piece_bytes, l.pieces)) return "piece bytes";
    l.merge_shift = 32 - static_cast<uint32_t>(std::countr_zero(cap));

    // Every id the encoder can emit must be a valid index, so encode needs no checks.
    for (uint32_t id : l.byte_ids) {
        if (id >= n) return "byte piece id out of range";
    }
    for (uint16_t id : l.bmp) {
        if (id != kNoPiece && id >= n) return "character piece id out of range";
    }
    for (size_t i = 0; i < l.astral.size(); ++i) {
        if (l.astral[i].id >= n || l.astral[i].code_point < 0x10000 ||
            (i > 0 && l.astral[i].code_point <= l.astral[i - 1].code_point)) {
            return "astral table unsorted or out of range";
        }
    }
    uint32_t used = 0;
    for (const MergeEntry& m : l.merges) {
        if (m.key == kEmptyMergeKey) continue;
        ++used;
        if ((m.key >> 16) >= n || (m.key & 0xFFFF) >= n || (m.value & 0xFFFF) >= n ||
            (m.value >> 16) == 0xFFFF) {
            return "merge entry out of range";
        }
    }
    if (used != h->merge_count) return "merge table count mismatch";
    for (uint32_t i = 0; i < n; ++i) {
        if (l.piece_offsets[i] > l.piece_offsets[i + 1]) return "piece offsets not increasing";
        if (l.piece_kinds[i] > static_cast<uint8_t>(PieceKind::kControl)) return "piece kind";
    }
    if (l.piece_offsets[n] != h->piece_bytes) return "piece offsets do not end at piece bytes";
    out = l;
    return {};
}

}  // namespace switchyard::tokens::sentencepiece
