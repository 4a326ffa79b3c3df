// HTML to text for ingestion: the readable text of a page, so chunks and embeddings see words,
// not markup. Used by the CLI (`switchyard ingest` of .html files) and the HTTP upload path
// (files named *.html / *.htm or sent as text/html, JSON documents with content_type text/html).
// Thread safety: pure functions. Failure: none; any input gives some text (not a full HTML
// parser: scripts, styles, comments and tags are dropped, block tags become line breaks, the
// common named entities and numeric character references are decoded).
#pragma once

#include <string>
#include <string_view>

namespace switchyard::rag {

std::string html_to_text(std::string_view html);

// True for a file name ending in .html or .htm (any case), or a content type text/html or
// application/xhtml+xml (parameters such as charset ignored).
bool is_html_name(std::string_view file_name);
bool is_html_content_type(std::string_view content_type);

}  // namespace switchyard::rag
