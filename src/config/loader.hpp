// Private to src/config: the YAML walker behind load_config_string(). The section loaders
// live in config.cpp (server, auth, storage, ledger, budgets and the whole file),
// config_models.cpp (models, routing, resilience, cross-references) and
// config_cache_rag.cpp (cache, semantic cache, RAG); the checks every loader uses are here.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config_detail {

// Walks the YAML tree, checking keys and types and remembering the file name.
class Loader {
public:
    explicit Loader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                           const std::string& message) const {
        const int line = node.IsDefined() ? node.Mark().line + 1 : 0;
        throw ConfigError(file_, line, key, message);
    }

    void check_keys(const YAML::Node& map, const std::string& path,
                    std::initializer_list<std::string_view> allowed) const {
        if (!map.IsMap()) fail(map, path, "must be a mapping");
        for (const auto& kv : map) {
            const auto k = kv.first.as<std::string>();
            if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
                std::string list;
                for (auto a : allowed)
                    list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
                fail(kv.first, join(path, k),
                     fmt::format("unknown key (expected one of: {})", list));
            }
        }
    }

    static std::string join(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
    }

    std::string expand_env(const YAML::Node& node, const std::string& key,
                           const std::string& in) const {
        std::string out;
        size_t i = 0;
        while (i < in.size()) {
            if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '{') {
                const size_t close = in.find('}', i);
                if (close == std::string::npos) fail(node, key, "unterminated ${...}");
                std::string expr = in.substr(i + 2, close - i - 2);
                std::string fallback;
                bool has_fallback = false;
                if (auto d = expr.find(":-"); d != std::string::npos) {
                    fallback = expr.substr(d + 2);
                    expr.resize(d);
                    has_fallback = true;
                }
                const char* v = std::getenv(expr.c_str());
                if (v && *v) {
                    out += v;
                } else if (has_fallback) {
                    out += fallback;
                } else {
                    fail(node, key, fmt::format("environment variable {} is not set", expr));
                }
                i = close + 1;
            } else {
                out.push_back(in[i++]);
            }
        }
        return out;
    }

    std::string str(const YAML::Node& node, const std::string& key) const {
        if (!node.IsScalar()) fail(node, key, "must be a string");
        return expand_env(node, key, node.as<std::string>());
    }

    int64_t integer(const YAML::Node& node, const std::string& key, int64_t min,
                    int64_t max) const {
        if (!node.IsScalar()) fail(node, key, "must be an integer");
        const auto text = expand_env(node, key, node.Scalar());
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || ptr != text.data() + text.size()) {
            fail(node, key, fmt::format("must be an integer, got '{}'", text));
        }
        if (v < min || v > max) {
            fail(node, key, fmt::format("must be between {} and {}, got {}", min, max, v));
        }
        return v;
    }

    double number(const YAML::Node& node, const std::string& key, double min) const {
        if (!node.IsScalar()) fail(node, key, "must be a number");
        try {
            size_t used = 0;
            const double v = std::stod(node.Scalar(), &used);
            if (used != node.Scalar().size()) throw std::invalid_argument("trailing");
            if (v < min) fail(node, key, fmt::format("must be >= {}", min));
            return v;
        } catch (const std::logic_error&) {
            fail(node, key, fmt::format("must be a number, got '{}'", node.Scalar()));
        }
    }

    bool boolean(const YAML::Node& node, const std::string& key) const {
        bool b = false;
        if (!node.IsScalar() || !YAML::convert<bool>::decode(node, b)) {
            fail(node, key, "must be true or false");
        }
        return b;
    }

    void load_server(const YAML::Node& n, ServerConfig& s) const;

    void load_upstream(const YAML::Node& n, UpstreamConfig& u) const;

    void load_logging(const YAML::Node& n, LoggingConfig& l) const;

    void load_auth(const YAML::Node& n, AuthConfig& a) const;

    void load_storage(const YAML::Node& n, StorageConfig& s) const;

    void load_ledger(const YAML::Node& n, LedgerConfig& l) const;

    void load_budgets(const YAML::Node& n, BudgetsConfig& b) const;

    ModelConfig load_model(const YAML::Node& n, size_t index) const;

    std::vector<std::string> strings(const YAML::Node& n, const std::string& key) const {
        if (!n.IsSequence()) fail(n, key, "must be a list");
        std::vector<std::string> out;
        for (const auto& v : n)
            out.push_back(str(v, key));
        return out;
    }

    void load_weights(const YAML::Node& n, const std::string& path,
                      routing::RouterWeights& w) const;

    std::string enum_word(const YAML::Node& n, const std::string& key,
                          bool (*valid)(std::string_view), std::string_view expected) const {
        auto v = str(n, key);
        if (!valid(v)) fail(n, key, fmt::format("must be one of: {}", expected));
        return v;
    }

    static bool valid_privacy(std::string_view v) {
        return routing::parse_privacy_level(v).has_value();
    }

    static bool valid_complexity(std::string_view v) {
        return routing::parse_complexity(v).has_value();
    }

    void load_routing(const YAML::Node& n, RoutingConfig& r) const;

    void load_resilience(const YAML::Node& n, ResilienceConfig& r) const;

    void load_cache(const YAML::Node& n, CacheConfig& c) const;

    double similarity(const YAML::Node& node, const std::string& key) const {
        const double v = number(node, key, 0);
        if (v > 1) fail(node, key, "must be a cosine similarity between 0 and 1");
        return v;
    }

    void load_semantic_cache(const YAML::Node& n, SemanticCacheConfig& s) const;

    // Model names in routing rules, routes and fallbacks must exist.
    void check_references(const YAML::Node& root, const Config& c) const;

    void load_rag(const YAML::Node& n, RagConfig& r) const;

    // rag.remote_embedder.model must be a model that speaks OpenAI's /v1/embeddings.
    void resolve_rag_embedder(const YAML::Node& root, Config& c) const;

    Config load(const YAML::Node& root) const;

private:
    std::string file_;
};

}  // namespace switchyard::config_detail
