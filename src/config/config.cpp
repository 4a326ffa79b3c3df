// YAML config loading and validation (see config.hpp). Every error names file, line, key.
#include "switchyard/config/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace switchyard {

extern const char* const kEmbeddedDefaultConfig;  // generated from examples/switchyard.yaml

std::optional<Url> Url::parse(std::string_view text) {
    Url url;
    if (text.starts_with("https://")) {
        url.tls = true;
        text.remove_prefix(8);
    } else if (text.starts_with("http://")) {
        text.remove_prefix(7);
    } else {
        return std::nullopt;
    }
    const size_t slash = text.find('/');
    std::string_view authority = text.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : text.substr(slash);
    while (!path.empty() && path.back() == '/')
        path.remove_suffix(1);
    url.path.assign(path);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view host = authority;
    std::string_view port;
    if (authority.front() == '[') {  // [v6]:port
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return std::nullopt;
            port = authority.substr(close + 2);
        }
    } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return std::nullopt;
    url.host.assign(host);
    url.port = url.tls ? 443 : 80;
    if (!port.empty()) {
        unsigned p = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
            return std::nullopt;
        }
        url.port = static_cast<uint16_t>(p);
    }
    return url;
}

std::string Url::host_header() const {
    const bool default_port = (tls && port == 443) || (!tls && port == 80);
    const bool v6 = host.find(':') != std::string::npos;
    std::string h = v6 ? "[" + host + "]" : host;
    return default_port ? h : fmt::format("{}:{}", h, port);
}

std::string_view to_string(ProviderKind kind) {
    switch (kind) {
        case ProviderKind::kOpenAI:
            return "openai";
        case ProviderKind::kAnthropic:
            return "anthropic";
        case ProviderKind::kOpenAICompatible:
            return "openai_compatible";
    }
    return "openai";
}

bool ModelConfig::has_capability(std::string_view cap) const {
    return std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end();
}

const RouteConfig* Config::find_route(std::string_view name) const {
    for (const auto& r : routing.routes) {
        if (r.name == name) return &r;
    }
    return nullptr;
}

const ModelConfig* Config::find_model(std::string_view name) const {
    for (const auto& m : models) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

ConfigError::ConfigError(const std::string& file, int line, const std::string& key,
                         const std::string& message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}: {}: {}", file, line, key, message)
                                  : fmt::format("{}: {}: {}", file, key, message)),
      file_(file),
      line_(line),
      key_(key) {}

