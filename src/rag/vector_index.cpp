#include "switchyard/rag/vector_index.hpp"

#include <hnswlib/hnswlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <queue>
#include <stdexcept>
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

// __builtin_cpu_init() first: this runs during static initialisation, possibly before
// libgcc has filled in the CPU model.
const bool kHaveAvx2 =
    (__builtin_cpu_init(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
constexpr bool kHaveAvx2 = false;
float dot_avx2(const float* a, const float* b, size_t n) {
    return dot_portable(a, b, n);
}
#endif

float dot_product(const float* a, const float* b, size_t n) {
    return kHaveAvx2 ? dot_avx2(a, b, n) : dot_portable(a, b, n);
}

// Best first; equal scores: lower chunk id first (stable across modes and runs).
bool better(const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
}

// ---------------------------------------------------------------- graph codes
// The graph stores each vector as int8 codes, code[i] = round(x[i] / scale) with
// scale = max|x[i]| / 127, padded with zeros to a multiple of 16 and followed by the float
// scale: 116 bytes for 100 dimensions instead of 400, so a distance reads two cache lines
// instead of seven. Inserting compares code with code; searching compares the float query
// with codes; the final candidates are re-scored against the float32 rows (data_).
size_t padded_dim(size_t dim) {
    return (dim + 15) / 16 * 16;
}

float code_scale(const char* code, size_t padded) {
    float scale;
    std::memcpy(&scale, code + padded, sizeof scale);
    return scale;
}

void encode(const float* v, size_t dim, size_t padded, char* out) {
    float top = 0;
    for (size_t i = 0; i < dim; ++i)
        top = std::max(top, std::abs(v[i]));
    const float scale = top / 127.0f;
    const float inverse = top > 0 ? 127.0f / top : 0.0f;
    auto* codes = reinterpret_cast<int8_t*>(out);
    for (size_t i = 0; i < dim; ++i)
        codes[i] = static_cast<int8_t>(std::clamp(std::lround(v[i] * inverse), -127L, 127L));
    std::fill(codes + dim, codes + padded, int8_t{0});
    std::memcpy(out + padded, &scale, sizeof scale);
}

// Code against code (graph inserts): 1 - scale_a * scale_b * sum(a[i] * b[i]).
float code_distance_portable(const void* a, const void* b, const void* param) {
    const size_t padded = *static_cast<const size_t*>(param);
    const auto* x = static_cast<const int8_t*>(a);
    const auto* y = static_cast<const int8_t*>(b);
    int32_t sum = 0;
    for (size_t i = 0; i < padded; ++i)
        sum += int32_t{x[i]} * int32_t{y[i]};
    return 1.0f - code_scale(static_cast<const char*>(a), padded) *
                      code_scale(static_cast<const char*>(b), padded) * static_cast<float>(sum);
}

// Float query (padded with zeros) against a code.
float query_dot_portable(const float* query, const char* code, size_t padded) {
    const auto* y = reinterpret_cast<const int8_t*>(code);
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < padded; i += 4) {
        s0 += query[i] * y[i];
        s1 += query[i + 1] * y[i + 1];
        s2 += query[i + 2] * y[i + 2];
        s3 += query[i + 3] * y[i + 3];
    }
    return ((s0 + s1) + (s2 + s3)) * code_scale(code, padded);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float code_distance_avx2(const void* a, const void* b,
                                                             const void* param) {
    const size_t padded = *static_cast<const size_t*>(param);
    const auto* x = static_cast<const char*>(a);
    const auto* y = static_cast<const char*>(b);
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = 0; i < padded; i += 16) {
        const __m256i xa =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
        const __m256i yb =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xa, yb));
    }
    __m128i sum4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    sum4 = _mm_hadd_epi32(sum4, sum4);
    sum4 = _mm_hadd_epi32(sum4, sum4);
    return 1.0f - code_scale(x, padded) * code_scale(y, padded) *
                      static_cast<float>(_mm_cvtsi128_si32(sum4));
}

