// BPE merging of one piece (the bytes of one pre-tokeniser match that is not itself a token):
// repeatedly merge the adjacent pair with the lowest rank, leftmost first, as tiktoken does.
// Short pieces use a linear scan (fast, quadratic); long ones a heap over a linked list
// (O(n log n), about 32 bytes of scratch per byte of the piece).
//
// llama3-tokenizer-js ranks a pair by `merge_priority + left_position / prompt.length` (JS
// doubles, prompt.length in UTF-16 units of the whole input) and pops a hand-written binary
// heap. While every position fraction is below 2 (the gap between two priorities) that is the
// same as (priority, position); when a piece is longer than about twice the input's UTF-16
// length (a long run of 3- and 4-byte characters) the order can differ, so that case replays
// the package's heap step by step (merge_llama3_js).
// Thread safety: scratch is per call (MergeScratch, owned by the caller, usually thread-local).
// Failure: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "byte_level_vocab.hpp"

namespace switchyard::tokens::byte_level {

struct MergeScratch {
    std::vector<uint32_t> ids, prev, next, rank, merged, heap_pos;
    std::vector<uint64_t> heap;
    // llama3-js replay
    struct JsNode {
        uint32_t orig_pos, token, prev, next, merged;
        bool deleted;
        double priority;
    };
    std::vector<JsNode> js_nodes;
    std::vector<uint32_t> js_heap;
};

// Appends the ids of piece [p, p + n) (n >= 2) to `out` (a vector or a counter with
// push_back). utf16_length: the input's length in UTF-16 units (llama3 only; 0 elsewhere).
template <class Out>
void merge_piece(const ByteLevelVocab& vocab, const unsigned char* p, size_t n, size_t utf16_length,
                 MergeScratch& scratch, Out& out);

inline constexpr size_t kShortPiece = 64;

// Linear-scan merge of a short piece; `ids` holds n initial ids, returns the count left.
size_t merge_short(const ByteLevelVocab& vocab, uint32_t* ids, size_t n);
// Heap merge; scratch.ids holds n initial ids; returns the count left (compacted in ids).
size_t merge_long(const ByteLevelVocab& vocab, size_t n, MergeScratch& scratch);
// llama3-tokenizer-js replay; scratch.ids holds n initial ids; returns the count left.
size_t merge_llama3_js(const ByteLevelVocab& vocab, size_t n, size_t utf16_length,
                       MergeScratch& scratch);

template <class Out>
void merge_piece(const ByteLevelVocab& vocab, const unsigned char* p, size_t n, size_t utf16_length,
                 MergeScratch& scratch, Out& out) {
    bool js_replay = (vocab.flags() & kFlagLlama3JsMerges) != 0 && n >= 2 * utf16_length + 2;
    if (n <= kShortPiece && !js_replay) {
        uint32_t ids[kShortPiece];
        for (size_t i = 0; i < n; ++i)
            ids[i] = vocab.byte_id(p[i]);
        size_t m = merge_short(vocab, ids, n);
        for (size_t i = 0; i < m; ++i)
            out.push_back(ids[i]);
        return;
    }
    scratch.ids.resize(n);
    for (size_t i = 0; i < n; ++i)
        scratch.ids[i] = vocab.byte_id(p[i]);
    size_t m = js_replay ? merge_llama3_js(vocab, n, utf16_length, scratch)
                         : merge_long(vocab, n, scratch);
    for (size_t i = 0; i < m; ++i)
        out.push_back(scratch.ids[i]);
}

}  // namespace switchyard::tokens::byte_level
