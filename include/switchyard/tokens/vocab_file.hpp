// VocabFile: a tokenizer vocabulary converted once by tools/vocab/convert.mjs (run by
// scripts/bootstrap.sh) into a compact file that is memory-mapped, not parsed, at load.
// Thread safety: immutable after open(); the mapping lives as long as the VocabFile.
// Failure: open() returns a message naming the file and what is wrong (missing, not a
// vocabulary file, wrong format version or kind, checksum mismatch) and how to fix it.
//
// Layout (little-endian):
//   offset  0  char[8]   magic "SYVOCAB1"
//   offset  8  u32       format version (kVocabFormatVersion)
//   offset 12  u32       kind (VocabKind)
//   offset 16  u64       payload size in bytes
//   offset 24  u8[32]    SHA-256 of the payload
//   offset 56  char[40]  vocabulary name, NUL-padded
//   offset 96  payload   (layout owned by the tokenizer of that kind; 8-byte aligned)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace switchyard::tokens {

inline constexpr uint32_t kVocabFormatVersion = 1;
inline constexpr size_t kVocabHeaderBytes = 96;

enum class VocabKind : uint32_t {
    kByteLevelBpe = 1,      // tiktoken-style ranks over bytes (cl100k, o200k, claude, llama3)
    kSentencePieceBpe = 2,  // SentencePiece BPE with byte fallback (llama2, mistral)
};

class VocabFile {
public:
    VocabFile() = default;
    VocabFile(VocabFile&& other) noexcept;
    VocabFile& operator=(VocabFile&& other) noexcept;
    VocabFile(const VocabFile&) = delete;
    VocabFile& operator=(const VocabFile&) = delete;
    ~VocabFile();

    // Maps `path`, checks magic, version, kind and the payload's SHA-256. On failure the
    // string says what went wrong; on success the variant holds the file.
    static std::variant<VocabFile, std::string> open(const std::string& path, VocabKind kind);

    std::string_view name() const { return name_; }
    VocabKind kind() const { return kind_; }
    std::span<const std::byte> payload() const { return payload_; }

private:
    void* map_ = nullptr;
    size_t map_bytes_ = 0;
    VocabKind kind_ = VocabKind::kByteLevelBpe;
    std::string name_;
    std::span<const std::byte> payload_;
};

// Where vocabulary files are looked for, first hit wins: $SWITCHYARD_VOCAB_DIR, then the
// directory the build recorded (<source>/data/vocab, filled by scripts/bootstrap.sh).
std::string default_vocab_dir();

}  // namespace switchyard::tokens
