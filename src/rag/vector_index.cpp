#include "switchyard/rag/vector_index.hpp"

#include <hnswlib/hnswlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <queue>
#include <string>
#include <thread>

#include <fmt/format.h>

namespace switchyard::rag {

namespace {

// Four independent sums let the compiler keep four SSE lanes busy without -ffast-math.
float dot_portable(const float* a, const float* b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

float ip_distance_portable(const void* a, const void* b, const void* dim) {
    return 1.0f - dot_portable(static_cast<const float*>(a), static_cast<const float*>(b),
                               *static_cast<const size_t*>(dim));
}

#if defined(__x86_64__)
// The build targets baseline x86-64 (SSE2), and Debian's hnswlib picks AVX only at compile
// time, so AVX2/FMA is chosen here at run time, per function.
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    if (i + 8 <= n) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        i += 8;
    }
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    if (i + 4 <= n) {
        sum4 = _mm_fmadd_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i), sum4);
        i += 4;
    }
    sum4 = _mm_hadd_ps(sum4, sum4);
    sum4 = _mm_hadd_ps(sum4, sum4);
    float sum = _mm_cvtss_f32(sum4);
    for (; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

__attribute__((target("avx2,fma"))) float ip_distance_avx2(const void* a, const void* b,
                                                           const void* dim) {
    return 1.0f - dot_avx2(static_cast<const float*>(a), static_cast<const float*>(b),
                           *static_cast<const size_t*>(dim));
}

// __builtin_cpu_init() first: this runs during static initialisation, possibly before
// libgcc has filled in the CPU model.
const bool kHaveAvx2 =
    (__builtin_cpu_init(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
constexpr bool kHaveAvx2 = false;
float dot_avx2(const float* a, const float* b, size_t n) {
    return dot_portable(a, b, n);
}
float ip_distance_avx2(const void* a, const void* b, const void* dim) {
    return ip_distance_portable(a, b, dim);
}
#endif

float dot_product(const float* a, const float* b, size_t n) {
    return kHaveAvx2 ? dot_avx2(a, b, n) : dot_portable(a, b, n);
}

// Best first; equal scores: lower chunk id first (stable across modes and runs).
bool better(const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
}

}  // namespace

struct VectorIndex::Graph {
    Graph(const VectorIndexOptions& options, size_t capacity)
        : space(options.dim),
          hnsw(&space, capacity, options.m, options.ef_construction,
               static_cast<size_t>(options.seed)) {
        // Inner-product distance (1 - dot) for building and searching: hnswlib's own is SSE.
        hnsw.fstdistfunc_ = kHaveAvx2 ? ip_distance_avx2 : ip_distance_portable;
    }

    hnswlib::InnerProductSpace space;  // must outlive hnsw (it points into it)
    hnswlib::HierarchicalNSW<float> hnsw;
};

VectorIndex::VectorIndex(VectorIndexOptions options)
    : options_(options), ef_search_(options.ef_search) {}

VectorIndex::~VectorIndex() = default;

Status VectorIndex::check(std::span<const float> vector, const char* what) const {
    if (vector.size() != options_.dim) {
        return Error::invalid_request(
            fmt::format("vector index: the {} has {} dimensions, the index {}", what, vector.size(),
                        options_.dim),
            {}, "dimension_mismatch");
    }
    for (float x : vector) {
        if (!std::isfinite(x)) {
            return Error::invalid_request(
                fmt::format("vector index: the {} has a NaN or infinite component", what), {},
                "invalid_vector");
        }
    }
    return Ok{};
}

void VectorIndex::put_flat(uint64_t chunk_id, std::span<const float> vector) {
    const size_t dim = options_.dim;
    auto [it, inserted] = slot_of_.try_emplace(chunk_id, static_cast<uint32_t>(ids_.size()));
    if (inserted) {
        ids_.push_back(chunk_id);
        data_.insert(data_.end(), vector.begin(), vector.end());
    } else {
        std::copy(vector.begin(), vector.end(), data_.begin() + it->second * dim);
    }
}

Status VectorIndex::add(uint64_t chunk_id, std::span<const float> vector) {
    Status ok = check(vector, "vector");
    if (!ok) return ok;
    const uint64_t ids[1] = {chunk_id};
    return add_batch(ids, vector, 1);
}

Status VectorIndex::add_batch(std::span<const uint64_t> ids, std::span<const float> vectors,
                              size_t threads) {
    const size_t dim = options_.dim;
    if (dim == 0)
        return Error::invalid_request("vector index: dimension 0", {}, "dimension_mismatch");
    if (vectors.size() != ids.size() * dim) {
        return Error::invalid_request(
            fmt::format("vector index: {} ids but {} floats (expected {} of {} dimensions)",
                        ids.size(), vectors.size(), ids.size() * dim, dim),
            {}, "dimension_mismatch");
    }
    for (size_t i = 0; i < ids.size(); ++i) {
        Status ok = check(vectors.subspan(i * dim, dim), "vector");
        if (!ok) return ok;
    }
    if (threads == 0) threads = options_.build_threads;

    auto lock = write_lock();
    try {
        std::vector<uint32_t> slots;
        slots.reserve(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            put_flat(ids[i], vectors.subspan(i * dim, dim));
            slots.push_back(slot_of_[ids[i]]);
        }
        if (graph_) {
            std::sort(slots.begin(), slots.end());
            slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
            Status ok = insert_graph(slots, threads);
            // A graph missing some vectors would silently miss them: fall back to flat
            // search (still exact); the next add past the threshold rebuilds it.
            if (!ok) graph_.reset();
            return ok;
        }
        if (ids_.size() > options_.flat_threshold) return build_graph(threads);
        return Ok{};
    } catch (const std::exception& e) {
        graph_.reset();
        return Error::internal(fmt::format("vector index: add failed: {}", e.what()));
    }
}

Status VectorIndex::build_graph(size_t threads) {
    const size_t capacity = std::max<size_t>(1024, ids_.size() + ids_.size() / 2);
    graph_ = std::make_unique<Graph>(options_, capacity);
    std::vector<uint32_t> slots(ids_.size());
    for (size_t i = 0; i < slots.size(); ++i)
        slots[i] = static_cast<uint32_t>(i);
    Status ok = insert_graph(slots, threads);
    if (!ok) graph_.reset();  // flat search stays correct
    return ok;
}

Status VectorIndex::insert_graph(std::span<const uint32_t> slots, size_t threads) {
    auto& hnsw = graph_->hnsw;
    const size_t needed = hnsw.cur_element_count + slots.size();
    if (needed > hnsw.max_elements_) hnsw.resizeIndex(std::max(needed, hnsw.max_elements_ * 2));

    const size_t dim = options_.dim;
    auto insert = [&](uint32_t slot) { hnsw.addPoint(data_.data() + slot * dim, ids_[slot]); };
    size_t first = 0;
    if (hnsw.cur_element_count == 0 && !slots.empty()) insert(slots[first++]);  // entry point
    threads = std::clamp<size_t>(threads, 1, 64);
    if (threads == 1 || slots.size() - first < 2 * threads) {
        for (size_t i = first; i < slots.size(); ++i)
            insert(slots[i]);
        return Ok{};
    }
    // hnswlib's addPoint is safe to call concurrently for distinct labels (per-node locks).
    std::atomic<size_t> next{first};
    std::mutex error_mutex;
    std::string error;
    std::vector<std::thread> workers;
    for (size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            try {
                for (size_t i = next++; i < slots.size(); i = next++)
                    insert(slots[i]);
            } catch (const std::exception& e) {
                std::lock_guard guard(error_mutex);
                error = e.what();
                next = slots.size();
            }
        });
    }
    for (auto& worker : workers)
        worker.join();
    if (!error.empty()) return Error::internal("vector index: graph insert failed: " + error);
    return Ok{};
}

