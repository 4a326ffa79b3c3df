#include "switchyard/rag/embedding_cache.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>

namespace switchyard::rag {

EmbeddingCache::EmbeddingCache(std::shared_ptr<const Embedder> inner, EmbeddingCacheOptions options)
    : inner_(std::move(inner)) {
    const size_t max_entries = std::max<size_t>(1, options.max_entries);
    const size_t n_shards = std::clamp<size_t>(options.shards, 1, max_entries);
    per_shard_capacity_ = (max_entries + n_shards - 1) / n_shards;
    shards_ = std::vector<Shard>(n_shards);
}

EmbeddingCache::Key EmbeddingCache::key_of(std::string_view text) {
    const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
    return {h.low64, h.high64};
}

bool EmbeddingCache::lookup(const Key& key, std::span<float> out) const {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it == shard.index.end()) return false;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    std::copy(it->second->vector.begin(), it->second->vector.end(), out.begin());
    return true;
}

void EmbeddingCache::insert(const Key& key, std::span<const float> vector) const {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    if (shard.index.contains(key)) return;
    shard.lru.push_front(Entry{key, std::vector<float>(vector.begin(), vector.end())});
    shard.index.emplace(key, shard.lru.begin());
    while (shard.lru.size() > per_shard_capacity_) {
        shard.index.erase(shard.lru.back().key);
        shard.lru.pop_back();
        evictions_.fetch_add(1, std::memory_order_relaxed);
    }
}

std::string EmbeddingCache::embed(std::span<const std::string_view> texts,
                                  EmbeddingBatch& out) const {
    const size_t dim = inner_->dimension();
    out = EmbeddingBatch(texts.size(), dim);
    std::vector<Key> keys(texts.size());
    std::vector<size_t> missing;
    std::vector<std::string_view> missing_texts;
    for (size_t i = 0; i < texts.size(); ++i) {
        keys[i] = key_of(texts[i]);
        if (!lookup(keys[i], out.row(i))) {
            missing.push_back(i);
            missing_texts.push_back(texts[i]);
        }
    }
    hits_.fetch_add(texts.size() - missing.size(), std::memory_order_relaxed);
    misses_.fetch_add(missing.size(), std::memory_order_relaxed);
    if (missing.empty()) return {};

    EmbeddingBatch fresh;
    std::string error = inner_->embed(missing_texts, fresh);
    if (!error.empty()) return error;
    if (fresh.rows() != missing.size() || fresh.dim() != dim) {
        return "embedding cache: the wrapped embedder returned a batch of the wrong shape";
    }
    for (size_t j = 0; j < missing.size(); ++j) {
        const auto row = fresh.row(j);
        std::copy(row.begin(), row.end(), out.row(missing[j]).begin());
        insert(keys[missing[j]], row);
    }
    return {};
}

EmbeddingCacheStats EmbeddingCache::stats() const {
    EmbeddingCacheStats s;
    s.hits = hits_.load(std::memory_order_relaxed);
    s.misses = misses_.load(std::memory_order_relaxed);
    s.evictions = evictions_.load(std::memory_order_relaxed);
    for (Shard& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        s.entries += shard.lru.size();
    }
    return s;
}

void EmbeddingCache::clear() {
    for (Shard& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        shard.index.clear();
        shard.lru.clear();
    }
}

}  // namespace switchyard::rag
