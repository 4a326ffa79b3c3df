// HashingEmbedder: the second built-in embedder, purely lexical and with no data at all.
// Feature hashing ("the hashing trick", Weinberger et al. 2009) of lower-cased word unigrams
// and adjacent-word bigrams into `dimension` buckets with a hash-derived sign, then L2
// normalisation. Two texts are similar exactly when they share words (and, more weakly,
// word pairs); synonyms and paraphrases with other words score zero. Useful as a fast,
// dependency-free baseline and for exact-wording matches. See docs/rag.md.
// Thread safety: immutable after construction; embed() may run on any number of threads.
// Failure: never fails, on any input; a text with no words gets one fixed unit vector.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/rag/embedder.hpp"

namespace switchyard::rag {

struct HashingEmbedderOptions {
    size_t dimension = 256;      // clamped to at least 1
    float bigram_weight = 0.5f;  // unigrams weigh 1
    uint64_t seed = 0;           // changes the hash; name() stays "hashing-<dim>" only for 0
};

class HashingEmbedder final : public Embedder {
public:
    explicit HashingEmbedder(HashingEmbedderOptions options = {});

    std::string_view name() const override { return name_; }
    size_t dimension() const override { return options_.dimension; }
    std::string embed(std::span<const std::string_view> texts, EmbeddingBatch& out) const override;

    // One text into out (dimension() floats). Never fails.
    void embed_one(std::string_view text, std::span<float> out) const;

private:
    HashingEmbedderOptions options_;
    std::string name_;
};

}  // namespace switchyard::rag
