#include "switchyard/tokens/byte_level_bpe.hpp"

#include <fmt/format.h>

#include <cstring>
#include <utility>

#include "byte_level_cache.hpp"
#include "byte_level_merge.hpp"
#include "byte_level_pretokenize.hpp"
#include "byte_level_unicode.hpp"
#include "byte_level_vocab.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::tokens {
namespace {

using namespace byte_level;

struct Counter {
    size_t n = 0;
    void push_back(TokenId) { ++n; }
};

bool all_ascii(std::string_view text) {
    size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, text.data() + i, 8);
        if (w & 0x8080808080808080ull) return false;
    }
    for (; i < text.size(); ++i) {
        if (static_cast<unsigned char>(text[i]) >= 0x80) return false;
    }
    return true;
}

// Length of valid UTF-8 text in UTF-16 units (JS string length).
size_t utf16_length(std::string_view text) {
    size_t units = 0;
    for (unsigned char b : text) {
        if ((b & 0xC0) != 0x80) ++units;
        if (b >= 0xF0) ++units;
    }
    return units;
}

constexpr size_t kKeepBufferBytes = 1 << 20;

struct BufferRelease {
    std::string& a;
    std::string& b;
    ~BufferRelease() {
        if (a.capacity() > kKeepBufferBytes) std::string().swap(a);
        if (b.capacity() > kKeepBufferBytes) std::string().swap(b);
    }
};

class ByteLevelBpe final : public Tokenizer {
public:
    ByteLevelBpe(VocabFile file, ByteLevelVocab vocab)
        : file_(std::move(file)), vocab_(vocab), table_(ClassTable::get(vocab.profile())) {
        for (uint32_t id : vocab_.special_ids()) {
            std::string_view name = vocab_.token_bytes(id);
            if (name.empty()) continue;
            auto first = static_cast<unsigned char>(name[0]);
            special_first_[first] = true;
            single_first_ = single_first_ == -1 || single_first_ == first ? first : -2;
        }
        if (single_first_ < 0) single_first_ = -1;
    }

    std::string_view name() const override { return file_.name(); }

    void encode(std::string_view text, std::vector<TokenId>& out) const override { run(text, out); }

    size_t count(std::string_view text) const override {
        Counter counter;
        run(text, counter);
        return counter.n;
    }

    std::string decode(std::span<const TokenId> ids) const override {
        std::string out;
        for (TokenId id : ids)
            out += vocab_.token_bytes(id);
        return out;
    }

    std::optional<TokenId> special_token(std::string_view text) const override {
        for (uint32_t id : vocab_.special_ids()) {
            if (vocab_.token_bytes(id) == text) return id;
        }
        return std::nullopt;
    }

private:
    template <class Out>
    void run(std::string_view text, Out& out) const {
        // Per-thread buffers: no allocation in the steady state (released when they grew past
        // kKeepBufferBytes).
        thread_local std::string replaced, normalized;
        BufferRelease release{replaced, normalized};
        if (valid_utf8_prefix(text) != text.size()) {
            replaced = replace_invalid_utf8(text);
            text = replaced;
        }
        if ((vocab_.flags() & kFlagNfkc) != 0 && !all_ascii(text) && nfkc(text, normalized)) {
            text = normalized;
        }
        Input input{text, 0};
        if ((vocab_.flags() & kFlagSpecialInText) == 0) {
            encode_ordinary(input, text, out);
            return;
        }
        // tiktoken with allowed_special 'all': the leftmost special-token string splits the
        // text; the parts between are encoded on their own (no piece spans a special token).
        size_t start = 0;
        for (size_t i = 0; i < text.size(); ++i) {
            if (single_first_ >= 0) {
                const void* hit = std::memchr(text.data() + i, single_first_, text.size() - i);
                if (hit == nullptr) break;
                i = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
            } else if (!special_first_[static_cast<unsigned char>(text[i])]) {
                continue;
            }
            for (uint32_t id : vocab_.special_ids()) {
                std::string_view name = vocab_.token_bytes(id);
                if (text.compare(i, name.size(), name) != 0) continue;
                encode_ordinary(input, text.substr(start, i - start), out);
                out.push_back(id);
                start = i + name.size();
                i = start - 1;
                break;
            }
        }
        encode_ordinary(input, text.substr(start), out);
    }

    // The whole text of one call, for llama3's UTF-16 length (computed only when needed).
    struct Input {
        std::string_view text;
        size_t utf16 = 0;
    };

    template <class Out>
    void encode_ordinary(Input& input, std::string_view segment, Out& out) const {
        switch (vocab_.pattern()) {
            case Pattern::kCl100k:
                return encode_pieces<Pattern::kCl100k>(input, segment, out);
            case Pattern::kO200k:
                return encode_pieces<Pattern::kO200k>(input, segment, out);
            case Pattern::kGpt2:
                return encode_pieces<Pattern::kGpt2>(input, segment, out);
            case Pattern::kLlama3:
                return encode_pieces<Pattern::kLlama3>(input, segment, out);
        }
    }