bool VectorIndex::remove(uint64_t chunk_id) {
    auto lock = write_lock();
    auto it = slot_of_.find(chunk_id);
    if (it == slot_of_.end()) return false;
    const size_t dim = options_.dim;
    const uint32_t slot = it->second;
    const uint32_t last = static_cast<uint32_t>(ids_.size() - 1);
    if (slot != last) {
        std::copy(data_.begin() + last * dim, data_.begin() + (last + 1) * dim,
                  data_.begin() + slot * dim);
        ids_[slot] = ids_[last];
        slot_of_[ids_[slot]] = slot;
    }
    ids_.pop_back();
    data_.resize(ids_.size() * dim);
    slot_of_.erase(chunk_id);
    if (!graph_) return true;

    try {
        graph_->hnsw.markDelete(chunk_id);
        if (ids_.size() < options_.flat_threshold / 2) {
            graph_.reset();
        } else if (graph_->hnsw.num_deleted_ > ids_.size()) {
            Status ok = build_graph(options_.build_threads);
            (void)ok;  // on failure the index is flat again, still correct
        }
    } catch (const std::exception&) {
        graph_.reset();  // flat search stays correct
    }
    return true;
}

Result<std::vector<SearchHit>> VectorIndex::search(std::span<const float> query, size_t top_k,
                                                   ChunkFilter filter, size_t ef) const {
    Status ok = check(query, "query");
    if (!ok) return ok.error();
    std::vector<SearchHit> hits;
    auto lock = read_lock();
    top_k = std::min(top_k, ids_.size());
    if (top_k == 0) return hits;
    if (graph_) {
        if (ef == 0) ef = ef_search_.load(std::memory_order_relaxed);
        search_graph(query.data(), top_k, std::max(ef, top_k), filter, hits);
    } else {
        search_flat(query.data(), top_k, filter, hits);
    }
    return hits;
}

