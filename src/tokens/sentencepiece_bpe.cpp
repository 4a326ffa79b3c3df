// SentencePiece-style BPE (llama2, mistral): see include/switchyard/tokens/sentencepiece_bpe.hpp
// for the reference's algorithm and why segmenting it is exact.
#include "switchyard/tokens/sentencepiece_bpe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "sentencepiece_layout.hpp"
#include "sentencepiece_utf8.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::tokens {
namespace {

using sentencepiece::Layout;
using sentencepiece::PieceKind;

constexpr uint32_t kNone = UINT32_MAX;
constexpr char32_t kSpace = 0x20;
constexpr char32_t kSpacePiece = 0x2581;  // "▁"
// Segments up to this many pieces are merged by scanning; longer ones through a heap.
constexpr size_t kScanMaxSymbols = 32;
// Scratch vectors larger than this many elements are released after the call.
constexpr size_t kKeepScratch = size_t{1} << 16;

struct Symbol {
    uint32_t id;  // kNone once merged into its left neighbour
    uint32_t prev;
    uint32_t next;
};

// A queued pair: rank << 32 | left position. Ordered as integers, that is (rank, position),
// the reference's merge order inside a segment. Whether the pair is still there is checked
// when it is popped (the pair now at `left` must have this rank: ranks identify merges).
using PairKey = uint64_t;

// Per-thread scratch, reused across calls on any SentencePiece tokenizer.
struct Scratch {
    std::vector<uint32_t> segment;  // ids of the segment being collected
    std::vector<Symbol> symbols;    // heap: linked list over the segment
    std::vector<PairKey> heap;

    void trim() {
        auto trim_one = [](auto& v) {
            if (v.capacity() > kKeepScratch) std::remove_reference_t<decltype(v)>().swap(v);
        };
        trim_one(segment);
        trim_one(symbols);
        trim_one(heap);
    }
};

thread_local Scratch t_scratch;

struct AppendSink {
    std::vector<TokenId>& out;
    void one(uint32_t id) { out.push_back(id); }
    void many(const uint32_t* ids, size_t n) { out.insert(out.end(), ids, ids + n); }
};

struct CountSink {
    size_t n = 0;
    void one(uint32_t) { ++n; }
    void many(const uint32_t*, size_t k) { n += k; }
};

class SentencePieceBpe final : public Tokenizer {
public:
    SentencePieceBpe(VocabFile file, Layout layout)
        : file_(std::move(file)), layout_(layout), header_(*layout.header) {}

    std::string_view name() const override { return file_.name(); }

    void encode(std::string_view text, std::vector<TokenId>& out) const override {
        AppendSink sink{out};
        encode_into(text, sink);
    }

    size_t count(std::string_view text) const override {
        CountSink sink;
        encode_into(text, sink);
        return sink.n;
    }

    std::string decode(std::span<const TokenId> ids) const override;

    std::optional<TokenId> special_token(std::string_view text) const override {
        for (uint32_t id : {header_.unk_id, header_.bos_id, header_.eos_id}) {
            if (piece(id) == text) return id;
        }
        return std::nullopt;
    }

private:
    std::string_view piece(uint32_t id) const {
        uint32_t begin = layout_.piece_offsets[id];
        return {layout_.pieces.data() + begin, layout_.piece_offsets[id + 1] - begin};
    }

    // Id of the one-code-point piece for cp, or kNone.
    uint32_t char_piece(char32_t cp) const {
        if (cp < 0x10000) {
            uint16_t id = layout_.bmp[cp];
            return id == sentencepiece::kNoPiece ? kNone : id;
        }
        auto it = std::lower_bound(
            layout_.astral.begin(), layout_.astral.end(), cp,
            [](const sentencepiece::AstralPiece& a, char32_t c) { return a.code_point < c; });
        return it != layout_.astral.end() && it->code_point == cp ? it->id : kNone;
    }

