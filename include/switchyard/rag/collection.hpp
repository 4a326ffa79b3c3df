// Collection: a named set of documents, chunked by one chunking config, embedded by one
// embedder (its name and dimension are stored; opening with another is refused), searchable
// by BM25, dense vectors or both (RRF), with metadata filters inside the search and optional
// MMR. Documents are added, re-ingested (an unchanged document, by content hash, is not
// re-embedded; a changed one replaces its chunks) and deleted. Everything is persisted in a
// RagStore (SQLite: collections, documents, chunks, vectors as float32 BLOBs); opening a
// collection rebuilds its in-memory indexes from the store.
// Ingest of one document is atomic: its chunks and vectors are built first, outside every
// lock, then written in one SQLite transaction, then published to the indexes under the
// collection's exclusive lock. A failure at any step leaves the previous state (nothing, or
// the previous version of the document) visible, in memory and on disk.
// Thread safety: a Collection is safe to share between threads (an HTTP thread pool):
// query() runs concurrently with other queries; ingest() and remove() serialise with each
// other per collection, and their publish step waits for running queries (a shared_mutex).
// Embedding runs outside the locks. The RagStore serialises its SQLite connection.
// Failure: results, never exceptions: invalid_request for bad input (code empty_document,
// invalid_utf8, binary_content, invalid_top_k, empty_query, embedder_mismatch,
// collection_exists, invalid_name), request_too_large (code document_too_large), not_found (code
// collection_not_found, document_not_found), upstream for an embedder that fails (code
// embedding_failed), internal for SQLite failures (the message names the file).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchyard/core/error.hpp"
#include "switchyard/rag/bm25_index.hpp"
#include "switchyard/rag/chunking/chunk.hpp"
#include "switchyard/rag/chunking/chunker_factory.hpp"
#include "switchyard/rag/embedder.hpp"
#include "switchyard/rag/metadata_filter.hpp"
#include "switchyard/rag/vector_index.hpp"

namespace switchyard::rag {

class RagStore;

enum class RetrievalMode { kDense, kBm25, kHybrid };
// "dense", "bm25", "hybrid".
std::optional<RetrievalMode> parse_retrieval_mode(std::string_view name);
std::string_view to_string(RetrievalMode mode);

// A retrieved chunk, copied out of the collection (safe to keep after the query).
struct RetrievedChunk {
    uint64_t chunk_id = 0;
    float score = 0;  // BM25 score, cosine, RRF score or (with MMR) cosine to the query
    std::string document_id{};
    std::string source{};
    size_t index = 0;  // chunk index in its document
    size_t byte_begin = 0;
    size_t byte_end = 0;
    size_t char_begin = 0;
    size_t char_end = 0;
    std::vector<std::string> heading_path{};
    std::string text{};
    Metadata metadata{};  // the document's
};

struct CollectionOptions {
    // Chunking for every document; `chunking.embedder` is ignored (the semantic chunker uses
    // the collection's embedder). Stored with the collection: strategy, size, overlap, unit,
    // separators, format. For SizeUnit::kTokens `chunking.size.tokenizer` must be given at
    // create() and again, the same vocabulary, at open().
    ChunkerConfig chunking{
        .strategy = ChunkStrategy::kRecursive,
        .size = {.size = 1000, .overlap = 100, .unit = SizeUnit::kCharacters, .tokenizer = nullptr},
        .separators = {},
        .format = TextFormat::kAuto,
        .embedder = nullptr,
        .semantic = {}};
    size_t embed_batch = 64;                // chunks per embedder call
    size_t max_document_bytes = 64u << 20;  // larger texts: request_too_large
    VectorIndexOptions vectors{};           // dim is taken from the embedder
    Bm25Options bm25{};
};

enum class IngestOutcome {
    kAdded,            // a new document
    kReplaced,         // its text changed: old chunks replaced
    kUnchanged,        // same text, source and metadata: nothing done, nothing embedded
    kMetadataUpdated,  // same text, new source or metadata: updated without re-embedding
};
std::string_view to_string(IngestOutcome outcome);

struct IngestResult {
    std::string document_id{};
    IngestOutcome outcome = IngestOutcome::kAdded;
    size_t chunks = 0;    // the document's chunks now
    size_t embedded = 0;  // texts sent to the embedder by this call
};

struct DocumentInfo {
    std::string id{};
    std::string source{};
    std::string content_hash{};  // XXH3-128 of the text, 32 hex digits
    size_t bytes = 0;
    size_t chunks = 0;
    Metadata metadata{};
};

struct QueryRequest {
    std::string text{};
    size_t top_k = 5;  // 0 is an error; more than the collection holds returns every match
    RetrievalMode mode = RetrievalMode::kHybrid;
    // Applied inside each search (never cuts the result short), on the document's metadata
    // plus the fields "source" and "document_id" (a metadata key of the same name wins).
    MetadataFilter filter{};
    bool mmr = false;  // re-rank the fused candidates by maximal marginal relevance
    double mmr_lambda = 0.5;
    size_t candidates = 0;  // depth of each list before fusion / MMR; 0: max(50, 4 * top_k)
    // Hybrid: RRF weights of the two lists (score = sum of weight / (60 + rank)).
    double bm25_weight = 1.0;
    double dense_weight = 1.0;
};

struct CollectionStats {
    size_t documents = 0;
    size_t chunks = 0;
    uint64_t embedded_total = 0;  // texts embedded by this object since it was opened
};

class Collection {
public:
    // A new collection `name` (1-128 bytes of letters, digits, '-', '_', '.') in `store`;
    // invalid_request collection_exists if the name is taken.
    static Result<std::shared_ptr<Collection>> create(std::shared_ptr<RagStore> store,
                                                      std::string_view name,
                                                      std::shared_ptr<const Embedder> embedder,
                                                      CollectionOptions options = {});
    // An existing collection, indexes rebuilt from the store. `embedder` must have the stored
    // name and dimension (else invalid_request embedder_mismatch); the chunking config is the
    // stored one (options.chunking is ignored except for its tokenizer).
    static Result<std::shared_ptr<Collection>> open(std::shared_ptr<RagStore> store,
                                                    std::string_view name,
                                                    std::shared_ptr<const Embedder> embedder,
                                                    CollectionOptions options = {});
    // open() if it exists, else create().
    static Result<std::shared_ptr<Collection>> open_or_create(
        std::shared_ptr<RagStore> store, std::string_view name,
        std::shared_ptr<const Embedder> embedder, CollectionOptions options = {});

