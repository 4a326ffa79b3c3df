#include "switchyard/rag/collection.hpp"

#define XXH_INLINE_ALL
#include <sqlite3.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "store_codec.hpp"
#include "switchyard/rag/hybrid.hpp"
#include "switchyard/rag/rag_store.hpp"
#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::rag {

struct Collection::DocEntry {
    std::string id;
    std::string source;
    std::string content_hash;
    size_t bytes = 0;
    Metadata metadata;
    Metadata filterable;              // metadata, then "source" and "document_id"
    std::vector<uint64_t> chunk_ids;  // in chunk order

    void set_filterable() {
        filterable = metadata;
        filterable.emplace_back("source", source);
        filterable.emplace_back("document_id", id);
    }
};

struct Collection::ChunkEntry {
    std::shared_ptr<const DocEntry> doc;
    size_t index = 0;
    size_t byte_begin = 0;
    size_t byte_end = 0;
    size_t char_begin = 0;
    size_t char_end = 0;
    size_t n_tokens = 0;
    std::vector<std::string> heading_path;
    std::string text;
};

struct Collection::Built {
    std::vector<Chunk> chunks;
    std::vector<float> vectors;  // chunks.size() rows of dim floats
};

namespace {

constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxDocumentIdBytes = 512;

Error invalid(std::string message, std::string param, std::string code) {
    return Error::invalid_request(std::move(message), std::move(param), std::move(code));
}

Error not_found(std::string message, std::string param, std::string code) {
    return Error{.kind = ErrorKind::kNotFound,
                 .message = std::move(message),
                 .param = std::move(param),
                 .code = std::move(code)};
}

std::string content_hash(std::string_view text) {
    const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return hex;
}

Status validate_name(std::string_view name) {
    bool ok = !name.empty() && name.size() <= kMaxNameBytes;
    for (char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        ok = ok && allowed;
    }
    if (!ok) {
        return invalid(
            "collection name must be 1-128 characters of letters, digits, '-', '_' "
            "and '.'",
            "collection", "invalid_name");
    }
    return Ok{};
}

// Empty, binary, invalid UTF-8: refused with the reason.
Status validate_text(const Document& document) {
    const std::string_view text = document.text;
    const std::string who = "document '" + document.id + "'";
    size_t controls = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0) {
            return invalid(who + " looks binary (a NUL byte at offset " + std::to_string(i) +
                               "); only text can be ingested",
                           "text", "binary_content");
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') ++controls;
    }
    if (const size_t bad = first_invalid_utf8(text); bad != text.size()) {
        return invalid(who + " is not valid UTF-8 (first bad byte at offset " +
                           std::to_string(bad) + "); convert it or replace the bad bytes",
                       "text", "invalid_utf8");
    }
    if (controls > 0 && controls * 100 > text.size()) {
        return invalid(who + " looks binary (" + std::to_string(controls) +
                           " control characters in " + std::to_string(text.size()) + " bytes)",
                       "text", "binary_content");
    }
    const bool blank = std::all_of(text.begin(), text.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    });
    if (blank) return invalid(who + " is empty", "text", "empty_document");
    return Ok{};
}

// ---------------------------------------------------------------- chunking config in the store

std::string_view unit_name(SizeUnit unit) {
    switch (unit) {
        case SizeUnit::kCharacters:
            return "characters";
        case SizeUnit::kUtf16:
            return "utf16";
        case SizeUnit::kTokens:
            return "tokens";
    }
    return "characters";
}

std::string_view format_name(TextFormat format) {
    switch (format) {
        case TextFormat::kAuto:
            return "auto";
        case TextFormat::kMarkdown:
            return "markdown";
        case TextFormat::kCode:
            return "code";
        case TextFormat::kPlain:
            return "plain";
    }
    return "auto";
}

std::string encode_chunking(const ChunkerConfig& config) {
    const Metadata fields = {
        {"strategy", std::string(to_string(config.strategy))},
        {"size", std::to_string(config.size.size)},
        {"overlap", std::to_string(config.size.overlap)},
        {"unit", std::string(unit_name(config.size.unit))},
        {"tokenizer",
         config.size.tokenizer != nullptr ? std::string(config.size.tokenizer->name()) : ""},
        {"format", std::string(format_name(config.format))},
        {"separators", store_codec::encode_strings(config.separators)},
    };
    return store_codec::encode_metadata(fields);
}

