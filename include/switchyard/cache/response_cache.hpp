// ResponseCache: the exact response cache. Answers are stored under a 128-bit hash of the
// canonical request (request_key()) inside a namespace (the tenant), with a TTL, a stale
// grace period (expired entries are kept that long and served only as a last resort, when
// every model failed), and a memory budget enforced by eviction by value: GDSF (an entry's
// priority grows with the cost it saves per hit and its hit count, shrinks with its size,
// and ages through the inflation value L) or plain LRU as the baseline.
// Thread safety: all methods may be called from any thread. The table is split into shards,
// each with its own mutex (no global lock); entries are immutable once stored and handed out
// as shared_ptr, so a replay never holds a lock.
// Failure: none on the request path; an entry over the per-entry cap is refused (counted).
// Persistence (optional, set_store): every change is also handed to a CacheStore
// (cache_store.hpp), which writes it off the request path; warm() reloads it at start-up.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchyard/core/chat.hpp"

namespace switchyard::cache {

struct CacheKey {
    uint64_t lo = 0;
    uint64_t hi = 0;
    bool operator==(const CacheKey& o) const { return lo == o.lo && hi == o.hi; }
    bool operator<(const CacheKey& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
    std::string hex() const;
};

// The key of a chat request in namespace `ns`: a hash of the requested model (or route) and
// every field that changes the answer — messages, tools, tool_choice, temperature, top_p,
// max_tokens, stop and the passed-through fields (response_format, seed, ...) — but not the
// fields that do not (user, stream, stream_options, metadata, store, the cache extension).
// JSON values are canonicalised first: key order and whitespace do not change the key.
CacheKey request_key(std::string_view ns, const ChatRequest& request);

// `json` with object keys sorted and insignificant whitespace removed; nullopt when it is not
// JSON.
std::optional<std::string> canonical_json(std::string_view json);

// A cached answer: everything needed to replay it as JSON or SSE.
struct CachedAnswer {
    std::string model;  // the model that answered
    std::string system_fingerprint;
    Message message;
    FinishReason finish_reason = FinishReason::kStop;
    Usage usage;
};

// The semantic cache's view of the request an entry answers (semantic_cache.hpp): kept with
// the entry so a restart can index it again, and so its vector goes when the entry goes.
struct SemanticRef {
    CacheKey partition;
    std::string model;  // requested model or route
    std::string text;   // the last user message
};

struct Entry {
    CachedAnswer answer;
    std::string ns;
    std::string requested_model;  // model or route as requested (for invalidation)
    std::string prompt_text;      // the messages' text, for invalidation by regex
    int64_t created_ms = 0;
    int64_t expires_ms = 0;               // fresh until
    int64_t stale_until_ms = 0;           // kept (for stale-if-error) until
    int64_t cost_nusd = 0;                // what the original call cost: saved by each hit
    std::optional<SemanticRef> semantic;  // indexed by the semantic cache too
    size_t bytes = 0;  // approximate memory held, the semantic index's share included
};

class SemanticCache;
class CacheStore;

enum class EvictionPolicy { kGdsf, kLru };

struct CacheOptions {
    size_t max_bytes = 256u << 20;
    size_t max_entry_bytes = 1u << 20;
    EvictionPolicy policy = EvictionPolicy::kGdsf;
    size_t shards = 16;
};

struct CacheStats {
    int64_t hits = 0;
    int64_t stale_hits = 0;
    int64_t semantic_hits = 0;  // entries served for a similar prompt (not in hits)
    int64_t misses = 0;
    int64_t stores = 0;
    int64_t evictions = 0;
    int64_t expirations = 0;
    int64_t too_large = 0;
    int64_t invalidated = 0;
    int64_t entries = 0;
    int64_t bytes = 0;
    int64_t saved_nusd = 0;       // cost of the upstream calls hits replaced
    int64_t saved_tokens = 0;     // their prompt + completion tokens
    int64_t loaded = 0;           // entries warm() loaded from the store
    int64_t corrupt_skipped = 0;  // stored entries that failed their checksum or decoding
};

struct InvalidateFilter {
    std::optional<std::string> ns;
    std::optional<std::string> model;      // requested model/route or answering model
    std::optional<int64_t> older_than_ms;  // created before now - this
    std::optional<std::regex> prompt;      // searched in the prompt text
};
// Whether `entry` matches every filter given (used by the cache and its store).
bool matches(const InvalidateFilter& filter, const Entry& entry, int64_t now_ms);

// What warm() did.
struct WarmResult {
    int64_t loaded = 0;
    int64_t expired = 0;      // past stale_until, or created in the future: deleted
    int64_t over_budget = 0;  // no room left in the entry's shard (or over the entry cap)
    int64_t corrupt = 0;      // failed checksum or decoding: deleted, never served
};

class ResponseCache {
public:
    explicit ResponseCache(CacheOptions options);
    ResponseCache(const ResponseCache&) = delete;
    ResponseCache& operator=(const ResponseCache&) = delete;