__attribute__((target("avx2,fma"))) float query_dot_avx2(const float* query, const char* code,
                                                         size_t padded) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    for (size_t i = 0; i < padded; i += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(code + i));
        const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
        const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(bytes, 8)));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(query + i), lo, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(query + i + 8), hi, acc1);
    }
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    sum4 = _mm_hadd_ps(sum4, sum4);
    sum4 = _mm_hadd_ps(sum4, sum4);
    return _mm_cvtss_f32(sum4) * code_scale(code, padded);
}
#else
float code_distance_avx2(const void* a, const void* b, const void* param) {
    return code_distance_portable(a, b, param);
}
float query_dot_avx2(const float* query, const char* code, size_t padded) {
    return query_dot_portable(query, code, padded);
}
#endif

// hnswlib's distance interface over the codes.
class CodeSpace : public hnswlib::SpaceInterface<float> {
public:
    explicit CodeSpace(size_t dim) : padded_(padded_dim(dim)) {}
    size_t get_data_size() override { return padded_ + sizeof(float); }
    hnswlib::DISTFUNC<float> get_dist_func() override {
        return kHaveAvx2 ? code_distance_avx2 : code_distance_portable;
    }
    void* get_dist_func_param() override { return &padded_; }
    size_t padded() const { return padded_; }
    size_t code_size() const { return padded_ + sizeof(float); }

private:
    size_t padded_;
};

}  // namespace

struct VectorIndex::Graph {
    Graph(const VectorIndexOptions& options, size_t capacity)
        : space(options.dim),
          hnsw(&space, capacity, options.m, options.ef_construction,
               static_cast<size_t>(options.seed)) {
        align_level0();
    }

    // hnswlib mallocs the base layer (links, code, label per node: 256 bytes for 100
    // dimensions and M 16) at malloc's 16-byte alignment, so a node's code can straddle one
    // cache line more than it needs; moved to a 64-byte boundary after every (re)allocation.
    // hnswlib frees and reallocs the block with free() and realloc(), which accept it.
    void align_level0() {
        char*& block = hnsw.data_level0_memory_;
        if (reinterpret_cast<uintptr_t>(block) % 64 == 0) return;
        const size_t bytes = (hnsw.max_elements_ * hnsw.size_data_per_element_ + 63) / 64 * 64;
        auto* aligned = static_cast<char*>(std::aligned_alloc(64, bytes));
        if (aligned == nullptr) throw std::bad_alloc();
        std::memcpy(aligned, block, hnsw.cur_element_count * hnsw.size_data_per_element_);
        std::free(block);
        block = aligned;
    }

    size_t padded() const { return space.padded(); }
    // 1 - query . vector, the query padded to padded() floats.
    float distance(const float* query, hnswlib::tableint id) const {
        const char* code = hnsw.getDataByInternalId(id);
        return 1.0f - (kHaveAvx2 ? query_dot_avx2(query, code, padded())
                                 : query_dot_portable(query, code, padded()));
    }

    // Inserts one code under `label`: hnswlib's addPoint (0.6.2) with our own layer search
    // (search_layer). A label already in the graph is updated by hnswlib's addPoint itself.
    void insert(const char* code, hnswlib::labeltype label);

    CodeSpace space;  // must outlive hnsw (it points into it)
    hnswlib::HierarchicalNSW<float> hnsw;

private:
    using Queue = std::priority_queue<std::pair<float, hnswlib::tableint>,
                                      std::vector<std::pair<float, hnswlib::tableint>>,
                                      hnswlib::HierarchicalNSW<float>::CompareByFirst>;
    Queue search_layer(hnswlib::tableint entry, const char* code, int layer);

    std::mutex level_mutex_;  // hnswlib draws levels without a lock
};