Result<std::vector<SearchHit>> VectorIndex::search_exact(std::span<const float> query, size_t top_k,
                                                         ChunkFilter filter) const {
    Status ok = check(query, "query");
    if (!ok) return ok.error();
    std::vector<SearchHit> hits;
    auto lock = read_lock();
    top_k = std::min(top_k, ids_.size());
    if (top_k > 0) search_flat(query.data(), top_k, filter, hits);
    return hits;
}

void VectorIndex::search_flat(const float* query, size_t top_k, ChunkFilter filter,
                              std::vector<SearchHit>& out) const {
    // A min-heap of the best top_k so far (worst on top); the filter is asked only about
    // vectors good enough to enter it.
    const size_t dim = options_.dim;
    out.clear();
    out.reserve(top_k);
    for (size_t slot = 0; slot < ids_.size(); ++slot) {
        const SearchHit hit{ids_[slot], dot_product(query, data_.data() + slot * dim, dim)};
        if (out.size() == top_k && !better(hit, out.front())) continue;
        if (!filter(hit.chunk_id)) continue;
        if (out.size() == top_k) {
            std::pop_heap(out.begin(), out.end(), better);
            out.back() = hit;
        } else {
            out.push_back(hit);
        }
        std::push_heap(out.begin(), out.end(), better);
    }
    std::sort(out.begin(), out.end(), better);
}

