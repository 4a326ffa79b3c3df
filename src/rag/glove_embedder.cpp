#include "switchyard/rag/glove_embedder.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "text_words.hpp"

namespace switchyard::rag {
namespace {

constexpr size_t kMaxDims = 1024;
constexpr size_t kMaxWordBytes = 256;  // longer words are cut by detail::for_each_word
constexpr uint64_t kNgramSeed = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kBankSeed = 0xD1B54A32D192ED03ull;
constexpr uint64_t kBankMask = (uint64_t{1} << 20) - 1;  // 2^20 pseudo-random vectors
constexpr uint64_t kSampleSeed = 0x5EED5EED5EED5EEDull;
constexpr size_t kMinNgram = 3;
constexpr size_t kMaxNgram = 5;

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Byte value -> the signs (+1 for a set bit, -1 for a clear one) of its 8 bits, low first.
struct SignTable {
    alignas(32) float rows[256][8];
};
constexpr SignTable make_sign_table() {
    SignTable t{};
    for (int b = 0; b < 256; ++b) {
        for (int j = 0; j < 8; ++j)
            t.rows[b][j] = ((b >> j) & 1) != 0 ? 1.0f : -1.0f;
    }
    return t;
}
constexpr SignTable kSigns = make_sign_table();

// A word GloVe saw as a token of text (not pure punctuation such as "," or "--").
bool has_word_byte(std::string_view w) {
    for (unsigned char c : w) {
        if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) return true;
    }
    return false;
}

}  // namespace

std::variant<std::unique_ptr<GloveEmbedder>, std::string> GloveEmbedder::open(
    const std::string& path, GloveEmbedderOptions options) {
    auto opened = WordVectors::open(path);
    if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
    auto& words = std::get<WordVectors>(opened);
    if (words.dims() > kMaxDims) {
        return fmt::format("word vectors {}: {} dimensions, at most {} supported", path,
                           words.dims(), kMaxDims);
    }
    if (!(options.sif_a > 0.0f)) {
        return fmt::format("glove embedder: sif_a must be positive, got {}", options.sif_a);
    }
    return std::unique_ptr<GloveEmbedder>(new GloveEmbedder(std::move(words), options));
}

GloveEmbedder::GloveEmbedder(WordVectors words, GloveEmbedderOptions options)
    : words_(std::move(words)), options_(options) {
    // Other options give other vectors, so another name: collections must not mix them.
    name_ = fmt::format("{}-sif", words_.name());
    const GloveEmbedderOptions defaults;
    if (options_.sif_a != defaults.sif_a ||
        options_.remove_principal_component != defaults.remove_principal_component ||
        options_.pc_sample_sentences != defaults.pc_sample_sentences ||
        options_.pc_sample_words != defaults.pc_sample_words) {
        name_ += fmt::format("-a{:g}-pc{}x{}", options_.sif_a,
                             options_.remove_principal_component ? options_.pc_sample_sentences : 0,
                             options_.pc_sample_words);
    }
    const size_t n = words_.size();
    const size_t dims = words_.dims();
    harmonic_n_ = 0.0;
    for (size_t k = n; k >= 1; --k)
        harmonic_n_ += 1.0 / static_cast<double>(k);

    // Hashed vectors get the mean norm of words ranked 20,000-30,000: rare enough to be
    // content words, common enough to be well trained.
    std::vector<float> v(dims);
    const size_t lo = std::min<size_t>(20000, n / 2);
    const size_t hi = std::min<size_t>(30000, n);
    double norm_sum = 0.0;
    for (size_t i = lo; i < hi; ++i) {
        words_.vector(i, v);
        norm_sum += std::sqrt(static_cast<double>(dot(v, v)));
    }
    oov_norm_ = hi > lo ? static_cast<float>(norm_sum / static_cast<double>(hi - lo)) : 1.0f;

    pc_.assign(dims, 0.0f);
    if (options_.remove_principal_component) compute_principal_component();

    empty_vector_.assign(dims, 0.0f);
    add_hashed("\x01no words\x01", 1.0f, empty_vector_);
    const float norm = std::sqrt(dot(empty_vector_, empty_vector_));
    for (float& x : empty_vector_)
        x = norm > 0.0f ? x / norm : 0.0f;
    if (norm == 0.0f) empty_vector_[0] = 1.0f;
}

float GloveEmbedder::weight_of_rank(size_t rank) const {
    const double p = 1.0 / (static_cast<double>(rank + 1) * harmonic_n_);
    return static_cast<float>(options_.sif_a / (options_.sif_a + p));
}

