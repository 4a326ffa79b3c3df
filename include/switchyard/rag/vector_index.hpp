// VectorIndex: the dense half of retrieval. Unit vectors (cosine similarity = dot product)
// keyed by a uint64 chunk id. Exact flat search while the index holds at most
// flat_threshold vectors; above it an HNSW graph (hnswlib's HierarchicalNSW) answers instead.
// The graph holds int8 codes of the vectors (one scale per vector; dim rounded up to 16,
// plus 4 bytes), and both building and walking it compare codes, which reads a quarter of
// the memory per distance; the walk's candidates are then re-scored against the float32
// vectors, so scores are exact and equal search_exact()'s. Trade-off: the walk ranks by an
// approximation (within about 1 % of a component's range), which at equal ef measured the
// same recall@10 as float32 on GloVe 100-d; the final order is always exact. The flat
// float32 copy of every vector is kept (the source for re-scoring, rebuilding the graph and
// search_exact()).
// Filters run inside the search: in flat mode non-matching vectors are skipped; in HNSW mode
// the graph walk still passes through them but only matching, undeleted nodes enter the
// result (hnswlib 0.7's BaseFilterFunctor algorithm; Debian 12 ships hnswlib 0.6.2, which
// lacks it, so the base-layer search is our own loop over hnswlib's graph).
// Thread safety: search(), search_exact() and the readers run concurrently under a shared
// lock; add(), add_batch() and remove() take a std::shared_mutex exclusively, and searches
// that start while a writer waits queue behind it (writers are not starved). ef_search may
// be changed at any time (an atomic). A ChunkFilter runs on the searching thread.
// Failure: results, never exceptions. A vector or query whose dimension differs from the
// index's, or with a NaN or infinite component, is rejected with invalid_request (code
// "dimension_mismatch" or "invalid_vector"); running out of memory is internal. Vectors are
// not normalised here: the caller passes unit vectors (every Embedder returns them).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "switchyard/core/error.hpp"
#include "switchyard/rag/search_hit.hpp"

namespace switchyard::rag {

struct VectorIndexOptions {
    size_t dim = 0;
    size_t flat_threshold = 10000;  // exact search up to this many vectors, HNSW above
    size_t m = 16;                  // HNSW links per node (2 * m on the base layer)
    size_t ef_construction = 200;   // HNSW candidate list while inserting
    size_t ef_search = 64;          // HNSW candidate list while searching (at least top_k)
    size_t build_threads = 1;       // threads that insert when the graph is (re)built
    uint64_t seed = 100;            // HNSW level generator
};

struct VectorIndexStats {
    size_t vectors = 0;        // live
    bool graph = false;        // HNSW in use
    size_t graph_nodes = 0;    // including nodes marked deleted
    size_t graph_deleted = 0;  // marked deleted, still routing searches
};

class VectorIndex {
public:
    explicit VectorIndex(VectorIndexOptions options);
    ~VectorIndex();
    VectorIndex(const VectorIndex&) = delete;
    VectorIndex& operator=(const VectorIndex&) = delete;

    // Adds or replaces one vector. Crossing flat_threshold builds the graph (with
    // build_threads threads) before returning.
    Status add(uint64_t chunk_id, std::span<const float> vector);
    // Adds rows of `vectors` (row-major, ids.size() * dim floats); graph inserts run on
    // `threads` threads (0: options.build_threads). All rows are checked before any is added.
    Status add_batch(std::span<const uint64_t> ids, std::span<const float> vectors,
                     size_t threads = 0);
    // Returns false when the id was not indexed. In HNSW mode the node is marked deleted;
    // when deleted nodes outnumber live ones the graph is rebuilt, and below
    // flat_threshold / 2 live vectors the graph is dropped.
    bool remove(uint64_t chunk_id);

    // The top_k most similar vectors to `query`, best first, score = dot product. ef 0 uses
    // ef_search; the graph search uses max(ef, top_k).
    Result<std::vector<SearchHit>> search(std::span<const float> query, size_t top_k,
                                          ChunkFilter filter = {}, size_t ef = 0) const;
    // Exact search over every vector, whatever the mode (ground truth for recall).
    Result<std::vector<SearchHit>> search_exact(std::span<const float> query, size_t top_k,
                                                ChunkFilter filter = {}) const;

    // Copies the stored vector of `chunk_id` into out (dim floats); false if absent.
    bool get(uint64_t chunk_id, std::span<float> out) const;
    bool contains(uint64_t chunk_id) const;
    size_t size() const;
    size_t dim() const { return options_.dim; }
    void set_ef_search(size_t ef) { ef_search_.store(ef, std::memory_order_relaxed); }
    VectorIndexStats stats() const;

private:
    struct Graph;  // hnswlib lives only in vector_index.cpp (its header is not ODR-safe)

    Status check(std::span<const float> vector, const char* what) const;
    void put_flat(uint64_t chunk_id, std::span<const float> vector);
    Status build_graph(size_t threads);
    Status insert_graph(std::span<const uint32_t> slots, size_t threads);
    void search_flat(const float* query, size_t top_k, ChunkFilter filter,
                     std::vector<SearchHit>& out) const;
    void search_graph(const float* query, size_t top_k, size_t ef, ChunkFilter filter,
                      std::vector<SearchHit>& out) const;

    const VectorIndexOptions options_;
    std::atomic<size_t> ef_search_;

    // Writers are not starved by a stream of searches (glibc's rwlock prefers readers): a
    // writer holds turnstile_ while it waits for mutex_, so new searches queue behind it.
    std::shared_lock<std::shared_mutex> read_lock() const {
        std::lock_guard turnstile(turnstile_);
        return std::shared_lock(mutex_);
    }
    std::unique_lock<std::shared_mutex> write_lock() {
        std::lock_guard turnstile(turnstile_);
        return std::unique_lock(mutex_);
    }

    mutable std::mutex turnstile_;
    mutable std::shared_mutex mutex_;
    std::vector<float> data_;                         // guarded by mutex_; row per slot
    std::vector<uint64_t> ids_;                       // guarded by mutex_; id per slot
    std::unordered_map<uint64_t, uint32_t> slot_of_;  // guarded by mutex_
    std::unique_ptr<Graph> graph_;                    // guarded by mutex_; null in flat mode
};

}  // namespace switchyard::rag