    struct Hit {
        std::shared_ptr<const Entry> entry;
        bool stale = false;
        int64_t age_ms = 0;
    };
    // A fresh entry (younger than `max_age_ms` when >= 0); with `allow_stale`, also an
    // expired one still inside its grace period. Counts a hit or a miss; with `semantic` (the
    // entry a semantic match names), a semantic hit or nothing (the semantic cache counts
    // its own misses).
    std::optional<Hit> lookup(const CacheKey& key, int64_t now_ms, int64_t max_age_ms = -1,
                              bool allow_stale = false, bool semantic = false);
    // Stores (or replaces) an entry; false when it is over max_entry_bytes.
    bool store(const CacheKey& key, Entry entry, int64_t now_ms);
    // Removes matching entries; returns how many.
    size_t invalidate(const InvalidateFilter& filter, int64_t now_ms);
    CacheStats stats() const;
    const CacheOptions& options() const { return options_; }

    // Persists every change to `store` from now on (stores, evictions, expirations,
    // invalidations). Call once, before the cache is used.
    void set_store(std::shared_ptr<CacheStore> store) { store_ = std::move(store); }
    CacheStore* store() const { return store_.get(); }  // null when not persisted
    // Loads the store's entries, most recently created first, without evicting: an entry
    // that does not fit in its shard's budget is skipped (and deleted from the store), as
    // is one past its stale grace, or created after `now_ms` (the clock stepped back since:
    // its age cannot be trusted, so it counts as expired). Corrupt rows are counted in
    // corrupt_skipped. Call at start-up, after set_store() and before serving.
    WarmResult warm(int64_t now_ms);

    // The semantic side (semantic_cache.hpp), made by `make` on first use (once, on
    // whichever thread asks first); null when `make` returned null (off, or no embedder).
    // From then on an entry with a SemanticRef is charged the semantic index's memory for
    // it, and its vector is removed when the entry is evicted, expires or is invalidated.
    template <class Make>
    SemanticCache* semantic(Make&& make) {
        std::call_once(semantic_once_, [&] {
            semantic_ = make();
            semantic_ready_.store(true, std::memory_order_release);
        });
        return semantic_.get();
    }
    // Indexes every fresh entry that has a SemanticRef in the semantic side (after warm():
    // the semantic index is not persisted, its prompts are, and are embedded again).
    // Returns how many were indexed; 0 when there is no semantic side.
    size_t reindex_semantic(int64_t now_ms);
    // Null until made (and when off); never makes it.
    SemanticCache* semantic() const {
        return semantic_ready_.load(std::memory_order_acquire) ? semantic_.get() : nullptr;
    }

private:
    struct KeyHash {
        size_t operator()(const CacheKey& k) const { return static_cast<size_t>(k.lo); }
    };
    // `order` holds each entry under `queued`, the priority it had when last placed there.
    // A hit only raises `priority` (GDSF and LRU priorities never fall, bar a clock stepping
    // back, which repositions at once), so the order is repaired lazily: eviction re-files
    // a victim whose priority has grown since and tries the next. A hit then costs no tree
    // operation, which at a million entries is most of the lookup.
    struct Slot {
        std::shared_ptr<const Entry> entry;
        double priority = 0;
        double queued = 0;
        int64_t hits = 0;
    };
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<CacheKey, Slot, KeyHash> map;  // guarded by mu
        std::set<std::pair<double, CacheKey>> order;      // guarded by mu; lowest first
        size_t bytes = 0;                                 // guarded by mu
        double inflation = 0;                             // GDSF's L; guarded by mu
    };
    Shard& shard_of(const CacheKey& key) { return *shards_[key.hi % shards_.size()]; }
    size_t entry_bytes(const Entry& e) const;
    double priority(const Shard& s, const Entry& e, int64_t hits, int64_t now_ms) const;
    void erase(Shard& s, std::unordered_map<CacheKey, Slot, KeyHash>::iterator it);

    const CacheOptions options_;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::atomic<int64_t> hits_{0}, stale_hits_{0}, semantic_hits_{0}, misses_{0}, stores_{0},
        evictions_{0}, expirations_{0}, too_large_{0}, invalidated_{0}, saved_nusd_{0},
        saved_tokens_{0};
    std::once_flag semantic_once_;
    std::shared_ptr<SemanticCache> semantic_;  // set once under semantic_once_
    std::atomic<bool> semantic_ready_{false};
    std::shared_ptr<CacheStore> store_;  // set before use; writes are queued under shard locks
    std::atomic<int64_t> loaded_{0}, corrupt_skipped_{0};
};

}  // namespace switchyard::cache