void GloveEmbedder::compute_principal_component() {
    const size_t n = words_.size();
    const size_t dims = words_.dims();
    const size_t rows = options_.pc_sample_sentences;
    if (rows == 0 || options_.pc_sample_words == 0) return;

    // Pseudo sentences: ranks drawn from Zipf's law by inversion of its continuous CDF,
    // P(rank < r) ~ ln(r + 1) / ln(N + 1).
    uint64_t state = kSampleSeed;
    const double log_n1 = std::log(static_cast<double>(n) + 1.0);
    std::vector<double> second_moment(dims * dims, 0.0);
    std::vector<double> sum(dims, 0.0);
    std::vector<float> acc(dims);
    for (size_t s = 0; s < rows; ++s) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (size_t w = 0; w < options_.pc_sample_words; ++w) {
            size_t rank = 0;
            for (int attempt = 0; attempt < 16; ++attempt) {
                const double u = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
                rank = std::min(n - 1, static_cast<size_t>(std::exp(u * log_n1)) - 1);
                if (has_word_byte(words_.word(rank))) break;
            }
            words_.add_to(rank, weight_of_rank(rank), acc);
        }
        for (size_t i = 0; i < dims; ++i) {
            sum[i] += acc[i];
            const double ai = acc[i];
            double* row = &second_moment[i * dims];
            for (size_t j = 0; j <= i; ++j)
                row[j] += ai * acc[j];
        }
    }
    for (size_t i = 0; i < dims; ++i) {
        for (size_t j = 0; j < i; ++j)
            second_moment[j * dims + i] = second_moment[i * dims + j];
    }

    // Power iteration from the mean direction (which the top component is close to).
    std::vector<double> u = sum;
    std::vector<double> next(dims);
    auto normalise = [](std::vector<double>& x) {
        double norm = 0.0;
        for (double e : x)
            norm += e * e;
        norm = std::sqrt(norm);
        if (norm > 0.0) {
            for (double& e : x)
                e /= norm;
        }
        return norm;
    };
    if (normalise(u) == 0.0) u[0] = 1.0;
    for (int iter = 0; iter < 500; ++iter) {
        for (size_t i = 0; i < dims; ++i) {
            double t = 0.0;
            for (size_t j = 0; j < dims; ++j)
                t += second_moment[i * dims + j] * u[j];
            next[i] = t;
        }
        normalise(next);
        double delta = 0.0;
        for (size_t i = 0; i < dims; ++i)
            delta = std::max(delta, std::abs(next[i] - u[i]));
        u.swap(next);
        if (delta < 1e-9) break;
    }
    for (size_t i = 0; i < dims; ++i)
        pc_[i] = static_cast<float>(u[i]);
}

void GloveEmbedder::add_hashed(std::string_view word, float weight, std::span<float> acc) const {
    // "<word>" as code points; n-grams of kMinNgram..kMaxNgram code points.
    std::array<char, kMaxWordBytes + 8> buf;
    std::array<uint16_t, kMaxWordBytes + 9> starts;  // byte offset of each code point, + end
    word = word.substr(0, kMaxWordBytes);
    buf[0] = '<';
    std::memcpy(buf.data() + 1, word.data(), word.size());
    buf[word.size() + 1] = '>';
    const size_t bytes = word.size() + 2;
    size_t n_cp = 0;
    for (size_t i = 0; i < bytes; ++i) {
        if ((static_cast<unsigned char>(buf[i]) & 0xC0) != 0x80) {
            starts[n_cp++] = static_cast<uint16_t>(i);
        }
    }
    starts[n_cp] = static_cast<uint16_t>(bytes);

    const size_t dims = words_.dims();
    std::array<float, kMaxDims + 8> sum;  // only the first dims (+ pad) are used
    std::fill_n(sum.begin(), dims + 8, 0.0f);
    size_t n_grams = 0;
    for (size_t len = kMinNgram; len <= kMaxNgram; ++len) {
        for (size_t first = 0; first + len <= n_cp; ++first) {
            const size_t from = starts[first];
            const size_t to = starts[first + len];
            const uint64_t bucket =
                XXH3_64bits_withSeed(buf.data() + from, to - from, kNgramSeed) & kBankMask;
            // Bit k of the bucket's SplitMix64 stream is the sign of dimension k; a byte of
            // it at a time through the table (dims rounded up to 8; the pad is ignored).
            uint64_t state = bucket ^ kBankSeed;
            for (size_t d = 0; d < dims; d += 64) {
                uint64_t bits = splitmix64(state);
                const size_t end = std::min(dims, d + 64);
                for (size_t k = d; k < end; k += 8, bits >>= 8) {
                    const float* signs = kSigns.rows[bits & 0xFF];
                    for (size_t j = 0; j < 8; ++j)
                        sum[k + j] += signs[j];
                }
            }
            ++n_grams;
        }
    }
    if (n_grams == 0) {  // one- or no-character word: "<a>" is its only 3-gram, so unreachable
        return;
    }
    float norm2 = 0.0f;
    for (size_t d = 0; d < dims; ++d)
        norm2 += sum[d] * sum[d];
    if (norm2 <= 0.0f) return;
    const float scale = weight * oov_norm_ / std::sqrt(norm2);
    for (size_t d = 0; d < dims; ++d)
        acc[d] += scale * sum[d];
}

