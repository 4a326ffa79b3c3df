#include "switchyard/cache/semantic_cache.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

namespace switchyard::cache {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
// Letters, digits and every non-ASCII byte (UTF-8 letters) make words.
bool is_word_char(char c) {
    return is_digit(c) || is_upper(c) || is_lower(c) || static_cast<unsigned char>(c) >= 0x80;
}
char lower(char c) {
    return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = lower(c);
    return out;
}

// Number words as digits ("one" is left out: "which one" is rarely a number).
std::string_view number_word(std::string_view w) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 30> kWords{{
        {"zero", "0"},        {"two", "2"},           {"three", "3"},     {"four", "4"},
        {"five", "5"},        {"six", "6"},           {"seven", "7"},     {"eight", "8"},
        {"nine", "9"},        {"ten", "10"},          {"eleven", "11"},   {"twelve", "12"},
        {"thirteen", "13"},   {"fourteen", "14"},     {"fifteen", "15"},  {"sixteen", "16"},
        {"seventeen", "17"},  {"eighteen", "18"},     {"nineteen", "19"}, {"twenty", "20"},
        {"thirty", "30"},     {"forty", "40"},        {"fifty", "50"},    {"sixty", "60"},
        {"seventy", "70"},    {"eighty", "80"},       {"ninety", "90"},   {"hundred", "100"},
        {"thousand", "1000"}, {"million", "1000000"},
    }};
    for (const auto& [word, digits] : kWords) {
        if (w == word) return digits;
    }
    if (w == "billion") return "1000000000";
    if (w == "dozen") return "12";
    return {};
}

