// Private to the server: parsing the RAG endpoints' requests (rag_routes.cpp) and the
// retrieval fields that POST /v1/rag/collections/{c}/query and the chat `rag` field share.
// Pure functions on the worker; errors are invalid_request (400) or not_found (404) naming the
// field.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rag_service.hpp"
#include "switchyard/core/error.hpp"
#include "switchyard/rag/collection.hpp"

namespace switchyard {

// What a request under /v1/rag/ names.
struct RagPath {
    std::string collection;  // empty: the collection list
    bool documents = false;
    bool query = false;
    std::string document;  // with documents: one document
};
Result<RagPath> parse_path(std::string_view path);

// `top_k` (capped at max_top_k), `mode` or `filters` into q: nullopt when `key` is none of
// them, else the outcome (errors name prefix + key, e.g. "rag.top_k").
std::optional<Status> parse_retrieval_field(std::string_view key, simdjson::dom::element value,
                                            int64_t max_top_k, std::string_view prefix,
                                            rag::QueryRequest& q);

// {query, top_k, mode, filters, mmr, mmr_lambda}.
Result<rag::QueryRequest> parse_query(std::string_view body);
// {name, embedder, chunking: {strategy, size, overlap}}.
Result<RagCreateOptions> parse_create(std::string_view body);
// One document {id, text, source, metadata, content_type}; content_type text/html (or
// application/xhtml+xml) stores the page's text (rag/html_text.hpp), other text/* as is.
// The text of an HTML document is kept raw (`html` set): html_to_text() runs in the blocking
// work, never on an io thread (to_text()).
struct ParsedDocument {
    rag::Document doc;
    bool html = false;
};
// The document to ingest: HTML converted to its text.
rag::Document to_text(ParsedDocument&& parsed);
Result<ParsedDocument> parse_document(simdjson::dom::element v);
// multipart/form-data: each part with a filename is a document (its id the filename, or the
// `id` field when one file is sent); a `metadata` field (a JSON object) applies to all. A part
// sent as text/html, or a file named *.html / *.htm, is stored as the page's text.
Result<std::vector<ParsedDocument>> parse_multipart(std::string_view content_type,
                                                    std::string_view body);

}  // namespace switchyard
