// Embedder: text in, fixed-size float vectors out, in batches. One interface for the built-in
// offline embedders (GloVe sentence vectors, lexical hashing) and remote OpenAI-compatible
// /v1/embeddings endpoints; the semantic chunker, the vector index and the semantic cache all
// take an Embedder. Vectors are stored with the embedder's name() and dimension(), and
// collections refuse to mix embedders.
// Thread safety: implementations are safe to call from any number of threads at once
// (built-in ones are immutable after construction).
// Failure: embed() returns an error string for a batch it cannot embed (remote failures);
// built-in embedders never fail on any input, including empty or invalid UTF-8 text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::rag {

// Row-major batch of vectors: rows() vectors of dim() floats each.
class EmbeddingBatch {
public:
    EmbeddingBatch() = default;
    EmbeddingBatch(size_t rows, size_t dim) : dim_(dim), data_(rows * dim, 0.0f) {}

    size_t rows() const { return dim_ == 0 ? 0 : data_.size() / dim_; }
    size_t dim() const { return dim_; }
    std::span<float> row(size_t i) { return {data_.data() + i * dim_, dim_}; }
    std::span<const float> row(size_t i) const { return {data_.data() + i * dim_, dim_}; }
    std::vector<float>& data() { return data_; }

private:
    size_t dim_ = 0;
    std::vector<float> data_;
};

class Embedder {
public:
    virtual ~Embedder() = default;

    // Stable identifier stored with every vector, e.g. "glove-6b-100d-sif" or
    // "openai:text-embedding-3-small".
    virtual std::string_view name() const = 0;
    virtual size_t dimension() const = 0;
    // Vectors are L2-normalised (unit length) so cosine similarity is a dot product.
    // Returns an empty string on success, else what went wrong (batch not embedded).
    virtual std::string embed(std::span<const std::string_view> texts,
                              EmbeddingBatch& out) const = 0;
};

// Cosine similarity of two unit vectors (their dot product).
float dot(std::span<const float> a, std::span<const float> b);

}  // namespace switchyard::rag
