#include "switchyard/rag/word_vectors.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#ifndef SWITCHYARD_RAG_DATA_DIR
#define SWITCHYARD_RAG_DATA_DIR "data/rag"
#endif

namespace switchyard::rag {
namespace {

constexpr char kMagic[8] = {'S', 'Y', 'E', 'M', 'B', 'E', 'D', '1'};
constexpr std::string_view kFix = "run scripts/bootstrap.sh to install and convert the vectors";

uint32_t read_u32(const std::byte* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint64_t read_u64(const std::byte* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

bool sha256_matches(const std::byte* data, size_t n, const std::byte* want) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data, n, digest, &len, EVP_sha256(), nullptr) != 1 || len != 32) return false;
    return std::memcmp(digest, want, 32) == 0;
}

constexpr uint64_t align8(uint64_t n) {
    return (n + 7) & ~uint64_t{7};
}

// Must match fnv1a32 in tools/rag/convert_glove.mjs.
uint32_t fnv1a32(std::string_view s) {
    uint32_t h = 0x811c9dc5u;
    for (unsigned char c : s)
        h = (h ^ c) * 0x01000193u;
    return h;
}

}  // namespace

WordVectors::WordVectors(WordVectors&& other) noexcept {
    *this = std::move(other);
}

WordVectors& WordVectors::operator=(WordVectors&& other) noexcept {
    if (this != &other) {
        if (map_ != nullptr) munmap(map_, map_bytes_);
        map_ = std::exchange(other.map_, nullptr);
        map_bytes_ = std::exchange(other.map_bytes_, 0);
        name_ = std::move(other.name_);
        dims_ = std::exchange(other.dims_, 0);
        count_ = std::exchange(other.count_, 0);
        slot_mask_ = std::exchange(other.slot_mask_, 0);
        scales_ = std::exchange(other.scales_, nullptr);
        vectors_ = std::exchange(other.vectors_, nullptr);
        word_offsets_ = std::exchange(other.word_offsets_, nullptr);
        hash_ = std::exchange(other.hash_, nullptr);
        strings_ = std::exchange(other.strings_, nullptr);
    }
    return *this;
}

WordVectors::~WordVectors() {
    if (map_ != nullptr) munmap(map_, map_bytes_);
}

