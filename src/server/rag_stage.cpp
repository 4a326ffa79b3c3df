#include "rag_stage.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "rag_requests.hpp"
#include "rag_service.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/rag/context.hpp"

namespace switchyard {
namespace {

struct RagField {
    std::string collection;
    rag::QueryRequest query;
    int64_t budget_tokens = -1;  // -1: rag.context_tokens
};

Result<RagField> parse_rag_field(std::string_view json, const RagConfig& config) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(json.data(), json.size()).get(obj) != simdjson::SUCCESS) {
        return Error::invalid_request("rag must be an object", "rag");
    }
    RagField f;
    f.query.top_k = static_cast<size_t>(config.top_k);
    for (auto field : obj) {
        const std::string_view k = field.key;
        if (k == "collection") {
            std::string_view sv;
            if (field.value.get(sv) != simdjson::SUCCESS || sv.empty()) {
                return Error::invalid_request("rag.collection must be a collection name",
                                              "rag.collection");
            }
            f.collection = std::string(sv);
        } else if (auto taken = parse_retrieval_field(k, field.value, 100, "rag.", f.query)) {
            if (!*taken) return std::move(taken->error());
        } else if (k == "budget_tokens") {
            int64_t n = 0;
            if (field.value.get(n) != simdjson::SUCCESS || n < 1) {
                return Error::invalid_request("rag.budget_tokens must be a positive integer",
                                              "rag.budget_tokens");
            }
            f.budget_tokens = std::min(n, config.context_tokens);
        } else {
            return Error::invalid_request(
                fmt::format("unknown rag field '{}' (collection, top_k, mode, filters, "
                            "budget_tokens)",
                            k),
                "rag");
        }
    }
    if (f.collection.empty()) return Error::invalid_request("rag.collection is required", "rag");
    if (f.budget_tokens < 0) f.budget_tokens = config.context_tokens;
    return f;
}

// The text retrieval searches with: the last user message.
std::string last_user_text(const ChatRequest& req) {
    for (auto it = req.messages.rbegin(); it != req.messages.rend(); ++it) {
        if (it->role == Role::kUser) return it->joined_text();
    }
    return {};
}

// A header value: printable ASCII kept, anything else percent-encoded.
std::string header_safe(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '%') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

struct Retrieved {
    std::optional<Error> error;
    rag::AssembledContext context;
};

constexpr std::string_view kPreamble =
    "Answer using the context below when it is relevant. Cite the passages you use by their "
    "[n] markers.\n\n";

}  // namespace

awaitable<bool> apply_rag(RequestContext& ctx, ChatRequest& req, ErrorStyle style) {
    if (req.rag_json.empty()) co_return true;
    Gateway& g = ctx.gateway;
    RagService* service = g.rag();
    if (service == nullptr) {
        Error e = Error::invalid_request(
            "the rag field needs the RAG engine, which is disabled on this gateway "
            "(rag.enabled: false)",
            "rag", "rag_disabled");
        co_await send_error(ctx, e, style);
        co_return false;
    }
    auto field = parse_rag_field(req.rag_json, service->config());
    if (!field) {
        co_await send_error(ctx, field.error(), style);
        co_return false;
    }
    field->query.text = last_user_text(req);
    if (field->query.text.empty()) {
        Error e = Error::invalid_request(
            "the rag field needs a user message with text to search the collection for", "rag");
        co_await send_error(ctx, e, style);
        co_return false;
    }
    // The requested model's vocabulary, or cl100k_base for a route.
    const tokens::Tokenizer* tokenizer = nullptr;
    if (const ModelConfig* m = g.config().find_model(req.model)) {
        tokenizer = g.model_tokens(static_cast<size_t>(m - g.config().models.data())).tokenizer;
    } else {
        auto loaded = g.tokenizers().get("cl100k_base");
        if (auto* t = std::get_if<const tokens::Tokenizer*>(&loaded)) tokenizer = *t;
    }
    if (tokenizer == nullptr) {
        Error e = Error::internal("no tokenizer to size the RAG context with");
        co_await send_error(ctx, e, style);
        co_return false;
    }
    const std::string collection = field->collection;
    auto work = [service, f = std::move(*field), tokenizer] {
        Retrieved out;
        auto c = service->collection(f.collection);
        if (!c) {
            out.error = std::move(c.error());
            return out;
        }
        auto found = (*c)->query(f.query);
        if (!found) {
            out.error = std::move(found.error());
            return out;
        }
        rag::ContextOptions o;
        o.budget_tokens = static_cast<size_t>(f.budget_tokens);
        o.count_tokens = rag::token_counter(*tokenizer);
        out.context = rag::assemble_context(*found, o);
        return out;
    };
    Retrieved r = co_await run_blocking(g, std::move(work));
    if (r.error) {
        if (r.error->param.empty()) r.error->param = "rag";
        co_await send_error(ctx, *r.error, style);
        co_return false;
    }

    // The context joins the system prompt (one system message, which every provider takes).
    if (!r.context.text.empty()) {
        std::string block = std::string(kPreamble) + r.context.text;
        auto sys = std::find_if(req.messages.begin(), req.messages.end(), [](const Message& m) {
            return m.role == Role::kSystem || m.role == Role::kDeveloper;
        });
        if (sys != req.messages.end() && !sys->has_parts) {
            sys->text = block + "\n\n" + sys->text;
        } else {
            Message m;
            m.role = Role::kSystem;
            m.text = std::move(block);
            req.messages.insert(req.messages.begin(), std::move(m));
        }
    }

    std::string labels;
    JsonWriter w(ctx.rag_json);
    w.begin_object().kv("collection", collection);
    w.kv("context_tokens", static_cast<int64_t>(r.context.n_tokens));
    w.key("citations");
    rag::write_citations_json(w, r.context.citations);
    w.end_object();
    for (const auto& c : r.context.citations) {
        if (!labels.empty()) labels += ", ";
        labels += fmt::format("[{}] {}", c.number, header_safe(c.label));
    }
    ctx.response.set_header("x-switchyard-rag-citations", labels.empty() ? "none" : labels);
    co_return true;
}

void add_rag_field(const RequestContext& ctx, std::string& body) {
    if (ctx.rag_json.empty() || body.empty() || body.back() != '}') return;
    body.pop_back();
    body += ",\"rag\":";
    body += ctx.rag_json;
    body += '}';
}

}  // namespace switchyard
