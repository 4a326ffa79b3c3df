// YAML config loading and validation (see config.hpp). Every error names file, line, key.
#include "switchyard/config/config.hpp"

#include "loader.hpp"

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

using config_detail::Loader;

void config_detail::Loader::load_server(const YAML::Node& n, ServerConfig& s) const {
    check_keys(n, "server",
               {"host", "port", "threads", "max_body_bytes", "max_header_bytes",
                "request_timeout_ms", "idle_timeout_ms", "shutdown_grace_ms", "max_connections"});
    if (n["host"]) s.host = str(n["host"], "server.host");
    if (n["port"]) s.port = static_cast<uint16_t>(integer(n["port"], "server.port", 0, 65535));
    if (n["threads"]) s.threads = static_cast<int>(integer(n["threads"], "server.threads", 0, 256));
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
        s.idle_timeout_ms = integer(n["idle_timeout_ms"], "server.idle_timeout_ms", 1, 3'600'000);
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

void config_detail::Loader::load_upstream(const YAML::Node& n, UpstreamConfig& u) const {
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
        u.max_idle_connections_per_host =
            static_cast<uint32_t>(integer(n["max_idle_connections_per_host"],
                                          "upstream.max_idle_connections_per_host", 0, 100'000));
    }
    if (n["max_response_bytes"]) {
        u.max_response_bytes = static_cast<uint64_t>(integer(
            n["max_response_bytes"], "upstream.max_response_bytes", 1024, int64_t{1} << 34));
    }
    if (n["ca_file"]) u.ca_file = str(n["ca_file"], "upstream.ca_file");
    if (n["verify_tls"]) u.verify_tls = boolean(n["verify_tls"], "upstream.verify_tls");
}

void config_detail::Loader::load_logging(const YAML::Node& n, LoggingConfig& l) const {
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

void config_detail::Loader::load_auth(const YAML::Node& n, AuthConfig& a) const {
    check_keys(n, "auth", {"open_access", "admin_key_env", "refresh_interval_ms"});
    if (n["open_access"]) a.open_access = boolean(n["open_access"], "auth.open_access");
    if (n["admin_key_env"]) {
        a.admin_key_env = str(n["admin_key_env"], "auth.admin_key_env");
        const char* v = a.admin_key_env.empty() ? nullptr : std::getenv(a.admin_key_env.c_str());
        if (v != nullptr) a.admin_key = v;
        if (!a.admin_key.empty() && a.admin_key.size() < 16) {
            fail(
                n["admin_key_env"], "auth.admin_key_env",
                fmt::format("the admin key in ${} is shorter than 16 characters", a.admin_key_env));
        }
    }
    if (n["refresh_interval_ms"]) {
        a.refresh_interval_ms =
            integer(n["refresh_interval_ms"], "auth.refresh_interval_ms", 0, 3'600'000);
    }
}

void config_detail::Loader::load_storage(const YAML::Node& n, StorageConfig& s) const {
    check_keys(n, "storage", {"sqlite_path"});
    if (n["sqlite_path"]) s.sqlite_path = str(n["sqlite_path"], "storage.sqlite_path");
    if (s.sqlite_path.empty()) fail(n["sqlite_path"], "storage.sqlite_path", "must not be empty");
}

void config_detail::Loader::load_ledger(const YAML::Node& n, LedgerConfig& l) const {
    check_keys(n, "ledger", {"flush_interval_ms", "batch_rows", "max_pending_rows"});
    if (n["flush_interval_ms"]) {
        l.flush_interval_ms =
            integer(n["flush_interval_ms"], "ledger.flush_interval_ms", 1, 3'600'000);
    }
    if (n["batch_rows"]) l.batch_rows = integer(n["batch_rows"], "ledger.batch_rows", 1, 1'000'000);
    if (n["max_pending_rows"]) {
        l.max_pending_rows =
            integer(n["max_pending_rows"], "ledger.max_pending_rows", 1, 100'000'000);
    }
}

void config_detail::Loader::load_budgets(const YAML::Node& n, BudgetsConfig& b) const {
    check_keys(n, "budgets", {"global", "alert_thresholds", "webhook_url", "default_max_tokens"});
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

Config config_detail::Loader::load(const YAML::Node& root) const {
    Config c;
    c.source = file_;
    if (root.IsNull()) fail(root, "(root)", "config is empty");
    check_keys(root, "",
               {"server", "upstream", "logging", "auth", "storage", "ledger", "budgets", "tokens",
                "routing", "resilience", "cache", "rag", "models"});
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