bool is_loopback_host(std::string_view host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

namespace {

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

    void load_server(const YAML::Node& n, ServerConfig& s) const {
        check_keys(
            n, "server",
            {"host", "port", "threads", "max_body_bytes", "max_header_bytes", "request_timeout_ms",
             "idle_timeout_ms", "shutdown_grace_ms", "max_connections"});
        if (n["host"]) s.host = str(n["host"], "server.host");
        if (n["port"]) s.port = static_cast<uint16_t>(integer(n["port"], "server.port", 0, 65535));
        if (n["threads"])
            s.threads = static_cast<int>(integer(n["threads"], "server.threads", 0, 256));
        if (n["max_body_bytes"]) {
            s.max_body_bytes = static_cast<uint64_t>(
                integer(n["max_body_bytes"], "server.max_body_bytes", 1024, int64_t{1} << 34));
        }
        if (n["max_header_bytes"]) {
            s.max_header_bytes = static_cast<uint32_t>(
                integer(n["max_header_bytes"], "server.max_header_bytes", 1024, 1 << 20));
        }
        if (n["request_timeout_ms"]) {
            s.request_timeout_ms =
                integer(n["request_timeout_ms"], "server.request_timeout_ms", 1, 3'600'000);
        }
        if (n["idle_timeout_ms"]) {
            s.idle_timeout_ms =
                integer(n["idle_timeout_ms"], "server.idle_timeout_ms", 1, 3'600'000);
        }
        if (n["shutdown_grace_ms"]) {
            s.shutdown_grace_ms =
                integer(n["shutdown_grace_ms"], "server.shutdown_grace_ms", 0, 3'600'000);
        }
        if (n["max_connections"]) {
            s.max_connections = static_cast<uint32_t>(
                integer(n["max_connections"], "server.max_connections", 1, 1'000'000));
        }
    }

    void load_upstream(const YAML::Node& n, UpstreamConfig& u) const {
        check_keys(n, "upstream",
                   {"connect_timeout_ms", "first_byte_timeout_ms", "between_chunks_timeout_ms",
                    "total_timeout_ms", "max_idle_connections_per_host", "max_response_bytes",
                    "ca_file", "verify_tls"});
        auto ms = [&](const char* k, int64_t& out) {
            if (n[k]) out = integer(n[k], join("upstream", k), 1, 86'400'000);
        };
        ms("connect_timeout_ms", u.connect_timeout_ms);
        ms("first_byte_timeout_ms", u.first_byte_timeout_ms);
        ms("between_chunks_timeout_ms", u.between_chunks_timeout_ms);
        ms("total_timeout_ms", u.total_timeout_ms);
        if (n["max_idle_connections_per_host"]) {
            u.max_idle_connections_per_host = static_cast<uint32_t>(
                integer(n["max_idle_connections_per_host"],
                        "upstream.max_idle_connections_per_host", 0, 100'000));
        }
        if (n["max_response_bytes"]) {
            u.max_response_bytes = static_cast<uint64_t>(integer(
                n["max_response_bytes"], "upstream.max_response_bytes", 1024, int64_t{1} << 34));
        }
        if (n["ca_file"]) u.ca_file = str(n["ca_file"], "upstream.ca_file");
        if (n["verify_tls"]) u.verify_tls = boolean(n["verify_tls"], "upstream.verify_tls");
    }

    void load_logging(const YAML::Node& n, LoggingConfig& l) const {
        check_keys(n, "logging", {"level", "format"});
        if (n["level"]) {
            l.level = str(n["level"], "logging.level");
            static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                          "warn",  "error", "off"};
            if (!kLevels.count(l.level)) {
                fail(n["level"], "logging.level", "must be trace, debug, info, warn, error or off");
            }
        }
        if (n["format"]) {
            l.format = str(n["format"], "logging.format");
            if (l.format != "text" && l.format != "json") {
                fail(n["format"], "logging.format", "must be text or json");
            }
        }
    }

    void load_auth(const YAML::Node& n, AuthConfig& a) const {
        check_keys(n, "auth", {"open_access", "admin_key_env", "refresh_interval_ms"});
        if (n["open_access"]) a.open_access = boolean(n["open_access"], "auth.open_access");
        if (n["admin_key_env"]) {
            a.admin_key_env = str(n["admin_key_env"], "auth.admin_key_env");
            const char* v =
                a.admin_key_env.empty() ? nullptr : std::getenv(a.admin_key_env.c_str());
            if (v != nullptr) a.admin_key = v;
            if (!a.admin_key.empty() && a.admin_key.size() < 16) {
                fail(n["admin_key_env"], "auth.admin_key_env",
                     fmt::format("the admin key in ${} is shorter than 16 characters",
                                 a.admin_key_env));
            }
        }
        if (n["refresh_interval_ms"]) {
            a.refresh_interval_ms =
                integer(n["refresh_interval_ms"], "auth.refresh_interval_ms", 0, 3'600'000);
        }
    }

    void load_storage(const YAML::Node& n, StorageConfig& s) const {
        check_keys(n, "storage", {"sqlite_path"});
        if (n["sqlite_path"]) s.sqlite_path = str(n["sqlite_path"], "storage.sqlite_path");
        if (s.sqlite_path.empty())
            fail(n["sqlite_path"], "storage.sqlite_path", "must not be empty");
    }

    void load_ledger(const YAML::Node& n, LedgerConfig& l) const {
        check_keys(n, "ledger", {"flush_interval_ms", "batch_rows", "max_pending_rows"});
        if (n["flush_interval_ms"]) {
            l.flush_interval_ms =
                integer(n["flush_interval_ms"], "ledger.flush_interval_ms", 1, 3'600'000);
        }
        if (n["batch_rows"])
            l.batch_rows = integer(n["batch_rows"], "ledger.batch_rows", 1, 1'000'000);
        if (n["max_pending_rows"]) {
            l.max_pending_rows =
                integer(n["max_pending_rows"], "ledger.max_pending_rows", 1, 100'000'000);
        }
    }

    void load_budgets(const YAML::Node& n, BudgetsConfig& b) const {
        check_keys(n, "budgets",
                   {"global", "alert_thresholds", "webhook_url", "default_max_tokens"});
        if (const auto g = n["global"]) {
            check_keys(g, "budgets.global", {"usd", "period"});
            if (g["usd"]) b.global_usd = number(g["usd"], "budgets.global.usd", 0);
            if (g["period"]) {
                b.global_period = str(g["period"], "budgets.global.period");
                if (b.global_period != "day" && b.global_period != "month") {
                    fail(g["period"], "budgets.global.period", "must be day or month");
                }
            }
        }
        if (const auto t = n["alert_thresholds"]) {
            if (!t.IsSequence()) fail(t, "budgets.alert_thresholds", "must be a list of fractions");
            b.alert_thresholds.clear();
            for (const auto& v : t) {
                const double f = number(v, "budgets.alert_thresholds", 0);
                if (f <= 0 || f > 10) fail(v, "budgets.alert_thresholds", "must be in (0, 10]");
                b.alert_thresholds.push_back(f);
            }
        }
        if (n["webhook_url"]) {
            b.webhook_url = str(n["webhook_url"], "budgets.webhook_url");
            if (!b.webhook_url.empty() && !Url::parse(b.webhook_url)) {
                fail(n["webhook_url"], "budgets.webhook_url", "must be an http:// or https:// URL");
            }
        }
        if (n["default_max_tokens"]) {
            b.default_max_tokens =
                integer(n["default_max_tokens"], "budgets.default_max_tokens", 1, int64_t{1} << 32);
        }
    }

    ModelConfig load_model(const YAML::Node& n, size_t index) const {
        const std::string path = fmt::format("models[{}]", index);
        check_keys(
            n, path,
            {"name", "provider", "upstream_model", "base_url", "api_key_env", "context_window",
             "max_output_tokens", "default_max_tokens", "capabilities", "price_per_1m", "local",
             "headers", "tokenizer", "fallbacks", "quality", "max_concurrency", "deployments"});
        ModelConfig m;
        if (!n["name"]) fail(n, path + ".name", "is required");
        m.name = str(n["name"], path + ".name");
        if (m.name.empty()) fail(n["name"], path + ".name", "must not be empty");
        if (!n["provider"]) fail(n, path + ".provider", "is required");
        m.provider_name = str(n["provider"], path + ".provider");
        if (m.provider_name == "openai") {
            m.provider = ProviderKind::kOpenAI;
        } else if (m.provider_name == "anthropic") {
            m.provider = ProviderKind::kAnthropic;
        } else if (m.provider_name == "openai_compatible" || m.provider_name == "ollama" ||
                   m.provider_name == "vllm" || m.provider_name == "llamacpp") {
            m.provider = ProviderKind::kOpenAICompatible;
        } else {
            fail(n["provider"], path + ".provider",
                 fmt::format("unknown provider '{}' (expected openai, anthropic, "
                             "openai_compatible, ollama, vllm or llamacpp)",
                             m.provider_name));
        }
        m.upstream_model =
            n["upstream_model"] ? str(n["upstream_model"], path + ".upstream_model") : m.name;
        if (n["base_url"]) {
            m.base_url = str(n["base_url"], path + ".base_url");
        } else if (m.provider == ProviderKind::kOpenAI) {
            m.base_url = "https://api.openai.com/v1";
        } else if (m.provider == ProviderKind::kAnthropic) {
            m.base_url = "https://api.anthropic.com/v1";
        } else {
            fail(n, path + ".base_url", "is required for local (OpenAI-compatible) providers");
        }
        auto url = Url::parse(m.base_url);
        if (!url) {
            fail(n["base_url"] ? n["base_url"] : n, path + ".base_url",
                 fmt::format("'{}' is not an http:// or https:// URL", m.base_url));
        }
        m.url = *url;
        if (n["api_key_env"]) {
            m.api_key_env = str(n["api_key_env"], path + ".api_key_env");
        } else if (m.provider == ProviderKind::kOpenAI) {
            m.api_key_env = "OPENAI_API_KEY";
        } else if (m.provider == ProviderKind::kAnthropic) {
            m.api_key_env = "ANTHROPIC_API_KEY";
        }
        if (n["context_window"]) {
            m.context_window =
                integer(n["context_window"], path + ".context_window", 1, int64_t{1} << 32);
        }
        if (n["max_output_tokens"]) {
            m.max_output_tokens =
                integer(n["max_output_tokens"], path + ".max_output_tokens", 1, int64_t{1} << 32);
        }
        if (n["default_max_tokens"]) {
            m.default_max_tokens =
                integer(n["default_max_tokens"], path + ".default_max_tokens", 1, int64_t{1} << 32);
        }
        if (const auto caps = n["capabilities"]) {
            if (!caps.IsSequence()) fail(caps, path + ".capabilities", "must be a list");
            for (const auto& c : caps)
                m.capabilities.push_back(str(c, path + ".capabilities"));
        }
        if (const auto price = n["price_per_1m"]) {
            check_keys(price, path + ".price_per_1m", {"input", "output"});
            if (price["input"]) {
                m.price.input_per_1m_usd = number(price["input"], path + ".price_per_1m.input", 0);
            }
            if (price["output"]) {
                m.price.output_per_1m_usd =
                    number(price["output"], path + ".price_per_1m.output", 0);
            }
        }
        if (n["local"]) m.local = boolean(n["local"], path + ".local");
        if (n["tokenizer"]) {
            m.tokenizer = str(n["tokenizer"], path + ".tokenizer");
            static const std::set<std::string> kVocabs = {"cl100k_base", "o200k_base", "claude",
                                                          "llama3",      "llama2",     "mistral"};
            if (!kVocabs.count(m.tokenizer)) {
                fail(n["tokenizer"], path + ".tokenizer",
                     "must be cl100k_base, o200k_base, claude, llama3, llama2 or mistral");
            }
        }
        if (const auto headers = n["headers"]) {
            if (!headers.IsMap()) fail(headers, path + ".headers", "must be a mapping");
            for (const auto& kv : headers) {
                const auto k = kv.first.as<std::string>();
                m.headers.emplace_back(k, str(kv.second, path + ".headers." + k));
            }
        }
        if (n["fallbacks"]) m.fallbacks = strings(n["fallbacks"], path + ".fallbacks");
        if (const auto q = n["quality"]) {
            if (!q.IsMap()) fail(q, path + ".quality", "must be a mapping of task type to 0..1");
            for (const auto& kv : q) {
                const auto task = kv.first.as<std::string>();
                const std::string key = path + ".quality." + task;
                if (!routing::parse_task_type(task)) {
                    fail(kv.first, key,
                         "unknown task type (expected code, reasoning, summarization, "
                         "extraction, translation, creative or chat)");
                }
                const double v = number(kv.second, key, 0);
                if (v > 1) fail(kv.second, key, "must be between 0 and 1");
                m.quality.emplace_back(task, v);
            }
        }
        if (n["max_concurrency"]) {
            m.max_concurrency =
                integer(n["max_concurrency"], path + ".max_concurrency", 0, int64_t{1} << 20);
        }
        if (const auto deps = n["deployments"]) {
            if (!deps.IsSequence() || deps.size() == 0 || deps.size() > 64) {
                fail(deps, path + ".deployments", "must be a list of 1 to 64 deployments");
            }
            for (size_t i = 0; i < deps.size(); ++i) {
                const auto& d = deps[i];
                const std::string dpath = fmt::format("{}.deployments[{}]", path, i);
                check_keys(d, dpath, {"name", "base_url", "api_key_env", "weight"});
                DeploymentConfig dep;
                dep.name = d["name"] ? str(d["name"], dpath + ".name")
                                     : fmt::format("{}#{}", m.name, i + 1);
                if (!d["base_url"]) fail(d, dpath + ".base_url", "is required");
                dep.base_url = str(d["base_url"], dpath + ".base_url");
                auto durl = Url::parse(dep.base_url);
                if (!durl) {
                    fail(d["base_url"], dpath + ".base_url",
                         fmt::format("'{}' is not an http:// or https:// URL", dep.base_url));
                }
                dep.url = *durl;
                dep.api_key_env =
                    d["api_key_env"] ? str(d["api_key_env"], dpath + ".api_key_env") : "";
                if (d["weight"]) {
                    dep.weight = number(d["weight"], dpath + ".weight", 0);
                    if (dep.weight <= 0) fail(d["weight"], dpath + ".weight", "must be > 0");
                }
                m.deployments.push_back(std::move(dep));
            }
            m.base_url = m.deployments.front().base_url;
            m.url = m.deployments.front().url;
        } else {
            DeploymentConfig dep;
            dep.name = m.name;
            dep.base_url = m.base_url;
            dep.url = m.url;
            m.deployments.push_back(std::move(dep));
        }
        return m;
    }

    std::vector<std::string> strings(const YAML::Node& n, const std::string& key) const {
        if (!n.IsSequence()) fail(n, key, "must be a list");
        std::vector<std::string> out;
        for (const auto& v : n)
            out.push_back(str(v, key));
        return out;
    }

    void load_weights(const YAML::Node& n, const std::string& path,
                      routing::RouterWeights& w) const {
        check_keys(n, path, {"quality", "cost", "latency", "errors", "load", "policy"});
        if (n["quality"]) w.quality = number(n["quality"], path + ".quality", 0);
        if (n["cost"]) w.cost = number(n["cost"], path + ".cost", 0);
        if (n["latency"]) w.latency = number(n["latency"], path + ".latency", 0);
        if (n["errors"]) w.errors = number(n["errors"], path + ".errors", 0);
        if (n["load"]) w.load = number(n["load"], path + ".load", 0);
        if (n["policy"]) w.policy = number(n["policy"], path + ".policy", 0);
    }

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

    void load_routing(const YAML::Node& n, RoutingConfig& r) const {
        check_keys(n, "routing",
                   {"weights", "local_only_at", "explicit_remote_pii", "latency_reference_ms",
                    "load_reference", "stats_ewma_alpha", "policy", "routes"});
        if (n["weights"]) load_weights(n["weights"], "routing.weights", r.weights);
        if (n["local_only_at"]) {
            r.local_only_at = enum_word(n["local_only_at"], "routing.local_only_at", valid_privacy,
                                        "none, personal, sensitive, secret");
        }
        if (n["explicit_remote_pii"]) {
            r.explicit_remote_pii = str(n["explicit_remote_pii"], "routing.explicit_remote_pii");
            if (r.explicit_remote_pii != "allow" && r.explicit_remote_pii != "deny") {
                fail(n["explicit_remote_pii"], "routing.explicit_remote_pii",
                     "must be allow or deny");
            }
        }
        if (n["latency_reference_ms"]) {
            r.latency_reference_ms =
                number(n["latency_reference_ms"], "routing.latency_reference_ms", 1);
        }
        if (n["load_reference"]) {
            r.load_reference =
                integer(n["load_reference"], "routing.load_reference", 1, int64_t{1} << 20);
        }
        if (n["stats_ewma_alpha"]) {
            r.stats_ewma_alpha = number(n["stats_ewma_alpha"], "routing.stats_ewma_alpha", 0.001);
            if (r.stats_ewma_alpha > 1) {
                fail(n["stats_ewma_alpha"], "routing.stats_ewma_alpha", "must be in (0, 1]");
            }
        }
        if (const auto p = n["policy"]) {
            if (!p.IsSequence()) fail(p, "routing.policy", "must be a list of rules");
            for (size_t i = 0; i < p.size(); ++i) {
                const auto& rn = p[i];
                const std::string path = fmt::format("routing.policy[{}]", i);
                check_keys(rn, path,
                           {"name", "tasks", "min_privacy", "min_complexity", "max_complexity",
                            "max_prompt_tokens", "prefer", "local_only"});
                PolicyRuleConfig rule;
                rule.name =
                    rn["name"] ? str(rn["name"], path + ".name") : fmt::format("rule-{}", i);
                if (rn["tasks"]) {
                    rule.tasks = strings(rn["tasks"], path + ".tasks");
                    for (const auto& t : rule.tasks) {
                        if (!routing::parse_task_type(t)) {
                            fail(rn["tasks"], path + ".tasks",
                                 fmt::format("unknown task type '{}'", t));
                        }
                    }
                }
                if (rn["min_privacy"]) {
                    rule.min_privacy =
                        enum_word(rn["min_privacy"], path + ".min_privacy", valid_privacy,
                                  "none, personal, sensitive, secret");
                }
                if (rn["min_complexity"]) {
                    rule.min_complexity = enum_word(rn["min_complexity"], path + ".min_complexity",
                                                    valid_complexity, "low, medium, high");
                }
                if (rn["max_complexity"]) {
                    rule.max_complexity = enum_word(rn["max_complexity"], path + ".max_complexity",
                                                    valid_complexity, "low, medium, high");
                }
                if (rn["max_prompt_tokens"]) {
                    rule.max_prompt_tokens = integer(
                        rn["max_prompt_tokens"], path + ".max_prompt_tokens", 0, int64_t{1} << 32);
                }
                if (rn["prefer"]) rule.prefer = strings(rn["prefer"], path + ".prefer");
                if (rn["local_only"])
                    rule.local_only = boolean(rn["local_only"], path + ".local_only");
                r.policy.push_back(std::move(rule));
            }
        }
        if (const auto rs = n["routes"]) {
            if (!rs.IsSequence()) fail(rs, "routing.routes", "must be a list of routes");
            for (size_t i = 0; i < rs.size(); ++i) {
                const auto& rn = rs[i];
                const std::string path = fmt::format("routing.routes[{}]", i);
                check_keys(rn, path, {"name", "models", "local_only", "use_policy", "weights"});
                RouteConfig route;
                route.weights = r.weights;
                if (!rn["name"]) fail(rn, path + ".name", "is required");
                route.name = str(rn["name"], path + ".name");
                if (route.name.empty() || route.name == "auto") {
                    fail(rn["name"], path + ".name", "must be non-empty and not 'auto'");
                }
                if (rn["models"]) route.models = strings(rn["models"], path + ".models");
                if (rn["local_only"])
                    route.local_only = boolean(rn["local_only"], path + ".local_only");
                if (rn["use_policy"])
                    route.use_policy = boolean(rn["use_policy"], path + ".use_policy");
                if (rn["weights"]) load_weights(rn["weights"], path + ".weights", route.weights);
                r.routes.push_back(std::move(route));
            }
        }
    }

    void load_resilience(const YAML::Node& n, ResilienceConfig& r) const {
        check_keys(n, "resilience",
                   {"retry", "breaker", "max_total_attempts", "request_deadline_ms",
                    "rate_limit_to_local", "incidents_path"});
        if (const auto t = n["retry"]) {
            check_keys(t, "resilience.retry",
                       {"max_attempts", "base_delay_ms", "max_delay_ms", "max_retry_after_ms",
                        "budget_ratio", "budget_min_per_s", "budget_window_ms"});
            auto& c = r.retry;
            const std::string p = "resilience.retry.";
            if (t["max_attempts"])
                c.max_attempts = integer(t["max_attempts"], p + "max_attempts", 1, 20);
            if (t["base_delay_ms"])
                c.base_delay_ms = integer(t["base_delay_ms"], p + "base_delay_ms", 0, 600'000);
            if (t["max_delay_ms"])
                c.max_delay_ms = integer(t["max_delay_ms"], p + "max_delay_ms", 0, 600'000);
            if (t["max_retry_after_ms"]) {
                c.max_retry_after_ms =
                    integer(t["max_retry_after_ms"], p + "max_retry_after_ms", 0, 3'600'000);
            }
            if (t["budget_ratio"])
                c.budget_ratio = number(t["budget_ratio"], p + "budget_ratio", 0);
            if (t["budget_min_per_s"]) {
                c.budget_min_per_s =
                    integer(t["budget_min_per_s"], p + "budget_min_per_s", 0, 1'000'000);
            }
            if (t["budget_window_ms"]) {
                c.budget_window_ms =
                    integer(t["budget_window_ms"], p + "budget_window_ms", 100, 3'600'000);
            }
        }
        if (const auto b = n["breaker"]) {
            check_keys(b, "resilience.breaker",
                       {"failure_rate", "minimum_calls", "consecutive_failures", "window_ms",
                        "open_ms", "open_jitter", "half_open_probes"});
            auto& c = r.breaker;
            const std::string p = "resilience.breaker.";
            if (b["failure_rate"]) {
                c.failure_rate = number(b["failure_rate"], p + "failure_rate", 0);
                if (c.failure_rate <= 0 || c.failure_rate > 1)
                    fail(b["failure_rate"], p + "failure_rate", "must be in (0, 1]");
            }
            if (b["minimum_calls"])
                c.minimum_calls = integer(b["minimum_calls"], p + "minimum_calls", 1, 1'000'000);
            if (b["consecutive_failures"]) {
                c.consecutive_failures =
                    integer(b["consecutive_failures"], p + "consecutive_failures", 0, 1'000'000);
            }
            if (b["window_ms"])
                c.window_ms = integer(b["window_ms"], p + "window_ms", 100, 3'600'000);
            if (b["open_ms"]) c.open_ms = integer(b["open_ms"], p + "open_ms", 1, 3'600'000);
            if (b["open_jitter"]) {
                c.open_jitter = number(b["open_jitter"], p + "open_jitter", 0);
                if (c.open_jitter > 1)
                    fail(b["open_jitter"], p + "open_jitter", "must be in [0, 1]");
            }
            if (b["half_open_probes"]) {
                c.half_open_probes =
                    integer(b["half_open_probes"], p + "half_open_probes", 1, 1000);
            }
        }
        if (n["max_total_attempts"]) {
            r.max_total_attempts =
                integer(n["max_total_attempts"], "resilience.max_total_attempts", 1, 100);
        }
        if (n["request_deadline_ms"]) {
            r.request_deadline_ms =
                integer(n["request_deadline_ms"], "resilience.request_deadline_ms", 1, 3'600'000);
        }
        if (n["rate_limit_to_local"]) {
            r.rate_limit_to_local =
                boolean(n["rate_limit_to_local"], "resilience.rate_limit_to_local");
        }
        if (n["incidents_path"]) {
            r.incidents_path = str(n["incidents_path"], "resilience.incidents_path");
        }
    }

    void load_cache(const YAML::Node& n, CacheConfig& c) const {
        check_keys(n, "cache",
                   {"enabled", "max_mb", "max_entry_kb", "default_ttl_s", "stale_grace_s",
                    "max_temperature", "policy", "shared_models", "single_flight_wait_ms",
                    "semantic", "persist_path"});
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
        if (n["shared_models"])
            c.shared_models = strings(n["shared_models"], "cache.shared_models");
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

    double similarity(const YAML::Node& node, const std::string& key) const {
        const double v = number(node, key, 0);
        if (v > 1) fail(node, key, "must be a cosine similarity between 0 and 1");
        return v;
    }

    void load_semantic_cache(const YAML::Node& n, SemanticCacheConfig& s) const {
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
                s.thresholds.emplace_back(
                    model, similarity(kv.second, "cache.semantic.thresholds." + model));
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
                integer(n["max_entries_per_partition"], "cache.semantic.max_entries_per_partition",
                        1, 10'000'000);
        }
        if (n["multi_turn"]) s.multi_turn = boolean(n["multi_turn"], "cache.semantic.multi_turn");
        if (n["veto_radius"]) {
            s.veto_radius = similarity(n["veto_radius"], "cache.semantic.veto_radius");
        }
    }

    // Model names in routing rules, routes and fallbacks must exist.
    void check_references(const YAML::Node& root, const Config& c) const {
        auto need = [&](const YAML::Node& node, const std::string& key, const std::string& name) {
            if (!c.find_model(name)) {
                fail(node, key, fmt::format("unknown model '{}'", name));
            }
        };
        const auto models = root["models"];
        for (size_t i = 0; i < c.models.size(); ++i) {
            for (const auto& f : c.models[i].fallbacks) {
                need(models[i]["fallbacks"], fmt::format("models[{}].fallbacks", i), f);
                if (f == c.models[i].name) {
                    fail(models[i]["fallbacks"], fmt::format("models[{}].fallbacks", i),
                         "a model cannot be its own fallback");
                }
            }
        }
        const auto routing = root["routing"];
        for (size_t i = 0; i < c.routing.policy.size(); ++i) {
            for (const auto& m : c.routing.policy[i].prefer)
                need(routing["policy"][i], fmt::format("routing.policy[{}].prefer", i), m);
        }
        for (size_t i = 0; i < c.routing.routes.size(); ++i) {
            const auto& r = c.routing.routes[i];
            for (const auto& m : r.models)
                need(routing["routes"][i], fmt::format("routing.routes[{}].models", i), m);
            if (c.find_model(r.name)) {
                fail(routing["routes"][i], fmt::format("routing.routes[{}].name", i),
                     fmt::format("'{}' is also a model name", r.name));
            }
        }
    }

    void load_rag(const YAML::Node& n, RagConfig& r) const {
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
            if (e["batch_size"])
                re.batch_size = integer(e["batch_size"], k + ".batch_size", 1, 2048);
            if (e["max_batch_kb"]) {
                re.max_batch_kb = integer(e["max_batch_kb"], k + ".max_batch_kb", 1, 1 << 20);
            }
            if (e["timeout_ms"]) {
                re.timeout_ms = integer(e["timeout_ms"], k + ".timeout_ms", 100, 3'600'000);
            }
            if (e["max_retries"])
                re.max_retries = integer(e["max_retries"], k + ".max_retries", 0, 10);
            if (e["dimensions"])
                re.dimensions = integer(e["dimensions"], k + ".dimensions", 0, 65536);
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
    void resolve_rag_embedder(const YAML::Node& root, Config& c) const {
        RagRemoteEmbedderConfig& re = c.rag.remote_embedder;
        const YAML::Node node = root["rag"]["remote_embedder"]["model"];
        const ModelConfig* m = c.find_model(re.model);
        if (m == nullptr) {
            fail(node, "rag.remote_embedder.model",
                 fmt::format("unknown model '{}' (it must be one of the models: entries)",
                             re.model));
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

    Config load(const YAML::Node& root) const {
        Config c;
        c.source = file_;
        if (root.IsNull()) fail(root, "(root)", "config is empty");
        check_keys(root, "",
                   {"server", "upstream", "logging", "auth", "storage", "ledger", "budgets",
                    "tokens", "routing", "resilience", "cache", "rag", "models"});
        if (root["server"]) load_server(root["server"], c.server);
        if (root["auth"]) load_auth(root["auth"], c.auth);
        if (root["storage"]) load_storage(root["storage"], c.storage);
        if (root["ledger"]) load_ledger(root["ledger"], c.ledger);
        if (root["budgets"]) load_budgets(root["budgets"], c.budgets);
        if (const auto t = root["tokens"]) {
            check_keys(t, "tokens", {"vocab_dir"});
            if (t["vocab_dir"]) c.tokens.vocab_dir = str(t["vocab_dir"], "tokens.vocab_dir");
        }
        if (c.auth.open_access && !is_loopback_host(c.server.host)) {
            fail(root["auth"]["open_access"], "auth.open_access",
                 fmt::format("open access (no API keys) is for local development only, but "
                             "server.host is '{}', not a loopback address; create keys with "
                             "`switchyard keys create` and set open_access: false",
                             c.server.host));
        }
        if (root["upstream"]) load_upstream(root["upstream"], c.upstream);
        if (root["logging"]) load_logging(root["logging"], c.logging);
        if (root["routing"]) load_routing(root["routing"], c.routing);
        if (root["resilience"]) load_resilience(root["resilience"], c.resilience);
        if (root["cache"]) load_cache(root["cache"], c.cache);
        if (root["rag"]) load_rag(root["rag"], c.rag);
        const auto models = root["models"];
        if (!models) fail(root, "models", "is required (a list of models to serve)");
        if (!models.IsSequence()) fail(models, "models", "must be a list");
        std::set<std::string> names;
        for (size_t i = 0; i < models.size(); ++i) {
            auto m = load_model(models[i], i);
            if (!names.insert(m.name).second) {
                fail(models[i]["name"], fmt::format("models[{}].name", i),
                     fmt::format("duplicate model name '{}'", m.name));
            }
            c.models.push_back(std::move(m));
        }
        if (c.find_model("auto")) fail(root["models"], "models", "'auto' is reserved for routing");
        check_references(root, c);
        if (!c.rag.remote_embedder.model.empty()) resolve_rag_embedder(root, c);
        return c;
    }

private:
    std::string file_;
};

}  // namespace

Config load_config_string(const std::string& yaml, const std::string& source_name) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source_name, e.mark.line + 1, "(syntax)", e.msg);
    }
    try {
        return Loader(source_name).load(root);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source_name, e.mark.line + 1, "(value)", e.msg);
    }
}

Config load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, "(file)", "cannot open file");
    std::stringstream ss;
    ss << in.rdbuf();
    return load_config_string(ss.str(), path);
}

std::string_view default_config_yaml() {
    return kEmbeddedDefaultConfig;
}

Config default_config() {
    return load_config_string(kEmbeddedDefaultConfig, "<embedded>");
}

}  // namespace switchyard
