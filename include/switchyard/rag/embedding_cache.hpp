// EmbeddingCache: an Embedder that wraps another and remembers the vectors it produced,
// keyed by a 128-bit content hash of the text (XXH3-128), so re-ingesting unchanged text or
// repeating a query costs a hash and a copy. Least-recently-used eviction, bounded in
// entries. It has the wrapped embedder's name() and dimension(): its vectors are the same.
// Thread safety: embed() may run on any number of threads at once. Entries live in
// `shards` independently locked LRU lists chosen by the hash, so threads rarely contend;
// counters are atomics. Trade-off: two threads missing the same text at once both embed it
// (the second insert keeps the first vector), which favours simplicity over saving that work.
// Failure: an error from the wrapped embedder is returned unchanged and nothing is cached.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchyard/rag/embedder.hpp"

namespace switchyard::rag {

struct EmbeddingCacheOptions {
    size_t max_entries = 100000;  // across all shards; each shard holds its share
    size_t shards = 16;           // clamped to [1, max_entries]
};

struct EmbeddingCacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    size_t entries = 0;
};

class EmbeddingCache final : public Embedder {
public:
    EmbeddingCache(std::shared_ptr<const Embedder> inner, EmbeddingCacheOptions options = {});

    std::string_view name() const override { return inner_->name(); }
    size_t dimension() const override { return inner_->dimension(); }
    // Cached rows are copied out; the misses go to the wrapped embedder as one batch.
    std::string embed(std::span<const std::string_view> texts, EmbeddingBatch& out) const override;

    EmbeddingCacheStats stats() const;
    void clear();
    const Embedder& inner() const { return *inner_; }

private:
    struct Key {
        uint64_t low = 0;
        uint64_t high = 0;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const { return static_cast<size_t>(k.low); }
    };
    struct Entry {
        Key key;
        std::vector<float> vector;
    };
    struct Shard {
        std::mutex mutex;
        std::list<Entry> lru;  // guarded by mutex; front = most recently used
        std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index;  // guarded by mutex
    };

    static Key key_of(std::string_view text);
    Shard& shard_of(const Key& key) const { return shards_[key.high % shards_.size()]; }
    bool lookup(const Key& key, std::span<float> out) const;
    void insert(const Key& key, std::span<const float> vector) const;

    std::shared_ptr<const Embedder> inner_;
    size_t per_shard_capacity_ = 1;
    mutable std::vector<Shard> shards_;
    mutable std::atomic<uint64_t> hits_{0};
    mutable std::atomic<uint64_t> misses_{0};
    mutable std::atomic<uint64_t> evictions_{0};
};

}  // namespace switchyard::rag