// The stored config; `tokenizer` supplies the tokenizer for a token-sized config.
Result<ChunkerConfig> decode_chunking(std::string_view encoded,
                                      const tokens::Tokenizer* tokenizer) {
    auto fields = store_codec::decode_metadata(encoded);
    if (!fields) return Error::internal("rag store: malformed chunking config");
    ChunkerConfig config;
    std::string tokenizer_name;
    for (const auto& [k, v] : *fields) {
        if (k == "strategy") {
            auto s = parse_chunk_strategy(v);
            if (!s) return Error::internal("rag store: unknown chunk strategy '" + v + "'");
            config.strategy = *s;
        } else if (k == "size") {
            config.size.size = std::stoull(v);
        } else if (k == "overlap") {
            config.size.overlap = std::stoull(v);
        } else if (k == "unit") {
            config.size.unit = v == "tokens"  ? SizeUnit::kTokens
                               : v == "utf16" ? SizeUnit::kUtf16
                                              : SizeUnit::kCharacters;
        } else if (k == "tokenizer") {
            tokenizer_name = v;
        } else if (k == "format") {
            config.format = v == "markdown" ? TextFormat::kMarkdown
                            : v == "code"   ? TextFormat::kCode
                            : v == "plain"  ? TextFormat::kPlain
                                            : TextFormat::kAuto;
        } else if (k == "separators") {
            auto seps = store_codec::decode_strings(v);
            if (!seps) return Error::internal("rag store: malformed separators");
            config.separators = std::move(*seps);
        }
    }
    if (!tokenizer_name.empty()) {
        if (tokenizer == nullptr || tokenizer->name() != tokenizer_name) {
            return invalid("the collection's chunks are sized in tokens of '" + tokenizer_name +
                               "': open it with that tokenizer",
                           "chunking", "tokenizer_mismatch");
        }
        config.size.tokenizer = tokenizer;
    }
    return config;
}

// BEGIN DEFERRED ... COMMIT: the statements between see one snapshot of the store (a commit
// by another connection in between is not half-seen). Ends the transaction on every path.
class ReadTransaction {
public:
    explicit ReadTransaction(storage::SqliteDb& db) : db_(db) { db_.exec("BEGIN DEFERRED"); }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;
    ~ReadTransaction() {
        try {
            db_.exec("COMMIT");
        } catch (const storage::SqliteError&) {
            // A read-only transaction: nothing to lose.
        }
    }

private:
    storage::SqliteDb& db_;
};

}  // namespace

std::optional<RetrievalMode> parse_retrieval_mode(std::string_view name) {
    if (name == "dense") return RetrievalMode::kDense;
    if (name == "bm25") return RetrievalMode::kBm25;
    if (name == "hybrid") return RetrievalMode::kHybrid;
    return std::nullopt;
}

std::string_view to_string(RetrievalMode mode) {
    switch (mode) {
        case RetrievalMode::kDense:
            return "dense";
        case RetrievalMode::kBm25:
            return "bm25";
        case RetrievalMode::kHybrid:
            return "hybrid";
    }
    return "hybrid";
}

std::string_view to_string(IngestOutcome outcome) {
    switch (outcome) {
        case IngestOutcome::kAdded:
            return "added";
        case IngestOutcome::kReplaced:
            return "replaced";
        case IngestOutcome::kUnchanged:
            return "unchanged";
        case IngestOutcome::kMetadataUpdated:
            return "metadata_updated";
    }
    return "added";
}

// ---------------------------------------------------------------- open / create

Collection::Collection(std::shared_ptr<RagStore> store, int64_t id, std::string name,
                       std::shared_ptr<const Embedder> embedder, CollectionOptions options,
                       std::unique_ptr<Chunker> chunker)
    : store_(std::move(store)),
      id_(id),
      name_(std::move(name)),
      embedder_(std::move(embedder)),
      options_(std::move(options)),
      chunking_(options_.chunking),
      chunker_(std::move(chunker)),
      bm25_(options_.bm25),
      vectors_([&] {
          VectorIndexOptions v = options_.vectors;
          v.dim = embedder_->dimension();
          return v;
      }()) {
    chunking_.embedder = embedder_.get();
}

