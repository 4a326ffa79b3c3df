// The `rag:` config section: defaults (on, its own SQLite file, GloVe), values, and errors
// that name the file, line and key.
#include <gtest/gtest.h>

#include "switchyard/config/config.hpp"

namespace switchyard {
namespace {

const std::string kModels =
    "models:\n  - name: a\n    provider: ollama\n    base_url: http://x/v1\n";

ConfigError load_error(const std::string& yaml) {
    try {
        load_config_string(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "expected a ConfigError";
    return ConfigError("", 0, "", "");
}

TEST(RagConfig, DefaultsAndValues) {
    const RagConfig d = load_config_string(kModels, "x.yaml").rag;
    EXPECT_TRUE(d.enabled);
    EXPECT_EQ(d.sqlite_path, "switchyard-rag.db");
    EXPECT_EQ(d.embedder, "glove");
    EXPECT_EQ(d.top_k, 6);
    EXPECT_EQ(default_config().rag.sqlite_path, "switchyard-rag.db");  // the example agrees
    const RagConfig r = load_config_string(
                            "rag:\n  enabled: false\n  sqlite_path: /srv/rag.db\n  embedder: "
                            "hashing\n  chunk_size: 400\n  chunk_overlap: 40\n  "
                            "max_document_kb: 64\n  top_k: 3\n  context_tokens: 900\n" +
                                kModels,
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
    auto e = load_error("rag:\n  embedder: bert\n" + kModels);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "rag.embedder");
    EXPECT_NE(std::string(e.what()).find("glove or hashing"), std::string::npos);
    e = load_error("rag:\n  chunk_size: 100\n  chunk_overlap: 100\n" + kModels);
    EXPECT_EQ(e.key(), "rag.chunk_overlap");
    e = load_error("rag:\n  top_k: 0\n" + kModels);
    EXPECT_EQ(e.key(), "rag.top_k");
    e = load_error("rag:\n  colection: x\n" + kModels);
    EXPECT_EQ(e.key(), "rag.colection");
}

}  // namespace
}  // namespace switchyard
