// SemanticCache: the similarity side of the response cache. A request whose last message is a
// user message is split into a partition (tenant namespace, requested model or route, and
// everything else that shapes the answer: system prompt, earlier turns, tools, sampling
// parameters — hashed exactly) and a query (the last user message's text). The query is
// embedded with a RAG Embedder and searched in the partition's rag::VectorIndex; the best
// entry at or above the similarity threshold whose prompt passes the guards (numbers,
// negations, quoted strings, named entities must agree) is a hit. A hit names the exact
// cache entry (CacheKey) it stands for: the answer itself lives only in the ResponseCache, so
// TTL, eviction and invalidation there end the semantic hit too (the caller looks the key up
// and calls remove() when it is gone; a vector whose entry is gone is never served).
// Feedback on a bad hit removes the entry's vector and stores a veto point at the query: a
// later query within veto_radius of it must beat the bad hit's similarity (plus veto_step).
// Thread safety: all methods may be called from any thread. Partitions live in shards, each
// with its own mutex held only to find a partition; a partition has its own shared_mutex
// (readers share it) and the VectorIndex its own lock. Embedding runs on the calling thread
// with no lock held. No global lock.
// Failure: results, never exceptions on the request path; an embedder error is a miss.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "switchyard/cache/response_cache.hpp"
#include "switchyard/core/chat.hpp"
#include "switchyard/rag/embedder.hpp"
#include "switchyard/rag/vector_index.hpp"

namespace switchyard::cache {

// What the guards compare between a query and a cached prompt.
struct PromptFeatures {
    std::vector<std::string> numbers;  // digit runs with their operators ("2+2", "3.5", "10kg"),
                                       // number words as digits; sorted (a multiset)
    int negations = 0;                 // not, no, never, n't, without, ...
    std::vector<std::string> quoted;  // text in "...", “...”, `...` or '...'; lower-cased, sorted
    std::vector<std::string> entities;  // capitalised words not at a sentence start, acronyms,
                                        // mixed case (iPhone); lower-cased, sorted, unique
    std::vector<std::string> words;     // every word lower-cased, sorted, unique
    std::vector<std::string> content;   // words that are not function words, crudely stemmed
                                        // ("lists" -> "list"); sorted, unique
    // Words right after a directional word (to, into, than, from, in, vs): "dollars in euros"
    // and "euros in dollars" share every word but not these.
    std::vector<std::string> targets;
};

PromptFeatures prompt_features(std::string_view text);

// The guard that vetoes serving `cached`'s answer to `query`, or nullptr when none does:
// "numbers", "negation", "quoted", "entity", "substitution" (each side has a content word
// the other lacks: "ascending" for "descending", "grapes" for "apples") or "direction"
// (the words after to/into/than/from/in/vs differ: "string to integer", "integer to
// string"). An entity of one side that appears as a word (any case) on the other does not
// veto ("python" and "Python").
const char* guard_veto(const PromptFeatures& query, const PromptFeatures& cached);

struct SemanticOptions {
    float threshold = 0.80f;  // cosine similarity needed for a hit
    // Per requested model or route: overrides threshold.
    std::vector<std::pair<std::string, float>> model_thresholds;
    size_t max_entries_per_partition = 10'000;  // the oldest go first
    bool multi_turn = false;    // also requests with earlier turns (they must match exactly)
    bool guards = true;         // false only to measure what the guards are worth
    size_t top_k = 4;           // candidates checked against the guards
    float veto_radius = 0.85f;  // feedback: queries this similar to a bad one...
    float veto_step = 0.02f;    // ...need the bad hit's similarity + this
    size_t max_vetoes_per_partition = 256;  // the oldest go first
    size_t max_feedback_records = 20'000;   // recent semantic hits that can be reported
    size_t flat_threshold = 10'000;         // the partition index turns HNSW above this
    size_t sweep_every = 1024;              // inserts between sweeps of one shard
    size_t shards = 16;
};

// A request as the semantic cache sees it.
struct SemanticQuery {
    CacheKey partition;
    std::string ns;
    std::string model;          // requested model or route (for the per-model threshold)
    std::string text;           // the last user message
    std::vector<float> vector;  // filled by lookup() (reused by insert())
};

// The query of `request` in namespace `ns`, or nullopt when the semantic cache does not
// apply: the last message is not a plain-text user message, or there are earlier
// user/assistant/tool turns and `multi_turn` is off.
std::optional<SemanticQuery> semantic_query(std::string_view ns, const ChatRequest& request,
                                            bool multi_turn);

struct SemanticStats {
    int64_t hits = 0;
    int64_t misses = 0;            // empty partition, or nothing similar enough
    int64_t vetoed = 0;            // similar enough, but a guard refused every candidate
    int64_t tightened_misses = 0;  // similar enough for the base threshold, not for a veto point
    int64_t inserts = 0;
    int64_t removed = 0;  // feedback, missing exact entries, invalidation
    int64_t evicted = 0;  // max_entries_per_partition
    int64_t expired = 0;  // swept past their expiry
    int64_t feedback_bad = 0;
    int64_t feedback_good = 0;
    int64_t entries = 0;
    int64_t partitions = 0;
    int64_t veto_points = 0;
    int64_t embed_ns = 0;  // total time spent embedding queries
    int64_t embeds = 0;
};

class SemanticCache {
public:
    SemanticCache(SemanticOptions options, std::shared_ptr<const rag::Embedder> embedder);
    SemanticCache(const SemanticCache&) = delete;
    SemanticCache& operator=(const SemanticCache&) = delete;

