// RemoteEmbedder: the RAG engine's Embedder over any OpenAI-compatible /v1/embeddings endpoint
// (OpenAI, Ollama, llama.cpp server, vLLM, text-embeddings-inference), through the provider
// layer: the model's base_url, API key and extra headers come from its `models:` entry. Texts
// are sent in batches (rag.remote_embedder batch_size and max_batch_kb), each batch retried on
// 429, 5xx, timeouts and connect failures with capped exponential backoff and full jitter
// (honouring Retry-After), at most max_retries times and within timeout_ms per batch
// (attempts and waits together). Vectors come back in input order (mapped
// by `data[i].index`), are checked (one dimension for all, finite, not zero) and L2-normalised.
// name() is "<provider>:<upstream model>", e.g. "openai:text-embedding-3-small"; dimension()
// is rag.remote_embedder.dimensions or, when that is 0, learned by probe() (one call).
// Thread safety: embed() may run on any number of threads at once; each thread runs its own
// io_context and HTTP client (thread-local, kept between calls, so a blocking-pool thread
// reuses its keep-alive connection); a call blocks its thread: call it from a blocking pool,
// never from an io thread. The embedder must outlive the threads' calls.
// Failure: embed() returns an error string naming the model and what failed (the upstream's
// message, the attempts made); nothing is partially written to `out` on failure.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/config/config.hpp"
#include "switchyard/rag/embedder.hpp"

namespace switchyard {

class RemoteEmbedder final : public rag::Embedder {
public:
    // Uses config.model_config (filled at config load) and config.upstream.
    explicit RemoteEmbedder(const RagRemoteEmbedderConfig& config);
    ~RemoteEmbedder() override;

    std::string_view name() const override { return name_; }
    // 0 until known (configured, or learned by probe() or a first embed()).
    size_t dimension() const override { return dimension_.load(std::memory_order_acquire); }
    std::string embed(std::span<const std::string_view> texts,
                      rag::EmbeddingBatch& out) const override;

    // Learns the dimension with one call when it is not known yet; empty on success.
    std::string probe();

    // "<provider>:<upstream model>" of a model config.
    static std::string name_of(const ModelConfig& model);

private:
    struct Impl;  // the provider adapter and the TLS context every call shares

    const RagRemoteEmbedderConfig config_;  // owns the ModelConfig the provider points to
    const std::string name_;
    std::unique_ptr<Impl> impl_;
    mutable std::atomic<size_t> dimension_{0};
};

namespace remote_embedding {

// The end of the batch that starts at texts[begin]: at most `max_texts` texts and
// `max_bytes` bytes of text, but always at least one text (a longer one goes alone).
size_t batch_end(std::span<const std::string_view> texts, size_t begin, size_t max_texts,
                 size_t max_bytes);

// Parses an upstream `data` array (as EmbeddingResponse::data_json holds it) of `n` rows into
// rows [first, first + n) of `out`, by each item's `index`: every index 0..n-1 exactly once,
// `embedding` an array of `dim` numbers (dim 0: taken
// from the first row, and `out` sized for `total_rows`), finite and not all zero; each row is
// normalised to unit length. Returns an empty string, or what is wrong.
std::string parse_rows(std::string_view data_json, size_t n, size_t first, size_t total_rows,
                       size_t& dim, rag::EmbeddingBatch& out);

}  // namespace remote_embedding

}  // namespace switchyard