Collection::~Collection() = default;

Result<std::shared_ptr<Collection>> Collection::create(std::shared_ptr<RagStore> store,
                                                       std::string_view name,
                                                       std::shared_ptr<const Embedder> embedder,
                                                       CollectionOptions options) {
    if (auto ok = validate_name(name); !ok) return ok.error();
    if (store == nullptr || embedder == nullptr) {
        return Error::internal("Collection::create: store and embedder are required");
    }
    ChunkerConfig config = options.chunking;
    config.embedder = embedder.get();
    auto chunker = make_chunker(config);
    if (!chunker) return chunker.error();
    const std::string encoded = encode_chunking(config);
    auto id = store->run([&](storage::SqliteDb& db) -> Result<int64_t> {
        storage::SqliteTransaction tx(db);
        storage::SqliteStatement find(db, "SELECT id FROM rag_collections WHERE name = ?");
        find.bind(1, name);
        if (find.step()) {
            return invalid("collection '" + std::string(name) + "' already exists", "collection",
                           "collection_exists");
        }
        storage::SqliteStatement insert(db,
                                        "INSERT INTO rag_collections (name, embedder, dimension, "
                                        "chunking) VALUES (?, ?, ?, ?)");
        insert.bind(1, name)
            .bind(2, embedder->name())
            .bind(3, static_cast<int64_t>(embedder->dimension()))
            .bind(4, std::string_view(encoded));
        insert.step();
        const int64_t rowid = sqlite3_last_insert_rowid(db.handle());
        tx.commit();
        return rowid;
    });
    if (!id) return id.error();
    options.chunking = config;
    return std::shared_ptr<Collection>(new Collection(std::move(store), *id, std::string(name),
                                                      std::move(embedder), std::move(options),
                                                      std::move(chunker).value()));
}

Result<std::shared_ptr<Collection>> Collection::open(std::shared_ptr<RagStore> store,
                                                     std::string_view name,
                                                     std::shared_ptr<const Embedder> embedder,
                                                     CollectionOptions options) {
    if (auto ok = validate_name(name); !ok) return ok.error();
    if (store == nullptr || embedder == nullptr) {
        return Error::internal("Collection::open: store and embedder are required");
    }
    struct Row {
        int64_t id = 0;
        std::string embedder;
        size_t dimension = 0;
        std::string chunking;
    };
    auto row = store->run([&](storage::SqliteDb& db) -> Result<Row> {
        storage::SqliteStatement find(
            db, "SELECT id, embedder, dimension, chunking FROM rag_collections WHERE name = ?");
        find.bind(1, name);
        if (!find.step()) {
            return not_found("collection '" + std::string(name) + "' does not exist", "collection",
                             "collection_not_found");
        }
        return Row{.id = find.int64(0),
                   .embedder = find.text(1),
                   .dimension = static_cast<size_t>(find.int64(2)),
                   .chunking = find.text(3)};
    });
    if (!row) return row.error();
    if (row->embedder != embedder->name() || row->dimension != embedder->dimension()) {
        return invalid("collection '" + std::string(name) + "' holds vectors of embedder '" +
                           row->embedder + "' (" + std::to_string(row->dimension) +
                           " dimensions), not '" + std::string(embedder->name()) + "' (" +
                           std::to_string(embedder->dimension()) +
                           "): embedders cannot be mixed in one collection; use a new "
                           "collection for another embedder",
                       "embedder", "embedder_mismatch");
    }
    auto config = decode_chunking(row->chunking, options.chunking.size.tokenizer);
    if (!config) return config.error();
    config->embedder = embedder.get();
    auto chunker = make_chunker(*config);
    if (!chunker) return chunker.error();
    options.chunking = *config;
    std::shared_ptr<Collection> collection(
        new Collection(std::move(store), row->id, std::string(name), std::move(embedder),
                       std::move(options), std::move(chunker).value()));
    if (auto loaded = collection->load(); !loaded) return loaded.error();
    return collection;
}

