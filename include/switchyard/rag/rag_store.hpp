// RagStore: the SQLite file that holds RAG collections (rag_collections, rag_documents,
// rag_chunks with float32 vectors as BLOBs). Any number of collections share one store;
// Collection (collection.hpp) reads and writes through it.
// Thread safety: one connection, serialised by the store's mutex: run() may be called from
// any thread.
// Failure: open() and run() turn SQLite errors (SqliteError) into internal errors naming the
// file; never throws.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "switchyard/core/error.hpp"
#include "switchyard/storage/sqlite.hpp"

namespace switchyard::rag {

struct CollectionInfo {
    std::string name{};
    std::string embedder{};
    size_t dimension = 0;
    size_t documents = 0;
    size_t chunks = 0;
};

class RagStore {
public:
    // Opens (creating) the store at `path`; ":memory:" for a store that lives as long as the
    // object (tests).
    static Result<std::shared_ptr<RagStore>> open(const std::string& path);

    const std::string& path() const { return path_; }

    Result<std::vector<CollectionInfo>> collections();
    // Deletes a collection with its documents and chunks (not_found collection_not_found).
    // Collection objects already open on it keep answering from memory; ingesting into them
    // fails.
    Status drop_collection(std::string_view name);

    // Runs fn(db) under the store's lock; SqliteError becomes an internal error.
    // fn returns void or a Result.
    template <class F>
    auto run(F&& fn)
        -> std::conditional_t<std::is_void_v<std::invoke_result_t<F&, storage::SqliteDb&>>, Status,
                              std::invoke_result_t<F&, storage::SqliteDb&>> {
        std::lock_guard lock(mutex_);
        return run_held(fn);
    }
    // run(fn) if the store's lock is free; nullopt (fn not run) while another thread holds it.
    template <class F>
    auto try_run(F&& fn) -> std::optional<decltype(run(fn))> {
        std::unique_lock lock(mutex_, std::try_to_lock);
        if (!lock.owns_lock()) return std::nullopt;
        return run_held(fn);
    }

    explicit RagStore(std::string path, std::unique_ptr<storage::SqliteDb> db);

private:
    template <class F>
    auto run_held(F& fn)
        -> std::conditional_t<std::is_void_v<std::invoke_result_t<F&, storage::SqliteDb&>>, Status,
                              std::invoke_result_t<F&, storage::SqliteDb&>> {
        try {
            if constexpr (std::is_void_v<std::invoke_result_t<F&, storage::SqliteDb&>>) {
                fn(*db_);
                return Ok{};
            } else {
                return fn(*db_);
            }
        } catch (const std::exception& e) {
            return Error::internal("rag store " + path_ + ": " + e.what());
        }
    }

    std::string path_;
    std::mutex mutex_;
    std::unique_ptr<storage::SqliteDb> db_;  // guarded by mutex_
};

}  // namespace switchyard::rag
