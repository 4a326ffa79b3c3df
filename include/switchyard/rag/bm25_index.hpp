// Bm25Index: the lexical half of retrieval. An in-memory inverted index over chunk texts
// scored by Okapi BM25 (k1, b configurable), with Unicode-aware words (letters, marks and
// numbers; lower-cased; the same splitter as the built-in embedders) and a configurable
// stop-word list (English by default). Chunks are added and removed by a uint64 chunk id.
// Thread safety: search() may run on any number of threads at once; add() and remove() take
// the index exclusively (a std::shared_mutex): they wait for running searches, and searches
// that start while a writer waits queue behind it (writers are not starved).
// Failure: none on the request path. Any text is accepted (invalid UTF-8 bytes separate
// words); a text with no indexable words is stored with length 0 and never matches; a query
// with no indexable words, or top_k 0, returns no hits. top_k larger than the matches
// returns every match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "switchyard/rag/search_hit.hpp"

namespace switchyard::rag {

// A short English list (articles, pronouns, auxiliaries, prepositions, conjunctions), close
// to Lucene's EnglishAnalyzer list. Words, not stems.
const std::vector<std::string>& default_english_stop_words();

struct Bm25Options {
    double k1 = 1.2;  // term-frequency saturation
    double b = 0.75;  // length normalisation (0: none, 1: full)
    std::vector<std::string> stop_words = default_english_stop_words();  // lower-case words
};

struct Bm25Stats {
    size_t documents = 0;  // live chunks
    size_t terms = 0;      // distinct words with at least one posting
    size_t postings = 0;
    double average_length = 0;  // in indexed words (stop words excluded)
};

class Bm25Index {
public:
    explicit Bm25Index(Bm25Options options = {});

    // Indexes `text` under `chunk_id`; an id already present is replaced.
    void add(uint64_t chunk_id, std::string_view text);
    // Returns false when the id was not indexed.
    bool remove(uint64_t chunk_id);
    bool contains(uint64_t chunk_id) const;

    // The best top_k chunks for `query`, best first (ties: lower chunk id first). Each
    // distinct query word counts once. score = sum over query words w of
    //   idf(w) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average_length)),
    //   idf(w) = ln(1 + (N - n(w) + 0.5) / (n(w) + 0.5))   (Lucene's, never negative).
    // `filter` is called for candidates in score order until top_k pass: rejected chunks
    // never take a slot.
    std::vector<SearchHit> search(std::string_view query, size_t top_k,
                                  ChunkFilter filter = {}) const;

    // The words the index would store for `text` (lower-cased, stop words removed).
    std::vector<std::string> tokenize(std::string_view text) const;
    Bm25Stats stats() const;
    size_t size() const;

private:
    struct Posting {
        uint32_t doc = 0;  // slot in docs_
        uint32_t tf = 0;
    };
    struct Doc {
        uint64_t chunk_id = 0;
        uint32_t length = 0;  // indexed words
        bool live = false;
        std::vector<uint32_t> terms;  // distinct term ids, for removal
    };

    void remove_locked(uint32_t slot);

    const Bm25Options options_;
    const std::unordered_set<std::string> stop_words_;

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
    std::unordered_map<std::string, uint32_t> term_ids_;  // guarded by mutex_
    std::vector<std::vector<Posting>> postings_;          // guarded by mutex_; by term id
    std::vector<Doc> docs_;                               // guarded by mutex_; by slot
    std::vector<uint32_t> free_slots_;                    // guarded by mutex_
    std::unordered_map<uint64_t, uint32_t> slot_of_;      // guarded by mutex_
    uint64_t total_length_ = 0;                           // guarded by mutex_
};

}  // namespace switchyard::rag
