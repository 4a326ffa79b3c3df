#include <fmt/format.h>

#include <cstring>

#include "byte_level_vocab.hpp"

namespace switchyard::tokens::byte_level {
namespace {

constexpr uint32_t kLayoutVersion = 1;
constexpr size_t kHeaderBytes = 128;

uint32_t u32_at(const std::byte* p, size_t off) {
    uint32_t v;
    std::memcpy(&v, p + off, sizeof v);
    return v;
}

uint64_t u64_at(const std::byte* p, size_t off) {
    uint64_t v;
    std::memcpy(&v, p + off, sizeof v);
    return v;
}

}  // namespace

std::string ByteLevelVocab::bind(std::span<const std::byte> payload) {
    const std::byte* base = payload.data();
    const size_t size = payload.size();
    if (size < kHeaderBytes) return fmt::format("payload truncated ({} bytes)", size);
    if (reinterpret_cast<uintptr_t>(base) % 8 != 0) return "payload not 8-byte aligned";
    if (uint32_t v = u32_at(base, 0); v != kLayoutVersion) {
        return fmt::format("byte-level layout version {}, this build reads {}", v, kLayoutVersion);
    }
    uint32_t pattern = u32_at(base, 4);
    uint32_t profile = u32_at(base, 12);
    if (pattern < 1 || pattern > 4) return fmt::format("unknown pattern {}", pattern);
    if (profile < 1 || profile > 2) return fmt::format("unknown Unicode profile {}", profile);
    pattern_ = static_cast<Pattern>(pattern);
    flags_ = u32_at(base, 8);
    profile_ = static_cast<UnicodeProfile>(profile);
    n_ids_ = u32_at(base, 16);
    n_special_ = u32_at(base, 20);
    uint32_t token_bits = u32_at(base, 24);
    uint32_t pair_bits = u32_at(base, 28);
    max_token_bytes_ = u32_at(base, 80);
    if (token_bits < 1 || token_bits > 30 || pair_bits < 1 || pair_bits > 30) {
        return "hash table sizes out of range";
    }
    uint64_t off_offsets = u64_at(base, 32), off_bytes = u64_at(base, 40);
    uint64_t off_tokens = u64_at(base, 48), off_pairs = u64_at(base, 56);
    uint64_t off_byte_ids = u64_at(base, 64), off_special = u64_at(base, 72);
    auto fits = [&](uint64_t off, uint64_t bytes) {
        return off % 4 == 0 && off <= size && bytes <= size - off;
    };
    if (!fits(off_offsets, 4ull * (n_ids_ + 1ull)) || !fits(off_tokens, 16ull << token_bits) ||
        off_tokens % 8 != 0 || !fits(off_pairs, 16ull << pair_bits) || off_pairs % 8 != 0 ||
        !fits(off_byte_ids, 4ull * 256) || !fits(off_special, 4ull * n_special_)) {
        return "section offsets out of range";
    }
    token_offsets_ = reinterpret_cast<const uint32_t*>(base + off_offsets);
    if (!fits(off_bytes, token_offsets_[n_ids_])) return "token bytes out of range";
    for (uint32_t i = 0; i < n_ids_; ++i) {
        if (token_offsets_[i] > token_offsets_[i + 1]) return "token offsets not ascending";
    }
    token_bytes_ = reinterpret_cast<const char*>(base + off_bytes);
    token_hash_ = reinterpret_cast<const TokenSlot*>(base + off_tokens);
    pair_hash_ = reinterpret_cast<const PairSlot*>(base + off_pairs);
    byte_ids_ = reinterpret_cast<const uint32_t*>(base + off_byte_ids);
    special_ids_ = reinterpret_cast<const uint32_t*>(base + off_special);
    token_shift_ = 64 - token_bits;
    token_mask_ = (uint64_t{1} << token_bits) - 1;
    pair_shift_ = 64 - pair_bits;
    pair_mask_ = (uint64_t{1} << pair_bits) - 1;
    for (unsigned b = 0; b < 256; ++b) {
        if (byte_ids_[b] >= n_ids_) return fmt::format("byte {:#04x} has no token", b);
    }
    for (uint32_t i = 0; i < n_special_; ++i) {
        if (special_ids_[i] >= n_ids_) return "special token id out of range";
    }
    return {};
}

}  // namespace switchyard::tokens::byte_level