bool GloveEmbedder::add_known(std::string_view word, std::span<float> acc) const {
    const size_t i = words_.find(word);
    if (i == WordVectors::npos) return false;
    words_.add_to(i, weight_of_rank(i), acc);
    return true;
}

void GloveEmbedder::add_word(std::string_view word, std::span<float> acc) const {
    if (word.empty() || add_known(word, acc)) return;
    // Clitics, which the packaged vocabulary lacks ("n't", "'s", ...): the word they stand
    // for, so "don't" -> "do" "not", "can't" -> "can" "not", "we'll" -> "we" "will".
    if (const size_t apos = word.rfind('\''); apos != std::string_view::npos) {
        if (word.size() > 3 && word.ends_with("n't")) {
            std::string_view stem = word.substr(0, word.size() - 3);
            if (stem == "ca") stem = "can";
            if (stem == "wo") stem = "will";
            if (stem == "sha") stem = "shall";
            add_word(stem, acc);
            add_known("not", acc);
            return;
        }
        const std::string_view suffix = word.substr(apos);
        add_word(word.substr(0, apos), acc);
        if (suffix == "'s") return;  // possessive or "is": no content either way
        if (suffix == "'ll")
            add_known("will", acc);
        else if (suffix == "'re")
            add_known("are", acc);
        else if (suffix == "'ve")
            add_known("have", acc);
        else if (suffix == "'m")
            add_known("am", acc);
        else if (suffix == "'d")
            add_known("would", acc);
        else
            add_word(suffix.substr(1), acc);  // "o'neill" -> "o" "neill"
        return;
    }
    // Hyphenated words the vocabulary lacks ("e-mail" is known): their parts.
    if (word.find('-') != std::string_view::npos) {
        size_t from = 0;
        while (from <= word.size()) {
            size_t to = word.find('-', from);
            if (to == std::string_view::npos) to = word.size();
            add_word(word.substr(from, to - from), acc);
            from = to + 1;
        }
        return;
    }
    const bool ascii = std::all_of(word.begin(), word.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    // The packaged vocabulary is ASCII only: "café" -> "cafe", "über" -> "uber".
    if (!ascii) {
        utf8proc_uint8_t* stripped = nullptr;
        const auto n =
            utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(word.data()),
                         static_cast<utf8proc_ssize_t>(word.size()), &stripped,
                         static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK));
        bool known = false;
        if (n > 0 && stripped != nullptr) {
            known =
                add_known({reinterpret_cast<const char*>(stripped), static_cast<size_t>(n)}, acc);
        }
        std::free(stripped);
        if (known) return;
    }
    // It also drops single letters ("a", "i", "x"): frequent and contentless, skipped.
    if (word.size() == 1 && ascii && !(word[0] >= '0' && word[0] <= '9')) return;
    add_hashed(word, weight_of_rank(words_.size()), acc);
}

void GloveEmbedder::finish(std::span<float> acc, bool any_word) const {
    if (any_word) {
        const float along = dot(acc, pc_);
        for (size_t d = 0; d < acc.size(); ++d)
            acc[d] -= along * pc_[d];
        const float norm = std::sqrt(dot(acc, acc));
        if (norm > 1e-12f && std::isfinite(norm)) {
            for (float& x : acc)
                x /= norm;
            return;
        }
    }
    std::copy(empty_vector_.begin(), empty_vector_.end(), acc.begin());
}

void GloveEmbedder::embed_one(std::string_view text, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    std::string scratch;
    bool any_word = false;
    detail::for_each_word(
        text, scratch,
        [&](std::string_view word) {
            add_word(word, out);
            any_word = true;
        },
        kMaxWordBytes);
    finish(out, any_word);
}

std::string GloveEmbedder::embed(std::span<const std::string_view> texts,
                                 EmbeddingBatch& out) const {
    out = EmbeddingBatch(texts.size(), dimension());
    for (size_t i = 0; i < texts.size(); ++i)
        embed_one(texts[i], out.row(i));
    return {};
}

std::string default_glove_path() {
    return default_rag_data_dir() + "/glove-6b-100d.syemb";
}

}  // namespace switchyard::rag
