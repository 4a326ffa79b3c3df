// Config loading: defaults, the embedded example, env expansion, and errors that name the
// file, line and key.
#include "switchyard/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace switchyard {
namespace {

ConfigError load_error(const std::string& yaml) {
    try {
        load_config_string(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "expected a ConfigError";
    return ConfigError("", 0, "", "");
}

TEST(Config, EmbeddedDefaultIsTheSeedCatalog) {
    auto c = default_config();
    ASSERT_EQ(c.models.size(), 4u);
    EXPECT_EQ(c.models[0].name, "gpt-4-turbo");
    EXPECT_EQ(c.models[0].provider, ProviderKind::kOpenAI);
    EXPECT_DOUBLE_EQ(c.models[0].price.input_per_1m_usd, 30.0);
    EXPECT_DOUBLE_EQ(c.models[0].price.output_per_1m_usd, 60.0);
    EXPECT_EQ(c.models[1].name, "claude-3-5-sonnet");
    EXPECT_EQ(c.models[1].provider, ProviderKind::kAnthropic);
    EXPECT_EQ(c.models[1].url.host, "api.anthropic.com");
    EXPECT_TRUE(c.models[1].url.tls);
    EXPECT_EQ(c.models[2].name, "llama-2");
    EXPECT_TRUE(c.models[2].local);
    EXPECT_EQ(c.models[2].provider, ProviderKind::kOpenAICompatible);
    EXPECT_EQ(c.models[3].name, "mistral");
    EXPECT_EQ(c.server.port, 8080);
    EXPECT_EQ(c.server.max_body_bytes, 10u * 1024 * 1024);
}

TEST(Config, MinimalConfigGetsDefaults) {
    auto c = load_config_string("models:\n  - name: a\n    provider: openai\n", "x.yaml");
    EXPECT_EQ(c.models[0].upstream_model, "a");
    EXPECT_EQ(c.models[0].base_url, "https://api.openai.com/v1");
    EXPECT_EQ(c.models[0].api_key_env, "OPENAI_API_KEY");
    EXPECT_EQ(c.models[0].url.path, "/v1");
    EXPECT_EQ(c.models[0].url.port, 443);
    EXPECT_EQ(c.server.host, "127.0.0.1");
}

TEST(Config, ExpandsEnvironmentVariables) {
    setenv("SY_CFG_TEST_PORT", "9123", 1);
    auto c = load_config_string(
        "models:\n  - name: a\n    provider: ollama\n    base_url: "
        "http://127.0.0.1:${SY_CFG_TEST_PORT}/v1\n"
        "  - name: b\n    provider: ollama\n    base_url: ${SY_CFG_UNSET:-http://h:1}/v1\n",
        "x.yaml");
    EXPECT_EQ(c.models[0].url.port, 9123);
    EXPECT_EQ(c.models[1].url.host, "h");
    EXPECT_NE(std::string(
                  load_error(
                      "models:\n  - name: a\n    provider: ollama\n    base_url: ${SY_CFG_UNSET}\n")
                      .what())
                  .find("SY_CFG_UNSET is not set"),
              std::string::npos);
}

TEST(Config, ErrorsNameFileLineAndKey) {
    auto e = load_error("server:\n  port: 8080\n  prot: 1\nmodels: []\n");
    EXPECT_EQ(e.file(), "test.yaml");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "server.prot");
    e = load_error("server:\n  port: eighty\nmodels: []\n");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "server.port");
    e = load_error(
        "models:\n  - name: a\n    provider: openai\n  - name: a\n    provider: openai\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(std::string(e.what()).find("duplicate"), std::string::npos);
    e = load_error("models:\n  - name: a\n    provider: cohere\n");
    EXPECT_EQ(e.key(), "models[0].provider");
    e = load_error("models:\n  - name: a\n    provider: ollama\n");
    EXPECT_EQ(e.key(), "models[0].base_url");
    e = load_error("models:\n  - name: a\n    provider: openai\n    base_url: ftp://x\n");
    EXPECT_EQ(e.line(), 4);
    e = load_error("server: [1, 2\n");
    EXPECT_EQ(e.key(), "(syntax)");
    e = load_error("server:\n  port: 8080\n");
    EXPECT_EQ(e.key(), "models");
}

TEST(Config, EmbeddedDefaultHasTheSeedPolicyRoutesAndFallbacks) {
    auto c = default_config();
    ASSERT_EQ(c.routing.policy.size(), 4u);
    EXPECT_EQ(c.routing.policy[0].name, "privacy");
    EXPECT_TRUE(c.routing.policy[0].local_only);
    EXPECT_EQ(c.routing.policy[0].prefer, std::vector<std::string>{"llama-2"});
    EXPECT_EQ(c.routing.policy[1].tasks, (std::vector<std::string>{"code", "reasoning"}));
    EXPECT_EQ(c.routing.policy[1].prefer.front(), "gpt-4-turbo");
    EXPECT_EQ(c.routing.policy[3].prefer, std::vector<std::string>{"claude-3-5-sonnet"});
    ASSERT_NE(c.find_route("route/private"), nullptr);
    EXPECT_TRUE(c.find_route("route/private")->local_only);
    EXPECT_DOUBLE_EQ(c.find_route("route/cheap")->weights.cost, 3.0);
    EXPECT_EQ(c.models[0].fallbacks, std::vector<std::string>{"claude-3-5-sonnet"});
    ASSERT_EQ(c.models[0].deployments.size(), 1u);
    EXPECT_EQ(c.models[0].deployments[0].name, "gpt-4-turbo");
    EXPECT_EQ(c.resilience.retry.max_attempts, 3);
    EXPECT_EQ(c.resilience.breaker.consecutive_failures, 5);
}

TEST(Config, DeploymentsAreNamedAndWeighted) {
    auto c = load_config_string(
        "models:\n  - name: m\n    provider: openai\n    deployments:\n"
        "      - {base_url: 'http://a:1/v1', weight: 3}\n"
        "      - {name: east, base_url: 'https://b/v1', api_key_env: K2}\n",
        "t.yaml");
    const auto& d = c.models[0].deployments;
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].name, "m#1");
    EXPECT_DOUBLE_EQ(d[0].weight, 3.0);
    EXPECT_EQ(d[1].name, "east");
    EXPECT_EQ(d[1].api_key_env, "K2");
    EXPECT_TRUE(d[1].url.tls);
    EXPECT_EQ(c.models[0].url.host, "a");  // the model's own URL is its first deployment's
}