Result<std::shared_ptr<Collection>> Collection::open_or_create(
    std::shared_ptr<RagStore> store, std::string_view name,
    std::shared_ptr<const Embedder> embedder, CollectionOptions options) {
    auto opened = open(store, name, embedder, options);
    if (opened || opened.error().code != "collection_not_found") return opened;
    return create(std::move(store), name, std::move(embedder), std::move(options));
}

Status Collection::load() {
    const size_t dim = embedder_->dimension();
    std::unordered_map<std::string, std::shared_ptr<DocEntry>> docs;
    std::vector<std::pair<uint64_t, ChunkEntry>> chunks;
    std::vector<float> vectors;
    auto read = store_->run([&](storage::SqliteDb& db) -> Status {
        // Documents and chunks from one snapshot: a commit by another connection between the
        // two SELECTs would pair old documents with new chunks.
        ReadTransaction snapshot(db);
        storage::SqliteStatement d(db,
                                   "SELECT doc_id, source, content_hash, metadata, bytes FROM "
                                   "rag_documents WHERE collection_id = ?");
        d.bind(1, id_);
        while (d.step()) {
            auto entry = std::make_shared<DocEntry>();
            entry->id = d.text(0);
            entry->source = d.text(1);
            entry->content_hash = d.text(2);
            auto metadata = store_codec::decode_metadata(d.text(3));
            if (!metadata) return Error::internal("rag store: malformed metadata");
            entry->metadata = std::move(*metadata);
            entry->bytes = static_cast<size_t>(d.int64(4));
            entry->set_filterable();
            docs.emplace(entry->id, std::move(entry));
        }
        storage::SqliteStatement c(
            db,
            "SELECT id, doc_id, idx, byte_begin, byte_end, char_begin, char_end, n_tokens, "
            "heading_path, text, vector FROM rag_chunks WHERE collection_id = ? "
            "ORDER BY doc_id, idx");
        c.bind(1, id_);
        while (c.step()) {
            ChunkEntry e;
            const auto chunk_id = static_cast<uint64_t>(c.int64(0));
            auto doc = docs.find(c.text(1));
            if (doc == docs.end()) return Error::internal("rag store: chunk without document");
            doc->second->chunk_ids.push_back(chunk_id);
            e.index = static_cast<size_t>(c.int64(2));
            e.byte_begin = static_cast<size_t>(c.int64(3));
            e.byte_end = static_cast<size_t>(c.int64(4));
            e.char_begin = static_cast<size_t>(c.int64(5));
            e.char_end = static_cast<size_t>(c.int64(6));
            e.n_tokens = static_cast<size_t>(c.int64(7));
            auto path = store_codec::decode_strings(c.text(8));
            if (!path) return Error::internal("rag store: malformed heading path");
            e.heading_path = std::move(*path);
            e.text = c.text(9);
            if (!store_codec::append_vector(c.text(10), dim, vectors)) {
                return Error::internal("rag store: a vector of collection '" + name_ +
                                       "' does not have " + std::to_string(dim) + " dimensions");
            }
            chunks.emplace_back(chunk_id, std::move(e));
        }
        return Ok{};
    });
    if (!read) return read.error();

    std::unique_lock lock(mutex_);
    std::vector<uint64_t> ids;
    ids.reserve(chunks.size());
    for (auto& [chunk_id, entry] : chunks) {
        ids.push_back(chunk_id);
        bm25_.add(chunk_id, entry.text);
    }
    for (auto& [doc_id, doc] : docs)
        docs_.emplace(doc_id, doc);
    std::unordered_map<uint64_t, std::shared_ptr<const DocEntry>> owner;
    for (auto& [doc_id, doc] : docs) {
        for (uint64_t chunk_id : doc->chunk_ids)
            owner.emplace(chunk_id, doc);
    }
    for (auto& [chunk_id, entry] : chunks) {
        entry.doc = owner.at(chunk_id);
        chunks_.emplace(chunk_id, std::make_shared<const ChunkEntry>(std::move(entry)));
    }
    if (!ids.empty()) {
        if (auto added = vectors_.add_batch(ids, vectors); !added) return added.error();
    }
    return Ok{};
}

// ---------------------------------------------------------------- ingest

