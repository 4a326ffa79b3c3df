// Payload layout of a VocabKind::kSentencePieceBpe file (llama2, mistral), as written by
// tools/vocab/sentencepiece.mjs (which documents every field) and read in place, without
// parsing, by sentencepiece_bpe.cpp.
// Thread safety: plain data, read-only once mapped.
// Failure: check_layout() names the first section that is out of bounds or inconsistent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace switchyard::tokens::sentencepiece {

inline constexpr char kLayoutMagic[8] = {'S', 'Y', 'S', 'P', 'B', 'P', 'E', '1'};
inline constexpr uint32_t kLayoutVersion = 2;
inline constexpr uint32_t kEmptyMergeKey = 0xFFFFFFFFu;
inline constexpr uint16_t kNoPiece = 0xFFFF;
inline constexpr uint32_t kMergeHashMultiplier = 0x9E3779B1u;

// Flags the converter computes from the merges; the tokenizer's segmentation relies on both.
inline constexpr uint32_t kFlagBytesNeverMerge = 1u << 0;
inline constexpr uint32_t kFlagNoMergeBeforeSpace = 1u << 1;

enum class PieceKind : uint8_t { kText = 0, kByte = 1, kControl = 2 };

struct LayoutHeader {
    char magic[8];
    uint32_t layout_version;
    uint32_t vocab_size;
    uint32_t flags;
    uint32_t space_id;
    uint32_t unk_id;
    uint32_t bos_id;
    uint32_t eos_id;
    uint32_t merge_count;
    uint32_t merge_capacity;
    uint32_t astral_count;
    uint32_t reserved0;
    uint32_t piece_bytes;
    uint64_t byte_ids_offset;
    uint64_t bmp_offset;
    uint64_t astral_offset;
    uint64_t merges_offset;
    uint64_t piece_offsets_offset;
    uint64_t piece_kinds_offset;
    uint64_t pieces_offset;
    uint8_t reserved1[16];
};
static_assert(sizeof(LayoutHeader) == 128);

struct AstralPiece {
    uint32_t code_point;
    uint32_t id;
};

struct MergeEntry {
    uint32_t key;    // left << 16 | right
    uint32_t value;  // rank << 16 | merged id; rank k stands for the reference's priority 2k+1
};
static_assert(sizeof(MergeEntry) == 8);

// Views into the mapped payload, valid as long as the mapping.
struct Layout {
    const LayoutHeader* header = nullptr;
    std::span<const uint32_t> byte_ids;  // 256
    std::span<const uint16_t> bmp;       // 65536
    std::span<const AstralPiece> astral;
    std::span<const MergeEntry> merges;       // merge_capacity
    uint32_t merge_shift = 0;                 // 32 - log2(merge_capacity)
    std::span<const uint32_t> piece_offsets;  // vocab_size + 1
    std::span<const uint8_t> piece_kinds;     // vocab_size
    std::span<const char> pieces;             // piece_bytes
};

// Checks the payload and fills `out`; returns an empty string on success, else what is wrong.
std::string check_layout(std::span<const std::byte> payload, Layout& out);

}  // namespace switchyard::tokens::sentencepiece