void VectorIndex::search_graph(const float* query, size_t top_k, size_t ef, ChunkFilter filter,
                               std::vector<SearchHit>& out) const {
    using hnswlib::tableint;
    auto& g = graph_->hnsw;
    out.clear();
    if (g.cur_element_count == 0) return;

    // Upper layers: greedy descent to the closest node, as hnswlib does.
    tableint current = g.enterpoint_node_;
    float current_dist = g.fstdistfunc_(query, g.getDataByInternalId(current), g.dist_func_param_);
    for (int level = g.maxlevel_; level > 0; --level) {
        bool changed = true;
        while (changed) {
            changed = false;
            const auto* links = g.get_linklist(current, level);
            const size_t n = g.getListCount(const_cast<hnswlib::linklistsizeint*>(links));
            const auto* ids = reinterpret_cast<const tableint*>(links + 1);
            for (size_t i = 0; i < n; ++i) {
                const float d =
                    g.fstdistfunc_(query, g.getDataByInternalId(ids[i]), g.dist_func_param_);
                if (d < current_dist) {
                    current_dist = d;
                    current = ids[i];
                    changed = true;
                }
            }
        }
    }

    // Base layer: best-first search with a candidate list of ef accepted nodes. Rejected
    // nodes (deleted, or failing the filter) are still expanded, so the walk passes through
    // them; while fewer than ef nodes are accepted the search does not stop early.
    const bool screening = filter || g.num_deleted_ > 0;
    auto accepted = [&](tableint id) {
        return !g.isMarkedDeleted(id) && filter(g.getExternalLabel(id));
    };
    using Entry = std::pair<float, tableint>;
    std::priority_queue<Entry> top;         // accepted; worst (largest distance) on top
    std::priority_queue<Entry> candidates;  // to expand; stores -distance, nearest on top
    hnswlib::VisitedList* visited = g.visited_list_pool_->getFreeVisitedList();
    hnswlib::vl_type* marks = visited->mass;
    const hnswlib::vl_type tag = visited->curV;

    float bound = std::numeric_limits<float>::max();
    if (!screening || accepted(current)) {
        top.emplace(current_dist, current);
        bound = current_dist;
    }
    candidates.emplace(-current_dist, current);
    marks[current] = tag;

    while (!candidates.empty()) {
        const auto [negative_dist, node] = candidates.top();
        if (-negative_dist > bound && top.size() >= ef) break;
        candidates.pop();
        const auto* links = g.get_linklist0(node);
        const size_t n = g.getListCount(const_cast<hnswlib::linklistsizeint*>(links));
        const auto* ids = reinterpret_cast<const tableint*>(links + 1);
        if (n > 0) {
            __builtin_prefetch(marks + ids[0]);
            __builtin_prefetch(g.getDataByInternalId(ids[0]));
        }
        for (size_t j = 0; j < n; ++j) {
            const tableint id = ids[j];
            if (j + 1 < n) {
                __builtin_prefetch(marks + ids[j + 1]);
                __builtin_prefetch(g.getDataByInternalId(ids[j + 1]));
            }
            if (marks[id] == tag) continue;
            marks[id] = tag;
            const float d = g.fstdistfunc_(query, g.getDataByInternalId(id), g.dist_func_param_);
            if (top.size() < ef || d < bound) {
                candidates.emplace(-d, id);
                if (!screening || accepted(id)) {
                    top.emplace(d, id);
                    if (top.size() > ef) top.pop();
                    bound = top.top().first;
                }
            }
        }
    }
    g.visited_list_pool_->releaseVisitedList(visited);

    while (top.size() > top_k)
        top.pop();
    out.reserve(top.size());
    while (!top.empty()) {
        // Rescored with dot_product so graph and flat scores agree to the last bit.
        const tableint id = top.top().second;
        out.push_back({g.getExternalLabel(id),
                       dot_product(query, reinterpret_cast<const float*>(g.getDataByInternalId(id)),
                                   options_.dim)});
        top.pop();
    }
    std::sort(out.begin(), out.end(), better);
}

bool VectorIndex::get(uint64_t chunk_id, std::span<float> out) const {
    auto lock = read_lock();
    auto it = slot_of_.find(chunk_id);
    if (it == slot_of_.end() || out.size() < options_.dim) return false;
    const auto begin = data_.begin() + it->second * options_.dim;
    std::copy(begin, begin + options_.dim, out.begin());
    return true;
}

bool VectorIndex::contains(uint64_t chunk_id) const {
    auto lock = read_lock();
    return slot_of_.contains(chunk_id);
}

size_t VectorIndex::size() const {
    auto lock = read_lock();
    return ids_.size();
}

VectorIndexStats VectorIndex::stats() const {
    auto lock = read_lock();
    VectorIndexStats s;
    s.vectors = ids_.size();
    s.graph = graph_ != nullptr;
    if (graph_) {
        s.graph_nodes = graph_->hnsw.cur_element_count;
        s.graph_deleted = graph_->hnsw.num_deleted_;
    }
    return s;
}

}  // namespace switchyard::rag