Result<Collection::Built> Collection::build(const Document& document) const {
    auto split = chunker_->split(document);
    if (!split) return split.error();
    Built built;
    built.chunks = std::move(split).value();
    if (built.chunks.empty()) {
        return invalid("document '" + document.id + "' has no text to index", "text",
                       "empty_document");
    }
    const size_t dim = embedder_->dimension();
    built.vectors.reserve(built.chunks.size() * dim);
    const size_t batch = std::max<size_t>(1, options_.embed_batch);
    std::vector<std::string_view> texts;
    EmbeddingBatch out;
    for (size_t at = 0; at < built.chunks.size(); at += batch) {
        texts.clear();
        const size_t end = std::min(built.chunks.size(), at + batch);
        for (size_t i = at; i < end; ++i)
            texts.push_back(built.chunks[i].text);
        std::string failed = embedder_->embed(texts, out);
        embedded_total_.fetch_add(texts.size(), std::memory_order_relaxed);
        if (!failed.empty() || out.rows() != texts.size() || out.dim() != dim) {
            if (failed.empty()) failed = "the embedder returned vectors of the wrong shape";
            return Error{.kind = ErrorKind::kUpstream,
                         .message = "embedding document '" + document.id + "' with '" +
                                    std::string(embedder_->name()) + "' failed: " + failed +
                                    " (nothing was ingested)",
                         .param = {},
                         .code = "embedding_failed"};
        }
        for (float x : out.data()) {
            if (!std::isfinite(x)) {
                return Error{.kind = ErrorKind::kUpstream,
                             .message = "embedder '" + std::string(embedder_->name()) +
                                        "' returned a non-finite vector (nothing was ingested)",
                             .param = {},
                             .code = "embedding_failed"};
            }
        }
        built.vectors.insert(built.vectors.end(), out.data().begin(), out.data().end());
    }
    return built;
}

void Collection::publish_locked(const std::string& document_id, std::shared_ptr<const DocEntry> doc,
                                std::vector<ChunkEntry>* chunks,
                                const std::vector<float>* vectors) {
    // Called with mutex_ held exclusively. Drops the old version's chunks, then adds the new.
    if (auto old = docs_.find(document_id); old != docs_.end()) {
        if (chunks != nullptr || doc == nullptr) {
            for (uint64_t id : old->second->chunk_ids) {
                bm25_.remove(id);
                vectors_.remove(id);
                chunks_.erase(id);
            }
        }
        docs_.erase(old);
    }
    if (doc == nullptr) return;
    docs_.emplace(document_id, doc);
    if (chunks == nullptr) {
        // Metadata update: same chunks, new document entry.
        for (uint64_t id : doc->chunk_ids) {
            auto it = chunks_.find(id);
            if (it == chunks_.end()) continue;
            auto copy = std::make_shared<ChunkEntry>(*it->second);
            copy->doc = doc;
            it->second = std::move(copy);
        }
        return;
    }
    for (size_t i = 0; i < chunks->size(); ++i) {
        const uint64_t id = doc->chunk_ids[i];
        bm25_.add(id, (*chunks)[i].text);
        (*chunks)[i].doc = doc;
        chunks_.emplace(id, std::make_shared<const ChunkEntry>(std::move((*chunks)[i])));
    }
    // Vectors were checked (dimension, finite) in build(): add_batch cannot refuse them.
    (void)vectors_.add_batch(doc->chunk_ids, *vectors);
}