bool is_negation(std::string_view w) {
    static constexpr std::array<std::string_view, 27> kWords{
        "not",      "no",      "never",  "none",    "nobody", "nothing", "neither",
        "nor",      "nowhere", "cannot", "without", "dont",   "doesnt",  "didnt",
        "isnt",     "arent",   "wasnt",  "werent",  "cant",   "couldnt", "wouldnt",
        "shouldnt", "wont",    "hasnt",  "havent",  "hadnt",  "aint"};
    if (w.size() > 3 && w.ends_with("n't")) return true;
    return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

// Characters that continue a number: "2+2", "3.14", "1,000", "10kg", "2^10", "50%".
bool number_char(char c) {
    return is_digit(c) || is_lower(c) || is_upper(c) || c == '.' || c == ',' || c == '+' ||
           c == '-' || c == '*' || c == '/' || c == '^' || c == '%' || c == '=' || c == 'x';
}

// Words that carry no topic of their own: a paraphrase may add, drop or swap them.
bool function_word(std::string_view w) {
    static constexpr std::array<std::string_view, 96> kWords{
        "a",      "an",      "the",   "of",     "in",    "on",       "for",   "to",    "with",
        "by",     "at",      "from",  "about",  "into",  "as",       "and",   "or",    "but",
        "if",     "then",    "so",    "how",    "what",  "why",      "which", "who",   "whom",
        "when",   "where",   "whats", "what's", "do",    "does",     "did",   "doing", "can",
        "could",  "should",  "would", "will",   "shall", "may",      "might", "must",  "is",
        "are",    "was",     "were",  "be",     "been",  "being",    "am",    "have",  "has",
        "had",    "i",       "me",    "my",     "mine",  "you",      "your",  "we",    "our",
        "us",     "it",      "its",   "this",   "that",  "these",    "those", "there", "here",
        "please", "explain", "tell",  "give",   "show",  "describe", "way",   "best",  "good",
        "use",    "using",   "make",  "get",    "some",  "any",      "all",   "every", "one",
        "go",     "about",   "can't", "i'm",    "just",  "really"};
    return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

bool directional(std::string_view w) {
    return w == "to" || w == "into" || w == "than" || w == "from" || w == "in" || w == "vs" ||
           w == "versus";
}

bool article(std::string_view w) {
    return w == "a" || w == "an" || w == "the" || w == "my" || w == "your";
}

// Crude English stemming, enough to match "works" and "work", "lists" and "list".
std::string stem(std::string w) {
    auto strip = [&](std::string_view suffix, size_t min_left) {
        if (w.size() >= suffix.size() + min_left && std::string_view(w).ends_with(suffix)) {
            w.resize(w.size() - suffix.size());
            return true;
        }
        return false;
    };
    if (strip("'s", 2)) return w;
    if (strip("ies", 3)) {
        w += 'y';
        return w;
    }
    if (std::string_view(w).ends_with("ss")) return w;
    if (strip("ing", 4) || strip("ed", 4)) return w;
    strip("es", 4) || strip("s", 3);
    return w;
}

void sort_unique(std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

bool contains(const std::vector<std::string>& sorted, const std::string& w) {
    return std::binary_search(sorted.begin(), sorted.end(), w);
}

// Entities of `a` that `b` does not mention at all (in any case).
bool entity_missing(const PromptFeatures& a, const PromptFeatures& b) {
    for (const auto& e : a.entities) {
        if (!contains(b.entities, e) && !contains(b.words, e)) return true;
    }
    return false;
}

// Whether sorted `a` has an element sorted `b` lacks.
bool one_sided(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return std::any_of(a.begin(), a.end(), [&](const std::string& w) { return !contains(b, w); });
}

// Targets are "word:target"; a directional word used on both sides must lead to a common
// target on both ("to:integer" vs "to:string" vetoes; "in:directory in:linux" vs "in:linux"
// does not).
bool direction_differs(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    auto head = [](const std::string& t) { return std::string_view(t).substr(0, t.find(':')); };
    for (const auto& t : a) {
        const auto dir = head(t);
        bool on_b = false;
        bool shared = false;
        for (const auto& u : b) {
            if (head(u) != dir) continue;
            on_b = true;
            for (const auto& v : a) {
                if (head(v) == dir && v == u) shared = true;
            }
        }
        if (on_b && !shared) return true;
    }
    return false;
}

}  // namespace

PromptFeatures prompt_features(std::string_view text) {
    PromptFeatures f;
    bool sentence_start = true;
    std::string direction;  // the directional word just read
    size_t i = 0;
    const size_t n = text.size();
    auto quote_close = [&](size_t from, std::string_view close) -> size_t {
        const size_t end = text.find(close, from);
        return end == std::string_view::npos ? n : end;
    };
    while (i < n) {
        const char c = text[i];
        // Quoted strings: "...", `...`, “...” and '...' (a single quote only when it opens
        // after a space or at the start, so "don't" is not a quote).
        std::string_view close;
        size_t open_len = 1;
        if (c == '"') {
            close = "\"";
        } else if (c == '`') {
            close = "`";
        } else if (text.substr(i, 3) == "\xE2\x80\x9C") {
            close = "\xE2\x80\x9D";
            open_len = 3;
        } else if (c == '\'' && (i == 0 || !is_word_char(text[i - 1]))) {
            close = "'";
        }
        if (!close.empty()) {
            const size_t end = quote_close(i + open_len, close);
            if (end < n) {
                std::string_view inner = text.substr(i + open_len, end - i - open_len);
                while (!inner.empty() && inner.front() == ' ')
                    inner.remove_prefix(1);
                while (!inner.empty() && inner.back() == ' ')
                    inner.remove_suffix(1);
                if (!inner.empty() && inner.size() <= 200) f.quoted.push_back(lowered(inner));
            }
            // The quoted words still count as words, numbers and entities below.
            i += open_len;
            continue;
        }
        if (is_digit(c)) {
            size_t j = i;
            while (j < n && number_char(text[j]))
                ++j;
            std::string_view num = text.substr(i, j - i);
            while (!num.empty() && !is_word_char(num.back()) && num.back() != '%')
                num.remove_suffix(1);  // "costs 5." -> "5"
            std::string token;
            for (char d : num) {
                if (d != ',') token += lower(d);
            }
            f.numbers.push_back(std::move(token));
            for (size_t k = i; k < j; ++k) {
                if (text[k] == '.' && (k + 1 >= j || !is_digit(text[k + 1]))) {
                    sentence_start = true;
                }
            }
            i = j;
            if (!sentence_start) continue;
            continue;
        }
        if (is_word_char(c)) {
            size_t j = i;
            while (j < n && (is_word_char(text[j]) ||
                             (text[j] == '\'' && j + 1 < n && is_word_char(text[j + 1]))))
                ++j;
            const std::string_view word = text.substr(i, j - i);
            std::string low = lowered(word);
            const bool capital = is_upper(word.front());
            size_t uppers = 0;
            for (char ch : word)
                uppers += is_upper(ch) ? 1 : 0;
            const bool inner_upper = std::any_of(word.begin() + 1, word.end(), is_upper);
            const bool pronoun_i = low == "i" || low.starts_with("i'");
            const bool entity = !pronoun_i && ((capital && !sentence_start) || (uppers >= 2) ||
                                               (inner_upper && !capital));
            if (entity) f.entities.push_back(low);
            if (is_negation(low)) ++f.negations;
            if (auto digits = number_word(low); !digits.empty()) {
                f.numbers.emplace_back(digits);
            }
            if (!function_word(low) && !is_negation(low) && number_word(low).empty()) {
                f.content.push_back(stem(low));
            }
            if (!direction.empty() && !article(low)) {
                f.targets.push_back(direction + ":" + stem(low));
                direction.clear();
            }
            if (directional(low)) direction = low;
            f.words.push_back(std::move(low));
            sentence_start = false;
            i = j;
            continue;
        }
        if (c == '.' || c == '!' || c == '?' || c == ':' || c == ';' || c == '\n' || c == '(' ||
            c == '[' || c == '-' || c == '*' || c == '#') {
            sentence_start = true;
        }
        ++i;
    }
    std::sort(f.numbers.begin(), f.numbers.end());
    std::sort(f.quoted.begin(), f.quoted.end());
    sort_unique(f.entities);
    sort_unique(f.words);
    sort_unique(f.content);
    sort_unique(f.targets);
    return f;
}

const char* guard_veto(const PromptFeatures& q, const PromptFeatures& c) {
    if (q.numbers != c.numbers) return "numbers";
    if (q.negations != c.negations) return "negation";
    if (q.quoted != c.quoted) return "quoted";
    if (entity_missing(q, c) || entity_missing(c, q)) return "entity";
    if (one_sided(q.content, c.content) && one_sided(c.content, q.content)) return "substitution";
    if (direction_differs(q.targets, c.targets)) return "direction";
    return nullptr;
}

std::optional<SemanticQuery> semantic_query(std::string_view ns, const ChatRequest& request,
                                            bool multi_turn) {
    if (request.messages.empty()) return std::nullopt;
    const Message& last = request.messages.back();
    if (last.role != Role::kUser || !last.tool_calls.empty()) return std::nullopt;
    for (const auto& p : last.parts) {
        if (p.type != ContentPart::Type::kText) return std::nullopt;  // images, audio
    }
    if (!multi_turn) {
        for (size_t i = 0; i + 1 < request.messages.size(); ++i) {
            const Role r = request.messages[i].role;
            if (r != Role::kSystem && r != Role::kDeveloper) return std::nullopt;
        }
    }
    SemanticQuery q;
    q.text = last.joined_text();
    if (q.text.empty()) return std::nullopt;
    // The partition is the exact key of the request with the last message's text left out:
    // tenant, model or route, system prompt, earlier turns, tools and every sampling field.
    ChatRequest rest = request;
    Message& blank = rest.messages.back();
    blank.text.clear();
    blank.parts.clear();
    blank.has_parts = false;
    std::string scoped = "semantic/";
    scoped += ns;
    q.partition = request_key(scoped, rest);
    q.ns.assign(ns);
    q.model = request.model;
    return q;
}

SemanticCache::SemanticCache(SemanticOptions options, std::shared_ptr<const rag::Embedder> embedder)
    : options_(std::move(options)), embedder_(std::move(embedder)) {
    const size_t n = std::max<size_t>(1, options_.shards);
    for (size_t i = 0; i < n; ++i) {
        shards_.push_back(std::make_unique<Shard>());
        feedback_.push_back(std::make_unique<FeedbackShard>());
    }
}

float SemanticCache::threshold_for(std::string_view model) const {
    for (const auto& [name, t] : options_.model_thresholds) {
        if (name == model) return t;
    }
    return options_.threshold;
}

bool SemanticCache::embed(std::string_view text, std::vector<float>& out) {
    const auto start = std::chrono::steady_clock::now();
    rag::EmbeddingBatch batch;
    const std::string error = embedder_->embed(std::span<const std::string_view>(&text, 1), batch);
    if (!error.empty() || batch.rows() != 1) return false;
    const auto row = batch.row(0);
    out.assign(row.begin(), row.end());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    embed_ns_.fetch_add(ns, std::memory_order_relaxed);
    embeds_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

std::shared_ptr<SemanticCache::Partition> SemanticCache::find(const CacheKey& partition) const {
    const Shard& s = *shards_[partition.hi % shards_.size()];
    std::lock_guard lock(s.mu);
    auto it = s.partitions.find(partition);
    return it == s.partitions.end() ? nullptr : it->second;
}

std::shared_ptr<SemanticCache::Partition> SemanticCache::find_or_create(const CacheKey& partition,
                                                                        const std::string& ns) {
    Shard& s = shard_of(partition);
    std::lock_guard lock(s.mu);
    auto& slot = s.partitions[partition];
    if (!slot) {
        rag::VectorIndexOptions o;
        o.dim = embedder_->dimension();
        o.flat_threshold = options_.flat_threshold;
        slot = std::make_shared<Partition>(o);
        slot->ns = ns;
    }
    return slot;
}

SemanticCache::Outcome SemanticCache::lookup(SemanticQuery& q) {
    Outcome out;
    auto p = find(q.partition);
    if (!p) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        return out;
    }
    if (q.vector.empty() && !embed(q.text, q.vector)) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        return out;
    }
    auto found = p->index.search(q.vector, std::max<size_t>(1, options_.top_k));
    if (!found || found->empty()) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        return out;
    }
    const float base = threshold_for(q.model);
    std::optional<PromptFeatures> features;  // computed for the first candidate checked
    std::shared_lock lock(p->mu);
    float threshold = base;
    for (const Veto& v : p->vetoes) {
        if (rag::dot(q.vector, v.vector) >= options_.veto_radius) {
            threshold = std::max(threshold, v.min_similarity);
        }
    }
    out.best_similarity = found->front().score;
    bool similar = false;  // something beat the base threshold
    for (const auto& hit : *found) {
        if (hit.score < base) break;
        similar = true;
        if (hit.score < threshold) break;
        auto it = p->items.find(hit.chunk_id);
        if (it == p->items.end()) continue;
        if (!features) features = prompt_features(q.text);
        const char* veto = options_.guards ? guard_veto(*features, it->second.features) : nullptr;
        if (veto != nullptr) {
            if (out.veto == nullptr) out.veto = veto;
            continue;
        }
        out.result = Result::kHit;
        out.match = Match{it->second.key, hit.chunk_id, hit.score, threshold};
        hits_.fetch_add(1, std::memory_order_relaxed);
        return out;
    }
    if (out.veto != nullptr) {
        out.result = Result::kVetoed;
        vetoed_.fetch_add(1, std::memory_order_relaxed);
    } else if (similar) {
        out.result = Result::kTightened;
        tightened_.fetch_add(1, std::memory_order_relaxed);
    } else {
        misses_.fetch_add(1, std::memory_order_relaxed);
    }
    return out;
}

