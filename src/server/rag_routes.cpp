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

#include "rag_requests.hpp"
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
        std::vector<ParsedDocument> docs;
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
        auto work = [service, name = p.collection, docs = std::move(docs)]() mutable {
            auto c = service->collection(name);
            if (!c) return error_reply(c.error());
            Reply r{http::status::created, {}};
            JsonWriter w(r.body);
            w.begin_object().kv("object", "list").key("data").begin_array();
            std::optional<Error> first_error;
            for (auto& parsed : docs) {
                const rag::Document d = to_text(std::move(parsed));  // HTML off the io thread
                auto result = (*c)->ingest(d);
                if (result) service->note_own_write(name);
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
                service->note_own_write(name);
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