TEST(Config, RoutingAndResilienceErrorsNameTheKey) {
    const std::string models =
        "models:\n  - name: a\n    provider: ollama\n    base_url: http://x/v1\n";
    auto e = load_error(models + "    fallbacks: [b]\n");
    EXPECT_EQ(e.key(), "models[0].fallbacks");
    EXPECT_NE(std::string(e.what()).find("unknown model 'b'"), std::string::npos);
    e = load_error(models + "    fallbacks: [a]\n");
    EXPECT_NE(std::string(e.what()).find("own fallback"), std::string::npos);
    e = load_error(models + "    quality: {poetry: 0.5}\n");
    EXPECT_EQ(e.key(), "models[0].quality.poetry");
    e = load_error(models + "    quality: {code: 1.5}\n");
    EXPECT_EQ(e.key(), "models[0].quality.code");
    e = load_error("routing:\n  policy:\n    - {tasks: [cooking], prefer: [a]}\n" + models);
    EXPECT_EQ(e.key(), "routing.policy[0].tasks");
    e = load_error("routing:\n  policy:\n    - {prefer: [zzz]}\n" + models);
    EXPECT_EQ(e.key(), "routing.policy[0].prefer");
    e = load_error("routing:\n  local_only_at: top-secret\n" + models);
    EXPECT_EQ(e.key(), "routing.local_only_at");
    e = load_error("routing:\n  routes:\n    - {name: a}\n" + models);
    EXPECT_NE(std::string(e.what()).find("also a model name"), std::string::npos);
    e = load_error("routing:\n  routes:\n    - {name: auto}\n" + models);
    EXPECT_EQ(e.key(), "routing.routes[0].name");
    e = load_error("resilience:\n  breaker: {failure_rate: 2}\n" + models);
    EXPECT_EQ(e.key(), "resilience.breaker.failure_rate");
    e = load_error("resilience:\n  retry: {max_attempts: 0}\n" + models);
    EXPECT_EQ(e.key(), "resilience.retry.max_attempts");
    e = load_error("models:\n  - name: auto\n    provider: ollama\n    base_url: http://x/v1\n");
    EXPECT_NE(std::string(e.what()).find("reserved"), std::string::npos);
}

