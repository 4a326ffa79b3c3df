#include <cstring>

#include "byte_level_merge.hpp"

namespace switchyard::tokens::byte_level {

size_t merge_short(const ByteLevelVocab& vocab, uint32_t* ids, size_t n) {
    uint32_t rank[kShortPiece];
    uint32_t merged[kShortPiece];
    auto set = [&](size_t i) {
        const PairSlot* s = vocab.find_pair(ids[i], ids[i + 1]);
        rank[i] = s != nullptr ? s->rank : kNoRank;
        merged[i] = s != nullptr ? s->merged : kNoToken;
    };
    for (size_t i = 0; i + 1 < n; ++i)
        set(i);
    while (n > 1) {
        uint32_t best = kNoRank;
        size_t at = 0;
        for (size_t i = 0; i + 1 < n; ++i) {
            if (rank[i] < best) {
                best = rank[i];
                at = i;
            }
        }
        if (best == kNoRank) break;
        ids[at] = merged[at];
        size_t tail = n - at - 2;
        std::memmove(ids + at + 1, ids + at + 2, tail * sizeof(uint32_t));
        std::memmove(rank + at + 1, rank + at + 2, tail * sizeof(uint32_t));
        std::memmove(merged + at + 1, merged + at + 2, tail * sizeof(uint32_t));
        --n;
        if (at + 1 < n) set(at);
        if (at > 0) set(at - 1);
    }
    return n;
}

namespace {

// Indexed binary min-heap of nodes keyed by (rank, position), packed in one u64 so a sift
// compares without touching other arrays: each node holds at most one entry (its pair with the
// next node), so the heap never exceeds the piece.
class PairHeap {
public:
    PairHeap(std::vector<uint64_t>& heap, std::vector<uint32_t>& where)
        : heap_(heap), where_(where) {
        heap_.clear();
    }

    bool empty() const { return heap_.empty(); }
    uint32_t top() const { return static_cast<uint32_t>(heap_[0]); }

    // Sets node pos's entry to `rank` (kNoRank: removes it).
    void update(uint32_t pos, uint32_t rank) {
        uint32_t at = where_[pos];
        if (rank == kNoRank) {
            if (at != kAbsent) remove_at(at);
            return;
        }
        uint64_t key = (uint64_t{rank} << 32) | pos;
        if (at == kAbsent) {
            at = static_cast<uint32_t>(heap_.size());
            heap_.push_back(key);
        } else {
            heap_[at] = key;
        }
        sift_down(sift_up(at));
    }
    void remove(uint32_t pos) {
        if (where_[pos] != kAbsent) remove_at(where_[pos]);
    }

    static constexpr uint32_t kAbsent = 0xFFFFFFFFu;

private:
    void place(uint32_t at, uint64_t key) {
        heap_[at] = key;
        where_[static_cast<uint32_t>(key)] = at;
    }
    uint32_t sift_up(uint32_t at) {
        uint64_t key = heap_[at];
        while (at > 0) {
            uint32_t parent = (at - 1) / 2;
            if (heap_[parent] <= key) break;
            place(at, heap_[parent]);
            at = parent;
        }
        place(at, key);
        return at;
    }
    void sift_down(uint32_t at) {
        uint64_t key = heap_[at];
        auto n = static_cast<uint32_t>(heap_.size());
        for (;;) {
            uint32_t child = 2 * at + 1;
            if (child >= n) break;
            if (child + 1 < n && heap_[child + 1] < heap_[child]) ++child;
            if (heap_[child] >= key) break;
            place(at, heap_[child]);
            at = child;
        }
        place(at, key);
    }
    void remove_at(uint32_t at) {
        where_[static_cast<uint32_t>(heap_[at])] = kAbsent;
        uint64_t last = heap_.back();
        heap_.pop_back();
        if (at < heap_.size()) {
            heap_[at] = last;
            sift_down(sift_up(at));
        }
    }

