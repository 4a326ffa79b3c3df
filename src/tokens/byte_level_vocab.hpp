// ByteLevelVocab: a read-only view of a kByteLevelBpe payload (layout written by
// tools/vocab/bytelevel.mjs and described there): token bytes, the token hash (bytes -> id),
// the pair hash ((left, right) -> rank, merged id) and the special tokens.
// Thread safety: immutable; all lookups are const and lock-free.
// Failure: bind() checks sizes and offsets once and returns a message; lookups never fail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "byte_level_unicode.hpp"

namespace switchyard::tokens::byte_level {

enum class Pattern : uint32_t { kCl100k = 1, kO200k = 2, kGpt2 = 3, kLlama3 = 4 };

enum VocabFlags : uint32_t {
    kFlagNfkc = 1,            // NFKC-normalise before encoding (claude)
    kFlagSpecialInText = 2,   // special-token strings in text encode as the special id (claude)
    kFlagLlama3JsMerges = 4,  // llama3-tokenizer-js's merge order (see byte_level_merge.hpp)
};

inline constexpr uint32_t kNoToken = 0xFFFFFFFFu;
inline constexpr uint32_t kNoRank = 0xFFFFFFFFu;

inline constexpr uint64_t kHashK1 = 0x9e3779b97f4a7c15ull;
inline constexpr uint64_t kHashK2 = 0xff51afd7ed558ccdull;

struct TokenSlot {
    uint64_t prefix;  // first min(8, length) bytes, little-endian, zero-padded
    uint32_t id;
    uint32_t length;  // 0: empty slot
};

struct PairSlot {
    uint64_t key;  // left << 32 | right; ~0: empty slot
    uint32_t rank;
    uint32_t merged;
};

// Little-endian load of n < 8 bytes, zero-padded.
inline uint64_t load_partial(const unsigned char* p, size_t n) {
    uint64_t w = 0;
    for (size_t i = n; i-- > 0;)
        w = (w << 8) | p[i];
    return w;
}

class ByteLevelVocab {
public:
    // Points the view at `payload` (which must outlive it). Empty string on success.
    std::string bind(std::span<const std::byte> payload);

    Pattern pattern() const { return pattern_; }
    uint32_t flags() const { return flags_; }
    UnicodeProfile profile() const { return profile_; }
    uint32_t n_ids() const { return n_ids_; }
    uint32_t max_token_bytes() const { return max_token_bytes_; }
    uint32_t byte_id(unsigned char b) const { return byte_ids_[b]; }
    std::span<const uint32_t> special_ids() const { return {special_ids_, n_special_}; }

    // Bytes of token `id` (empty for ids outside the vocabulary).
    std::string_view token_bytes(uint32_t id) const {
        if (id >= n_ids_) return {};
        return {token_bytes_ + token_offsets_[id], token_offsets_[id + 1] - token_offsets_[id]};
    }

    // The hash of bytes [p, p + n) as the token hash uses it, with their first 8 bytes. `end`
    // bounds the readable memory after p (reads past p + n but before end are allowed).
    struct Key {
        uint64_t hash;
        uint64_t first;
    };
    // first_only: fill `first` alone (hash left 0).
    static Key key(const unsigned char* p, size_t n, const unsigned char* end,
                   bool first_only = false) {
        uint64_t first;
        if (n >= 8 || end - p >= 8) {
            std::memcpy(&first, p, 8);
            if (n < 8) first &= (uint64_t{1} << (8 * n)) - 1;
        } else {
            first = load_partial(p, n);
        }
        if (first_only) return {0, first};
        uint64_t h = (n * kHashK2 ^ first) * kHashK1;
        for (size_t i = 8; i < n; i += 8) {
            uint64_t w;
            if (n - i >= 8) {
                std::memcpy(&w, p + i, 8);
            } else {
                w = load_partial(p + i, n - i);
            }
            h = (h ^ w) * kHashK1;
        }
        h ^= h >> 32;
        return {h * kHashK2, first};
    }

    // Id of the ordinary token whose bytes are exactly [p, p + n) (hashed to `k`), or kNoToken.
    uint32_t find_token(const Key& k, const unsigned char* p, size_t n) const {
        if (n > max_token_bytes_) return kNoToken;
        for (uint64_t slot = k.hash >> token_shift_;; slot = (slot + 1) & token_mask_) {
            const TokenSlot& s = token_hash_[slot];
            if (s.length == 0) return kNoToken;
            if (s.length == n && s.prefix == k.first &&
                (n <= 8 ||
                 std::memcmp(p + 8, token_bytes_ + token_offsets_[s.id] + 8, n - 8) == 0)) {
                return s.id;
            }
        }
    }
    uint32_t find_token(const unsigned char* p, size_t n, const unsigned char* end) const {
        if (n > max_token_bytes_) return kNoToken;
        return find_token(key(p, n, end), p, n);
    }

    // The merge of adjacent tokens (left, right), or nullptr if they never merge.
    const PairSlot* find_pair(uint32_t left, uint32_t right) const {
        uint64_t key = (uint64_t{left} << 32) | right;
        for (uint64_t slot = (key * kHashK1) >> pair_shift_;; slot = (slot + 1) & pair_mask_) {
            const PairSlot& s = pair_hash_[slot];
            if (s.key == key) return &s;
            if (s.key == ~uint64_t{0}) return nullptr;
        }
    }

private:
    Pattern pattern_ = Pattern::kCl100k;
    uint32_t flags_ = 0;
    UnicodeProfile profile_ = UnicodeProfile::kTiktoken;
    uint32_t n_ids_ = 0;
    uint32_t n_special_ = 0;
    uint32_t max_token_bytes_ = 0;
    unsigned token_shift_ = 64;
    uint64_t token_mask_ = 0;
    unsigned pair_shift_ = 64;
    uint64_t pair_mask_ = 0;
    const uint32_t* token_offsets_ = nullptr;
    const char* token_bytes_ = nullptr;
    const TokenSlot* token_hash_ = nullptr;
    const PairSlot* pair_hash_ = nullptr;
    const uint32_t* byte_ids_ = nullptr;
    const uint32_t* special_ids_ = nullptr;
};

}  // namespace switchyard::tokens::byte_level
