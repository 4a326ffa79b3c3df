// WordVectors: a table of word vectors (GloVe 6B 100-d for the built-in embedder) converted
// once by tools/rag/convert_glove.mjs (run by scripts/bootstrap.sh) into a compact file that
// is memory-mapped, not parsed, at load. Also a ready 100-d test set for vector indexes.
// Thread safety: immutable after open(); the mapping lives as long as the WordVectors.
// Failure: open() returns a message naming the file, what is wrong (missing, not a
// word-vector file, wrong version, truncated, checksum mismatch) and how to fix it.
//
// Layout (little-endian; the writer documents it too):
//   offset   0  char[8]   magic "SYEMBED1"
//   offset   8  u32       format version (kWordVectorsFormatVersion)
//   offset  12  u32       dims
//   offset  16  u32       count (words)
//   offset  20  u32       hash slots (a power of two, at least 2 * count)
//   offset  24  u64       payload size in bytes
//   offset  32  u8[32]    SHA-256 of the payload
//   offset  64  u32       quantisation: 1 = int8 components, one f32 scale per vector
//   offset  68  u32       word order: 1 = by descending corpus frequency (index = rank)
//   offset  72  char[56]  name, NUL-padded
//   offset 128  payload, each section 8-byte aligned: f32 scales[count],
//               i8 vectors[count * dims], u32 word_offsets[count + 1],
//               u32 hash[slots] (index + 1, 0 empty; FNV-1a 32, linear probing), strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace switchyard::rag {

inline constexpr uint32_t kWordVectorsFormatVersion = 1;
inline constexpr size_t kWordVectorsHeaderBytes = 128;

class WordVectors {
public:
    static constexpr size_t npos = static_cast<size_t>(-1);

    WordVectors() = default;
    WordVectors(WordVectors&& other) noexcept;
    WordVectors& operator=(WordVectors&& other) noexcept;
    WordVectors(const WordVectors&) = delete;
    WordVectors& operator=(const WordVectors&) = delete;
    ~WordVectors();

    // Maps `path` and checks magic, version, sizes and the payload's SHA-256 (about 30 ms
    // for the 44 MB GloVe file).
    static std::variant<WordVectors, std::string> open(const std::string& path);

    std::string_view name() const { return name_; }
    size_t dims() const { return dims_; }
    size_t size() const { return count_; }
    // Words are stored by descending corpus frequency: index i is frequency rank i.
    std::string_view word(size_t i) const;
    // Index of the word with exactly these UTF-8 bytes, or npos.
    size_t find(std::string_view word) const;
    // out += weight * vector(i); out has dims() floats.
    void add_to(size_t i, float weight, std::span<float> out) const;
    // The dequantised vector of word i into out (dims() floats).
    void vector(size_t i, std::span<float> out) const;

private:
    void* map_ = nullptr;
    size_t map_bytes_ = 0;
    std::string name_;
    size_t dims_ = 0;
    size_t count_ = 0;
    uint32_t slot_mask_ = 0;
    const float* scales_ = nullptr;
    const int8_t* vectors_ = nullptr;
    const uint32_t* word_offsets_ = nullptr;
    const uint32_t* hash_ = nullptr;
    const char* strings_ = nullptr;
};

// Where RAG data files are looked for: $SWITCHYARD_RAG_DATA_DIR, else the directory the
// build recorded (<source>/data/rag, filled by scripts/bootstrap.sh).
std::string default_rag_data_dir();

}  // namespace switchyard::rag
