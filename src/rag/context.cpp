#include "switchyard/rag/context.hpp"

#include "switchyard/core/json_writer.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "switchyard/rag/bm25_index.hpp"
#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::rag {

TokenCounter token_counter(const tokens::Tokenizer& tokenizer) {
    return [&tokenizer](std::string_view text) { return tokenizer.count(text); };
}

namespace {

struct Passage {
    Citation citation;
    std::string text;
};

std::string label_of(const Citation& c) {
    std::string label = c.source.empty() ? c.document_id : c.source;
    label += '#';
    label += std::to_string(c.chunk_first);
    if (c.chunk_last != c.chunk_first) {
        label += '-';
        label += std::to_string(c.chunk_last);
    }
    return label;
}

// The passages of `chosen` in stable order, neighbours merged.
std::vector<Passage> passages_of(std::vector<const RetrievedChunk*> chosen, bool merge) {
    std::sort(chosen.begin(), chosen.end(), [](const RetrievedChunk* a, const RetrievedChunk* b) {
        if (a->document_id != b->document_id) return a->document_id < b->document_id;
        if (a->byte_begin != b->byte_begin) return a->byte_begin < b->byte_begin;
        return a->index < b->index;
    });
    std::vector<Passage> out;
    for (const RetrievedChunk* c : chosen) {
        if (merge && !out.empty()) {
            Passage& p = out.back();
            const bool same_doc = p.citation.document_id == c->document_id;
            const bool adjacent = c->index == p.citation.chunk_last + 1;
            const bool overlapping = c->byte_begin < p.citation.byte_end;
            if (same_doc && (adjacent || overlapping)) {
                if (c->byte_end > p.citation.byte_end) {
                    if (c->byte_begin >= p.citation.byte_end) {
                        // The whitespace the chunker trimmed between them becomes a newline.
                        if (c->byte_begin > p.citation.byte_end) p.text += '\n';
                        p.text += c->text;
                    } else {
                        const size_t skip = p.citation.byte_end - c->byte_begin;
                        if (skip < c->text.size()) p.text.append(c->text, skip);
                    }
                    p.citation.byte_end = c->byte_end;
                }
                p.citation.chunk_first = std::min(p.citation.chunk_first, c->index);
                p.citation.chunk_last = std::max(p.citation.chunk_last, c->index);
                p.citation.score = std::max(p.citation.score, c->score);
                continue;
            }
        }
        Passage p;
        p.citation.source = c->source;
        p.citation.document_id = c->document_id;
        p.citation.chunk_first = c->index;
        p.citation.chunk_last = c->index;
        p.citation.byte_begin = c->byte_begin;
        p.citation.byte_end = c->byte_end;
        p.citation.score = c->score;
        p.text = c->text;
        out.push_back(std::move(p));
    }
    for (size_t i = 0; i < out.size(); ++i) {
        out[i].citation.number = i + 1;
        out[i].citation.label = label_of(out[i].citation);
    }
    return out;
}

std::string render(const std::vector<Passage>& passages, const std::string& separator) {
    std::string text;
    for (const Passage& p : passages) {
        if (!text.empty()) text += separator;
        text += '[';
        text += std::to_string(p.citation.number);
        text += "] ";
        text += p.citation.label;
        text += '\n';
        text += p.text;
    }
    return text;
}

}  // namespace

AssembledContext assemble_context(std::span<const RetrievedChunk> ranked,
                                  const ContextOptions& options) {
    AssembledContext out;
    if (!options.count_tokens || options.budget_tokens == 0) {
        out.chunks_skipped = ranked.size();
        return out;
    }
    std::vector<const RetrievedChunk*> chosen;
    std::set<std::pair<std::string_view, uint64_t>> seen;
    std::vector<Passage> best;
    for (const RetrievedChunk& c : ranked) {
        if (!seen.emplace(c.document_id, c.chunk_id).second) continue;
        if (options.count_tokens(c.text) > options.budget_tokens) {
            ++out.chunks_skipped;
            continue;
        }
        chosen.push_back(&c);
        auto passages = passages_of(chosen, options.merge_neighbours);
        std::string text = render(passages, options.separator);
        const size_t n = options.count_tokens(text);
        if (n <= options.budget_tokens) {
            best = std::move(passages);
            out.text = std::move(text);
            out.n_tokens = n;
        } else {
            chosen.pop_back();
            ++out.chunks_skipped;
        }
    }
    out.chunks_used = chosen.size();
    out.citations.reserve(best.size());
    for (Passage& p : best)
        out.citations.push_back(std::move(p.citation));
    return out;
}

// ---------------------------------------------------------------- ConversationHistory

ConversationHistory::ConversationHistory(ConversationHistoryOptions options)
    : options_(std::move(options)) {}

void ConversationHistory::add(ConversationTurn turn) {
    std::string text = turn.role + ": " + turn.content;
    std::lock_guard lock(mutex_);
    const size_t size = text.size();
    turns_.push_back({.number = next_number_++, .byte_begin = next_byte_, .text = std::move(text)});
    next_byte_ += size + 1;  // one line per turn
    if (turns_.size() > std::max<size_t>(1, options_.max_turns)) turns_.erase(turns_.begin());
}

size_t ConversationHistory::size() const {
    std::lock_guard lock(mutex_);
    return turns_.size();
}

std::vector<RetrievedChunk> ConversationHistory::retrieve(std::string_view query,
                                                          size_t top_k) const {
    std::lock_guard lock(mutex_);
    std::vector<RetrievedChunk> out;
    if (top_k == 0 || turns_.empty()) return out;
    Bm25Index index;
    for (size_t i = 0; i < turns_.size(); ++i)
        index.add(i, turns_[i].text);
    std::vector<bool> taken(turns_.size(), false);
    auto emit = [&](size_t i, float score) {
        const Kept& t = turns_[i];
        taken[i] = true;
        out.push_back(RetrievedChunk{.chunk_id = t.number,
                                     .score = score,
                                     .document_id = options_.document_id,
                                     .source = "conversation",
                                     .index = t.number,
                                     .byte_begin = t.byte_begin,
                                     .byte_end = t.byte_begin + t.text.size(),
                                     .char_begin = 0,
                                     .char_end = 0,
                                     .heading_path = {},
                                     .text = t.text,
                                     .metadata = {}});
    };
    for (const SearchHit& h : index.search(query, top_k))
        emit(h.chunk_id, h.score);
    for (size_t i = turns_.size(); i-- > 0 && out.size() < top_k;) {
        if (!taken[i]) emit(i, 0);
    }
    return out;
}

void write_citations_json(JsonWriter& w, std::span<const Citation> citations) {
    w.begin_array();
    for (const auto& c : citations) {
        w.begin_object()
            .kv("number", static_cast<int64_t>(c.number))
            .kv("label", c.label)
            .kv("source", c.source)
            .kv("document_id", c.document_id)
            .kv("chunk_first", static_cast<int64_t>(c.chunk_first))
            .kv("chunk_last", static_cast<int64_t>(c.chunk_last))
            .kv("byte_begin", static_cast<int64_t>(c.byte_begin))
            .kv("byte_end", static_cast<int64_t>(c.byte_end))
            .kv("score", static_cast<double>(c.score))
            .end_object();
    }
    w.end_array();
}

}  // namespace switchyard::rag
