// What every index and the fusion functions share: a scored hit on a chunk id, and the
// filter predicate that indexes apply inside a search (a rejected candidate never takes a
// top_k slot, so a filter never shrinks the result below top_k while matches remain).
// Thread safety: plain values. A ChunkFilter is called on the searching thread only, so it
// must be safe to call from as many threads as search concurrently.
// Failure: none.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace switchyard::rag {

struct SearchHit {
    uint64_t chunk_id = 0;
    float score = 0;  // higher is better; what it means depends on the index
    bool operator==(const SearchHit&) const = default;
};

// A non-owning reference to a callable bool(uint64_t chunk_id), like C++26's
// std::function_ref: no allocation, one indirect call per candidate. Empty means "accept
// every chunk". Pass a lambda directly as the search argument; do not keep a ChunkFilter
// made from a temporary beyond the full expression that made it.
class ChunkFilter {
public:
    ChunkFilter() = default;
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, ChunkFilter> &&
             std::is_invocable_r_v<bool, F&, uint64_t>)
        ChunkFilter(F&& f)  // NOLINT(google-explicit-constructor): used like a function argument
        : object_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* object, uint64_t id) -> bool {
              return (*static_cast<std::remove_reference_t<F>*>(object))(id);
          }) {}

    explicit operator bool() const { return call_ != nullptr; }
    bool operator()(uint64_t chunk_id) const {
        return call_ == nullptr || call_(object_, chunk_id);
    }

private:
    void* object_ = nullptr;
    bool (*call_)(void*, uint64_t) = nullptr;
};

}  // namespace switchyard::rag
