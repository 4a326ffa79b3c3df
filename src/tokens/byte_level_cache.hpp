// PieceCache: a small direct-mapped cache of piece bytes -> token ids, one per thread and
// vocabulary, in front of the vocabulary's token hash and the BPE merge. Text repeats its
// pieces (words, identifiers); the cache turns those into one probe in a table that stays in
// the core's L2 instead of a probe in the multi-megabyte token hash or a merge.
// Thread safety: thread-local (PieceCache::for_thread); never shared.
// Failure: none; bounded (kShortSlots entries of 16 bytes for pieces of up to 8 bytes that
// are one token, kSlots entries of 64 bytes for the rest), pieces over 22 bytes or 8 ids are
// not cached.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace switchyard::tokens::byte_level {

class PieceCache {
public:
    static constexpr size_t kSlots = 4096;
    static constexpr size_t kShortSlots = 4096;  // 64 KB: pieces of up to 8 bytes, one id
    static constexpr size_t kMaxBytes = 22;
    static constexpr size_t kMaxIds = 8;

    struct Entry {
        uint64_t hash;
        uint64_t first;  // first min(8, length) bytes, little-endian, zero-padded
        uint8_t length;  // 0: empty
        uint8_t n_ids;
        unsigned char rest[kMaxBytes - 8];  // bytes after the first 8
        uint32_t ids[kMaxIds];
    };
    static_assert(sizeof(Entry) == 64);

    // A process-unique id for a tokenizer instance (never reused, unlike an address).
    static uint64_t new_owner_id() {
        static std::atomic<uint64_t> next{1};
        return next.fetch_add(1, std::memory_order_relaxed);
    }

    // This thread's cache for the tokenizer `owner` (a new_owner_id(); created on first use,
    // a few per thread, least recently created replaced first).
    static PieceCache& for_thread(uint64_t owner) {
        struct Slot {
            uint64_t owner = 0;
            std::unique_ptr<PieceCache> cache;
        };
        thread_local Slot slots[8];
        thread_local size_t next_victim = 0;
        for (Slot& s : slots) {
            if (s.owner == owner) return *s.cache;
        }
        Slot& s = slots[next_victim++ % std::size(slots)];
        s.owner = owner;
        s.cache = std::make_unique<PieceCache>();
        return *s.cache;
    }

    // The id of a piece of at most 8 bytes that is one token, or kNoShort; `slot` is any hash
    // of the piece (the low 12 bits are used), the same in put_short.
    static constexpr uint32_t kNoShort = 0xFFFFFFFFu;
    uint32_t find_short(uint64_t slot, uint64_t first, size_t n) const {
        const ShortEntry& e = short_[slot & (kShortSlots - 1)];
        return e.first == first && e.length == n ? e.id : kNoShort;
    }
    void put_short(uint64_t slot, uint64_t first, size_t n, uint32_t id) {
        short_[slot & (kShortSlots - 1)] = ShortEntry{first, static_cast<uint32_t>(n), id};
    }

    // The entry for piece [p, p + n) with hash `hash` and first 8 bytes `first` (as
    // ByteLevelVocab::key computes them), or nullptr.
    const Entry* find(uint64_t hash, uint64_t first, const unsigned char* p, size_t n) const {
        const Entry& e = entries_[hash & (kSlots - 1)];
        if (e.hash != hash || e.first != first || e.length != n) return nullptr;
        if (n > 8 && std::memcmp(e.rest, p + 8, n - 8) != 0) return nullptr;
        return &e;
    }

    void put(uint64_t hash, uint64_t first, const unsigned char* p, size_t n, const uint32_t* ids,
             size_t n_ids) {
        if (n > kMaxBytes || n_ids > kMaxIds) return;
        Entry& e = entries_[hash & (kSlots - 1)];
        e.hash = hash;
        e.first = first;
        e.length = static_cast<uint8_t>(n);
        e.n_ids = static_cast<uint8_t>(n_ids);
        if (n > 8) std::memcpy(e.rest, p + 8, n - 8);
        std::memcpy(e.ids, ids, n_ids * sizeof(uint32_t));
    }

private:
    struct ShortEntry {
        uint64_t first;
        uint32_t length;  // 0: empty
        uint32_t id;
    };

    ShortEntry short_[kShortSlots] = {};
    Entry entries_[kSlots] = {};
};

}  // namespace switchyard::tokens::byte_level
