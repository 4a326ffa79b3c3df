// Config loading: the response cache, the semantic cache and the RAG engine.
#include <filesystem>
#include <set>
#include <string>

#include "loader.hpp"

namespace switchyard::config_detail {

void Loader::load_cache(const YAML::Node& n, CacheConfig& c) const {
    check_keys(
        n, "cache",
        {"enabled", "max_mb", "max_entry_kb", "default_ttl_s", "stale_grace_s", "max_temperature",
         "policy", "shared_models", "single_flight_wait_ms", "semantic", "persist_path"});
    if (n["enabled"]) c.enabled = boolean(n["enabled"], "cache.enabled");
    if (n["max_mb"]) c.max_mb = integer(n["max_mb"], "cache.max_mb", 1, 1 << 20);
    if (n["max_entry_kb"]) {
        c.max_entry_kb = integer(n["max_entry_kb"], "cache.max_entry_kb", 1, 1 << 20);
    }
    if (n["default_ttl_s"]) {
        c.default_ttl_s = integer(n["default_ttl_s"], "cache.default_ttl_s", 1, 31'536'000);
    }
    if (n["stale_grace_s"]) {
        c.stale_grace_s = integer(n["stale_grace_s"], "cache.stale_grace_s", 0, 31'536'000);
    }
    if (n["max_temperature"]) {
        c.max_temperature = number(n["max_temperature"], "cache.max_temperature", 0);
    }
    if (n["policy"]) {
        c.policy = str(n["policy"], "cache.policy");
        if (c.policy != "gdsf" && c.policy != "lru") {
            fail(n["policy"], "cache.policy", "must be gdsf or lru");
        }
    }
    if (n["shared_models"]) c.shared_models = strings(n["shared_models"], "cache.shared_models");
    if (n["single_flight_wait_ms"]) {
        c.single_flight_wait_ms =
            integer(n["single_flight_wait_ms"], "cache.single_flight_wait_ms", 0, 600'000);
    }
    if (n["semantic"]) load_semantic_cache(n["semantic"], c.semantic);
    if (n["persist_path"]) {
        c.persist_path = str(n["persist_path"], "cache.persist_path");
        std::error_code ec;
        if (!c.persist_path.empty() && std::filesystem::is_directory(c.persist_path, ec)) {
            fail(n["persist_path"], "cache.persist_path",
                 "is a directory; name the SQLite file to create in it");
        }
    }
}

void Loader::load_semantic_cache(const YAML::Node& n, SemanticCacheConfig& s) const {
    check_keys(n, "cache.semantic",
               {"enabled", "threshold", "thresholds", "embedder", "max_entries_per_partition",
                "multi_turn", "veto_radius"});
    if (n["enabled"]) s.enabled = boolean(n["enabled"], "cache.semantic.enabled");
    if (n["threshold"]) s.threshold = similarity(n["threshold"], "cache.semantic.threshold");
    if (const auto t = n["thresholds"]) {
        if (!t.IsMap()) {
            fail(t, "cache.semantic.thresholds", "must be a mapping of model or route to 0..1");
        }
        for (const auto& kv : t) {
            const auto model = kv.first.as<std::string>();
            s.thresholds.emplace_back(model,
                                      similarity(kv.second, "cache.semantic.thresholds." + model));
        }
    }
    if (n["embedder"]) {
        s.embedder = str(n["embedder"], "cache.semantic.embedder");
        if (s.embedder != "glove" && s.embedder != "hashing") {
            fail(n["embedder"], "cache.semantic.embedder", "must be glove or hashing");
        }
    }
    if (n["max_entries_per_partition"]) {
        s.max_entries_per_partition =
            integer(n["max_entries_per_partition"], "cache.semantic.max_entries_per_partition", 1,
                    10'000'000);
    }
    if (n["multi_turn"]) s.multi_turn = boolean(n["multi_turn"], "cache.semantic.multi_turn");
    if (n["veto_radius"]) {
        s.veto_radius = similarity(n["veto_radius"], "cache.semantic.veto_radius");
    }
}

void Loader::load_rag(const YAML::Node& n, RagConfig& r) const {
    check_keys(n, "rag",
               {"enabled", "sqlite_path", "embedder", "remote_embedder", "chunk_size",
                "chunk_overlap", "max_document_kb", "top_k", "context_tokens"});
    if (n["enabled"]) r.enabled = boolean(n["enabled"], "rag.enabled");
    if (n["sqlite_path"]) r.sqlite_path = str(n["sqlite_path"], "rag.sqlite_path");
    if (n["embedder"]) {
        r.embedder = str(n["embedder"], "rag.embedder");
        if (r.embedder != "glove" && r.embedder != "hashing" && r.embedder != "remote") {
            fail(n["embedder"], "rag.embedder",
                 "must be glove, hashing or remote (the model rag.remote_embedder names)");
        }
    }
    if (const auto e = n["remote_embedder"]) {
        const std::string k = "rag.remote_embedder";
        if (!e.IsMap()) fail(e, k, "must be a map {model, batch_size, timeout_ms, ...}");
        check_keys(
            e, k,
            {"model", "batch_size", "max_batch_kb", "timeout_ms", "max_retries", "dimensions"});
        RagRemoteEmbedderConfig& re = r.remote_embedder;
        if (!e["model"]) fail(e, k + ".model", "is required (the name of a model in models:)");
        re.model = str(e["model"], k + ".model");
        if (e["batch_size"]) re.batch_size = integer(e["batch_size"], k + ".batch_size", 1, 2048);
        if (e["max_batch_kb"]) {
            re.max_batch_kb = integer(e["max_batch_kb"], k + ".max_batch_kb", 1, 1 << 20);
        }
        if (e["timeout_ms"]) {
            re.timeout_ms = integer(e["timeout_ms"], k + ".timeout_ms", 100, 3'600'000);
        }
        if (e["max_retries"]) re.max_retries = integer(e["max_retries"], k + ".max_retries", 0, 10);
        if (e["dimensions"]) re.dimensions = integer(e["dimensions"], k + ".dimensions", 0, 65536);
    }
    if (r.embedder == "remote" && r.remote_embedder.model.empty()) {
        fail(n["embedder"], "rag.embedder",
             "remote needs rag.remote_embedder: {model: <a model in models:>}");
    }
    if (n["chunk_size"]) r.chunk_size = integer(n["chunk_size"], "rag.chunk_size", 16, 1 << 20);
    if (n["chunk_overlap"]) {
        r.chunk_overlap = integer(n["chunk_overlap"], "rag.chunk_overlap", 0, 1 << 20);
    }
    if (r.chunk_overlap >= r.chunk_size) {
        fail(n["chunk_overlap"] ? n["chunk_overlap"] : n, "rag.chunk_overlap",
             "must be smaller than rag.chunk_size");
    }
    if (n["max_document_kb"]) {
        r.max_document_kb = integer(n["max_document_kb"], "rag.max_document_kb", 1, 1 << 20);
    }
    if (n["top_k"]) r.top_k = integer(n["top_k"], "rag.top_k", 1, 100);
    if (n["context_tokens"]) {
        r.context_tokens = integer(n["context_tokens"], "rag.context_tokens", 1, 1 << 20);
    }
}

// rag.remote_embedder.model must be a model that speaks OpenAI's /v1/embeddings.
void Loader::resolve_rag_embedder(const YAML::Node& root, Config& c) const {
    RagRemoteEmbedderConfig& re = c.rag.remote_embedder;
    const YAML::Node node = root["rag"]["remote_embedder"]["model"];
    const ModelConfig* m = c.find_model(re.model);
    if (m == nullptr) {
        fail(node, "rag.remote_embedder.model",
             fmt::format("unknown model '{}' (it must be one of the models: entries)", re.model));
    }
    if (m->provider == ProviderKind::kAnthropic) {
        fail(node, "rag.remote_embedder.model",
             fmt::format("model '{}' is an Anthropic model, which has no embeddings API; name "
                         "an OpenAI or OpenAI-compatible model",
                         re.model));
    }
    re.model_config = *m;
    re.upstream = c.upstream;
}

}  // namespace switchyard::config_detail