    ~Collection();
    Collection(const Collection&) = delete;
    Collection& operator=(const Collection&) = delete;

    // Adds or re-ingests one document (document.id required; 1-512 bytes). The text must be
    // valid UTF-8, not binary (no NUL bytes, at most 1% other control characters), and not
    // empty or whitespace only.
    Result<IngestResult> ingest(const Document& document);
    // Deletes a document and its chunks; not_found document_not_found if absent.
    Status remove(std::string_view document_id);

    Result<std::vector<RetrievedChunk>> query(const QueryRequest& request) const;

    std::optional<DocumentInfo> document(std::string_view document_id) const;
    std::vector<DocumentInfo> documents() const;  // by id
    // The document's chunks in order (empty if absent).
    std::vector<RetrievedChunk> chunks(std::string_view document_id) const;
    CollectionStats stats() const;

    const std::string& name() const { return name_; }
    const Embedder& embedder() const { return *embedder_; }
    const ChunkerConfig& chunking() const { return chunking_; }

private:
    struct DocEntry;
    struct ChunkEntry;
    struct Built;
    class Private;

    Collection(std::shared_ptr<RagStore> store, int64_t id, std::string name,
               std::shared_ptr<const Embedder> embedder, CollectionOptions options,
               std::unique_ptr<Chunker> chunker);

    Status load();
    Result<Built> build(const Document& document) const;
    void publish_locked(const std::string& document_id, std::shared_ptr<const DocEntry> doc,
                        std::vector<ChunkEntry>* chunks, const std::vector<float>* vectors);
    RetrievedChunk to_retrieved(uint64_t chunk_id, float score) const;

    const std::shared_ptr<RagStore> store_;
    const int64_t id_;  // rag_collections.id
    const std::string name_;
    const std::shared_ptr<const Embedder> embedder_;
    const CollectionOptions options_;
    ChunkerConfig chunking_;
    std::unique_ptr<Chunker> chunker_;

    std::mutex write_mutex_;           // one ingest/remove at a time: SQLite write + publish
    mutable std::shared_mutex mutex_;  // guards docs_, chunks_ and the indexes' joint state
    std::unordered_map<std::string, std::shared_ptr<const DocEntry>> docs_;   // guarded by mutex_
    std::unordered_map<uint64_t, std::shared_ptr<const ChunkEntry>> chunks_;  // guarded by mutex_
    Bm25Index bm25_;
    VectorIndex vectors_;
    mutable std::atomic<uint64_t> embedded_total_{0};
};

}  // namespace switchyard::rag
