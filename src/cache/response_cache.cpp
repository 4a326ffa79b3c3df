#include "switchyard/cache/response_cache.hpp"

#include <fmt/format.h>
#include <simdjson.h>
#include <xxhash.h>

#include <algorithm>

#include "switchyard/cache/cache_store.hpp"
#include "switchyard/cache/semantic_cache.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::cache {
namespace {

// Canonical JSON of a simdjson element: objects with sorted keys, no whitespace.
void write_canonical(simdjson::dom::element v, std::string& out) {
    using simdjson::dom::element_type;
    switch (v.type()) {
        case element_type::OBJECT: {
            std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
            simdjson::dom::object obj;
            if (v.get(obj) != simdjson::SUCCESS) return;
            for (auto field : obj)
                fields.emplace_back(field.key, field.value);
            std::sort(fields.begin(), fields.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            out += '{';
            for (size_t i = 0; i < fields.size(); ++i) {
                if (i) out += ',';
                JsonWriter(out).value(fields[i].first);
                out += ':';
                write_canonical(fields[i].second, out);
            }
            out += '}';
            return;
        }
        case element_type::ARRAY: {
            out += '[';
            bool first = true;
            simdjson::dom::array arr;
            if (v.get(arr) != simdjson::SUCCESS) return;
            for (auto item : arr) {
                if (!first) out += ',';
                first = false;
                write_canonical(item, out);
            }
            out += ']';
            return;
        }
        default:
            out += simdjson::minify(v);
    }
}

// Feeds length-prefixed fields into the hash so ("ab","c") and ("a","bc") differ.
class KeyHasher {
public:
    KeyHasher() { XXH3_128bits_reset(state_); }
    ~KeyHasher() { XXH3_freeState(state_); }
    KeyHasher(const KeyHasher&) = delete;
    KeyHasher& operator=(const KeyHasher&) = delete;

    void add(std::string_view field) {
        const uint64_t n = field.size();
        XXH3_128bits_update(state_, &n, sizeof n);
        XXH3_128bits_update(state_, field.data(), field.size());
    }
    void add_json(std::string_view json) {
        if (json.empty()) {
            add({});
            return;
        }
        auto canon = canonical_json(json);
        add(canon ? std::string_view(*canon) : json);
    }
    void add_number(std::optional<double> v) { add(v ? fmt::format("{}", *v) : std::string("-")); }
    CacheKey finish() {
        const XXH128_hash_t h = XXH3_128bits_digest(state_);
        return CacheKey{h.low64, h.high64};
    }

private:
    XXH3_state_t* state_ = XXH3_createState();
};

bool excluded_passthrough(std::string_view key) {
    return key == "metadata" || key == "store" || key == "user" || key == "service_tier" ||
           key == "stream_options";
}

size_t answer_bytes(const Entry& e) {
    size_t n = sizeof(Entry) + e.ns.size() + e.requested_model.size() + e.prompt_text.size() +
               e.answer.model.size() + e.answer.system_fingerprint.size() +
               e.answer.message.text.size();
    for (const auto& p : e.answer.message.parts)
        n += sizeof(p) + p.text.size();
    for (const auto& t : e.answer.message.tool_calls)
        n += sizeof(t) + t.id.size() + t.name.size() + t.arguments.size();
    return n;
}

}  // namespace

std::string CacheKey::hex() const {
    return fmt::format("{:016x}{:016x}", hi, lo);
}

std::optional<std::string> canonical_json(std::string_view json) {
    thread_local simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) return std::nullopt;
    std::string out;
    out.reserve(json.size());
    write_canonical(root, out);
    return out;
}

