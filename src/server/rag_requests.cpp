// RAG request parsing (on the worker): the bodies and paths of /v1/rag/*, and the retrieval
// fields the chat `rag` field shares with POST .../query.
#include "rag_requests.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "request_context.hpp"
#include "switchyard/rag/html_text.hpp"

namespace switchyard {
namespace {

Error not_found(std::string message, std::string code) {
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.message = std::move(message);
    e.code = std::move(code);
    return e;
}

}  // namespace

std::optional<Status> parse_retrieval_field(std::string_view key, simdjson::dom::element value,
                                            int64_t max_top_k, std::string_view prefix,
                                            rag::QueryRequest& q) {
    const std::string param = std::string(prefix) + std::string(key);
    if (key == "top_k") {
        int64_t n = 0;
        if (value.get(n) != simdjson::SUCCESS || n < 1) {
            return Error::invalid_request(param + " must be a positive integer", param,
                                          "invalid_top_k");
        }
        q.top_k = static_cast<size_t>(std::min(n, max_top_k));
    } else if (key == "mode") {
        std::string_view sv;
        std::optional<rag::RetrievalMode> m;
        if (value.get(sv) == simdjson::SUCCESS) m = rag::parse_retrieval_mode(sv);
        if (!m) return Error::invalid_request(param + " must be dense, bm25 or hybrid", param);
        q.mode = *m;
    } else if (key == "filters") {
        auto f = rag::MetadataFilter::parse_json(simdjson::minify(value));
        if (!f) {
            Error e = std::move(f.error());
            e.param = param;
            return e;
        }
        q.filter = std::move(*f);
    } else {
        return std::nullopt;
    }
    return Ok{};
}

// A JSON object's string, number or boolean as metadata text.
static Result<rag::Metadata> parse_metadata(simdjson::dom::element v, std::string_view param) {
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

rag::Document to_text(ParsedDocument&& parsed) {
    if (parsed.html) parsed.doc.text = rag::html_to_text(parsed.doc.text);
    return std::move(parsed.doc);
}

Result<ParsedDocument> parse_document(simdjson::dom::element v) {
    simdjson::dom::object obj;
    if (v.get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request("a document must be an object {id, text, source, metadata}");
    }
    rag::Document d;
    bool has_text = false;
    bool html = false;
    for (auto field : obj) {
        const std::string_view k = field.key;
        std::string_view sv;
        if (k == "content_type") {
            if (field.value.get(sv) != simdjson::SUCCESS) {
                return Error::invalid_request("content_type must be a string", "content_type");
            }
            html = rag::is_html_content_type(sv);
            if (!html && !sv.starts_with("text/")) {
                return Error::invalid_request(
                    fmt::format("content_type '{}' is not supported (text/plain, text/markdown, "
                                "text/html)",
                                sv),
                    "content_type");
            }
        } else if (k == "id" || k == "text" || k == "source") {
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
                fmt::format(
                    "unknown document field '{}' (id, text, source, metadata, content_type)", k),
                std::string(k));
        }
    }
    if (d.id.empty()) return Error::invalid_request("a document needs an id", "id");
    if (!has_text) return Error::invalid_request("a document needs its text", "text");
    return ParsedDocument{.doc = std::move(d), .html = html};
}

namespace {

// The Content-Type of a multipart part's head ("" when it has none).
std::string_view part_content_type(std::string_view head) {
    size_t line = 0;
    while (line < head.size()) {
        size_t end = head.find("\r\n", line);
        if (end == std::string_view::npos) end = head.size();
        const std::string_view h = head.substr(line, end - line);
        constexpr std::string_view kName = "content-type:";
        if (h.size() > kName.size()) {
            bool match = true;
            for (size_t i = 0; i < kName.size() && match; ++i) {
                match = std::tolower(static_cast<unsigned char>(h[i])) == kName[i];
            }
            if (match) return h.substr(kName.size());
        }
        line = end + 2;
    }
    return {};
}

}  // namespace

// multipart/form-data: each part with a filename is a document (its id the filename, or
// the `id` field when one file is sent); a `metadata` field (JSON object) applies to all.
Result<std::vector<ParsedDocument>> parse_multipart(std::string_view content_type,
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
    std::vector<ParsedDocument> docs;
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
            ParsedDocument d;
            d.doc.id = *filename;
            d.doc.source = *filename;
            d.doc.text = std::string(data);
            // HTML (by the part's content type or the file name) is stored as its text.
            d.html =
                rag::is_html_content_type(part_content_type(head)) || rag::is_html_name(*filename);
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
        docs[0].doc.id = id_field;
    }
    for (auto& d : docs)
        d.doc.metadata = metadata;
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
        } else if (auto taken = parse_retrieval_field(k, field.value, 1'000'000'000, "", q)) {
            if (!*taken) return std::move(taken->error());
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

}  // namespace switchyard