TEST(Config, SemanticCacheSectionParsesAndNamesBadKeys) {
    const std::string models =
        "models:\n  - name: a\n    provider: ollama\n    base_url: http://x/v1\n";
    auto c = load_config_string(models, "x.yaml");
    EXPECT_FALSE(c.cache.semantic.enabled);  // off unless asked for
    EXPECT_EQ(c.cache.semantic.embedder, "glove");
    c = load_config_string(
        "cache:\n  semantic:\n    enabled: true\n    threshold: 0.93\n"
        "    thresholds: {a: 0.97}\n    embedder: hashing\n    multi_turn: true\n"
        "    max_entries_per_partition: 500\n    veto_radius: 0.8\n" +
            models,
        "x.yaml");
    const auto& s = c.cache.semantic;
    EXPECT_TRUE(s.enabled);
    EXPECT_DOUBLE_EQ(s.threshold, 0.93);
    ASSERT_EQ(s.thresholds.size(), 1u);
    EXPECT_EQ(s.thresholds[0].first, "a");
    EXPECT_DOUBLE_EQ(s.thresholds[0].second, 0.97);
    EXPECT_EQ(s.embedder, "hashing");
    EXPECT_TRUE(s.multi_turn);
    EXPECT_EQ(s.max_entries_per_partition, 500);
    EXPECT_DOUBLE_EQ(s.veto_radius, 0.8);

    auto e = load_error("cache:\n  semantic:\n    threshold: 1.5\n" + models);
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "cache.semantic.threshold");
    e = load_error("cache:\n  semantic:\n    embedder: bert\n" + models);
    EXPECT_EQ(e.key(), "cache.semantic.embedder");
    EXPECT_NE(std::string(e.what()).find("glove or hashing"), std::string::npos);
    e = load_error("cache:\n  semantic:\n    thresholds: {a: nope}\n" + models);
    EXPECT_EQ(e.key(), "cache.semantic.thresholds.a");
    e = load_error("cache:\n  semantic:\n    treshold: 0.9\n" + models);
    EXPECT_EQ(e.key(), "cache.semantic.treshold");
    e = load_error("cache:\n  semantic:\n    max_entries_per_partition: 0\n" + models);
    EXPECT_EQ(e.key(), "cache.semantic.max_entries_per_partition");
}

TEST(Config, CachePersistPathIsOffByDefaultAndNamesBadValues) {
    const std::string models =
        "models:\n  - name: a\n    provider: ollama\n    base_url: http://x/v1\n";
    EXPECT_EQ(load_config_string(models, "x.yaml").cache.persist_path, "");
    EXPECT_EQ(default_config().cache.persist_path, "");  // the example leaves it off
    auto c =
        load_config_string("cache:\n  persist_path: /var/lib/sy/cache.db\n" + models, "x.yaml");
    EXPECT_EQ(c.cache.persist_path, "/var/lib/sy/cache.db");
    auto e = load_error("cache:\n  persist_path: [a, b]\n" + models);
    EXPECT_EQ(e.key(), "cache.persist_path");
    EXPECT_NE(std::string(e.what()).find("must be a string"), std::string::npos);
    e = load_error("cache:\n  persist_path: /tmp\n" + models);
    EXPECT_EQ(e.key(), "cache.persist_path");
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos);
    e = load_error("cache:\n  persit_path: x.db\n" + models);
    EXPECT_EQ(e.key(), "cache.persit_path");
}

// The `rag:` section: defaults (on, its own SQLite file, GloVe), values, and errors that
// name the file, line and key.
const std::string kRagModels =
    "models:\n  - name: a\n    provider: ollama\n    base_url: http://x/v1\n";

TEST(RagConfig, DefaultsAndValues) {
    const RagConfig d = load_config_string(kRagModels, "x.yaml").rag;
    EXPECT_TRUE(d.enabled);
    EXPECT_EQ(d.sqlite_path, "switchyard-rag.db");
    EXPECT_EQ(d.embedder, "glove");
    EXPECT_EQ(d.top_k, 6);
    EXPECT_EQ(default_config().rag.sqlite_path, "switchyard-rag.db");  // the example agrees
    const RagConfig r = load_config_string(
                            "rag:\n  enabled: false\n  sqlite_path: /srv/rag.db\n  embedder: "
                            "hashing\n  chunk_size: 400\n  chunk_overlap: 40\n  "
                            "max_document_kb: 64\n  top_k: 3\n  context_tokens: 900\n" +
                                kRagModels,
                            "x.yaml")
                            .rag;
    EXPECT_FALSE(r.enabled);
    EXPECT_EQ(r.sqlite_path, "/srv/rag.db");
    EXPECT_EQ(r.embedder, "hashing");
    EXPECT_EQ(r.chunk_size, 400);
    EXPECT_EQ(r.chunk_overlap, 40);
    EXPECT_EQ(r.max_document_kb, 64);
    EXPECT_EQ(r.top_k, 3);
    EXPECT_EQ(r.context_tokens, 900);
}

TEST(RagConfig, ErrorsNameTheKey) {
    auto e = load_error("rag:\n  embedder: bert\n" + kRagModels);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "rag.embedder");
    EXPECT_NE(std::string(e.what()).find("glove, hashing or remote"), std::string::npos);
    e = load_error("rag:\n  chunk_size: 100\n  chunk_overlap: 100\n" + kRagModels);
    EXPECT_EQ(e.key(), "rag.chunk_overlap");
    e = load_error("rag:\n  top_k: 0\n" + kRagModels);
    EXPECT_EQ(e.key(), "rag.top_k");
    e = load_error("rag:\n  colection: x\n" + kRagModels);
    EXPECT_EQ(e.key(), "rag.colection");
}