std::variant<WordVectors, std::string> WordVectors::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fmt::format("word vectors {}: {}; {}", path, std::strerror(errno), kFix);
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return fmt::format("word vectors {}: {}", path, std::strerror(err));
    }
    const auto bytes = static_cast<size_t>(st.st_size);
    if (bytes < kWordVectorsHeaderBytes) {
        ::close(fd);
        return fmt::format("word vectors {}: truncated ({} bytes); {}", path, bytes, kFix);
    }
    void* map = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    ::close(fd);
    if (map == MAP_FAILED) {
        return fmt::format("word vectors {}: mmap failed: {}", path, std::strerror(err));
    }
    WordVectors wv;
    wv.map_ = map;
    wv.map_bytes_ = bytes;
    const auto* base = static_cast<const std::byte*>(map);
    if (std::memcmp(base, kMagic, sizeof kMagic) != 0) {
        return fmt::format("word vectors {}: not a Switchyard word-vector file (bad magic); {}",
                           path, kFix);
    }
    const uint32_t version = read_u32(base + 8);
    if (version != kWordVectorsFormatVersion) {
        return fmt::format("word vectors {}: format version {}, this build reads {}; {}", path,
                           version, kWordVectorsFormatVersion, kFix);
    }
    const uint64_t dims = read_u32(base + 12);
    const uint64_t count = read_u32(base + 16);
    const uint64_t slots = read_u32(base + 20);
    const uint64_t payload_bytes = read_u64(base + 24);
    const uint32_t quantisation = read_u32(base + 64);
    if (payload_bytes != bytes - kWordVectorsHeaderBytes) {
        return fmt::format("word vectors {}: payload is {} bytes, header says {}; {}", path,
                           bytes - kWordVectorsHeaderBytes, payload_bytes, kFix);
    }
    if (quantisation != 1 || dims == 0 || count == 0 || slots <= count ||
        (slots & (slots - 1)) != 0) {
        return fmt::format(
            "word vectors {}: unsupported header (dims {}, count {}, slots {}, "
            "quantisation {}); {}",
            path, dims, count, slots, quantisation, kFix);
    }
    const uint64_t scales_off = 0;
    const uint64_t vectors_off = align8(scales_off + 4 * count);
    const uint64_t offsets_off = align8(vectors_off + count * dims);
    const uint64_t hash_off = align8(offsets_off + 4 * (count + 1));
    const uint64_t strings_off = align8(hash_off + 4 * slots);
    if (strings_off > payload_bytes) {
        return fmt::format("word vectors {}: truncated payload; {}", path, kFix);
    }
    const std::byte* payload = base + kWordVectorsHeaderBytes;
    if (!sha256_matches(payload, payload_bytes, base + 32)) {
        return fmt::format("word vectors {}: checksum mismatch (corrupt or partly written); {}",
                           path, kFix);
    }
    wv.dims_ = dims;
    wv.count_ = count;
    wv.slot_mask_ = static_cast<uint32_t>(slots - 1);
    wv.scales_ = reinterpret_cast<const float*>(payload + scales_off);
    wv.vectors_ = reinterpret_cast<const int8_t*>(payload + vectors_off);
    wv.word_offsets_ = reinterpret_cast<const uint32_t*>(payload + offsets_off);
    wv.hash_ = reinterpret_cast<const uint32_t*>(payload + hash_off);
    wv.strings_ = reinterpret_cast<const char*>(payload + strings_off);
    if (strings_off + wv.word_offsets_[count] > payload_bytes) {
        return fmt::format("word vectors {}: word table runs past the end; {}", path, kFix);
    }
    const char* name = reinterpret_cast<const char*>(base + 72);
    wv.name_.assign(name, strnlen(name, 56));
    return wv;
}

std::string_view WordVectors::word(size_t i) const {
    return {strings_ + word_offsets_[i], word_offsets_[i + 1] - word_offsets_[i]};
}

size_t WordVectors::find(std::string_view w) const {
    if (count_ == 0) return npos;
    for (uint32_t slot = fnv1a32(w) & slot_mask_;; slot = (slot + 1) & slot_mask_) {
        const uint32_t entry = hash_[slot];
        if (entry == 0 || entry > count_) return npos;
        if (word(entry - 1) == w) return entry - 1;
    }
}

namespace {

// A trip count known at compile time, and (GCC) the full vectoriser for this one loop:
// -O2's cheap cost model leaves int8 -> float conversions scalar.
template <size_t kDims>
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
void add_scaled_fixed(const int8_t* q, float w, float* out) {
    for (size_t d = 0; d < kDims; ++d)
        out[d] += w * static_cast<float>(q[d]);
}

}  // namespace

void WordVectors::add_to(size_t i, float weight, std::span<float> out) const {
    const int8_t* q = vectors_ + i * dims_;
    const float w = weight * scales_[i];
    if (dims_ == 100) {  // GloVe 100-d: the built-in embedder's case
        add_scaled_fixed<100>(q, w, out.data());
        return;
    }
    for (size_t d = 0; d < dims_; ++d)
        out[d] += w * static_cast<float>(q[d]);
}

void WordVectors::vector(size_t i, std::span<float> out) const {
    const int8_t* q = vectors_ + i * dims_;
    const float s = scales_[i];
    for (size_t d = 0; d < dims_; ++d)
        out[d] = s * static_cast<float>(q[d]);
}

std::string default_rag_data_dir() {
    if (const char* dir = std::getenv("SWITCHYARD_RAG_DATA_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    return SWITCHYARD_RAG_DATA_DIR;
}

}  // namespace switchyard::rag