    // Rank of merging (left, right), kNone if they do not merge; sets merged.
    uint32_t merge_rank(uint32_t left, uint32_t right, uint32_t& merged) const {
        const uint32_t key = (left << 16) | right;
        const uint32_t mask = header_.merge_capacity - 1;
        uint32_t slot = (key * sentencepiece::kMergeHashMultiplier) >> layout_.merge_shift;
        for (;;) {
            const sentencepiece::MergeEntry& e = layout_.merges[slot];
            if (e.key == key) {
                merged = e.value & 0xFFFF;
                return e.value >> 16;
            }
            if (e.key == sentencepiece::kEmptyMergeKey) return kNone;
            slot = (slot + 1) & mask;
        }
    }

    template <class Sink>
    void encode_into(std::string_view text, Sink& sink) const;
    template <class Sink>
    void flush(Scratch& s, Sink& sink) const;
    void merge_by_scan(Scratch& s) const;
    void merge_by_heap(Scratch& s) const;

    VocabFile file_;
    Layout layout_;
    const sentencepiece::LayoutHeader& header_;
};

template <class Sink>
void SentencePieceBpe::encode_into(std::string_view text, Sink& sink) const {
    if (text.empty()) return;
    Scratch& s = t_scratch;
    s.segment.clear();
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    // The dummy prefix: the reference prepends " ", which becomes "▁".
    s.segment.push_back(header_.space_id);
    bool after_space = true;
    while (p < end) {
        char32_t cp;
        if (*p < 0x80) {
            cp = *p++;
        } else {
            p += sentencepiece::decode_utf8(p, end, cp);
        }
        if (cp == kSpace) cp = kSpacePiece;
        const uint32_t id = char_piece(cp);
        if (id == kNone) {
            // Byte fallback: never merges, so it ends the segment and stands alone.
            flush(s, sink);
            unsigned char bytes[4];
            const size_t n = sentencepiece::encode_utf8(cp, bytes);
            for (size_t i = 0; i < n; ++i)
                sink.one(layout_.byte_ids[bytes[i]]);
            after_space = false;
            continue;
        }
        if (cp == kSpacePiece) {
            // No merge joins a piece ending in a non-"▁" to one starting with "▁".
            if (!after_space) flush(s, sink);
            after_space = true;
        } else {
            after_space = false;
        }
        s.segment.push_back(id);
        if (s.segment.size() >= kMaxSegmentSymbols) flush(s, sink);
    }
    flush(s, sink);
    s.trim();
}

template <class Sink>
void SentencePieceBpe::flush(Scratch& s, Sink& sink) const {
    const size_t n = s.segment.size();
    if (n == 0) return;
    if (n == 1) {
        sink.one(s.segment[0]);
    } else if (n <= kScanMaxSymbols) {
        merge_by_scan(s);
        sink.many(s.segment.data(), s.segment.size());
    } else {
        merge_by_heap(s);
        for (uint32_t i = 0; i != kNone; i = s.symbols[i].next)
            sink.one(s.symbols[i].id);
    }
    s.segment.clear();
}

// Repeatedly merges the lowest-ranked pair, leftmost first; O(n^2) but tiny n, all on the stack.
void SentencePieceBpe::merge_by_scan(Scratch& s) const {
    auto& seg = s.segment;
    size_t n = seg.size();
    uint32_t ids[kScanMaxSymbols];
    uint32_t ranks[kScanMaxSymbols];  // ranks[i]: pair (i, i+1)
    uint32_t merged[kScanMaxSymbols];
    std::copy(seg.begin(), seg.end(), ids);
    for (size_t i = 0; i + 1 < n; ++i)
        ranks[i] = merge_rank(ids[i], ids[i + 1], merged[i]);
    while (n > 1) {
        uint32_t best = kNone;
        size_t at = 0;
        for (size_t i = 0; i + 1 < n; ++i) {
            if (ranks[i] < best) {
                best = ranks[i];
                at = i;
            }
        }
        if (best == kNone) break;
        ids[at] = merged[at];
        // Drop position at+1 (the right half of the merge).
        for (size_t i = at + 1; i + 1 < n; ++i) {
            ids[i] = ids[i + 1];
            ranks[i] = ranks[i + 1];
            merged[i] = merged[i + 1];
        }
        --n;
        if (at + 1 < n) ranks[at] = merge_rank(ids[at], ids[at + 1], merged[at]);
        if (at > 0) ranks[at - 1] = merge_rank(ids[at - 1], ids[at], merged[at - 1]);
    }
    seg.assign(ids, ids + n);
}

// The reference's algorithm: a priority queue of adjacent pairs over a linked list, with
// stale entries skipped when popped. Every live pair has an entry with its (rank, position), so
// the smallest entry that still matches its pair is the reference's next merge.
void SentencePieceBpe::merge_by_heap(Scratch& s) const {
    const auto& seg = s.segment;
    const auto n = static_cast<uint32_t>(seg.size());
    auto& sym = s.symbols;
    auto& heap = s.heap;
    sym.resize(n);
    heap.clear();
    for (uint32_t i = 0; i < n; ++i) {
        sym[i] = {seg[i], i == 0 ? kNone : i - 1, i + 1 == n ? kNone : i + 1};
    }
    const auto after = std::greater<PairKey>();
    uint32_t merged = 0;
    auto key_of = [&](uint32_t left) -> PairKey {
        const uint32_t rank = merge_rank(sym[left].id, sym[sym[left].next].id, merged);
        return rank == kNone ? PairKey{UINT64_MAX} : (PairKey{rank} << 32) | left;
    };
    for (uint32_t i = 0; i + 1 < n; ++i) {
        if (PairKey key = key_of(i); key != UINT64_MAX) heap.push_back(key);
    }
    std::make_heap(heap.begin(), heap.end(), after);
    auto push = [&](uint32_t left) {
        if (PairKey key = key_of(left); key != UINT64_MAX) {
            heap.push_back(key);
            std::push_heap(heap.begin(), heap.end(), after);
        }
    };
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), after);
        const PairKey key = heap.back();
        heap.pop_back();
        const auto at = static_cast<uint32_t>(key);
        Symbol& left = sym[at];
        // Stale: the left piece merged away, lost its neighbour, or the pair is another now.
        if (left.id == kNone || left.next == kNone || key_of(at) != key) continue;
        const uint32_t right = left.next;
        left.id = merged;  // set by key_of
        left.next = sym[right].next;
        sym[right].id = kNone;
        if (left.next != kNone) sym[left.next].prev = at;
        if (left.prev != kNone) push(left.prev);
        if (left.next != kNone) push(at);
    }
}

