#include "switchyard/rag/hashing_embedder.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "text_words.hpp"

namespace switchyard::rag {
namespace {

constexpr size_t kMaxWordBytes = 256;
constexpr uint64_t kBigramMix = 0x9E3779B97F4A7C15ull;

uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

HashingEmbedder::HashingEmbedder(HashingEmbedderOptions options) : options_(options) {
    options_.dimension = std::max<size_t>(1, options_.dimension);
    name_ = options_.seed == 0
                ? fmt::format("hashing-{}", options_.dimension)
                : fmt::format("hashing-{}-seed{}", options_.dimension, options_.seed);
}

void HashingEmbedder::embed_one(std::string_view text, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    const uint64_t dim = options_.dimension;
    // Bucket from the high bits' remainder, sign from the lowest bit (independent enough
    // for a 64-bit mixed hash).
    auto add = [&](uint64_t h, float weight) {
        out[(h >> 1) % dim] += (h & 1) != 0 ? weight : -weight;
    };
    std::string scratch;
    uint64_t previous = 0;
    bool have_previous = false;
    bool any_word = false;
    detail::for_each_word(
        text, scratch,
        [&](std::string_view word) {
            const uint64_t h = XXH3_64bits_withSeed(word.data(), word.size(), options_.seed);
            add(h, 1.0f);
            if (have_previous && options_.bigram_weight != 0.0f) {
                add(mix64(previous * kBigramMix + h), options_.bigram_weight);
            }
            previous = h;
            have_previous = true;
            any_word = true;
        },
        kMaxWordBytes);
    float norm2 = 0.0f;
    for (float x : out)
        norm2 += x * x;
    if (!any_word || !(norm2 > 0.0f)) {  // no words (or all cancelled out): a fixed vector
        std::fill(out.begin(), out.end(), 0.0f);
        out[0] = 1.0f;
        return;
    }
    const float inv = 1.0f / std::sqrt(norm2);
    for (float& x : out)
        x *= inv;
}

std::string HashingEmbedder::embed(std::span<const std::string_view> texts,
                                   EmbeddingBatch& out) const {
    out = EmbeddingBatch(texts.size(), options_.dimension);
    for (size_t i = 0; i < texts.size(); ++i)
        embed_one(texts[i], out.row(i));
    return {};
}

}  // namespace switchyard::rag
