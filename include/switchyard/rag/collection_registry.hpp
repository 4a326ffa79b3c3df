// CollectionRegistry: one Collection object per collection name over one RagStore, for a
// server. A Collection keeps its documents' chunks and indexes in memory, so two objects
// opened on the same collection would each see only their own writes; the registry opens a
// collection once (on first use, rebuilding its indexes from the store) and hands the same
// object to every caller. Embedders are found by the name stored with the collection,
// through a resolver the owner supplies (the built-in ones, a remote endpoint).
// Thread safety: every method may be called from any thread. get() of a collection not yet
// open loads it under the registry's mutex, so every other call waits for that load
// (trade-off: simple, and loads happen once per collection per process).
// Failure: results, as Collection: not_found collection_not_found, invalid_request
// collection_exists / embedder_mismatch, whatever the resolver returns for an unknown
// embedder name.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/rag_store.hpp"

namespace switchyard::rag {

class CollectionRegistry {
public:
    using EmbedderResolver =
        std::function<Result<std::shared_ptr<const Embedder>>(std::string_view embedder_name)>;

    // `options` are used for opening (tokenizer, index options) and as create()'s defaults.
    CollectionRegistry(std::shared_ptr<RagStore> store, EmbedderResolver resolve,
                       CollectionOptions options = {});

    // The collection, opened on first use.
    Result<std::shared_ptr<Collection>> get(std::string_view name);
    // A new collection with the resolver's embedder `embedder_name`.
    Result<std::shared_ptr<Collection>> create(std::string_view name,
                                               std::string_view embedder_name,
                                               const CollectionOptions& options);
    Result<std::shared_ptr<Collection>> create(std::string_view name,
                                               std::string_view embedder_name) {
        return create(name, embedder_name, options_);
    }
    // Deletes the collection from the store and forgets it. Holders of the object keep
    // reading from memory; their ingests fail (the store no longer has the collection).
    Status drop(std::string_view name);
    Result<std::vector<CollectionInfo>> list() { return store_->collections(); }

    const std::shared_ptr<RagStore>& store() const { return store_; }

private:
    const std::shared_ptr<RagStore> store_;
    const EmbedderResolver resolve_;
    const CollectionOptions options_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Collection>, std::less<>> open_;  // guarded by mutex_
};

}  // namespace switchyard::rag
