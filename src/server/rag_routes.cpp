// RAG endpoints (docs/rag.md):
//   GET|POST /v1/rag/collections                      list, create (admin)
//   GET|DELETE /v1/rag/collections/{c}                one, drop (admin)
//   GET|POST /v1/rag/collections/{c}/documents        list, add or re-ingest (admin; JSON or
//                                                     multipart/form-data file uploads)
//   GET|DELETE /v1/rag/collections/{c}/documents/{id} one (with its chunks), delete (admin)
//   POST /v1/rag/collections/{c}/query                retrieve (any valid key)
// Requests are parsed on the worker; everything that touches SQLite or embeds runs on the
// gateway's blocking pool, which renders the JSON answer too.
#include <fmt/format.h>
#include <simdjson.h>

#include "rag_service.hpp"
#include "request_context.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard {
namespace {

// What the blocking part answers.
struct Reply {
    http::status status = http::status::ok;
    std::string body;
};

Reply error_reply(const Error& e) {
    return Reply{static_cast<http::status>(http_status(e.kind)), to_openai_json(e)};
}

Error not_found(std::string message, std::string code) {
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.message = std::move(message);
    e.code = std::move(code);
    return e;
}

void write_metadata(JsonWriter& w, const rag::Metadata& m) {
    w.begin_object();
    for (const auto& [k, v] : m)
        w.kv(k, v);
    w.end_object();
}

void write_collection(JsonWriter& w, const rag::CollectionInfo& c) {
    w.begin_object()
        .kv("object", "rag.collection")
        .kv("name", c.name)
        .kv("embedder", c.embedder)
        .kv("dimension", static_cast<int64_t>(c.dimension))
        .kv("documents", static_cast<int64_t>(c.documents))
        .kv("chunks", static_cast<int64_t>(c.chunks))
        .end_object();
}

rag::CollectionInfo info_of(const rag::Collection& c) {
    const auto st = c.stats();
    return rag::CollectionInfo{c.name(), std::string(c.embedder().name()), c.embedder().dimension(),
                               st.documents, st.chunks};
}

void write_document(JsonWriter& w, const rag::DocumentInfo& d) {
    w.begin_object()
        .kv("object", "rag.document")
        .kv("id", d.id)
        .kv("source", d.source)
        .kv("content_hash", d.content_hash)
        .kv("bytes", static_cast<int64_t>(d.bytes))
        .kv("chunks", static_cast<int64_t>(d.chunks));
    w.key("metadata");
    write_metadata(w, d.metadata);
    w.end_object();
}

void write_chunk(JsonWriter& w, const rag::RetrievedChunk& c, bool with_score) {
    w.begin_object().kv("object", "rag.chunk").kv("document_id", c.document_id);
    w.kv("source", c.source).kv("index", static_cast<int64_t>(c.index));
    if (with_score) w.kv("score", static_cast<double>(c.score));
    w.kv("byte_begin", static_cast<int64_t>(c.byte_begin))
        .kv("byte_end", static_cast<int64_t>(c.byte_end))
        .kv("char_begin", static_cast<int64_t>(c.char_begin))
        .kv("char_end", static_cast<int64_t>(c.char_end));
    w.key("heading_path").begin_array();
    for (const auto& h : c.heading_path)
        w.value(h);
    w.end_array();
    w.kv("text", c.text);
    w.key("metadata");
    write_metadata(w, c.metadata);
    w.end_object();
}

// ---- Request parsing (on the worker) ---------------------------------------------------

// A JSON object's string, number or boolean as metadata text.
Result<rag::Metadata> parse_metadata(simdjson::dom::element v, std::string_view param) {
    simdjson::dom::object obj;
    if (v.get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request(std::string(param) + " must be an object",
                                      std::string(param));
    }
    rag::Metadata m;
    for (auto field : obj) {
        std::string value;
        switch (field.value.type()) {
            case simdjson::dom::element_type::STRING:
                value = std::string(field.value.get_string().value_unsafe());
                break;
            case simdjson::dom::element_type::INT64:
            case simdjson::dom::element_type::UINT64:
            case simdjson::dom::element_type::DOUBLE:
            case simdjson::dom::element_type::BOOL:
                value = simdjson::minify(field.value);
                break;
            default:
                return Error::invalid_request(
                    fmt::format("{}.{} must be a string, number or boolean", param, field.key),
                    std::string(param));
        }
        m.emplace_back(std::string(field.key), std::move(value));
    }
    return m;
}

Result<rag::Document> parse_document(simdjson::dom::element v) {
    simdjson::dom::object obj;
    if (v.get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request("a document must be an object {id, text, source, metadata}");
    }
    rag::Document d;
    bool has_text = false;
    for (auto field : obj) {
        const std::string_view k = field.key;
        std::string_view sv;
        if (k == "id" || k == "text" || k == "source") {
            if (field.value.get(sv) != simdjson::SUCCESS) {
                return Error::invalid_request(fmt::format("{} must be a string", k),
                                              std::string(k));
            }
            (k == "id" ? d.id : k == "text" ? d.text : d.source) = std::string(sv);
            has_text = has_text || k == "text";
        } else if (k == "metadata") {
            auto m = parse_metadata(field.value, "metadata");
            if (!m) return std::move(m.error());
            d.metadata = std::move(*m);
        } else {
            return Error::invalid_request(
                fmt::format("unknown document field '{}' (id, text, source, metadata)", k),
                std::string(k));
        }
    }
    if (d.id.empty()) return Error::invalid_request("a document needs an id", "id");
    if (!has_text) return Error::invalid_request("a document needs its text", "text");
    return d;
}

// multipart/form-data: each part with a filename is a document (its id the filename, or
// the `id` field when one file is sent); a `metadata` field (JSON object) applies to all.
Result<std::vector<rag::Document>> parse_multipart(std::string_view content_type,
                                                   std::string_view body) {
    const size_t b = content_type.find("boundary=");
    if (b == std::string_view::npos) {
        return Error::invalid_request("multipart/form-data needs a boundary");
    }
    std::string_view boundary = content_type.substr(b + 9);
    if (auto semi = boundary.find(';'); semi != std::string_view::npos) {
        boundary = boundary.substr(0, semi);
    }
    if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') {
        boundary = boundary.substr(1, boundary.size() - 2);
    }
    if (boundary.empty() || boundary.size() > 200) {
        return Error::invalid_request("multipart/form-data boundary is empty or too long");
    }
    const std::string delim = "--" + std::string(boundary);
    std::vector<rag::Document> docs;
    std::string id_field;
    rag::Metadata metadata;
    size_t pos = body.find(delim);
    if (pos == std::string_view::npos) return Error::invalid_request("no multipart parts found");
    while (true) {
        pos += delim.size();
        if (body.substr(pos, 2) == "--") break;  // the closing delimiter
        if (body.substr(pos, 2) != "\r\n")
            return Error::invalid_request("malformed multipart body");
        pos += 2;
        const size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string_view::npos) {
            return Error::invalid_request("malformed multipart part headers");
        }
        const std::string_view head = body.substr(pos, head_end - pos);
        const size_t data_begin = head_end + 4;
        const size_t next = body.find("\r\n" + delim, data_begin);
        if (next == std::string_view::npos) {
            return Error::invalid_request("multipart body ends without its closing boundary");
        }
        const std::string_view data = body.substr(data_begin, next - data_begin);
        auto attribute = [&](std::string_view name) -> std::optional<std::string> {
            const std::string key = std::string(name) + "=\"";
            size_t at = 0;
            while ((at = head.find(key, at)) != std::string_view::npos) {
                if (at == 0 || head[at - 1] == ' ' || head[at - 1] == ';') break;
                ++at;
            }
            if (at == std::string_view::npos) return std::nullopt;
            const size_t begin = at + key.size();
            const size_t end = head.find('"', begin);
            if (end == std::string_view::npos) return std::nullopt;
            return std::string(head.substr(begin, end - begin));
        };
        const auto name = attribute("name");
        const auto filename = attribute("filename");
        if (filename) {
            rag::Document d;
            d.id = *filename;
            d.source = *filename;
            d.text = std::string(data);
            docs.push_back(std::move(d));
        } else if (name && *name == "id") {
            id_field = std::string(data);
        } else if (name && *name == "metadata") {
            simdjson::dom::parser parser;
            simdjson::dom::element v;
            if (parser.parse(data.data(), data.size()).get(v) != simdjson::SUCCESS) {
                return Error::invalid_request("the metadata field must be a JSON object",
                                              "metadata");
            }
            auto m = parse_metadata(v, "metadata");
            if (!m) return std::move(m.error());
            metadata = std::move(*m);
        } else {
            return Error::invalid_request(fmt::format(
                "unknown multipart field '{}' (files, id, metadata)", name.value_or("")));
        }
        pos = next + 2;
    }
    if (docs.empty()) return Error::invalid_request("no file in the multipart body");
    if (!id_field.empty()) {
        if (docs.size() != 1) {
            return Error::invalid_request("the id field goes with exactly one file", "id");
        }
        docs[0].id = id_field;
    }
    for (auto& d : docs)
        d.metadata = metadata;
    return docs;
}

