#include "switchyard/rag/bm25_index.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "text_words.hpp"

namespace switchyard::rag {

const std::vector<std::string>& default_english_stop_words() {
    static const std::vector<std::string> words = {
        "a",    "an",   "and",    "are",   "as",    "at",    "be",    "but",   "by",    "for",
        "if",   "in",   "into",   "is",    "it",    "no",    "not",   "of",    "on",    "or",
        "such", "that", "the",    "their", "then",  "there", "these", "they",  "this",  "to",
        "was",  "will", "with",   "i",     "me",    "my",    "we",    "our",   "you",   "your",
        "he",   "him",  "his",    "she",   "her",   "its",   "them",  "what",  "which", "who",
        "whom", "am",   "were",   "been",  "being", "have",  "has",   "had",   "do",    "does",
        "did",  "so",   "than",   "too",   "very",  "can",   "from",  "up",    "out",   "about",
        "over", "off",  "again",  "once",  "here",  "when",  "where", "why",   "how",   "all",
        "any",  "both", "each",   "few",   "more",  "most",  "other", "some",  "only",  "own",
        "same", "just", "should", "would", "could", "s",     "t",     "don't", "it's",
    };
    return words;
}

Bm25Index::Bm25Index(Bm25Options options)
    : options_(std::move(options)),
      stop_words_(options_.stop_words.begin(), options_.stop_words.end()) {}

std::vector<std::string> Bm25Index::tokenize(std::string_view text) const {
    std::vector<std::string> words;
    std::string scratch;
    detail::for_each_word(text, scratch, [&](std::string_view word) {
        if (!stop_words_.contains(std::string(word))) words.emplace_back(word);
    });
    return words;
}

void Bm25Index::add(uint64_t chunk_id, std::string_view text) {
    // Count words outside the lock: tokenising is the expensive part.
    std::unordered_map<std::string, uint32_t> counts;
    uint32_t length = 0;
    std::string scratch;
    std::string key;
    detail::for_each_word(text, scratch, [&](std::string_view word) {
        key.assign(word);
        if (stop_words_.contains(key)) return;
        ++counts[key];
        ++length;
    });

    auto lock = write_lock();
    if (auto it = slot_of_.find(chunk_id); it != slot_of_.end()) remove_locked(it->second);
    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<uint32_t>(docs_.size());
        docs_.emplace_back();
    }
    Doc& doc = docs_[slot];
    doc.chunk_id = chunk_id;
    doc.length = length;
    doc.live = true;
    doc.terms.clear();
    doc.terms.reserve(counts.size());
    for (auto& [word, tf] : counts) {
        auto [it, inserted] = term_ids_.try_emplace(word, static_cast<uint32_t>(postings_.size()));
        if (inserted) postings_.emplace_back();
        postings_[it->second].push_back({slot, tf});
        doc.terms.push_back(it->second);
    }
    slot_of_[chunk_id] = slot;
    total_length_ += length;
}

bool Bm25Index::remove(uint64_t chunk_id) {
    auto lock = write_lock();
    auto it = slot_of_.find(chunk_id);
    if (it == slot_of_.end()) return false;
    remove_locked(it->second);
    return true;
}

void Bm25Index::remove_locked(uint32_t slot) {
    Doc& doc = docs_[slot];
    for (uint32_t term : doc.terms) {
        auto& list = postings_[term];
        auto p = std::find_if(list.begin(), list.end(),
                              [slot](const Posting& posting) { return posting.doc == slot; });
        if (p != list.end()) {
            *p = list.back();
            list.pop_back();
        }
    }
    total_length_ -= doc.length;
    slot_of_.erase(doc.chunk_id);
    doc.live = false;
    doc.terms.clear();
    doc.terms.shrink_to_fit();
    free_slots_.push_back(slot);
}

bool Bm25Index::contains(uint64_t chunk_id) const {
    auto lock = read_lock();
    return slot_of_.contains(chunk_id);
}

size_t Bm25Index::size() const {
    auto lock = read_lock();
    return slot_of_.size();
}

Bm25Stats Bm25Index::stats() const {
    auto lock = read_lock();
    Bm25Stats s;
    s.documents = slot_of_.size();
    for (const auto& list : postings_) {
        if (!list.empty()) ++s.terms;
        s.postings += list.size();
    }
    s.average_length = s.documents == 0
                           ? 0
                           : static_cast<double>(total_length_) / static_cast<double>(s.documents);
    return s;
}

std::vector<SearchHit> Bm25Index::search(std::string_view query, size_t top_k,
                                         ChunkFilter filter) const {
    std::vector<SearchHit> hits;
    if (top_k == 0) return hits;
    std::vector<std::string> words = tokenize(query);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    if (words.empty()) return hits;

    // Scores accumulate in a dense per-thread array indexed by slot; `touched` lists the
    // slots to reset, so a query costs its postings, not the index size.
    thread_local std::vector<float> scores;
    thread_local std::vector<uint32_t> touched;
    touched.clear();

    auto lock = read_lock();
    const double n_docs = static_cast<double>(slot_of_.size());
    if (n_docs == 0) return hits;
    const double average_length = static_cast<double>(total_length_) / n_docs;
    if (scores.size() < docs_.size()) scores.resize(docs_.size(), 0.0f);
    const double k1 = options_.k1;
    const double b = options_.b;
    for (const auto& word : words) {
        auto it = term_ids_.find(word);
        if (it == term_ids_.end()) continue;
        const auto& list = postings_[it->second];
        if (list.empty()) continue;
        const double n = static_cast<double>(list.size());
        const double idf = std::log(1.0 + (n_docs - n + 0.5) / (n + 0.5));
        for (const Posting& p : list) {
            const double tf = p.tf;
            const double length_norm =
                average_length > 0 ? 1.0 - b + b * docs_[p.doc].length / average_length : 1.0;
            const double term = idf * tf * (k1 + 1.0) / (tf + k1 * length_norm);
            if (scores[p.doc] == 0.0f) touched.push_back(p.doc);
            scores[p.doc] += static_cast<float>(term);
        }
    }

    // Candidates in score order; the filter sees them best first until top_k pass.
    std::vector<SearchHit> candidates;
    candidates.reserve(touched.size());
    for (uint32_t slot : touched) {
        candidates.push_back({docs_[slot].chunk_id, scores[slot]});
        scores[slot] = 0.0f;
    }
    lock.unlock();
    auto worse = [](const SearchHit& a, const SearchHit& b) {
        return a.score != b.score ? a.score < b.score : a.chunk_id > b.chunk_id;
    };
    std::make_heap(candidates.begin(), candidates.end(), worse);
    auto end = candidates.end();
    while (end != candidates.begin() && hits.size() < top_k) {
        std::pop_heap(candidates.begin(), end, worse);
        --end;
        if (filter(end->chunk_id)) hits.push_back(*end);
    }
    return hits;
}

}  // namespace switchyard::rag
