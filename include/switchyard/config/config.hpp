// Gateway configuration: the YAML file (see examples/switchyard.yaml, every knob commented)
// loaded into plain, immutable structs once at start-up.
// Thread safety: a loaded Config is immutable and shared read-only by all threads.
// Failure: loading throws ConfigError naming the file, line and key (exceptions are fine
// at start-up; nothing on the request path throws).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/resilience/circuit_breaker.hpp"
#include "switchyard/resilience/retry.hpp"
#include "switchyard/routing/router.hpp"

namespace switchyard {

// An upstream base URL split into what the HTTP client needs.
struct Url {
    bool tls = false;
    std::string host;
    uint16_t port = 0;
    std::string path;  // base path without trailing '/', e.g. "/v1"

    // Accepts http:// and https:// URLs; returns nullopt for anything else.
    static std::optional<Url> parse(std::string_view text);
    std::string host_header() const;  // "host" or "host:port" when not the default port
};

enum class ProviderKind {
    kOpenAI,            // api.openai.com and anything speaking its API with a key
    kAnthropic,         // Anthropic Messages API
    kOpenAICompatible,  // local servers: Ollama /v1, llama.cpp server, vLLM (key optional)
};
std::string_view to_string(ProviderKind kind);

struct ModelPrice {
    double input_per_1m_usd = 0;
    double output_per_1m_usd = 0;
};

// One endpoint serving a model. A model has one (its base_url) or several (`deployments:`),
// balanced by weight and in-flight calls, each with its own circuit breaker.
struct DeploymentConfig {
    std::string name;  // "<model>" or "<model>#<n>" unless named in the config
    std::string base_url;
    Url url;
    std::string api_key_env;  // empty = the model's
    double weight = 1.0;
};

struct ModelConfig {
    std::string name;  // public name clients send as `model`
    ProviderKind provider = ProviderKind::kOpenAI;
    std::string provider_name;   // as written in the config (e.g. "ollama"), for metrics
    std::string upstream_model;  // id sent to the provider
    std::string base_url;
    Url url;
    std::string api_key_env;  // name of the env var holding the key; empty = no key
    int64_t context_window = 0;
    int64_t max_output_tokens = 0;      // 0 = provider default
    int64_t default_max_tokens = 4096;  // sent to Anthropic when the request has none
    std::vector<std::string> capabilities;
    ModelPrice price;
    bool local = false;
    std::vector<std::pair<std::string, std::string>> headers;  // extra upstream headers
    // Vocabulary for counting (cl100k_base, o200k_base, claude, llama3, llama2, mistral);
    // empty = chosen from upstream_model by name (see tokens/chat_tokens.hpp).
    std::string tokenizer;
    // Routing and failover.
    std::vector<std::string> fallbacks;  // models tried, in order, when this one fails
    // Quality 0..1 per task type (code, reasoning, summarization, extraction, translation,
    // creative, chat); unset tasks are derived from the capabilities.
    std::vector<std::pair<std::string, double>> quality;
    int64_t max_concurrency = 0;  // in-flight calls over all deployments; 0 = unlimited
    std::vector<DeploymentConfig> deployments;  // never empty after loading