Result<rag::QueryRequest> parse_query(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request(
            "the body must be a JSON object {query, top_k, mode, filters}");
    }
    rag::QueryRequest q;
    bool has_query = false;
    for (auto field : obj) {
        const std::string_view k = field.key;
        if (k == "query") {
            std::string_view sv;
            if (field.value.get(sv) != simdjson::SUCCESS) {
                return Error::invalid_request("query must be a string", "query");
            }
            q.text = std::string(sv);
            has_query = true;
        } else if (k == "top_k") {
            int64_t n = 0;
            if (field.value.get(n) != simdjson::SUCCESS || n < 1) {
                return Error::invalid_request("top_k must be a positive integer", "top_k",
                                              "invalid_top_k");
            }
            q.top_k = static_cast<size_t>(std::min<int64_t>(n, 1'000'000'000));
        } else if (k == "mode") {
            std::string_view sv;
            std::optional<rag::RetrievalMode> m;
            if (field.value.get(sv) == simdjson::SUCCESS) m = rag::parse_retrieval_mode(sv);
            if (!m) return Error::invalid_request("mode must be dense, bm25 or hybrid", "mode");
            q.mode = *m;
        } else if (k == "filters") {
            auto f = rag::MetadataFilter::parse_json(simdjson::minify(field.value));
            if (!f) return std::move(f.error());
            q.filter = std::move(*f);
        } else if (k == "mmr") {
            if (field.value.get(q.mmr) != simdjson::SUCCESS) {
                return Error::invalid_request("mmr must be a boolean", "mmr");
            }
        } else if (k == "mmr_lambda") {
            double l = 0;
            if (field.value.get(l) != simdjson::SUCCESS || l < 0 || l > 1) {
                return Error::invalid_request("mmr_lambda must be a number in [0, 1]",
                                              "mmr_lambda");
            }
            q.mmr_lambda = l;
        } else {
            return Error::invalid_request(
                fmt::format("unknown field '{}' (query, top_k, mode, filters, mmr, mmr_lambda)", k),
                std::string(k));
        }
    }
    if (!has_query) return Error::invalid_request("query is required", "query");
    return q;
}

Result<RagCreateOptions> parse_create(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request(
            "the body must be a JSON object {name, embedder, chunking: {strategy, size, overlap}}");
    }
    RagCreateOptions o;
    for (auto field : obj) {
        const std::string_view k = field.key;
        std::string_view sv;
        if (k == "name" || k == "embedder") {
            if (field.value.get(sv) != simdjson::SUCCESS) {
                return Error::invalid_request(fmt::format("{} must be a string", k),
                                              std::string(k));
            }
            (k == "name" ? o.name : o.embedder) = std::string(sv);
        } else if (k == "chunking") {
            simdjson::dom::object c;
            if (field.value.get(c) != simdjson::SUCCESS) {
                return Error::invalid_request("chunking must be an object", "chunking");
            }
            for (auto cf : c) {
                const std::string_view ck = cf.key;
                if (ck == "strategy") {
                    std::optional<rag::ChunkStrategy> s;
                    if (cf.value.get(sv) == simdjson::SUCCESS) s = rag::parse_chunk_strategy(sv);
                    if (!s || *s == rag::ChunkStrategy::kSemantic) {
                        return Error::invalid_request(
                            "chunking.strategy must be character, sentence, paragraph, recursive, "
                            "structural or sliding (semantic: from the library and CLI only)",
                            "chunking.strategy");
                    }
                    o.strategy = *s;
                } else if (ck == "size" || ck == "overlap") {
                    int64_t n = 0;
                    if (cf.value.get(n) != simdjson::SUCCESS || n < 0 || n > (1 << 20)) {
                        return Error::invalid_request(
                            fmt::format("chunking.{} must be an integer in [0, 1048576]", ck),
                            fmt::format("chunking.{}", ck));
                    }
                    (ck == "size" ? o.chunk_size : o.chunk_overlap) = n;
                } else {
                    return Error::invalid_request(
                        fmt::format("unknown chunking field '{}' (strategy, size, overlap)", ck),
                        "chunking");
                }
            }
        } else {
            return Error::invalid_request(
                fmt::format("unknown field '{}' (name, embedder, chunking)", k), std::string(k));
        }
    }
    if (o.name.empty()) return Error::invalid_request("name is required", "name");
    return o;
}

