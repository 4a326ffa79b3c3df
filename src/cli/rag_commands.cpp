// switchyard ingest|query|chunk: the RAG library from the command line. `ingest` adds files
// and directories (.txt, .md, .html, source code) to a collection in a SQLite store, with
// progress on stderr; `query` searches a collection (dense, bm25, hybrid; filters, MMR) and
// can pack the hits into a token budget with citations; `chunk` prints a file's chunks for
// tuning a strategy.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "commands.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/providers/remote_embedder.hpp"
#include "switchyard/rag/chunking/chunker_factory.hpp"
#include "switchyard/rag/collection.hpp"
#include "switchyard/rag/context.hpp"
#include "switchyard/rag/glove_embedder.hpp"
#include "switchyard/rag/hashing_embedder.hpp"
#include "switchyard/rag/html_text.hpp"
#include "switchyard/rag/rag_store.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultDb = "switchyard-rag.db";

// Extensions taken from directories (a file named on the command line is always tried).
bool ingestible(const fs::path& path) {
    static const char* const kExtensions[] = {
        ".txt",   ".md",    ".markdown", ".rst", ".html", ".htm", ".c",    ".cc",   ".cpp",
        ".cxx",   ".h",     ".hh",       ".hpp", ".py",   ".js",  ".mjs",  ".cjs",  ".ts",
        ".tsx",   ".jsx",   ".go",       ".rs",  ".java", ".kt",  ".rb",   ".php",  ".cs",
        ".swift", ".scala", ".sh",       ".sql", ".yaml", ".yml", ".toml", ".json", ".cmake"};
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (path.filename() == "CMakeLists.txt" || path.filename() == "Makefile") return true;
    return std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions);
}