// rag.remote_embedder names a model of the models: list; the model's provider settings are
// copied in, so the RAG engine can call it.
const std::string kEmbedModels =
    "models:\n  - name: a\n    provider: ollama\n    base_url: http://x/v1\n"
    "  - name: emb\n    provider: openai\n    upstream_model: text-embedding-3-small\n"
    "    base_url: https://api.example/v1\n    api_key_env: EMB_KEY\n"
    "  - name: claude\n    provider: anthropic\n";

TEST(RagConfig, RemoteEmbedderReferencesAModel) {
    const RagConfig d = load_config_string(kEmbedModels, "x.yaml").rag;
    EXPECT_TRUE(d.remote_embedder.model.empty());
    EXPECT_EQ(d.remote_embedder.batch_size, 64);
    EXPECT_EQ(d.remote_embedder.max_retries, 3);
    EXPECT_EQ(d.remote_embedder.dimensions, 0);

    const RagConfig r = load_config_string(
                            "upstream:\n  connect_timeout_ms: 1234\nrag:\n  embedder: remote\n  "
                            "remote_embedder:\n    model: emb\n    batch_size: 16\n    "
                            "max_batch_kb: 100\n    timeout_ms: 5000\n    max_retries: 2\n    "
                            "dimensions: 1536\n" +
                                kEmbedModels,
                            "x.yaml")
                            .rag;
    EXPECT_EQ(r.embedder, "remote");
    EXPECT_EQ(r.remote_embedder.model, "emb");
    EXPECT_EQ(r.remote_embedder.batch_size, 16);
    EXPECT_EQ(r.remote_embedder.max_batch_kb, 100);
    EXPECT_EQ(r.remote_embedder.timeout_ms, 5000);
    EXPECT_EQ(r.remote_embedder.max_retries, 2);
    EXPECT_EQ(r.remote_embedder.dimensions, 1536);
    EXPECT_EQ(r.remote_embedder.model_config.upstream_model, "text-embedding-3-small");
    EXPECT_EQ(r.remote_embedder.model_config.url.host, "api.example");
    EXPECT_EQ(r.remote_embedder.model_config.api_key_env, "EMB_KEY");
    EXPECT_EQ(r.remote_embedder.upstream.connect_timeout_ms, 1234);

    // Defined but not the default: collections choose it by name.
    const RagConfig g =
        load_config_string("rag:\n  remote_embedder: {model: emb}\n" + kEmbedModels, "x.yaml").rag;
    EXPECT_EQ(g.embedder, "glove");
    EXPECT_EQ(g.remote_embedder.model_config.name, "emb");
}

TEST(RagConfig, RemoteEmbedderErrors) {
    auto e = load_error("rag:\n  embedder: remote\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.embedder");
    EXPECT_NE(std::string(e.what()).find("rag.remote_embedder"), std::string::npos);
    e = load_error("rag:\n  remote_embedder:\n    model: nope\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.remote_embedder.model");
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("unknown model 'nope'"), std::string::npos);
    e = load_error("rag:\n  remote_embedder:\n    model: claude\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.remote_embedder.model");
    EXPECT_NE(std::string(e.what()).find("no embeddings API"), std::string::npos);
    e = load_error("rag:\n  remote_embedder:\n    batch_size: 8\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.remote_embedder.model");
    EXPECT_NE(std::string(e.what()).find("is required"), std::string::npos);
    e = load_error("rag:\n  remote_embedder: {model: emb, batch_size: 0}\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.remote_embedder.batch_size");
    e = load_error("rag:\n  remote_embedder: {model: emb, retries: 1}\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.remote_embedder.retries");
    e = load_error("rag:\n  remote_embedder: emb\n" + kEmbedModels);
    EXPECT_EQ(e.key(), "rag.remote_embedder");
}

TEST(Url, ParsesHostsPortsAndPaths) {
    auto u = Url::parse("http://127.0.0.1:11434/v1/");
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->tls);
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 11434);
    EXPECT_EQ(u->path, "/v1");
    EXPECT_EQ(u->host_header(), "127.0.0.1:11434");
    auto v6 = Url::parse("https://[::1]:8443");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->host_header(), "[::1]:8443");
    EXPECT_EQ(Url::parse("https://api.openai.com/v1")->host_header(), "api.openai.com");
    EXPECT_FALSE(Url::parse("api.openai.com"));
    EXPECT_FALSE(Url::parse("http://:80"));
    EXPECT_FALSE(Url::parse("http://h:99999"));
    EXPECT_FALSE(Url::parse("http://user@h"));
}

}  // namespace
}  // namespace switchyard