CacheKey request_key(std::string_view ns, const ChatRequest& r) {
    KeyHasher h;
    h.add("switchyard-cache-v1");
    h.add(ns);
    h.add(r.model);
    h.add(std::to_string(r.messages.size()));
    for (const auto& m : r.messages) {
        h.add(to_string(m.role));
        h.add(m.name);
        h.add(m.has_parts ? "parts" : (m.content_null ? "null" : "text"));
        h.add(m.text);
        for (const auto& p : m.parts) {
            h.add(std::to_string(static_cast<int>(p.type)));
            h.add(p.text);
            h.add(p.image_url);
            h.add(p.detail);
            h.add_json(p.raw_json);
        }
        h.add(std::to_string(m.tool_calls.size()));
        for (const auto& t : m.tool_calls) {
            h.add(t.id);
            h.add(t.name);
            h.add_json(t.arguments);
        }
        h.add(m.tool_call_id);
        h.add(m.tool_error ? "1" : "0");
    }
    h.add(std::to_string(r.tools.size()));
    for (const auto& t : r.tools) {
        h.add(t.name);
        h.add(t.description);
        h.add_json(t.parameters_json);
    }
    h.add_json(r.tool_choice_json);
    h.add(r.parallel_tool_calls ? (*r.parallel_tool_calls ? "1" : "0") : "-");
    h.add_number(r.temperature);
    h.add_number(r.top_p);
    h.add(r.max_tokens ? std::to_string(*r.max_tokens) : "-");
    h.add(std::to_string(r.stop.size()));
    for (const auto& s : r.stop)
        h.add(s);
    // Passed-through fields in key order, so their order in the request does not matter.
    std::vector<const PassthroughField*> pass;
    for (const auto& f : r.passthrough) {
        if (!excluded_passthrough(f.key)) pass.push_back(&f);
    }
    std::sort(pass.begin(), pass.end(), [](auto* a, auto* b) { return a->key < b->key; });
    for (const auto* f : pass) {
        h.add(f->key);
        h.add_json(f->value_json);
    }
    return h.finish();
}

ResponseCache::ResponseCache(CacheOptions options) : options_(options) {
    const size_t n = std::max<size_t>(1, options_.shards);
    for (size_t i = 0; i < n; ++i)
        shards_.push_back(std::make_unique<Shard>());
}