std::string SentencePieceBpe::decode(std::span<const TokenId> ids) const {
    std::string bytes;
    for (TokenId id : ids) {
        if (id >= header_.vocab_size) continue;
        if (static_cast<PieceKind>(layout_.piece_kinds[id]) == PieceKind::kControl) continue;
        bytes.append(piece(id));
    }
    // "▁" (E2 96 81) back to spaces, then drop the dummy prefix.
    std::string text;
    text.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        if (bytes.compare(i, 3, "\xE2\x96\x81") == 0) {
            text.push_back(' ');
            i += 3;
        } else {
            text.push_back(bytes[i++]);
        }
    }
    if (!text.empty() && text.front() == ' ') text.erase(0, 1);
    return text;
}

}  // namespace

std::variant<std::unique_ptr<Tokenizer>, std::string> load_sentencepiece_bpe(
    const std::string& path) {
    auto opened = VocabFile::open(path, VocabKind::kSentencePieceBpe);
    if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
    VocabFile file = std::move(std::get<VocabFile>(opened));
    Layout layout;
    if (std::string error = sentencepiece::check_layout(file.payload(), layout); !error.empty()) {
        return fmt::format(
            "vocabulary file {}: {}; run scripts/bootstrap.sh (or `make build`) to convert the "
            "vocabularies",
            path, error);
    }
    constexpr uint32_t kNeeded =
        sentencepiece::kFlagBytesNeverMerge | sentencepiece::kFlagNoMergeBeforeSpace;
    if ((layout.header->flags & kNeeded) != kNeeded) {
        return fmt::format(
            "vocabulary file {}: its merges join byte pieces or pieces across a space boundary "
            "(flags {:#x}); this tokenizer segments on those boundaries and cannot load it",
            path, layout.header->flags);
    }
    return std::unique_ptr<Tokenizer>(new SentencePieceBpe(std::move(file), layout));
}

}  // namespace switchyard::tokens