Result<IngestResult> Collection::ingest(const Document& document) {
    if (document.id.empty() || document.id.size() > kMaxDocumentIdBytes) {
        return invalid("a document needs an id of 1-512 bytes", "id", "invalid_document_id");
    }
    if (first_invalid_utf8(document.id) != document.id.size()) {
        return invalid("document id is not valid UTF-8", "id", "invalid_document_id");
    }
    if (document.text.size() > options_.max_document_bytes) {
        return Error{.kind = ErrorKind::kRequestTooLarge,
                     .message = "document '" + document.id + "' has " +
                                std::to_string(document.text.size()) +
                                " bytes; the collection takes at most " +
                                std::to_string(options_.max_document_bytes),
                     .param = "text",
                     .code = "document_too_large"};
    }
    if (auto ok = validate_text(document); !ok) return ok.error();
    const std::string hash = content_hash(document.text);

    auto same_text = [&]() -> std::shared_ptr<const DocEntry> {
        std::shared_lock lock(mutex_);
        auto it = docs_.find(document.id);
        if (it != docs_.end() && it->second->content_hash == hash) return it->second;
        return nullptr;
    };
    std::optional<Built> built;
    if (same_text() == nullptr) {
        auto b = build(document);  // outside every lock
        if (!b) return b.error();
        built = std::move(b).value();
    }

    std::lock_guard write(write_mutex_);
    if (auto current = same_text(); current != nullptr) {
        IngestResult result{.document_id = document.id,
                            .outcome = IngestOutcome::kUnchanged,
                            .chunks = current->chunk_ids.size(),
                            .embedded = built ? built->chunks.size() : 0};
        if (current->source == document.source && current->metadata == document.metadata) {
            return result;
        }
        const std::string metadata = store_codec::encode_metadata(document.metadata);
        auto updated = store_->run([&](storage::SqliteDb& db) {
            storage::SqliteStatement st(db,
                                        "UPDATE rag_documents SET source = ?, metadata = ? "
                                        "WHERE collection_id = ? AND doc_id = ?");
            st.bind(1, document.source)
                .bind_blob(2, metadata)
                .bind(3, id_)
                .bind(4, document.id)
                .step();
        });
        if (!updated) return updated.error();
        auto doc = std::make_shared<DocEntry>(*current);
        doc->source = document.source;
        doc->metadata = document.metadata;
        doc->set_filterable();
        std::unique_lock lock(mutex_);
        publish_locked(document.id, std::move(doc), nullptr, nullptr);
        result.outcome = IngestOutcome::kMetadataUpdated;
        return result;
    }
    if (!built) {
        // The document changed between the check and the lock (a concurrent ingest).
        auto b = build(document);
        if (!b) return b.error();
        built = std::move(b).value();
    }
    bool existed = false;
    {
        std::shared_lock lock(mutex_);
        existed = docs_.contains(document.id);
    }

    // One transaction: old chunks out, document row in, new chunks in.
    const size_t dim = embedder_->dimension();
    const std::string metadata = store_codec::encode_metadata(document.metadata);
    auto ids = store_->run([&](storage::SqliteDb& db) -> Result<std::vector<uint64_t>> {
        storage::SqliteTransaction tx(db);
        storage::SqliteStatement del(
            db, "DELETE FROM rag_chunks WHERE collection_id = ? AND doc_id = ?");
        del.bind(1, id_).bind(2, document.id).step();
        storage::SqliteStatement doc(
            db,
            "INSERT INTO rag_documents (collection_id, doc_id, source, content_hash, metadata, "
            "bytes) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (collection_id, doc_id) DO UPDATE SET "
            "source = excluded.source, content_hash = excluded.content_hash, "
            "metadata = excluded.metadata, bytes = excluded.bytes");
        doc.bind(1, id_)
            .bind(2, document.id)
            .bind(3, document.source)
            .bind(4, std::string_view(hash))
            .bind_blob(5, metadata)
            .bind(6, static_cast<int64_t>(document.text.size()))
            .step();
        storage::SqliteStatement ins(
            db,
            "INSERT INTO rag_chunks (collection_id, doc_id, idx, byte_begin, byte_end, "
            "char_begin, char_end, n_tokens, heading_path, text, vector) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        std::vector<uint64_t> out;
        out.reserve(built->chunks.size());
        for (size_t i = 0; i < built->chunks.size(); ++i) {
            const Chunk& c = built->chunks[i];
            const std::span<const float> row(built->vectors.data() + i * dim, dim);
            ins.bind(1, id_)
                .bind(2, document.id)
                .bind(3, static_cast<int64_t>(c.index))
                .bind(4, static_cast<int64_t>(c.byte_begin))
                .bind(5, static_cast<int64_t>(c.byte_end))
                .bind(6, static_cast<int64_t>(c.char_begin))
                .bind(7, static_cast<int64_t>(c.char_end))
                .bind(8, static_cast<int64_t>(c.n_tokens))
                .bind_blob(9, store_codec::encode_strings(c.heading_path))
                .bind_blob(10, c.text)
                .bind_blob(11, store_codec::vector_bytes(row));
            ins.step();
            out.push_back(static_cast<uint64_t>(sqlite3_last_insert_rowid(db.handle())));
            ins.reset();
        }
        tx.commit();
        return out;
    });
    if (!ids) return ids.error();

    auto doc = std::make_shared<DocEntry>();
    doc->id = document.id;
    doc->source = document.source;
    doc->content_hash = hash;
    doc->bytes = document.text.size();
    doc->metadata = document.metadata;
    doc->set_filterable();
    doc->chunk_ids = std::move(ids).value();
    std::vector<ChunkEntry> entries;
    entries.reserve(built->chunks.size());
    for (Chunk& c : built->chunks) {
        entries.push_back(ChunkEntry{.doc = nullptr,
                                     .index = c.index,
                                     .byte_begin = c.byte_begin,
                                     .byte_end = c.byte_end,
                                     .char_begin = c.char_begin,
                                     .char_end = c.char_end,
                                     .n_tokens = c.n_tokens,
                                     .heading_path = std::move(c.heading_path),
                                     .text = std::move(c.text)});
    }
    const size_t n = entries.size();
    {
        std::unique_lock lock(mutex_);
        publish_locked(document.id, std::move(doc), &entries, &built->vectors);
    }
    return IngestResult{.document_id = document.id,
                        .outcome = existed ? IngestOutcome::kReplaced : IngestOutcome::kAdded,
                        .chunks = n,
                        .embedded = n};
}

Status Collection::remove(std::string_view document_id) {
    std::lock_guard write(write_mutex_);
    const std::string id(document_id);
    {
        std::shared_lock lock(mutex_);
        if (!docs_.contains(id)) {
            return not_found("document '" + id + "' is not in collection '" + name_ + "'",
                             "document_id", "document_not_found");
        }
    }
    auto deleted = store_->run([&](storage::SqliteDb& db) {
        storage::SqliteTransaction tx(db);
        storage::SqliteStatement chunks(
            db, "DELETE FROM rag_chunks WHERE collection_id = ? AND doc_id = ?");
        chunks.bind(1, id_).bind(2, id).step();
        storage::SqliteStatement doc(
            db, "DELETE FROM rag_documents WHERE collection_id = ? AND doc_id = ?");
        doc.bind(1, id_).bind(2, id).step();
        tx.commit();
    });
    if (!deleted) return deleted.error();
    std::unique_lock lock(mutex_);
    publish_locked(id, nullptr, nullptr, nullptr);
    return Ok{};
}

// ---------------------------------------------------------------- query

RetrievedChunk Collection::to_retrieved(uint64_t chunk_id, float score) const {
    const ChunkEntry& c = *chunks_.at(chunk_id);
    return RetrievedChunk{.chunk_id = chunk_id,
                          .score = score,
                          .document_id = c.doc->id,
                          .source = c.doc->source,
                          .index = c.index,
                          .byte_begin = c.byte_begin,
                          .byte_end = c.byte_end,
                          .char_begin = c.char_begin,
                          .char_end = c.char_end,
                          .heading_path = c.heading_path,
                          .text = c.text,
                          .metadata = c.doc->metadata};
}

Result<std::vector<RetrievedChunk>> Collection::query(const QueryRequest& request) const {
    if (request.top_k == 0) {
        return invalid("top_k must be at least 1", "top_k", "invalid_top_k");
    }
    const bool blank = std::all_of(request.text.begin(), request.text.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    });
    if (blank) return invalid("the query is empty", "query", "empty_query");
    if (first_invalid_utf8(request.text) != request.text.size()) {
        return invalid("the query is not valid UTF-8", "query", "invalid_utf8");
    }

    std::vector<float> query_vector;
    if (request.mode != RetrievalMode::kBm25 || request.mmr) {
        EmbeddingBatch out;
        std::string_view texts[] = {request.text};
        std::string failed = embedder_->embed(texts, out);
        if (!failed.empty() || out.rows() != 1) {
            return Error{.kind = ErrorKind::kUpstream,
                         .message = "embedding the query with '" + std::string(embedder_->name()) +
                                    "' failed: " + failed,
                         .param = {},
                         .code = "embedding_failed"};
        }
        query_vector.assign(out.row(0).begin(), out.row(0).end());
    }

    std::shared_lock lock(mutex_);
    const size_t n = chunks_.size();
    std::vector<RetrievedChunk> results;
    if (n == 0) return results;
    const size_t top_k = std::min(request.top_k, n);
    const bool fused = request.mode == RetrievalMode::kHybrid || request.mmr;
    const size_t depth = fused ? std::min(n, std::max(top_k, request.candidates != 0
                                                                 ? request.candidates
                                                                 : std::max<size_t>(50, 4 * top_k)))
                               : top_k;

    auto matches = [&](uint64_t id) {
        auto it = chunks_.find(id);
        return it != chunks_.end() && request.filter.matches(it->second->doc->filterable);
    };
    ChunkFilter filter;
    if (!request.filter.empty()) filter = ChunkFilter(matches);

    std::vector<std::vector<SearchHit>> lists;
    if (request.mode != RetrievalMode::kDense) {
        lists.push_back(bm25_.search(request.text, depth, filter));
    }
    if (request.mode != RetrievalMode::kBm25) {
        auto dense = vectors_.search(query_vector, depth, filter);
        if (!dense) return dense.error();
        lists.push_back(std::move(dense).value());
    }
    std::vector<SearchHit> hits;
    if (lists.size() == 2) {
        const double weights[] = {request.bm25_weight, request.dense_weight};
        hits = reciprocal_rank_fusion(lists, request.mmr ? depth : top_k, kRrfK, weights);
    } else {
        hits = std::move(lists.front());
    }
    if (request.mmr && !hits.empty()) {
        const size_t dim = vectors_.dim();
        std::vector<float> store(hits.size() * dim);
        std::vector<MmrCandidate> candidates;
        candidates.reserve(hits.size());
        for (size_t i = 0; i < hits.size(); ++i) {
            std::span<float> row(store.data() + i * dim, dim);
            if (vectors_.get(hits[i].chunk_id, row)) {
                candidates.push_back({.chunk_id = hits[i].chunk_id, .vector = row});
            }
        }
        hits = mmr_rerank(query_vector, candidates, top_k, request.mmr_lambda);
    }
    if (hits.size() > top_k) hits.resize(top_k);
    results.reserve(hits.size());
    for (const SearchHit& h : hits)
        results.push_back(to_retrieved(h.chunk_id, h.score));
    return results;
}