bool SemanticCache::erase_locked(Partition& p, uint64_t id) {
    auto it = p.items.find(id);
    if (it == p.items.end()) return false;
    p.by_key.erase(it->second.key);
    p.items.erase(it);
    p.index.remove(id);
    return true;
}

bool SemanticCache::insert(const SemanticQuery& q, const CacheKey& key, int64_t expires_ms,
                           int64_t now_ms) {
    std::vector<float> embedded;
    if (q.vector.empty() && !embed(q.text, embedded)) return false;
    const std::vector<float>& vector = q.vector.empty() ? embedded : q.vector;
    auto p = find_or_create(q.partition, q.ns);
    Item item{key, prompt_features(q.text), expires_ms};
    std::unique_lock lock(p->mu);
    if (auto it = p->by_key.find(key); it != p->by_key.end()) erase_locked(*p, it->second);
    const uint64_t id = p->next_id++;
    if (!p->index.add(id, vector)) return false;
    p->items.emplace(id, std::move(item));
    p->by_key[key] = id;
    p->order.push_back(id);
    inserts_.fetch_add(1, std::memory_order_relaxed);
    while (p->items.size() > options_.max_entries_per_partition && !p->order.empty()) {
        const uint64_t oldest = p->order.front();
        p->order.pop_front();
        if (erase_locked(*p, oldest)) evicted_.fetch_add(1, std::memory_order_relaxed);
    }
    // Ids removed by other paths linger in `order`; trim them when they pile up.
    if (p->order.size() > 2 * p->items.size() + 64) {
        std::deque<uint64_t> live;
        for (uint64_t id_ : p->order) {
            if (p->items.count(id_) != 0) live.push_back(id_);
        }
        p->order.swap(live);
    }
    lock.unlock();
    const uint64_t n = insert_count_.fetch_add(1, std::memory_order_relaxed) + 1;
    const uint64_t every = std::max<size_t>(1, options_.sweep_every);
    if (now_ms > 0 && n % every == 0) sweep(*shards_[(n / every) % shards_.size()], now_ms);
    return true;
}

