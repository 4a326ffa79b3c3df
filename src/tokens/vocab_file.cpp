#include "switchyard/tokens/vocab_file.hpp"

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

#ifndef SWITCHYARD_VOCAB_DIR
#define SWITCHYARD_VOCAB_DIR "data/vocab"
#endif

namespace switchyard::tokens {
namespace {

constexpr char kMagic[8] = {'S', 'Y', 'V', 'O', 'C', 'A', 'B', '1'};
constexpr std::string_view kFix =
    "run scripts/bootstrap.sh (or `make build`) to convert the vocabularies";

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

bool sha256_matches(std::span<const std::byte> data, const std::byte* want) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr) != 1 || n != 32) {
        return false;
    }
    return std::memcmp(digest, want, 32) == 0;
}

}  // namespace

VocabFile::VocabFile(VocabFile&& other) noexcept {
    *this = std::move(other);
}

VocabFile& VocabFile::operator=(VocabFile&& other) noexcept {
    if (this != &other) {
        if (map_ != nullptr) munmap(map_, map_bytes_);
        map_ = std::exchange(other.map_, nullptr);
        map_bytes_ = std::exchange(other.map_bytes_, 0);
        kind_ = other.kind_;
        name_ = std::move(other.name_);
        payload_ = std::exchange(other.payload_, {});
    }
    return *this;
}

VocabFile::~VocabFile() {
    if (map_ != nullptr) munmap(map_, map_bytes_);
}

std::variant<VocabFile, std::string> VocabFile::open(const std::string& path, VocabKind kind) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fmt::format("vocabulary file {}: {}; {}", path, std::strerror(errno), kFix);
    }
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return fmt::format("vocabulary file {}: {}", path, std::strerror(err));
    }
    auto bytes = static_cast<size_t>(st.st_size);
    if (bytes < kVocabHeaderBytes) {
        ::close(fd);
        return fmt::format("vocabulary file {}: truncated ({} bytes); {}", path, bytes, kFix);
    }
    void* map = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    ::close(fd);
    if (map == MAP_FAILED) {
        return fmt::format("vocabulary file {}: mmap failed: {}", path, std::strerror(err));
    }
    VocabFile file;
    file.map_ = map;
    file.map_bytes_ = bytes;
    const auto* base = static_cast<const std::byte*>(map);
    if (std::memcmp(base, kMagic, sizeof kMagic) != 0) {
        return fmt::format("vocabulary file {}: not a Switchyard vocabulary (bad magic); {}", path,
                           kFix);
    }
    uint32_t version = read_u32(base + 8);
    if (version != kVocabFormatVersion) {
        return fmt::format("vocabulary file {}: format version {}, this build reads {}; {}", path,
                           version, kVocabFormatVersion, kFix);
    }
    uint32_t file_kind = read_u32(base + 12);
    if (file_kind != static_cast<uint32_t>(kind)) {
        return fmt::format("vocabulary file {}: kind {}, expected {}", path, file_kind,
                           static_cast<uint32_t>(kind));
    }
    uint64_t payload_bytes = read_u64(base + 16);
    if (payload_bytes != bytes - kVocabHeaderBytes) {
        return fmt::format("vocabulary file {}: payload is {} bytes, header says {}; {}", path,
                           bytes - kVocabHeaderBytes, payload_bytes, kFix);
    }
    file.payload_ = {base + kVocabHeaderBytes, static_cast<size_t>(payload_bytes)};
    if (!sha256_matches(file.payload_, base + 24)) {
        return fmt::format("vocabulary file {}: checksum mismatch (corrupt or partly written); {}",
                           path, kFix);
    }
    const char* name = reinterpret_cast<const char*>(base + 56);
    file.name_.assign(name, strnlen(name, 40));
    file.kind_ = kind;
    return file;
}

std::string default_vocab_dir() {
    if (const char* dir = std::getenv("SWITCHYARD_VOCAB_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    return SWITCHYARD_VOCAB_DIR;
}

}  // namespace switchyard::tokens