// hnswlib's searchBaseLayer (the insert-time search), changed in two ways: a node's links are
// copied under its lock and the lock released before any distance (hnswlib holds it through
// all of them), and the unvisited neighbours' codes are all prefetched before the first
// distance, so their cache misses overlap.
VectorIndex::Graph::Queue VectorIndex::Graph::search_layer(hnswlib::tableint entry,
                                                           const char* code, int layer) {
    using hnswlib::tableint;
    hnswlib::VisitedList* visited = hnsw.visited_list_pool_->getFreeVisitedList();
    hnswlib::vl_type* marks = visited->mass;
    const hnswlib::vl_type tag = visited->curV;
    const size_t ef = hnsw.ef_construction_;
    const auto distance = hnsw.fstdistfunc_;
    const void* param = hnsw.dist_func_param_;

    Queue top;
    Queue candidates;  // -distance: nearest on top
    float bound;
    if (!hnsw.isMarkedDeleted(entry)) {
        const float d = distance(code, hnsw.getDataByInternalId(entry), param);
        top.emplace(d, entry);
        bound = d;
        candidates.emplace(-d, entry);
    } else {
        bound = std::numeric_limits<float>::max();
        candidates.emplace(-bound, entry);
    }
    marks[entry] = tag;

    const size_t code_last = space.code_size() - 1;
    std::vector<tableint> links(hnsw.maxM0_ + 1);
    std::vector<tableint> fresh(hnsw.maxM0_ + 1);
    while (!candidates.empty()) {
        const auto [negative_dist, node] = candidates.top();
        if (-negative_dist > bound && top.size() == ef) break;
        candidates.pop();
        size_t n;
        {
            std::lock_guard lock(hnsw.link_list_locks_[node]);
            const hnswlib::linklistsizeint* list =
                layer == 0 ? hnsw.get_linklist0(node) : hnsw.get_linklist(node, layer);
            n = std::min<size_t>(hnsw.getListCount(const_cast<hnswlib::linklistsizeint*>(list)),
                                 links.size());
            std::memcpy(links.data(), list + 1, n * sizeof(tableint));
        }
        size_t fresh_count = 0;
        for (size_t j = 0; j < n; ++j) {
            const tableint id = links[j];
            if (marks[id] == tag) continue;
            marks[id] = tag;
            const char* other = hnsw.getDataByInternalId(id);
            __builtin_prefetch(other);
            __builtin_prefetch(other + 64);
            __builtin_prefetch(other + code_last);
            fresh[fresh_count++] = id;
        }
        for (size_t j = 0; j < fresh_count; ++j) {
            const tableint id = fresh[j];
            const float d = distance(code, hnsw.getDataByInternalId(id), param);
            if (top.size() < ef || d < bound) {
                candidates.emplace(-d, id);
                __builtin_prefetch(hnsw.get_linklist0(candidates.top().second));
                if (!hnsw.isMarkedDeleted(id)) top.emplace(d, id);
                if (top.size() > ef) top.pop();
                if (!top.empty()) bound = top.top().first;
            }
        }
    }
    hnsw.visited_list_pool_->releaseVisitedList(visited);
    return top;
}