void SemanticCache::sweep(Shard& s, int64_t now_ms) {
    std::vector<std::pair<CacheKey, std::shared_ptr<Partition>>> parts;
    {
        std::lock_guard lock(s.mu);
        for (const auto& [k, p] : s.partitions)
            parts.emplace_back(k, p);
    }
    std::vector<CacheKey> empty;
    for (const auto& [k, p] : parts) {
        std::unique_lock lock(p->mu);
        std::vector<uint64_t> gone;
        for (const auto& [id, item] : p->items) {
            if (item.expires_ms <= now_ms) gone.push_back(id);
        }
        for (uint64_t id : gone)
            erase_locked(*p, id);
        expired_.fetch_add(static_cast<int64_t>(gone.size()), std::memory_order_relaxed);
        if (p->items.empty() && p->vetoes.empty()) empty.push_back(k);
    }
    std::lock_guard lock(s.mu);
    for (const auto& k : empty) {
        auto it = s.partitions.find(k);
        if (it == s.partitions.end()) continue;
        std::shared_lock plock(it->second->mu);
        const bool still_empty = it->second->items.empty() && it->second->vetoes.empty();
        plock.unlock();
        if (still_empty) s.partitions.erase(it);
    }
}

bool SemanticCache::remove(const CacheKey& partition, uint64_t entry_id) {
    auto p = find(partition);
    if (!p) return false;
    std::unique_lock lock(p->mu);
    const bool removed = erase_locked(*p, entry_id);
    if (removed) removed_.fetch_add(1, std::memory_order_relaxed);
    return removed;
}