    std::vector<uint64_t>& heap_;
    std::vector<uint32_t>& where_;
};

}  // namespace

size_t merge_long(const ByteLevelVocab& vocab, size_t n, MergeScratch& s) {
    constexpr uint32_t kEnd = 0xFFFFFFFFu;
    s.prev.resize(n);
    s.next.resize(n);
    s.rank.resize(n);
    s.merged.resize(n);
    s.heap_pos.assign(n, PairHeap::kAbsent);
    for (size_t i = 0; i < n; ++i) {
        s.prev[i] = i == 0 ? kEnd : static_cast<uint32_t>(i - 1);
        s.next[i] = i + 1 == n ? kEnd : static_cast<uint32_t>(i + 1);
    }
    auto set = [&](uint32_t i) {
        const PairSlot* p =
            s.next[i] == kEnd ? nullptr : vocab.find_pair(s.ids[i], s.ids[s.next[i]]);
        s.rank[i] = p != nullptr ? p->rank : kNoRank;
        s.merged[i] = p != nullptr ? p->merged : kNoToken;
    };
    PairHeap heap(s.heap, s.heap_pos);
    for (uint32_t i = 0; i + 1 < n; ++i) {
        set(i);
        if (s.rank[i] != kNoRank) heap.update(i, s.rank[i]);
    }
    while (!heap.empty()) {
        uint32_t at = heap.top();
        uint32_t gone = s.next[at];
        s.ids[at] = s.merged[at];
        heap.remove(gone);
        s.next[at] = s.next[gone];
        if (s.next[at] != kEnd) s.prev[s.next[at]] = at;
        set(at);
        heap.update(at, s.rank[at]);
        if (uint32_t before = s.prev[at]; before != kEnd) {
            set(before);
            heap.update(before, s.rank[before]);
        }
    }
    size_t m = 0;
    for (uint32_t i = 0; i != kEnd; i = s.next[i])
        s.ids[m++] = s.ids[i];
    return m;
}

size_t merge_llama3_js(const ByteLevelVocab& vocab, size_t n, size_t utf16_length,
                       MergeScratch& s) {
    using Node = MergeScratch::JsNode;
    constexpr uint32_t kNull = 0xFFFFFFFFu;
    auto& nodes = s.js_nodes;
    auto& heap = s.js_heap;
    nodes.clear();
    heap.clear();
    const double length = static_cast<double>(utf16_length);
    // PriorityQueue((a, b) => a.mergePrio < b.mergePrio) from llama3-tokenizer.js.
    auto greater = [&](size_t i, size_t j) {
        return nodes[heap[i]].priority < nodes[heap[j]].priority;
    };
    auto push = [&](uint32_t node) {
        heap.push_back(node);
        size_t at = heap.size() - 1;
        while (at > 0 && greater(at, ((at + 1) >> 1) - 1)) {
            size_t parent = ((at + 1) >> 1) - 1;
            std::swap(heap[at], heap[parent]);
            at = parent;
        }
    };
    auto pop = [&]() {
        uint32_t top = heap[0];
        size_t bottom = heap.size() - 1;
        if (bottom > 0) std::swap(heap[0], heap[bottom]);
        heap.pop_back();
        size_t at = 0, size = heap.size();
        for (;;) {
            size_t left = 2 * at + 1, right = 2 * at + 2;
            bool left_greater = left < size && greater(left, at);
            bool right_greater = right < size && greater(right, at);
            if (!left_greater && !right_greater) break;
            size_t child = right < size && greater(right, left) ? right : left;
            std::swap(heap[at], heap[child]);
            at = child;
        }
        return top;
    };
    auto add_to_queue = [&](uint32_t left) {
        const PairSlot* p = vocab.find_pair(nodes[left].token, nodes[nodes[left].next].token);
        if (p == nullptr) return;
        nodes[left].priority =
            static_cast<double>(p->rank) + static_cast<double>(nodes[left].orig_pos) / length;
        nodes[left].merged = p->merged;
        push(left);
    };
    for (uint32_t i = 0; i < n; ++i) {
        nodes.push_back(Node{i, s.ids[i], i == 0 ? kNull : i - 1, kNull, kNoToken, false, 0.0});
        if (i > 0) {
            nodes[i - 1].next = i;
            add_to_queue(i - 1);
        }
    }
    uint32_t first = 0;
    while (!heap.empty()) {
        uint32_t left = pop();
        if (nodes[left].deleted || nodes[left].next == kNull || nodes[nodes[left].next].deleted) {
            continue;
        }
        uint32_t right = nodes[left].next;
        nodes[left].deleted = true;
        nodes[right].deleted = true;
        if (uint32_t old_prev = nodes[left].prev; old_prev != kNull) {
            nodes[old_prev].deleted = true;
            Node copy{nodes[old_prev].orig_pos,
                      nodes[old_prev].token,
                      nodes[old_prev].prev,
                      nodes[old_prev].next,
                      kNoToken,
                      false,
                      0.0};
            auto new_prev = static_cast<uint32_t>(nodes.size());
            nodes.push_back(copy);
            nodes[left].prev = new_prev;
            if (copy.prev != kNull) {
                nodes[copy.prev].next = new_prev;
            } else {
                first = new_prev;
            }
        }
        auto result = static_cast<uint32_t>(nodes.size());
        nodes.push_back(Node{nodes[left].orig_pos, nodes[left].merged, nodes[left].prev,
                             nodes[right].next, kNoToken, false, 0.0});
        if (nodes[result].prev != kNull) {
            nodes[nodes[result].prev].next = result;
            add_to_queue(nodes[result].prev);
        } else {
            first = result;
        }
        if (nodes[result].next != kNull) {
            nodes[nodes[result].next].prev = result;
            add_to_queue(result);
        }
    }
    size_t m = 0;
    for (uint32_t i = first; i != kNull; i = nodes[i].next)
        s.ids[m++] = nodes[i].token;
    return m;
}

}  // namespace switchyard::tokens::byte_level