// ---- Handlers ----------------------------------------------------------------------------

// What a request under /v1/rag/ names.
struct RagPath {
    std::string collection;  // empty: the collection list
    bool documents = false;
    bool query = false;
    std::string document;  // with documents: one document
};

Result<RagPath> parse_path(std::string_view path) {
    constexpr std::string_view kPrefix = "/v1/rag/collections";
    if (!path.starts_with(kPrefix)) return not_found("unknown RAG URL", "unknown_url");
    std::string_view rest = path.substr(kPrefix.size());
    RagPath p;
    if (rest.empty() || rest == "/") return p;
    if (rest.front() != '/') return not_found("unknown RAG URL", "unknown_url");
    rest.remove_prefix(1);
    std::vector<std::string_view> parts;
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        parts.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    auto decoded = percent_decode(parts[0], false);
    if (!decoded || decoded->empty()) {
        return Error::invalid_request("the collection name in the URL is not valid");
    }
    p.collection = std::move(*decoded);
    if (parts.size() == 1) return p;
    if (parts[1] == "query" && parts.size() == 2) {
        p.query = true;
        return p;
    }
    if (parts[1] == "documents" && parts.size() <= 3) {
        p.documents = true;
        if (parts.size() == 3) {
            auto doc = percent_decode(parts[2], false);
            if (!doc || doc->empty()) {
                return Error::invalid_request("the document id in the URL is not valid");
            }
            p.document = std::move(*doc);
        }
        return p;
    }
    return not_found(fmt::format("unknown RAG URL {}", path), "unknown_url");
}

