// Private to the server: the RAG engine as the gateway serves it. One RagStore (SQLite, the
// file rag.sqlite_path names) and its CollectionRegistry, made on first use (so a gateway
// that never sees a RAG request creates no file); the built-in embedders (GloVe, hashing)
// loaded on first use and shared by every collection that names them; the remote embedder
// rag.remote_embedder configures, made (and its dimension learned) on first use. Everything
// here blocks (SQLite, embedding): call it from the gateway's blocking pool, never from an io
// thread. Thread safety: all methods may be called from any thread (one mutex guards the maps;
// it is not held while a collection ingests or queries). Failure: Result errors in the
// gateway's taxonomy (invalid_request, not_found, internal; upstream embedding_failed when the
// remote embedder cannot be reached).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/core/error.hpp"
#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/collection_registry.hpp"
#include "switchyard/rag/rag_store.hpp"

namespace switchyard {

struct RagCreateOptions {
    std::string name;
    std::string embedder;  // empty: rag.embedder
    rag::ChunkStrategy strategy = rag::ChunkStrategy::kRecursive;
    int64_t chunk_size = -1;  // -1: rag.chunk_size
    int64_t chunk_overlap = -1;
};

class RagService {
public:
    explicit RagService(RagConfig config);

    const RagConfig& config() const { return config_; }

    Result<std::shared_ptr<rag::Collection>> create(const RagCreateOptions& options);
    // An existing collection (opened and kept on first use); not_found when absent.
    Result<std::shared_ptr<rag::Collection>> collection(std::string_view name);
    Result<std::vector<rag::CollectionInfo>> list();
    Status drop(std::string_view name);
    // After an ingest or delete through collection(name): see CollectionRegistry.
    void note_own_write(std::string_view name);

private:
    Result<rag::CollectionRegistry*> registry();
    // "glove" or "hashing", or a stored embedder name starting with either; "remote", the
    // model rag.remote_embedder names, or its "<provider>:<model>" name.
    Result<std::shared_ptr<const rag::Embedder>> embedder(std::string_view name);
    // Made on first use; its dimension configured, taken from a stored collection, or probed.
    Result<std::shared_ptr<const rag::Embedder>> remote_embedder();
    rag::CollectionOptions collection_options() const;

    const RagConfig config_;
    std::mutex mu_;
    std::unique_ptr<rag::CollectionRegistry> registry_;  // guarded by mu_ until made
    std::mutex embedders_mu_;  // the registry resolves embedders under its own lock
    std::shared_ptr<const rag::Embedder> glove_, hashing_, remote_;  // guarded by embedders_mu_
};

}  // namespace switchyard
