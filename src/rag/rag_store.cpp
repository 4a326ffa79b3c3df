#include "switchyard/rag/rag_store.hpp"

#include <cstring>
#include <utility>

#include "store_codec.hpp"

namespace switchyard::rag {

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS rag_collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    embedder TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    chunking TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
CREATE TABLE IF NOT EXISTS rag_documents (
    collection_id INTEGER NOT NULL REFERENCES rag_collections(id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    metadata BLOB NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (collection_id, doc_id)
);
CREATE TABLE IF NOT EXISTS rag_chunks (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    byte_begin INTEGER NOT NULL,
    byte_end INTEGER NOT NULL,
    char_begin INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    n_tokens INTEGER NOT NULL,
    heading_path BLOB NOT NULL,
    text BLOB NOT NULL,
    vector BLOB NOT NULL,
    FOREIGN KEY (collection_id, doc_id) REFERENCES rag_documents(collection_id, doc_id)
        ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS rag_chunks_by_doc ON rag_chunks(collection_id, doc_id);
)sql";

}  // namespace

RagStore::RagStore(std::string path, std::unique_ptr<storage::SqliteDb> db)
    : path_(std::move(path)), db_(std::move(db)) {}

Result<std::shared_ptr<RagStore>> RagStore::open(const std::string& path) {
    try {
        auto db = std::make_unique<storage::SqliteDb>(path);
        db->exec(kSchema);
        return std::make_shared<RagStore>(path, std::move(db));
    } catch (const std::exception& e) {
        return Error::internal(std::string("rag store: ") + e.what());
    }
}

Result<std::vector<CollectionInfo>> RagStore::collections() {
    return run([](storage::SqliteDb& db) -> Result<std::vector<CollectionInfo>> {
        storage::SqliteStatement st(
            db,
            "SELECT c.name, c.embedder, c.dimension,"
            " (SELECT COUNT(*) FROM rag_documents d WHERE d.collection_id = c.id),"
            " (SELECT COUNT(*) FROM rag_chunks k WHERE k.collection_id = c.id)"
            " FROM rag_collections c ORDER BY c.name");
        std::vector<CollectionInfo> out;
        while (st.step()) {
            out.push_back({.name = st.text(0),
                           .embedder = st.text(1),
                           .dimension = static_cast<size_t>(st.int64(2)),
                           .documents = static_cast<size_t>(st.int64(3)),
                           .chunks = static_cast<size_t>(st.int64(4))});
        }
        return out;
    });
}

Status RagStore::drop_collection(std::string_view name) {
    return run([&](storage::SqliteDb& db) -> Status {
        storage::SqliteTransaction tx(db);
        storage::SqliteStatement find(db, "SELECT id FROM rag_collections WHERE name = ?");
        find.bind(1, name);
        if (!find.step()) {
            return Error{.kind = ErrorKind::kNotFound,
                         .message = "collection '" + std::string(name) + "' does not exist",
                         .param = "collection",
                         .code = "collection_not_found"};
        }
        const int64_t id = find.int64(0);
        storage::SqliteStatement chunks(db, "DELETE FROM rag_chunks WHERE collection_id = ?");
        chunks.bind(1, id).step();
        storage::SqliteStatement docs(db, "DELETE FROM rag_documents WHERE collection_id = ?");
        docs.bind(1, id).step();
        storage::SqliteStatement coll(db, "DELETE FROM rag_collections WHERE id = ?");
        coll.bind(1, id).step();
        tx.commit();
        return Ok{};
    });
}

// ---------------------------------------------------------------- codec

namespace store_codec {

std::string encode_strings(std::span<const std::string> values) {
    std::string out;
    for (const auto& v : values) {
        out += std::to_string(v.size());
        out += ':';
        out += v;
    }
    return out;
}

std::optional<std::vector<std::string>> decode_strings(std::string_view encoded) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < encoded.size()) {
        size_t n = 0;
        size_t digits = 0;
        while (i < encoded.size() && encoded[i] >= '0' && encoded[i] <= '9' && digits < 12) {
            n = n * 10 + static_cast<size_t>(encoded[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || i >= encoded.size() || encoded[i] != ':') return std::nullopt;
        ++i;
        if (encoded.size() - i < n) return std::nullopt;
        out.emplace_back(encoded.substr(i, n));
        i += n;
    }
    return out;
}

std::string encode_metadata(const Metadata& metadata) {
    std::vector<std::string> flat;
    flat.reserve(metadata.size() * 2);
    for (const auto& [k, v] : metadata) {
        flat.push_back(k);
        flat.push_back(v);
    }
    return encode_strings(flat);
}

std::optional<Metadata> decode_metadata(std::string_view encoded) {
    auto flat = decode_strings(encoded);
    if (!flat || flat->size() % 2 != 0) return std::nullopt;
    Metadata out;
    for (size_t i = 0; i < flat->size(); i += 2) {
        out.emplace_back(std::move((*flat)[i]), std::move((*flat)[i + 1]));
    }
    return out;
}

std::string_view vector_bytes(std::span<const float> vector) {
    return {reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float)};
}

bool append_vector(std::string_view bytes, size_t dim, std::vector<float>& out) {
    if (bytes.size() != dim * sizeof(float)) return false;
    const size_t at = out.size();
    out.resize(at + dim);
    std::memcpy(out.data() + at, bytes.data(), bytes.size());
    return true;
}

}  // namespace store_codec

}  // namespace switchyard::rag
