// PieceCache: a small direct-mapped cache of piece bytes -> token ids, one per thread and
// vocabulary, in front of the vocabulary's token hash and the BPE merge. Text repeats its
// pieces (words, identifiers); the cache turns those into one probe in a table that stays in
// the core's L2 instead of a probe in the multi-megabyte token hash or a merge.
// Thread safety: thread-local (PieceCache::for_thread); never shared.
// Failure: none; bounded (kSlots entries of 64 bytes), pieces over 22 bytes or 8 ids are not
// cached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace switchyard::tokens::byte_level {

class PieceCache {
public:
    static constexpr size_t kSlots = 4096;
    static constexpr size_t kMaxBytes = 22;
    static constexpr size_t kMaxIds = 8;

    struct Entry {
        uint64_t hash;
        uint8_t length;  // 0: empty
        uint8_t n_ids;
        unsigned char bytes[kMaxBytes];
        uint32_t ids[kMaxIds];
    };
    static_assert(sizeof(Entry) == 64);

    // This thread's cache for the vocabulary `owner` (created on first use; a few per thread).
    static PieceCache& for_thread(const void* owner) {
        struct Slot {
            const void* owner = nullptr;
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

    const Entry* find(uint64_t hash, const unsigned char* p, size_t n) const {
        const Entry& e = entries_[hash & (kSlots - 1)];
        if (e.hash == hash && e.length == n && std::memcmp(e.bytes, p, n) == 0) return &e;
        return nullptr;
    }

    void put(uint64_t hash, const unsigned char* p, size_t n, const uint32_t* ids, size_t n_ids) {
        if (n > kMaxBytes || n_ids > kMaxIds) return;
        Entry& e = entries_[hash & (kSlots - 1)];
        e.hash = hash;
        e.length = static_cast<uint8_t>(n);
        e.n_ids = static_cast<uint8_t>(n_ids);
        std::memcpy(e.bytes, p, n);
        std::memcpy(e.ids, ids, n_ids * sizeof(uint32_t));
    }

private:
    Entry entries_[kSlots] = {};
};

}  // namespace switchyard::tokens::byte_level