    template <Pattern P, class Out>
    void encode_pieces(Input& input, std::string_view segment, Out& out) const {
        thread_local MergeScratch scratch;
        PieceCache& cache = PieceCache::for_thread(cache_owner_);
        PieceScanner scanner(segment, table_);
        const unsigned char* base = scanner.data();
        const unsigned char* end = base + scanner.size();
        for (size_t i = 0, n = scanner.size(); i < n;) {
            size_t e = scanner.template next<P>(i);
            const unsigned char* p = base + i;
            size_t len = e - i;
            i = e;
            if (len == 1) {
                out.push_back(vocab_.byte_id(*p));
                continue;
            }
            // llama3's merge order depends on the input's UTF-16 length when a piece is more
            // than about half of the input (byte_level_merge.hpp); such pieces skip the cache.
            size_t utf16 = kNoUtf16;
            if (P == Pattern::kLlama3 && 2 * len >= input.text.size()) {
                if (input.utf16 == 0) input.utf16 = utf16_length(input.text);
                utf16 = input.utf16;
            }
            bool js_replay = P == Pattern::kLlama3 && len >= 2 * utf16 + 2;
            // Pieces of up to 8 bytes: a one-multiply cache key; the vocabulary's hash only on
            // a cache miss.
            ByteLevelVocab::Key key;
            if (len <= 8) {
                key = ByteLevelVocab::key(p, len, end, /*first_only=*/true);
                key.hash = ((key.first ^ (uint64_t{len} << 56)) * kHashK1) >> 52;
                if (uint32_t id = cache.find_short(key.hash, key.first, len);
                    id != PieceCache::kNoShort) {
                    out.push_back(id);
                    continue;
                }
            } else {
                key = ByteLevelVocab::key(p, len, end);
            }
            const uint64_t cache_hash = key.hash;
            if (len <= PieceCache::kMaxBytes && !js_replay) {
                if (const auto* hit = cache.find(cache_hash, key.first, p, len)) {
                    for (size_t k = 0; k < hit->n_ids; ++k)
                        out.push_back(hit->ids[k]);
                    continue;
                }
            }
            if (len <= 8) key = ByteLevelVocab::key(p, len, end);
            if (uint32_t id = vocab_.find_token(key, p, len); id != kNoToken) {
                out.push_back(id);
                if (len <= 8) {
                    cache.put_short(cache_hash, key.first, len, id);
                } else {
                    cache.put(cache_hash, key.first, p, len, &id, 1);
                }
                continue;
            }
            if (len <= kShortPiece && !js_replay) {
                uint32_t ids[kShortPiece];
                for (size_t k = 0; k < len; ++k)
                    ids[k] = vocab_.byte_id(p[k]);
                size_t m = merge_short(vocab_, ids, len);
                for (size_t k = 0; k < m; ++k)
                    out.push_back(ids[k]);
                cache.put(cache_hash, key.first, p, len, ids, m);
                continue;
            }
            merge_piece(vocab_, p, len, utf16, scratch, out);
        }
    }

    // Large enough that no piece takes the llama3-js replay path.
    static constexpr size_t kNoUtf16 = ~size_t{0} / 4;

    VocabFile file_;
    ByteLevelVocab vocab_;
    const ClassTable& table_;
    bool special_first_[256] = {};
    int single_first_ = -1;  // the first byte of every special token, if they share one
    const uint64_t cache_owner_ = PieceCache::new_owner_id();
};

}  // namespace

std::variant<std::unique_ptr<Tokenizer>, std::string> load_byte_level_bpe(const std::string& path) {
    auto opened = VocabFile::open(path, VocabKind::kByteLevelBpe);
    if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
    VocabFile file = std::move(std::get<VocabFile>(opened));
    ByteLevelVocab vocab;
    if (std::string error = vocab.bind(file.payload()); !error.empty()) {
        return fmt::format("vocabulary file {}: {}; run scripts/bootstrap.sh to reconvert", path,
                           error);
    }
    return std::unique_ptr<Tokenizer>(new ByteLevelBpe(std::move(file), vocab));
}

void split_byte_level_pieces(ByteLevelPattern pattern, std::string_view text,
                             std::vector<std::string_view>& out) {
    auto split = [&]<Pattern P>(UnicodeProfile profile) {
        PieceScanner scanner(text, ClassTable::get(profile));
        for (size_t i = 0; i < text.size();) {
            size_t e = scanner.template next<P>(i);
            out.push_back(text.substr(i, e - i));
            i = e;
        }
    };
    switch (pattern) {
        case ByteLevelPattern::kCl100k:
            return split.operator()<Pattern::kCl100k>(UnicodeProfile::kTiktoken);
        case ByteLevelPattern::kO200k:
            return split.operator()<Pattern::kO200k>(UnicodeProfile::kTiktoken);
        case ByteLevelPattern::kGpt2:
            return split.operator()<Pattern::kGpt2>(UnicodeProfile::kTiktoken);
        case ByteLevelPattern::kLlama3:
            return split.operator()<Pattern::kLlama3>(UnicodeProfile::kJs);
    }
}

}  // namespace switchyard::tokens