    bool has_capability(std::string_view cap) const;
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    int threads = 0;  // 0 = one per core
    uint64_t max_body_bytes = 10 * 1024 * 1024;
    uint32_t max_header_bytes = 16 * 1024;
    int64_t request_timeout_ms = 30'000;  // to receive one whole request
    int64_t idle_timeout_ms = 60'000;     // keep-alive idle between requests
    int64_t shutdown_grace_ms = 10'000;   // in-flight requests get this long on SIGTERM
    uint32_t max_connections = 10'000;
};

struct UpstreamConfig {
    int64_t connect_timeout_ms = 5'000;
    int64_t first_byte_timeout_ms = 60'000;
    int64_t between_chunks_timeout_ms = 30'000;
    int64_t total_timeout_ms = 300'000;
    uint32_t max_idle_connections_per_host = 64;  // per thread
    uint64_t max_response_bytes = 64 * 1024 * 1024;
    std::string ca_file;  // extra CA bundle (PEM); empty = system trust store only
    bool verify_tls = true;
};

struct LoggingConfig {
    std::string level = "info";   // trace, debug, info, warn, error
    std::string format = "text";  // text or json
};

// Who may call the gateway.
struct AuthConfig {
    // No key needed. Refused unless server.host is a loopback address: local development only.
    bool open_access = false;
    std::string admin_key_env;           // env var holding the admin key; empty = no admin key
    std::string admin_key;               // its value, read at load time (never logged)
    int64_t refresh_interval_ms = 1000;  // how often the key table is re-read for changes
};

// The embedded store: usage ledger and API keys.
struct StorageConfig {
    std::string sqlite_path = "switchyard.db";
};

struct LedgerConfig {
    int64_t flush_interval_ms = 200;
    int64_t batch_rows = 256;
    int64_t max_pending_rows = 100'000;
};

struct BudgetsConfig {
    double global_usd = 0;  // 0 = no global budget
    std::string global_period = "month";
    std::vector<double> alert_thresholds = {0.5, 0.8, 1.0};
    std::string webhook_url;  // POSTed a JSON alert when a threshold is crossed; empty = none
    // Completion tokens assumed for the reservation when a request sets no max_tokens and
    // its model no max_output_tokens.
    int64_t default_max_tokens = 4096;
};

struct TokensConfig {
    std::string vocab_dir;  // empty = $SWITCHYARD_VOCAB_DIR, else the build's data/vocab
};

// routing.policy[]: when a request matches, the `prefer` models get the policy bonus.
struct PolicyRuleConfig {
    std::string name;
    std::vector<std::string> tasks;  // empty = any
    std::string min_privacy;         // none, personal, sensitive, secret; empty = any
    std::string min_complexity;      // low, medium, high; empty = any
    std::string max_complexity;
    int64_t max_prompt_tokens = 0;  // 0 = any
    std::vector<std::string> prefer;
    bool local_only = false;
};

// routing.routes[]: a named alias clients send as `model` (e.g. "route/cheap").
struct RouteConfig {
    std::string name;
    std::vector<std::string> models;  // candidate set; empty = every chat model
    bool local_only = false;
    bool use_policy = true;
    routing::RouterWeights weights;
};

struct RoutingConfig {
    routing::RouterWeights weights;
    std::string local_only_at = "personal";  // prompts with PII at or above this stay local
    // Explicitly named remote models and prompts at or above local_only_at: "allow" sends
    // them (the caller chose the model), "deny" answers 403 pii_blocked.
    std::string explicit_remote_pii = "allow";
    double latency_reference_ms = 10'000;
    int64_t load_reference = 32;
    double stats_ewma_alpha = 0.2;  // weight of the newest sample in latency/error EWMAs
    std::vector<PolicyRuleConfig> policy;
    std::vector<RouteConfig> routes;
};

struct ResilienceConfig {
    resilience::RetryConfig retry;          // max_attempts is per model
    resilience::BreakerConfig breaker;      // per deployment
    int64_t max_total_attempts = 6;         // over all models of one request
    int64_t request_deadline_ms = 120'000;  // no new attempt starts after this
    bool rate_limit_to_local = true;        // a 429 from a remote model moves local models first
    std::string incidents_path = "switchyard-incidents.jsonl";  // empty = memory only
};

// The semantic side of the response cache (docs/cache.md, "Semantic cache").
struct SemanticCacheConfig {
    bool enabled = false;
    double threshold = 0.80;  // cosine similarity needed for a hit
    // Per requested model or route (cache.semantic.thresholds: {model: 0.95}).
    std::vector<std::pair<std::string, double>> thresholds;
    std::string embedder = "glove";  // glove | hashing (the RAG engine's built-ins)
    int64_t max_entries_per_partition = 10'000;
    bool multi_turn = false;    // also requests with earlier turns (matched exactly)
    double veto_radius = 0.85;  // feedback tightens the threshold this close to a bad hit
};

// The response cache (docs/cache.md).
struct CacheConfig {
    bool enabled = true;
    int64_t max_mb = 256;
    int64_t max_entry_kb = 1024;  // larger answers are not cached (counted)
    int64_t default_ttl_s = 3600;
    int64_t stale_grace_s = 86'400;  // expired entries kept this long for stale-if-error
    // Requests are cached by default only at or below this temperature (absent = 1.0, the
    // providers' default); above it only with Cache-Control: max-age or the `cache` field.
    double max_temperature = 0.0;
    std::string policy = "gdsf";             // gdsf | lru
    std::vector<std::string> shared_models;  // cached across tenants (one namespace)
    // Identical cacheable requests arriving together make one upstream call; the others
    // wait this long at most for its answer, then go on their own.
    int64_t single_flight_wait_ms = 30'000;  // 0 = off
    // SQLite file the exact cache persists to, so a restart keeps it warm; "" = memory only.
    std::string persist_path;
    SemanticCacheConfig semantic;
};

// rag.remote_embedder: an OpenAI-compatible /v1/embeddings model from `models:` (its
// provider, base_url, key and headers are used), called in batches with retries.
struct RagRemoteEmbedderConfig {
    std::string model;            // a name in models: (not Anthropic); empty = none configured
    int64_t batch_size = 64;      // inputs per upstream call
    int64_t max_batch_kb = 512;   // ... and at most this much text per call
    int64_t timeout_ms = 30'000;  // one upstream call (first byte and total)
    int64_t max_retries = 3;      // retries of a 429, 5xx, timeout or connect failure
    // Vector size: 0 = learned by one probe call when the embedder is first used; else every
    // answer must have this many dimensions (not sent upstream).
    int64_t dimensions = 0;
    // Filled at load: the model `model` names and the upstream settings (TLS, connect timeout),
    // so the RAG engine needs no other part of the config.
    ModelConfig model_config;
    UpstreamConfig upstream;
};

// The RAG engine behind /v1/rag/* and the chat `rag` field (docs/rag.md).
struct RagConfig {
    bool enabled = true;
    // Collections, documents, chunks and vectors; created on first use, not at start-up.
    std::string sqlite_path = "switchyard-rag.db";
    // For new collections: glove | hashing | remote (rag.remote_embedder).
    std::string embedder = "glove";
    RagRemoteEmbedderConfig remote_embedder;
    int64_t chunk_size = 1000;  // new collections' default chunking (recursive, characters)
    int64_t chunk_overlap = 100;
    int64_t max_document_kb = 16'384;  // one document's text
    // The chat `rag` field: chunks retrieved and the token budget of the injected context.
    int64_t top_k = 6;
    int64_t context_tokens = 2000;
};

struct Config {
    std::string source;  // file path, or "<embedded>"
    ServerConfig server;
    UpstreamConfig upstream;
    LoggingConfig logging;
    AuthConfig auth;
    StorageConfig storage;
    LedgerConfig ledger;
    BudgetsConfig budgets;
    TokensConfig tokens;
    RoutingConfig routing;
    ResilienceConfig resilience;
    CacheConfig cache;
    RagConfig rag;
    std::vector<ModelConfig> models;

    const ModelConfig* find_model(std::string_view name) const;
    const RouteConfig* find_route(std::string_view name) const;
};

class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string& file, int line, const std::string& key,
                const std::string& message);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    const std::string& key() const { return key_; }

private:
    std::string file_;
    int line_;
    std::string key_;
};

// 127.0.0.0/8, ::1 or localhost.
bool is_loopback_host(std::string_view host);

// Loads and validates a YAML config. `${VAR}` and `${VAR:-default}` in string values are
// replaced from the environment.
Config load_config_file(const std::string& path);
Config load_config_string(const std::string& yaml, const std::string& source_name);
// The built-in default config (the text of examples/switchyard.yaml, embedded at build).
Config default_config();
std::string_view default_config_yaml();

}  // namespace switchyard