bool SemanticCache::remove_key(const CacheKey& partition, const CacheKey& key) {
    auto p = find(partition);
    if (!p) return false;
    std::unique_lock lock(p->mu);
    auto it = p->by_key.find(key);
    const bool removed = it != p->by_key.end() && erase_locked(*p, it->second);
    if (removed) removed_.fetch_add(1, std::memory_order_relaxed);
    return removed;
}

size_t SemanticCache::item_bytes(size_t text_bytes) const {
    // Vector; level-0 graph links (M 16: 32 neighbours) and hnswlib's per-element header; a
    // node in each of items, by_key and order; the features' strings (words and content
    // words: a 32-byte string per word of ~6 bytes, each about 5 x its text).
    return embedder_->dimension() * sizeof(float) + 32 * sizeof(uint32_t) + 64 + sizeof(Item) +
           3 * 48 + 10 * text_bytes;
}

size_t SemanticCache::invalidate(const std::optional<std::string>& ns) {
    size_t n = 0;
    for (auto& sp : shards_) {
        std::vector<std::shared_ptr<Partition>> dropped;
        {
            std::lock_guard lock(sp->mu);
            for (auto it = sp->partitions.begin(); it != sp->partitions.end();) {
                if (!ns || it->second->ns == *ns) {
                    dropped.push_back(std::move(it->second));
                    it = sp->partitions.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (const auto& p : dropped) {
            std::shared_lock lock(p->mu);
            n += p->items.size();
        }
    }
    removed_.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
    return n;
}

SemanticCache::FeedbackShard& SemanticCache::feedback_shard(std::string_view id) {
    return *feedback_[std::hash<std::string_view>{}(id) % feedback_.size()];
}

void SemanticCache::remember_hit(std::string response_id, std::string owner, const SemanticQuery& q,
                                 const Match& m) {
    FeedbackShard& s = feedback_shard(response_id);
    const size_t cap = std::max<size_t>(1, options_.max_feedback_records / feedback_.size());
    HitRecord r{q.partition, m.entry_id, std::move(owner), q.vector, m.similarity};
    std::lock_guard lock(s.mu);
    auto [it, added] = s.records.insert_or_assign(response_id, std::move(r));
    if (added) s.order.push_back(std::move(response_id));
    while (s.records.size() > cap && !s.order.empty()) {
        s.records.erase(s.order.front());
        s.order.pop_front();
    }
}

SemanticCache::FeedbackOutcome SemanticCache::feedback(std::string_view response_id, bool bad,
                                                       const std::optional<std::string>& caller) {
    FeedbackOutcome out;
    HitRecord r;
    {
        FeedbackShard& s = feedback_shard(response_id);
        std::lock_guard lock(s.mu);
        auto it = s.records.find(std::string(response_id));
        if (it == s.records.end()) return out;
        if (caller && !it->second.owner.empty() && it->second.owner != *caller) {
            out.result = FeedbackResult::kForbidden;
            return out;
        }
        r = std::move(it->second);
        s.records.erase(it);  // one report per hit (the id stays in `order` until trimmed)
    }
    out.result = FeedbackResult::kApplied;
    if (!bad) {
        feedback_good_.fetch_add(1, std::memory_order_relaxed);
        out.local_threshold = r.similarity;
        return out;
    }
    feedback_bad_.fetch_add(1, std::memory_order_relaxed);
    auto p = find(r.partition);
    if (!p) return out;
    std::unique_lock lock(p->mu);
    out.removed = erase_locked(*p, r.entry_id);
    if (out.removed) removed_.fetch_add(1, std::memory_order_relaxed);
    // A veto point: queries near the reported one must beat its similarity from now on.
    // Reports near an earlier veto point raise it further.
    float min_similarity = r.similarity + options_.veto_step;
    for (const Veto& v : p->vetoes) {
        if (rag::dot(r.vector, v.vector) >= options_.veto_radius) {
            min_similarity = std::max(min_similarity, v.min_similarity + options_.veto_step);
        }
    }
    min_similarity = std::min(min_similarity, 1.0f);
    p->vetoes.push_back(Veto{std::move(r.vector), min_similarity});
    while (p->vetoes.size() > options_.max_vetoes_per_partition)
        p->vetoes.pop_front();
    out.local_threshold = min_similarity;
    return out;
}

SemanticStats SemanticCache::stats() const {
    SemanticStats st;
    st.hits = hits_.load();
    st.misses = misses_.load();
    st.vetoed = vetoed_.load();
    st.tightened_misses = tightened_.load();
    st.inserts = inserts_.load();
    st.removed = removed_.load();
    st.evicted = evicted_.load();
    st.expired = expired_.load();
    st.feedback_bad = feedback_bad_.load();
    st.feedback_good = feedback_good_.load();
    st.embed_ns = embed_ns_.load();
    st.embeds = embeds_.load();
    for (const auto& sp : shards_) {
        std::vector<std::shared_ptr<Partition>> parts;
        {
            std::lock_guard lock(sp->mu);
            for (const auto& [k, p] : sp->partitions)
                parts.push_back(p);
        }
        st.partitions += static_cast<int64_t>(parts.size());
        for (const auto& p : parts) {
            std::shared_lock lock(p->mu);
            st.entries += static_cast<int64_t>(p->items.size());
            st.veto_points += static_cast<int64_t>(p->vetoes.size());
        }
    }
    return st;
}

}  // namespace switchyard::cache