bool read_file(const fs::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

// --config: the gateway's config, for its rag.sqlite_path, rag.embedder and remote embedder.
std::variant<std::optional<Config>, std::string> load_rag_config(const std::string& path) {
    if (path.empty()) return std::optional<Config>();
    try {
        return std::optional<Config>(load_config_file(path));
    } catch (const std::exception& e) {
        return std::string("invalid config: ") + e.what();
    }
}

// "glove", "hashing" (or their stored names), or with a config the remote embedder:
// "remote", its model's name, or its stored "<provider>:<model>" name.
// `dimension`: an existing collection's (spares the remote embedder its probe call).
std::variant<std::shared_ptr<const rag::Embedder>, std::string> make_embedder(
    const std::string& name, const std::optional<Config>& config = std::nullopt,
    size_t dimension = 0) {
    if (name == "glove" || name == "glove-6b-100d-sif") {
        auto opened = rag::GloveEmbedder::open(rag::default_glove_path());
        if (auto* error = std::get_if<std::string>(&opened)) return *error;
        return std::shared_ptr<const rag::Embedder>(
            std::move(std::get<std::unique_ptr<rag::GloveEmbedder>>(opened)));
    }
    if (name == "hashing" || name.starts_with("hashing-")) {
        return std::shared_ptr<const rag::Embedder>(std::make_shared<rag::HashingEmbedder>());
    }
    if (config && !config->rag.remote_embedder.model.empty()) {
        const RagRemoteEmbedderConfig& remote = config->rag.remote_embedder;
        if (name == "remote" || name == remote.model ||
            name == RemoteEmbedder::name_of(remote.model_config)) {
            RagRemoteEmbedderConfig c = remote;
            if (c.dimensions == 0) c.dimensions = static_cast<int64_t>(dimension);
            auto made = std::make_shared<RemoteEmbedder>(c);
            if (std::string failed = made->probe(); !failed.empty()) {
                return "the remote embedder '" + std::string(made->name()) +
                       "' cannot start: " + failed;
            }
            return std::shared_ptr<const rag::Embedder>(std::move(made));
        }
    }
    if (!config) {
        return "unknown embedder '" + name +
               "' (glove, hashing; a remote embedder needs --config with rag.remote_embedder)";
    }
    return "unknown embedder '" + name + "' (glove, hashing, or remote: the model " +
           "rag.remote_embedder names in " + config->source + ")";
}

// The embedder named with --embedder, else the one collection `name` was stored with (and
// the dimension the store recorded for it); an empty name when neither.
std::pair<std::string, size_t> chosen_embedder(const std::string& named, rag::RagStore& store,
                                               std::string_view name) {
    if (!named.empty()) return {named, 0};
    if (auto listed = store.collections()) {
        for (const auto& info : listed.value()) {
            if (info.name == name) return {info.embedder, info.dimension};
        }
    }
    return {"", 0};
}

std::string format_duration(double seconds) {
    if (seconds < 60) return fmt::format("{:.0f}s", seconds);
    return fmt::format("{}m{:02}s", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
}

// ---------------------------------------------------------------- ingest

struct IngestOptions {
    std::vector<std::string> paths;
    std::string collection;
    std::string config;
    std::string db;        // empty: the config's rag.sqlite_path, else kDefaultDb
    std::string embedder;  // empty: the config's rag.embedder, else glove
    std::string strategy = "recursive";
    size_t size = 1000;
    size_t overlap = 100;
    bool quiet = false;
};

int run_ingest(const IngestOptions& o) {
    auto strategy = rag::parse_chunk_strategy(o.strategy);
    if (!strategy) {
        std::cerr << "error: unknown --strategy '" << o.strategy << "'\n";
        return 2;
    }
    // The files, in a stable order: each argument's files sorted by path.
    std::vector<fs::path> files;
    for (const std::string& arg : o.paths) {
        std::error_code ec;
        const fs::path p(arg);
        if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else if (fs::is_directory(p, ec)) {
            std::vector<fs::path> found;
            for (auto it = fs::recursive_directory_iterator(
                     p, fs::directory_options::skip_permission_denied, ec);
                 it != fs::recursive_directory_iterator(); it.increment(ec)) {
                if (ec) break;
                const std::string name = it->path().filename().string();
                if (it->is_directory(ec) &&
                    ((!name.empty() && name[0] == '.') || name == "node_modules")) {
                    it.disable_recursion_pending();
                    continue;
                }
                if (it->is_regular_file(ec) && ingestible(it->path())) found.push_back(it->path());
            }
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else {
            std::cerr << "error: " << arg << ": no such file or directory\n";
            return 1;
        }
    }
    uint64_t total_bytes = 0;
    for (const fs::path& f : files) {
        std::error_code ec;
        total_bytes += fs::file_size(f, ec);
    }

    auto config = load_rag_config(o.config);
    if (auto* error = std::get_if<std::string>(&config)) {
        std::cerr << "error: " << *error << "\n";
        return 2;
    }
    const auto& cfg = std::get<0>(config);
    const std::string db = !o.db.empty() ? o.db : cfg ? cfg->rag.sqlite_path : kDefaultDb;
    auto store = rag::RagStore::open(db);
    if (!store) {
        std::cerr << "error: " << store.error().message << "\n";
        return 1;
    }
    // Without --embedder: an existing collection's own, else the config's, else glove.
    auto [embedder_name, dimension] = chosen_embedder(o.embedder, *store.value(), o.collection);
    if (embedder_name.empty()) embedder_name = cfg ? cfg->rag.embedder : "glove";
    auto embedder = make_embedder(embedder_name, cfg, dimension);
    if (auto* error = std::get_if<std::string>(&embedder)) {
        std::cerr << "error: " << *error << "\n";
        return 1;
    }
    rag::CollectionOptions options;
    options.chunking.strategy = *strategy;
    options.chunking.size.size = o.size;
    options.chunking.size.overlap = o.overlap;
    auto collection = rag::Collection::open_or_create(store.value(), o.collection,
                                                      std::get<0>(std::move(embedder)), options);
    if (!collection) {
        std::cerr << "error: " << collection.error().message << "\n";
        return collection.error().kind == ErrorKind::kInvalidRequest ? 2 : 1;
    }
    rag::Collection& c = *collection.value();

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const auto start = std::chrono::steady_clock::now();
    auto last_report = start;
    size_t counts[4] = {0, 0, 0, 0};  // by IngestOutcome
    size_t failed = 0;
    size_t chunks = 0;
    uint64_t done_bytes = 0;
    auto report = [&](size_t done_files, bool final) {
        const auto now = std::chrono::steady_clock::now();
        if (!final && !tty && now - last_report < std::chrono::seconds(1)) return;
        last_report = now;
        const double seconds = std::chrono::duration<double>(now - start).count();
        const double mb = static_cast<double>(done_bytes) / 1e6;
        const double rate = seconds > 0 ? mb / seconds : 0;
        const double left_mb = static_cast<double>(total_bytes - done_bytes) / 1e6;
        const std::string eta =
            final ? "done" : (rate > 0 ? "ETA " + format_duration(left_mb / rate) : "ETA ?");
        const std::string line =
            fmt::format("[{}/{} files] {:.2f}/{:.2f} MB  {:.2f} MB/s  {}", done_files, files.size(),
                        mb, static_cast<double>(total_bytes) / 1e6, rate, eta);
        if (o.quiet) return;
        if (tty) {
            std::cerr << "\r" << line << "\x1b[K" << (final ? "\n" : "") << std::flush;
        } else {
            std::cerr << line << "\n";
        }
    };

    for (size_t i = 0; i < files.size(); ++i) {
        const fs::path& f = files[i];
        std::string text;
        std::error_code ec;
        const uint64_t size = fs::file_size(f, ec);
        if (!read_file(f, text)) {
            if (tty) std::cerr << "\n";
            std::cerr << "skipped " << f.string() << ": cannot read\n";
            ++failed;
        } else {
            rag::Document d;
            d.id = f.lexically_normal().generic_string();
            d.source = d.id;
            d.text = rag::is_html_name(f.filename().string()) ? rag::html_to_text(text)
                                                              : std::move(text);
            auto r = c.ingest(d);
            if (!r) {
                if (tty) std::cerr << "\r\x1b[K";
                std::cerr << "skipped " << d.id << ": " << r.error().message << "\n";
                ++failed;
            } else {
                ++counts[static_cast<size_t>(r->outcome)];
                chunks += r->chunks;
            }
        }
        done_bytes += size;
        report(i + 1, false);
    }
    report(files.size(), true);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto stats = c.stats();
    std::cout << fmt::format(
        "collection {}: {} files: {} added, {} replaced, {} unchanged, {} metadata updated, {} "
        "failed; {} chunks; {:.2f} MB in {:.2f} s ({:.2f} MB/s); now {} documents, {} chunks "
        "({})\n",
        c.name(), files.size(), counts[0], counts[1], counts[2], counts[3], failed, chunks,
        static_cast<double>(done_bytes) / 1e6, seconds,
        seconds > 0 ? static_cast<double>(done_bytes) / 1e6 / seconds : 0.0, stats.documents,
        stats.chunks, db);
    return failed == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- query

struct QueryOptions {
    std::string text;
    std::string collection;
    std::string config;
    std::string db;        // empty: the config's rag.sqlite_path, else kDefaultDb
    std::string embedder;  // empty: the collection's
    std::string mode = "hybrid";
    size_t top_k = 5;
    std::string filter;
    bool mmr = false;
    double mmr_lambda = 0.5;
    double bm25_weight = 1.0;
    double dense_weight = 1.0;
    size_t budget = 0;  // tokens; 0: print the hits instead of a context
    std::string vocab = "cl100k_base";
    bool json = false;
};

int run_query(const QueryOptions& o) {
    auto mode = rag::parse_retrieval_mode(o.mode);
    if (!mode) {
        std::cerr << "error: unknown --mode '" << o.mode << "' (dense, bm25, hybrid)\n";
        return 2;
    }
    rag::QueryRequest request;
    request.text = o.text;
    request.top_k = o.top_k;
    request.mode = *mode;
    request.mmr = o.mmr;
    request.mmr_lambda = o.mmr_lambda;
    request.bm25_weight = o.bm25_weight;
    request.dense_weight = o.dense_weight;
    if (!o.filter.empty()) {
        auto filter = rag::MetadataFilter::parse_json(o.filter);
        if (!filter) {
            std::cerr << "error: " << filter.error().message << "\n";
            return 2;
        }
        request.filter = std::move(filter).value();
    }
    auto config = load_rag_config(o.config);
    if (auto* error = std::get_if<std::string>(&config)) {
        std::cerr << "error: " << *error << "\n";
        return 2;
    }
    const auto& cfg = std::get<0>(config);
    const std::string db = !o.db.empty() ? o.db : cfg ? cfg->rag.sqlite_path : kDefaultDb;
    if (!fs::exists(db)) {
        std::cerr << "error: " << db << " does not exist (ingest into it first, or --db)\n";
        return 1;
    }
    auto store = rag::RagStore::open(db);
    if (!store) {
        std::cerr << "error: " << store.error().message << "\n";
        return 1;
    }
    auto [embedder_name, dimension] = chosen_embedder(o.embedder, *store.value(), o.collection);
    if (o.embedder.empty()) {
        if (embedder_name.rfind("hashing", 0) == 0) embedder_name = "hashing";
        if (embedder_name.empty()) embedder_name = "glove";
    }
    auto embedder = make_embedder(embedder_name, cfg, dimension);
    if (auto* error = std::get_if<std::string>(&embedder)) {
        std::cerr << "error: " << *error << "\n";
        return 1;
    }
    auto collection =
        rag::Collection::open(store.value(), o.collection, std::get<0>(std::move(embedder)));
    if (!collection) {
        std::cerr << "error: " << collection.error().message << "\n";
        return 1;
    }
    auto hits = collection.value()->query(request);
    if (!hits) {
        std::cerr << "error: " << hits.error().message << "\n";
        return 2;
    }
    if (o.budget > 0) {
        tokens::TokenizerRegistry registry(tokens::default_vocab_dir());
        auto tok = registry.get(o.vocab);
        if (auto* error = std::get_if<std::string>(&tok)) {
            std::cerr << "error: " << *error << "\n";
            return 1;
        }
        rag::ContextOptions options;
        options.budget_tokens = o.budget;
        options.count_tokens = rag::token_counter(*std::get<0>(tok));
        const rag::AssembledContext ctx = rag::assemble_context(hits.value(), options);
        if (o.json) {
            std::string out;
            JsonWriter w(out);
            w.begin_object()
                .kv("context", ctx.text)
                .kv("tokens", static_cast<int64_t>(ctx.n_tokens));
            w.key("citations");
            rag::write_citations_json(w, ctx.citations);
            w.end_object();
            std::cout << out << "\n";
        } else {
            std::cout << ctx.text << "\n\n-- " << ctx.n_tokens << " of " << o.budget << " tokens ("
                      << o.vocab << "), " << ctx.chunks_used << " chunks used, "
                      << ctx.chunks_skipped << " skipped\n";
        }
        return 0;
    }
    if (o.json) {
        std::string out;
        JsonWriter w(out);
        w.begin_array();
        for (const auto& h : hits.value()) {
            w.begin_object()
                .kv("chunk_id", static_cast<int64_t>(h.chunk_id))
                .kv("score", static_cast<double>(h.score))
                .kv("document_id", h.document_id)
                .kv("source", h.source)
                .kv("index", static_cast<int64_t>(h.index))
                .kv("byte_begin", static_cast<int64_t>(h.byte_begin))
                .kv("byte_end", static_cast<int64_t>(h.byte_end))
                .kv("text", h.text)
                .end_object();
        }
        w.end_array();
        std::cout << out << "\n";
        return 0;
    }
    size_t rank = 0;
    for (const auto& h : hits.value()) {
        std::string preview = h.text.substr(0, 300);
        std::replace(preview.begin(), preview.end(), '\n', ' ');
        std::cout << fmt::format("{}. {:.4f}  {}#{}  (bytes {}-{})\n   {}{}\n", ++rank, h.score,
                                 h.source.empty() ? h.document_id : h.source, h.index, h.byte_begin,
                                 h.byte_end, preview, h.text.size() > 300 ? " ..." : "");
    }
    if (rank == 0) std::cout << "no results\n";
    return 0;
}

// ---------------------------------------------------------------- chunk

struct ChunkOptions {
    std::string file;
    std::string strategy = "recursive";
    size_t size = 1000;
    size_t overlap = 0;
    std::string unit = "characters";
    std::string vocab = "cl100k_base";
    std::string embedder = "glove";
    bool json = false;
};

int run_chunk(const ChunkOptions& o) {
    auto strategy = rag::parse_chunk_strategy(o.strategy);
    if (!strategy) {
        std::cerr << "error: unknown --strategy '" << o.strategy
                  << "' (character, sentence, paragraph, recursive, structural, semantic, "
                     "sliding_window)\n";
        return 2;
    }
    std::string text;
    if (!read_file(o.file, text)) {
        std::cerr << "error: cannot read " << o.file << "\n";
        return 1;
    }
    if (rag::is_html_name(o.file)) text = rag::html_to_text(text);
    tokens::TokenizerRegistry registry(tokens::default_vocab_dir());
    auto tok = registry.get(o.vocab);
    const tokens::Tokenizer* tokenizer = nullptr;
    if (auto* t = std::get_if<const tokens::Tokenizer*>(&tok)) tokenizer = *t;
    if (o.unit == "tokens" && tokenizer == nullptr) {
        std::cerr << "error: " << std::get<std::string>(tok) << "\n";
        return 1;
    }
    rag::ChunkerConfig config;
    config.strategy = *strategy;
    config.size.size = o.size;
    config.size.overlap = o.overlap;
    if (o.unit == "tokens") {
        config.size.unit = rag::SizeUnit::kTokens;
    } else if (o.unit == "utf16") {
        config.size.unit = rag::SizeUnit::kUtf16;
    } else if (o.unit != "characters") {
        std::cerr << "error: unknown --unit '" << o.unit << "' (characters, tokens, utf16)\n";
        return 2;
    }
    config.size.tokenizer = tokenizer;  // fills n_tokens in any unit
    std::shared_ptr<const rag::Embedder> embedder;
    if (*strategy == rag::ChunkStrategy::kSemantic) {
        auto made = make_embedder(o.embedder);
        if (auto* error = std::get_if<std::string>(&made)) {
            std::cerr << "error: " << *error << "\n";
            return 1;
        }
        embedder = std::get<0>(std::move(made));
        config.embedder = embedder.get();
    }
    auto chunker = rag::make_chunker(config);
    if (!chunker) {
        std::cerr << "error: " << chunker.error().message << "\n";
        return 2;
    }
    rag::Document d;
    d.id = o.file;
    d.source = o.file;
    d.text = std::move(text);
    auto chunks = chunker.value()->split(d);
    if (!chunks) {
        std::cerr << "error: " << chunks.error().message << "\n";
        return 1;
    }
    if (o.json) {
        std::string out;
        JsonWriter w(out);
        w.begin_array();
        for (const auto& c : chunks.value()) {
            w.begin_object()
                .kv("index", static_cast<int64_t>(c.index))
                .kv("byte_begin", static_cast<int64_t>(c.byte_begin))
                .kv("byte_end", static_cast<int64_t>(c.byte_end))
                .kv("char_begin", static_cast<int64_t>(c.char_begin))
                .kv("char_end", static_cast<int64_t>(c.char_end))
                .kv("n_chars", static_cast<int64_t>(c.n_chars))
                .kv("n_tokens", static_cast<int64_t>(c.n_tokens));
            w.key("heading_path").begin_array();
            for (const auto& h : c.heading_path)
                w.value(h);
            w.end_array().kv("text", c.text).end_object();
        }
        w.end_array();
        std::cout << out << "\n";
        return 0;
    }
    size_t total_tokens = 0;
    for (const auto& c : chunks.value()) {
        std::string path;
        for (const auto& h : c.heading_path)
            path += (path.empty() ? "" : " > ") + h;
        std::cout << fmt::format("--- chunk {}  bytes {}-{}  {} chars  {} tokens{}\n{}\n", c.index,
                                 c.byte_begin, c.byte_end, c.n_chars, c.n_tokens,
                                 path.empty() ? "" : "  [" + path + "]", c.text);
        total_tokens += c.n_tokens;
    }
    std::cout << fmt::format("--- {} chunks ({}, size {} {}, overlap {}), {} tokens ({})\n",
                             chunks->size(), o.strategy, o.size, o.unit, o.overlap, total_tokens,
                             o.vocab);
    return 0;
}

}  // namespace

void add_rag_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
    auto* ingest = app.add_subcommand("ingest", "Add files and directories to a RAG collection");
    auto io = std::make_shared<IngestOptions>();
    ingest->add_option("paths", io->paths, "Files and directories (.txt .md .html, source code)")
        ->required();
    ingest->add_option("--collection", io->collection, "Collection name (created if new)")
        ->required();
    ingest->add_option("-c,--config", io->config,
                       "Gateway config: its rag.sqlite_path, rag.embedder and remote embedder");
    ingest->add_option("--db", io->db,
                       "SQLite store (default: the config's rag.sqlite_path, else "
                       "./switchyard-rag.db)");
    ingest->add_option("--embedder", io->embedder,
                       "glove (default), hashing, or remote (with --config: the model "
                       "rag.remote_embedder names)");
    ingest->add_option("--strategy", io->strategy,
                       "Chunking for a new collection (default: recursive)");
    ingest->add_option("--chunk-size", io->size, "Chunk size in characters (default: 1000)");
    ingest->add_option("--overlap", io->overlap, "Chunk overlap in characters (default: 100)");
    ingest->add_flag("-q,--quiet", io->quiet, "No progress on stderr");
    actions.emplace_back(ingest, [io] { return run_ingest(*io); });

    auto* query = app.add_subcommand("query", "Search a RAG collection");
    auto qo = std::make_shared<QueryOptions>();
    query->add_option("text", qo->text, "The query")->required();
    query->add_option("--collection", qo->collection, "Collection name")->required();
    query->add_option("-c,--config", qo->config,
                      "Gateway config: its rag.sqlite_path and remote embedder");
    query->add_option("--db", qo->db,
                      "SQLite store (default: the config's rag.sqlite_path, else "
                      "./switchyard-rag.db)");
    query->add_option("--mode", qo->mode, "dense, bm25 or hybrid (default)");
    query->add_option("-k,--top-k", qo->top_k, "Number of chunks (default: 5)");
    query->add_option("--filter", qo->filter,
                      "Metadata filter as JSON, e.g. '{\"source\":{\"prefix\":\"docs/\"}}'");
    query->add_flag("--mmr", qo->mmr, "Re-rank for diversity (maximal marginal relevance)");
    query->add_option("--mmr-lambda", qo->mmr_lambda, "MMR relevance weight (default: 0.5)");
    query->add_option("--bm25-weight", qo->bm25_weight, "Hybrid: weight of the BM25 list (1)");
    query->add_option("--dense-weight", qo->dense_weight, "Hybrid: weight of the dense list (1)");
    query->add_option("--budget", qo->budget,
                      "Pack the hits into a context of at most this many tokens, with citations");
    query->add_option("--vocab", qo->vocab, "Vocabulary for --budget (default: cl100k_base)");
    query->add_option("--embedder", qo->embedder, "Override the collection's embedder");
    query->add_flag("--json", qo->json, "JSON output");
    actions.emplace_back(query, [qo] { return run_query(*qo); });

    auto* chunk = app.add_subcommand("chunk", "Print a file's chunks (for tuning a strategy)");
    auto co = std::make_shared<ChunkOptions>();
    chunk->add_option("file", co->file, "Text, Markdown, HTML or source file")->required();
    chunk->add_option("--strategy", co->strategy,
                      "character, sentence, paragraph, recursive (default), structural, "
                      "semantic, sliding_window");
    chunk->add_option("--size", co->size, "Chunk size (default: 1000)");
    chunk->add_option("--overlap", co->overlap, "Overlap (default: 0)");
    chunk->add_option("--unit", co->unit, "characters (default), tokens or utf16");
    chunk->add_option("--vocab", co->vocab, "Vocabulary for token sizes and counts");
    chunk->add_option("--embedder", co->embedder, "Embedder for --strategy semantic (glove)");
    chunk->add_flag("--json", co->json, "JSON output");
    actions.emplace_back(chunk, [co] { return run_chunk(*co); });
}

}  // namespace switchyard::cli