    enum class Result { kHit, kMiss, kVetoed, kTightened };
    struct Match {
        CacheKey key;  // the exact entry to serve
        uint64_t entry_id = 0;
        float similarity = 0;
        float threshold = 0;  // what it had to beat
    };
    struct Outcome {
        Result result = Result::kMiss;
        std::optional<Match> match;
        const char* veto = nullptr;  // the guard, for kVetoed
        float best_similarity = 0;
    };

    // Embeds q.text into q.vector (if empty) and searches q's partition. Counts the outcome.
    Outcome lookup(SemanticQuery& q);
    // Indexes q (embedding it if needed) as standing for exact entry `key`, fresh until
    // `expires_ms`. A second insert of the same key in the partition replaces the first.
    // Every sweep_every inserts, one shard is swept (with `now_ms`): vectors past their
    // expiry go, and partitions left empty (no vectors, no veto points) are dropped, so
    // memory is bounded by what was stored within a TTL even when nothing is looked up
    // again (one partition per conversation prefix with multi_turn). Favours simplicity:
    // an insert racing the drop of its empty partition is lost (a later miss, never a wrong
    // answer).
    // Returns false when the text could not be embedded or the vector was refused.
    bool insert(const SemanticQuery& q, const CacheKey& key,
                int64_t expires_ms = std::numeric_limits<int64_t>::max(), int64_t now_ms = 0);
    // Removes an entry's vector (its exact entry is gone, or feedback); false if absent.
    bool remove(const CacheKey& partition, uint64_t entry_id);
    // The same, by the exact entry's key.
    bool remove_key(const CacheKey& partition, const CacheKey& key);
    // Memory one indexed item for a text of `text_bytes` holds: its vector, its graph
    // links once the partition is an HNSW graph, the maps' nodes and its guard features
    // (an estimate: a word list costs about ten times the text). Charged to the exact
    // entry the item stands for.
    size_t item_bytes(size_t text_bytes) const;
    // Drops every partition of namespace `ns` (nullopt: all). Returns the entries removed.
    size_t invalidate(const std::optional<std::string>& ns);

    // Feedback. A semantic hit is remembered under the response id it was served with, with
    // the caller allowed to report it (`owner`: a key id, or empty when anyone may).
    void remember_hit(std::string response_id, std::string owner, const SemanticQuery& q,
                      const Match& m);
    enum class FeedbackResult { kApplied, kUnknownId, kForbidden };
    struct FeedbackOutcome {
        FeedbackResult result = FeedbackResult::kUnknownId;
        bool removed = false;       // the entry's vector was still there
        float local_threshold = 0;  // what a query like the reported one must now beat
    };
    // `caller`: the reporting key's id, or nullopt for an admin (may report any hit).
    FeedbackOutcome feedback(std::string_view response_id, bool bad,
                             const std::optional<std::string>& caller);

    // The threshold for requested model or route `model`.
    float threshold_for(std::string_view model) const;
    SemanticStats stats() const;
    const SemanticOptions& options() const { return options_; }
    const rag::Embedder& embedder() const { return *embedder_; }

    // Embeds one text (unit vector of embedder().dimension()); false on an embedder error.
    bool embed(std::string_view text, std::vector<float>& out);

private:
    struct Item {
        CacheKey key;
        PromptFeatures features;
        int64_t expires_ms = 0;
    };
    struct KeyHash {
        size_t operator()(const CacheKey& k) const { return static_cast<size_t>(k.lo); }
    };
    struct Veto {
        std::vector<float> vector;
        float min_similarity = 0;
    };
    struct Partition {
        explicit Partition(rag::VectorIndexOptions o) : index(o) {}
        std::string ns;
        rag::VectorIndex index;
        mutable std::shared_mutex mu;
        std::unordered_map<uint64_t, Item> items;                // guarded by mu
        std::unordered_map<CacheKey, uint64_t, KeyHash> by_key;  // guarded by mu
        std::deque<uint64_t> order;                              // guarded by mu; oldest first
        std::deque<Veto> vetoes;                                 // guarded by mu
        uint64_t next_id = 1;                                    // guarded by mu
    };
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<CacheKey, std::shared_ptr<Partition>, KeyHash>
            partitions;  // guarded by mu
    };
    struct HitRecord {
        CacheKey partition;
        uint64_t entry_id = 0;
        std::string owner;
        std::vector<float> vector;
        float similarity = 0;
    };
    struct FeedbackShard {
        std::mutex mu;
        std::unordered_map<std::string, HitRecord> records;  // guarded by mu
        std::deque<std::string> order;                       // guarded by mu; oldest first
    };

    Shard& shard_of(const CacheKey& partition) { return *shards_[partition.hi % shards_.size()]; }
    std::shared_ptr<Partition> find(const CacheKey& partition) const;
    std::shared_ptr<Partition> find_or_create(const CacheKey& partition, const std::string& ns);
    FeedbackShard& feedback_shard(std::string_view id);
    // Removes id from p (p.mu held exclusively).
    bool erase_locked(Partition& p, uint64_t id);
    void sweep(Shard& shard, int64_t now_ms);

    const SemanticOptions options_;
    const std::shared_ptr<const rag::Embedder> embedder_;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::vector<std::unique_ptr<FeedbackShard>> feedback_;
    std::atomic<int64_t> hits_{0}, misses_{0}, vetoed_{0}, tightened_{0}, inserts_{0}, removed_{0},
        evicted_{0}, expired_{0}, feedback_bad_{0}, feedback_good_{0}, embed_ns_{0}, embeds_{0};
    std::atomic<uint64_t> insert_count_{0};
};

}  // namespace switchyard::cache