void VectorIndex::Graph::insert(const char* code, hnswlib::labeltype label) {
    using hnswlib::tableint;
    auto& g = hnsw;
    tableint cur;
    {
        std::unique_lock count_lock(g.cur_element_count_guard_);
        if (g.label_lookup_.contains(label)) {
            count_lock.unlock();
            g.addPoint(code, label);  // an update: hnswlib's own path
            return;
        }
        if (g.cur_element_count >= g.max_elements_)
            throw std::runtime_error("The number of elements exceeds the specified limit");
        cur = static_cast<tableint>(g.cur_element_count++);
        g.label_lookup_[label] = cur;
    }

    std::unique_lock update_lock(g.link_list_update_locks_[cur & (g.max_update_element_locks - 1)]);
    std::unique_lock node_lock(g.link_list_locks_[cur]);
    int level;
    {
        std::lock_guard guard(level_mutex_);
        level = g.getRandomLevel(g.mult_);
    }
    g.element_levels_[cur] = level;

    std::unique_lock global_lock(g.global);
    const int max_level = g.maxlevel_;
    if (level <= max_level) global_lock.unlock();
    tableint current = g.enterpoint_node_;
    const tableint entry = g.enterpoint_node_;

    std::memset(g.data_level0_memory_ + cur * g.size_data_per_element_ + g.offsetLevel0_, 0,
                g.size_data_per_element_);
    std::memcpy(g.getExternalLabeLp(cur), &label, sizeof(hnswlib::labeltype));
    std::memcpy(g.getDataByInternalId(cur), code, g.data_size_);
    if (level > 0) {
        const size_t bytes = g.size_links_per_element_ * level + 1;
        g.linkLists_[cur] = static_cast<char*>(std::malloc(bytes));
        if (g.linkLists_[cur] == nullptr) throw std::bad_alloc();
        std::memset(g.linkLists_[cur], 0, bytes);
    }

    if (static_cast<int>(current) == -1) {  // the first node
        g.enterpoint_node_ = 0;
        g.maxlevel_ = level;
        return;
    }
    if (level < max_level) {
        float current_dist =
            g.fstdistfunc_(code, g.getDataByInternalId(current), g.dist_func_param_);
        for (int l = max_level; l > level; --l) {
            bool changed = true;
            while (changed) {
                changed = false;
                std::lock_guard lock(g.link_list_locks_[current]);
                const auto* list = g.get_linklist(current, l);
                const size_t n = g.getListCount(const_cast<hnswlib::linklistsizeint*>(list));
                const auto* ids = reinterpret_cast<const tableint*>(list + 1);
                for (size_t i = 0; i < n; ++i) {
                    const float d =
                        g.fstdistfunc_(code, g.getDataByInternalId(ids[i]), g.dist_func_param_);
                    if (d < current_dist) {
                        current_dist = d;
                        current = ids[i];
                        changed = true;
                    }
                }
            }
        }
    }
    const bool entry_deleted = g.isMarkedDeleted(entry);
    for (int l = std::min(level, max_level); l >= 0; --l) {
        Queue top = search_layer(current, code, l);
        if (entry_deleted) {
            top.emplace(g.fstdistfunc_(code, g.getDataByInternalId(entry), g.dist_func_param_),
                        entry);
            if (top.size() > g.ef_construction_) top.pop();
        }
        current = g.mutuallyConnectNewElement(code, cur, top, l, false);
    }
    if (level > max_level) {  // still holding the global lock
        g.enterpoint_node_ = cur;
        g.maxlevel_ = level;
    }
}

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
    if (needed > hnsw.max_elements_) {
        hnsw.resizeIndex(std::max(needed, hnsw.max_elements_ * 2));
        graph_->align_level0();
    }

    const size_t dim = options_.dim;
    const size_t padded = graph_->padded();
    // code: one per thread, padded + scale bytes.
    auto insert = [&](uint32_t slot, std::vector<char>& code) {
        encode(data_.data() + slot * dim, dim, padded, code.data());
        graph_->insert(code.data(), ids_[slot]);
    };
    const size_t code_size = graph_->space.get_data_size();
    size_t first = 0;
    std::vector<char> code(code_size);
    if (hnsw.cur_element_count == 0 && !slots.empty()) insert(slots[first++], code);  // entry point
    threads = std::clamp<size_t>(threads, 1, 64);
    if (threads == 1 || slots.size() - first < 2 * threads) {
        for (size_t i = first; i < slots.size(); ++i)
            insert(slots[i], code);
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
                std::vector<char> code(code_size);
                for (size_t i = next++; i < slots.size(); i = next++)
                    insert(slots[i], code);
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
    const Graph& graph = *graph_;
    auto& g = graph_->hnsw;
    out.clear();
    if (g.cur_element_count == 0) return;

    // The query padded with zeros to the codes' length.
    std::vector<float> padded_query(graph.padded(), 0.0f);
    std::copy(query, query + options_.dim, padded_query.begin());
    const float* q = padded_query.data();

    // Upper layers: greedy descent to the closest node, as hnswlib does.
    tableint current = g.enterpoint_node_;
    float current_dist = graph.distance(q, current);
    for (int level = g.maxlevel_; level > 0; --level) {
        bool changed = true;
        while (changed) {
            changed = false;
            const auto* links = g.get_linklist(current, level);
            const size_t n = g.getListCount(const_cast<hnswlib::linklistsizeint*>(links));
            const auto* ids = reinterpret_cast<const tableint*>(links + 1);
            for (size_t i = 0; i < n; ++i) {
                const float d = graph.distance(q, ids[i]);
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

    const size_t code_last = graph.space.code_size() - 1;
    auto prefetch_code = [&](tableint id) {
        const char* code = g.getDataByInternalId(id);
        __builtin_prefetch(code);
        __builtin_prefetch(code + 64);
        __builtin_prefetch(code + code_last);
    };
    // Neighbours not yet visited, gathered before any distance so that all their codes are
    // fetched from memory at once (the walk is bound by cache misses, not arithmetic).
    std::vector<tableint> fresh(g.maxM0_ + 1);
    while (!candidates.empty()) {
        const auto [negative_dist, node] = candidates.top();
        if (-negative_dist > bound && top.size() >= ef) break;
        candidates.pop();
        const auto* links = g.get_linklist0(node);
        const size_t n = g.getListCount(const_cast<hnswlib::linklistsizeint*>(links));
        const auto* ids = reinterpret_cast<const tableint*>(links + 1);
        size_t fresh_count = 0;
        for (size_t j = 0; j < n; ++j) {
            const tableint id = ids[j];
            if (marks[id] == tag) continue;
            marks[id] = tag;
            prefetch_code(id);
            fresh[fresh_count++] = id;
        }
        for (size_t j = 0; j < fresh_count; ++j) {
            const tableint id = fresh[j];
            const float d = graph.distance(q, id);
            if (top.size() < ef || d < bound) {
                candidates.emplace(-d, id);
                __builtin_prefetch(g.get_linklist0(candidates.top().second));
                if (!screening || accepted(id)) {
                    top.emplace(d, id);
                    if (top.size() > ef) top.pop();
                    bound = top.top().first;
                }
            }
        }
    }
    g.visited_list_pool_->releaseVisitedList(visited);

    // The walk ranked by codes; the best accepted nodes are re-scored against the float32
    // rows (all prefetched first), so graph and flat scores agree to the last bit.
    // Only the best max(4 top_k, 40) by code distance: a code's error (about 0.001 on a
    // GloVe dot product) is far below the score gap between rank top_k and rank 4 top_k;
    // re-scoring all ef of them measured the same recall, at more cache misses.
    const size_t rescore = std::max<size_t>(4 * top_k, 40);
    while (top.size() > rescore)
        top.pop();
    std::vector<std::pair<uint64_t, const float*>> rows;
    rows.reserve(top.size());
    while (!top.empty()) {
        const uint64_t label = g.getExternalLabel(top.top().second);
        top.pop();
        auto slot = slot_of_.find(label);
        if (slot == slot_of_.end()) continue;  // cannot happen: accepted nodes are live
        const float* row = data_.data() + slot->second * options_.dim;
        for (size_t b = 0; b < options_.dim * sizeof(float); b += 64)
            __builtin_prefetch(reinterpret_cast<const char*>(row) + b);
        rows.emplace_back(label, row);
    }
    out.reserve(rows.size());
    for (const auto& [label, row] : rows)
        out.push_back({label, dot_product(query, row, options_.dim)});
    const size_t keep = std::min(top_k, out.size());
    std::partial_sort(out.begin(), out.begin() + keep, out.end(), better);
    out.resize(keep);
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