double ResponseCache::priority(const Shard& s, const Entry& e, int64_t hits, int64_t now_ms) const {
    if (options_.policy == EvictionPolicy::kLru) return static_cast<double>(now_ms);
    // GDSF: L + frequency * cost / size. A free local answer still saves latency: a floor
    // of 1 micro-dollar keeps its value above zero.
    const double cost = static_cast<double>(std::max<int64_t>(e.cost_nusd, 1'000));
    const double size = static_cast<double>(std::max<size_t>(e.bytes, 1));
    return s.inflation + static_cast<double>(hits + 1) * cost / size;
}

size_t ResponseCache::entry_bytes(const Entry& e) const {
    size_t n = answer_bytes(e);
    if (e.semantic) {
        n += sizeof(SemanticRef) + e.semantic->model.size() + e.semantic->text.size();
        if (const SemanticCache* sc = semantic()) n += sc->item_bytes(e.semantic->text.size());
    }
    return n;
}

void ResponseCache::erase(Shard& s, std::unordered_map<CacheKey, Slot, KeyHash>::iterator it) {
    const Entry& e = *it->second.entry;
    // Its vector goes with it (lock order: a cache shard, then the semantic side's locks;
    // the semantic side never calls back into this cache).
    if (e.semantic) {
        if (SemanticCache* sc = semantic()) sc->remove_key(e.semantic->partition, it->first);
    }
    s.order.erase({it->second.queued, it->first});
    s.bytes -= e.bytes;
    s.map.erase(it);
}

size_t ResponseCache::reindex_semantic(int64_t now_ms) {
    SemanticCache* sc = semantic();
    if (sc == nullptr) return 0;
    // Copied out under each shard's lock, embedded and indexed outside it.
    std::vector<std::pair<CacheKey, std::shared_ptr<const Entry>>> todo;
    for (auto& sp : shards_) {
        std::lock_guard lock(sp->mu);
        for (const auto& [key, slot] : sp->map) {
            if (slot.entry->semantic && slot.entry->expires_ms > now_ms)
                todo.emplace_back(key, slot.entry);
        }
    }
    // Oldest first, so a partition over its entry cap keeps the newest (as it would have).
    std::sort(todo.begin(), todo.end(), [](const auto& a, const auto& b) {
        return a.second->created_ms < b.second->created_ms;
    });
    size_t n = 0;
    for (const auto& [key, e] : todo) {
        SemanticQuery q;
        q.partition = e->semantic->partition;
        q.ns = e->ns;
        q.model = e->semantic->model;
        q.text = e->semantic->text;
        if (sc->insert(q, key, e->expires_ms, now_ms)) ++n;
    }
    return n;
}

std::optional<ResponseCache::Hit> ResponseCache::lookup(const CacheKey& key, int64_t now_ms,
                                                        int64_t max_age_ms, bool allow_stale,
                                                        bool semantic) {
    Shard& s = shard_of(key);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) {
        if (!semantic) misses_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    const auto& e = *it->second.entry;
    if (now_ms >= e.stale_until_ms) {
        expirations_.fetch_add(1, std::memory_order_relaxed);
        erase(s, it);
        if (store_) store_->erase(key);
        if (!semantic) misses_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    const int64_t age = std::max<int64_t>(0, now_ms - e.created_ms);
    const bool fresh = now_ms < e.expires_ms && (max_age_ms < 0 || age <= max_age_ms);
    if (!fresh && !allow_stale) {
        if (!semantic) misses_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    Slot& slot = it->second;
    ++slot.hits;
    slot.priority = priority(s, e, slot.hits, now_ms);
    if (slot.priority < slot.queued) {  // the clock stepped back (LRU): re-file now
        s.order.erase({slot.queued, key});
        slot.queued = slot.priority;
        s.order.insert({slot.queued, key});
    }
    (semantic ? semantic_hits_
     : fresh  ? hits_
              : stale_hits_)
        .fetch_add(1, std::memory_order_relaxed);
    saved_nusd_.fetch_add(e.cost_nusd, std::memory_order_relaxed);
    saved_tokens_.fetch_add(e.answer.usage.prompt_tokens + e.answer.usage.completion_tokens,
                            std::memory_order_relaxed);
    return Hit{slot.entry, !fresh, age};
}

bool ResponseCache::store(const CacheKey& key, Entry entry, int64_t now_ms) {
    entry.bytes = entry_bytes(entry);
    if (entry.bytes > options_.max_entry_bytes) {
        too_large_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    Shard& s = shard_of(key);
    const size_t budget = std::max<size_t>(1, options_.max_bytes / shards_.size());
    auto shared = std::make_shared<const Entry>(std::move(entry));
    std::lock_guard lock(s.mu);
    if (auto it = s.map.find(key); it != s.map.end()) erase(s, it);
    // Evict the least valuable until the new entry fits; GDSF's L rises to the evicted
    // priority, so entries that stop being hit age out.
    while (!s.order.empty() && s.bytes + shared->bytes > budget) {
        const auto victim = *s.order.begin();
        auto vit = s.map.find(victim.second);
        Slot& v = vit->second;
        if (v.priority > v.queued) {  // hit since it was filed: re-file, look again
            s.order.erase(s.order.begin());
            v.queued = v.priority;
            s.order.insert({v.queued, victim.second});
            continue;
        }
        if (options_.policy == EvictionPolicy::kGdsf) s.inflation = victim.first;
        erase(s, vit);
        evictions_.fetch_add(1, std::memory_order_relaxed);
        if (store_) store_->erase(victim.second);
    }
    Slot slot;
    slot.entry = shared;
    slot.priority = priority(s, *shared, 0, now_ms);
    slot.queued = slot.priority;
    s.order.insert({slot.queued, key});
    s.bytes += shared->bytes;
    s.map.emplace(key, std::move(slot));
    stores_.fetch_add(1, std::memory_order_relaxed);
    // Queued under the shard lock, so the store sees one key's changes in their order.
    if (store_) store_->put(key, shared);
    return true;
}

size_t ResponseCache::invalidate(const InvalidateFilter& f, int64_t now_ms) {
    size_t n = 0;
    for (auto& sp : shards_) {
        Shard& s = *sp;
        std::lock_guard lock(s.mu);
        for (auto it = s.map.begin(); it != s.map.end();) {
            if (!matches(f, *it->second.entry, now_ms)) {
                ++it;
                continue;
            }
            auto next = std::next(it);
            erase(s, it);
            it = next;
            ++n;
        }
    }
    invalidated_.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
    // The store removes its matching rows too, those no longer in memory included.
    if (store_) store_->invalidate(f, now_ms);
    return n;
}

bool matches(const InvalidateFilter& f, const Entry& e, int64_t now_ms) {
    if (f.ns && e.ns != *f.ns) return false;
    if (f.model && e.requested_model != *f.model && e.answer.model != *f.model) return false;
    if (f.older_than_ms && now_ms - e.created_ms < *f.older_than_ms) return false;
    if (f.prompt && !std::regex_search(e.prompt_text, *f.prompt)) return false;
    return true;
}

WarmResult ResponseCache::warm(int64_t now_ms) {
    WarmResult r;
    if (!store_) return r;
    const size_t budget = std::max<size_t>(1, options_.max_bytes / shards_.size());
    const auto loaded = store_->load([&](const CacheKey& key, Entry&& entry) {
        if (now_ms >= entry.stale_until_ms || entry.created_ms > now_ms) {
            ++r.expired;
            return false;
        }
        entry.bytes = entry_bytes(entry);
        Shard& s = shard_of(key);
        std::lock_guard lock(s.mu);
        if (s.map.contains(key)) return true;  // stored since start-up: newer
        if (entry.bytes > options_.max_entry_bytes || s.bytes + entry.bytes > budget) {
            ++r.over_budget;
            return false;
        }
        auto shared = std::make_shared<const Entry>(std::move(entry));
        Slot slot;
        slot.entry = shared;
        // LRU: the older an entry, the sooner it goes (what it would have been at shutdown).
        slot.priority = options_.policy == EvictionPolicy::kLru
                            ? static_cast<double>(shared->created_ms)
                            : priority(s, *shared, 0, now_ms);
        slot.queued = slot.priority;
        s.order.insert({slot.queued, key});
        s.bytes += shared->bytes;
        s.map.emplace(key, std::move(slot));
        ++r.loaded;
        return true;
    });
    r.corrupt = loaded.corrupt;
    loaded_.fetch_add(r.loaded, std::memory_order_relaxed);
    corrupt_skipped_.fetch_add(r.corrupt, std::memory_order_relaxed);
    return r;
}

CacheStats ResponseCache::stats() const {
    CacheStats st;
    st.hits = hits_.load();
    st.stale_hits = stale_hits_.load();
    st.semantic_hits = semantic_hits_.load();
    st.misses = misses_.load();
    st.stores = stores_.load();
    st.evictions = evictions_.load();
    st.expirations = expirations_.load();
    st.too_large = too_large_.load();
    st.invalidated = invalidated_.load();
    st.saved_nusd = saved_nusd_.load();
    st.saved_tokens = saved_tokens_.load();
    st.loaded = loaded_.load();
    st.corrupt_skipped = corrupt_skipped_.load();
    for (const auto& sp : shards_) {
        std::lock_guard lock(sp->mu);
        st.entries += static_cast<int64_t>(sp->map.size());
        st.bytes += static_cast<int64_t>(sp->bytes);
    }
    return st;
}

}  // namespace switchyard::cache