awaitable<void> send_reply(RequestContext& ctx, Reply reply) {
    co_await ctx.response.send(reply.status, "application/json", std::move(reply.body));
}

}  // namespace

awaitable<void> handle_rag(RequestContext& ctx, std::string_view path) {
    ctx.endpoint = "rag";
    RagService* service = ctx.gateway.rag();
    if (service == nullptr) {
        Error e = not_found("RAG is disabled on this gateway (rag.enabled: false)", "rag_disabled");
        co_await send_error(ctx, e, ErrorStyle::kOpenAI);
        co_return;
    }
    auto parsed = parse_path(path);
    if (!parsed) {
        co_await send_error(ctx, parsed.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    const RagPath p = std::move(*parsed);
    const auto method = ctx.request.method();
    const bool is_get = method == http::verb::get;
    const bool is_post = method == http::verb::post;
    const bool is_delete = method == http::verb::delete_;
    std::string_view allowed = "GET, POST";
    if (p.query) allowed = "POST";
    if (!p.collection.empty() && !p.documents && !p.query) allowed = "GET, DELETE";
    if (p.documents && !p.document.empty()) allowed = "GET, DELETE";
    const bool ok_method = (is_get && allowed.find("GET") != std::string_view::npos) ||
                           (is_post && allowed.find("POST") != std::string_view::npos) ||
                           (is_delete && allowed.find("DELETE") != std::string_view::npos);
    if (!ok_method) {
        ctx.response.set_header("allow", allowed);
        Error e = Error::invalid_request(fmt::format("{} accepts {}", path, allowed), {},
                                         "method_not_allowed");
        co_await ctx.response.send(http::status::method_not_allowed, "application/json",
                                   to_openai_json(e));
        co_return;
    }
    // Reading needs a valid key (the auth stage ran); changing collections needs the admin.
    if (!is_get && !p.query) {
        const bool admin = co_await require_admin(ctx);
        if (!admin) co_return;
    }
    const std::string_view body = ctx.request.body();
    Gateway& gw = ctx.gateway;

    Reply reply;
    if (p.collection.empty() && is_get) {
        auto work = [service] {
            auto list = service->list();
            if (!list) return error_reply(list.error());
            Reply r;
            JsonWriter w(r.body);
            w.begin_object().kv("object", "list").key("data").begin_array();
            for (const auto& c : *list)
                write_collection(w, c);
            w.end_array().end_object();
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    } else if (p.collection.empty()) {
        auto options = parse_create(body);
        if (!options) {
            co_await send_error(ctx, options.error(), ErrorStyle::kOpenAI);
            co_return;
        }
        auto work = [service, o = std::move(*options)] {
            auto made = service->create(o);
            if (!made) return error_reply(made.error());
            Reply r{http::status::created, {}};
            JsonWriter w(r.body);
            write_collection(w, info_of(**made));
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    } else if (!p.documents && !p.query) {
        auto work = [service, name = p.collection, drop = is_delete] {
            if (drop) {
                auto dropped = service->drop(name);
                if (!dropped) return error_reply(dropped.error());
                Reply r;
                JsonWriter w(r.body);
                w.begin_object().kv("object", "rag.collection.deleted").kv("name", name);
                w.kv("deleted", true).end_object();
                return r;
            }
            auto c = service->collection(name);
            if (!c) return error_reply(c.error());
            Reply r;
            JsonWriter w(r.body);
            write_collection(w, info_of(**c));
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    } else if (p.query) {
        auto q = parse_query(body);
        if (!q) {
            co_await send_error(ctx, q.error(), ErrorStyle::kOpenAI);
            co_return;
        }
        auto work = [service, name = p.collection, q = std::move(*q)] {
            auto c = service->collection(name);
            if (!c) return error_reply(c.error());
            auto found = (*c)->query(q);
            if (!found) return error_reply(found.error());
            Reply r;
            JsonWriter w(r.body);
            w.begin_object().kv("object", "list").kv("collection", name);
            w.kv("mode", rag::to_string(q.mode)).key("data").begin_array();
            for (const auto& chunk : *found)
                write_chunk(w, chunk, true);
            w.end_array().end_object();
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    } else if (p.document.empty() && is_get) {
        auto work = [service, name = p.collection] {
            auto c = service->collection(name);
            if (!c) return error_reply(c.error());
            Reply r;
            JsonWriter w(r.body);
            w.begin_object().kv("object", "list").key("data").begin_array();
            for (const auto& d : (*c)->documents())
                write_document(w, d);
            w.end_array().end_object();
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    } else if (p.document.empty()) {
        // Add or re-ingest: JSON {id, text, ...} or {documents: [...]}, or multipart files.
        std::vector<rag::Document> docs;
        const std::string_view type = ctx.request[http::field::content_type];
        if (type.starts_with("multipart/form-data")) {
            auto parts = parse_multipart(type, body);
            if (!parts) {
                co_await send_error(ctx, parts.error(), ErrorStyle::kOpenAI);
                co_return;
            }
            docs = std::move(*parts);
        } else {
            simdjson::dom::parser parser;
            simdjson::dom::element root;
            simdjson::dom::array list;
            Error bad = Error::invalid_request(
                "the body must be a document {id, text, source, metadata}, "
                "{\"documents\": [...]}, or multipart/form-data files");
            if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
                co_await send_error(ctx, bad, ErrorStyle::kOpenAI);
                co_return;
            }
            if (root["documents"].get(list) == simdjson::SUCCESS) {
                for (auto item : list) {
                    auto d = parse_document(item);
                    if (!d) {
                        bad = std::move(d.error());
                        docs.clear();
                        break;
                    }
                    docs.push_back(std::move(*d));
                }
                if (docs.empty() && bad.param.empty() && list.size() == 0) {
                    bad = Error::invalid_request("documents is empty", "documents");
                }
            } else {
                auto d = parse_document(root);
                if (d) {
                    docs.push_back(std::move(*d));
                } else {
                    bad = std::move(d.error());
                }
            }
            if (docs.empty()) {
                co_await send_error(ctx, bad, ErrorStyle::kOpenAI);
                co_return;
            }
        }
        // Each document is ingested atomically on its own; the answer lists every outcome
        // (201 when all succeeded, else the first error's status with the per-document list).
        auto work = [service, name = p.collection, docs = std::move(docs)] {
            auto c = service->collection(name);
            if (!c) return error_reply(c.error());
            Reply r{http::status::created, {}};
            JsonWriter w(r.body);
            w.begin_object().kv("object", "list").key("data").begin_array();
            std::optional<Error> first_error;
            for (const auto& d : docs) {
                auto result = (*c)->ingest(d);
                w.begin_object().kv("id", d.id);
                if (result) {
                    w.kv("object", "rag.ingest")
                        .kv("outcome", rag::to_string(result->outcome))
                        .kv("chunks", static_cast<int64_t>(result->chunks))
                        .kv("embedded", static_cast<int64_t>(result->embedded));
                } else {
                    const Error& e = result.error();
                    w.kv("object", "error").kv("message", e.message).kv("code", e.code);
                    if (!first_error) first_error = e;
                }
                w.end_object();
            }
            w.end_array();
            if (first_error) {
                r.status = static_cast<http::status>(http_status(first_error->kind));
                w.key("error").begin_object();
                w.kv("message", first_error->message)
                    .kv("type", openai_error_type(first_error->kind))
                    .kv("code", first_error->code);
                w.end_object();
            }
            w.end_object();
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    } else {
        auto work = [service, name = p.collection, id = p.document, drop = is_delete] {
            auto c = service->collection(name);
            if (!c) return error_reply(c.error());
            Reply r;
            JsonWriter w(r.body);
            if (drop) {
                auto removed = (*c)->remove(id);
                if (!removed) return error_reply(removed.error());
                w.begin_object().kv("object", "rag.document.deleted").kv("id", id);
                w.kv("deleted", true).end_object();
                return r;
            }
            const auto d = (*c)->document(id);
            if (!d) {
                return error_reply(
                    not_found(fmt::format("no document '{}' in collection '{}'", id, name),
                              "document_not_found"));
            }
            w.begin_object().kv("object", "rag.document").kv("id", d->id).kv("source", d->source);
            w.kv("content_hash", d->content_hash).kv("bytes", static_cast<int64_t>(d->bytes));
            w.key("metadata");
            write_metadata(w, d->metadata);
            w.key("chunks").begin_array();
            for (const auto& chunk : (*c)->chunks(id))
                write_chunk(w, chunk, false);
            w.end_array().end_object();
            return r;
        };
        reply = co_await run_blocking(gw, std::move(work));
    }
    co_await send_reply(ctx, std::move(reply));
}

}  // namespace switchyard