// ---------------------------------------------------------------- inspection

std::optional<DocumentInfo> Collection::document(std::string_view document_id) const {
    std::shared_lock lock(mutex_);
    auto it = docs_.find(std::string(document_id));
    if (it == docs_.end()) return std::nullopt;
    const DocEntry& d = *it->second;
    return DocumentInfo{.id = d.id,
                        .source = d.source,
                        .content_hash = d.content_hash,
                        .bytes = d.bytes,
                        .chunks = d.chunk_ids.size(),
                        .metadata = d.metadata};
}

std::vector<DocumentInfo> Collection::documents() const {
    std::vector<DocumentInfo> out;
    {
        std::shared_lock lock(mutex_);
        out.reserve(docs_.size());
        for (const auto& [id, d] : docs_) {
            out.push_back({.id = d->id,
                           .source = d->source,
                           .content_hash = d->content_hash,
                           .bytes = d->bytes,
                           .chunks = d->chunk_ids.size(),
                           .metadata = d->metadata});
        }
    }
    std::sort(out.begin(), out.end(),
              [](const DocumentInfo& a, const DocumentInfo& b) { return a.id < b.id; });
    return out;
}

std::vector<RetrievedChunk> Collection::chunks(std::string_view document_id) const {
    std::shared_lock lock(mutex_);
    std::vector<RetrievedChunk> out;
    auto it = docs_.find(std::string(document_id));
    if (it == docs_.end()) return out;
    for (uint64_t id : it->second->chunk_ids)
        out.push_back(to_retrieved(id, 0));
    return out;
}

CollectionStats Collection::stats() const {
    std::shared_lock lock(mutex_);
    return {.documents = docs_.size(),
            .chunks = chunks_.size(),
            .embedded_total = embedded_total_.load(std::memory_order_relaxed)};
}

}  // namespace switchyard::rag
