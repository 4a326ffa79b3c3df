// switchyard cache invalidate|stats: the response cache lives in the running gateway's
// memory, so these commands call its admin endpoints (POST /v1/cache/invalidate, GET
// /v1/cache/stats) over HTTP with the admin key, which they read from the environment
// variable the config names (auth.admin_key_env). Plain HTTP only: point --url at the
// gateway's own listener (it serves plain HTTP; TLS is terminated in front of it).
#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::cli {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct GatewayOptions {
    std::string config;
    std::string url;  // http://host:port; default from the config's server.host/port
    std::string admin_key_env;
    int timeout_s = 30;
};

void add_gateway_options(CLI::App* cmd, GatewayOptions& o) {
    cmd->add_option("-c,--config", o.config,
                    "Config file of the running gateway (default: built-in config): its "
                    "server.host/port and auth.admin_key_env are used");
    cmd->add_option("--url", o.url, "Gateway base URL, http://HOST:PORT (overrides the config)");
    cmd->add_option("--admin-key-env", o.admin_key_env,
                    "Environment variable holding the admin key (overrides the config)");
    cmd->add_option("--timeout", o.timeout_s, "Seconds to wait for the gateway")
        ->check(CLI::Range(1, 3600));
}

struct Target {
    std::string host;
    std::string port;
    std::string key;
};

// The gateway's address and the admin key, or throws with what is missing.
Target resolve_target(const GatewayOptions& o) {
    Config cfg = o.config.empty() ? default_config() : load_config_file(o.config);
    Target t;
    if (o.url.empty()) {
        t.host = cfg.server.host == "0.0.0.0" ? "127.0.0.1" : cfg.server.host;
        t.port = std::to_string(cfg.server.port);
    } else {
        std::string_view u = o.url;
        if (u.substr(0, 8) == "https://") {
            throw std::invalid_argument(
                "--url: only plain http:// is supported; use the gateway's own listener");
        }
        if (u.substr(0, 7) == "http://") u.remove_prefix(7);
        while (!u.empty() && u.back() == '/')
            u.remove_suffix(1);
        if (u.size() >= 3 && u.substr(u.size() - 3) == "/v1") u.remove_suffix(3);
        if (u.find('/') != std::string_view::npos || u.empty()) {
            throw std::invalid_argument(fmt::format(
                "--url must be http://HOST:PORT (optionally ending in /v1), got '{}'", o.url));
        }
        const size_t colon = u.rfind(':');
        const bool bracketed = u.front() == '[';
        if (colon == std::string_view::npos || (bracketed && u[colon - 1] != ']')) {
            t.host = std::string(u);
            t.port = "80";
        } else {
            t.host = std::string(u.substr(0, colon));
            t.port = std::string(u.substr(colon + 1));
        }
        if (bracketed && t.host.size() >= 2) t.host = t.host.substr(1, t.host.size() - 2);
    }
    const std::string env = o.admin_key_env.empty() ? cfg.auth.admin_key_env : o.admin_key_env;
    if (env.empty()) {
        throw std::invalid_argument(
            "no admin key: the config names no auth.admin_key_env; pass --admin-key-env");
    }
    const char* key = std::getenv(env.c_str());
    if (key == nullptr || *key == '\0') {
        throw std::invalid_argument(fmt::format(
            "no admin key: environment variable {} is not set (the cache endpoints need the "
            "gateway's admin key)",
            env));
    }
    t.key = key;
    return t;
}

struct Reply {
    unsigned status = 0;
    std::string body;
};

// One request over a fresh connection, bounded by the timeout; throws on network errors.
Reply call(const Target& t, bhttp::verb verb, const std::string& target, std::string body,
           int timeout_s) {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(timeout_s));
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(t.host, t.port, ec);
    if (ec) throw std::runtime_error(fmt::format("resolve {}: {}", t.host, ec.message()));
    stream.connect(endpoints, ec);
    if (ec) {
        throw std::runtime_error(
            fmt::format("cannot reach the gateway at {}:{}: {}", t.host, t.port, ec.message()));
    }
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, t.host);
    req.set(bhttp::field::authorization, "Bearer " + t.key);
    req.set(bhttp::field::user_agent, "switchyard-cli");
    if (verb == bhttp::verb::post) {
        req.set(bhttp::field::content_type, "application/json");
        req.body() = std::move(body);
        req.prepare_payload();
    }
    bhttp::write(stream, req, ec);
    if (ec) throw std::runtime_error(fmt::format("sending the request: {}", ec.message()));
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res, ec);
    if (ec) throw std::runtime_error(fmt::format("reading the answer: {}", ec.message()));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return Reply{res.result_int(), std::move(res.body())};
}

// Duration "90", "90s", "15m", "2h", "7d" -> seconds; throws on anything else.
int64_t parse_duration_s(const std::string& text) {
    size_t used = 0;
    int64_t n = -1;
    try {
        n = std::stoll(text, &used);
    } catch (const std::exception&) {
    }
    const std::string unit = n < 0 ? "" : text.substr(used);
    int64_t scale = 0;
    if (unit.empty() || unit == "s") scale = 1;
    if (unit == "m") scale = 60;
    if (unit == "h") scale = 3600;
    if (unit == "d") scale = 86400;
    if (n < 0 || scale == 0) {
        throw std::invalid_argument(fmt::format(
            "--older-than must be a duration like 600, 600s, 15m, 2h or 7d, got '{}'", text));
    }
    return n * scale;
}

// Prints the answer; a non-2xx status prints the gateway's error and fails.
int report(const Reply& r) {
    if (r.status / 100 != 2) {
        std::cerr << "error: the gateway answered " << r.status << ": " << r.body << "\n";
        return 1;
    }
    std::cout << r.body << (r.body.empty() || r.body.back() != '\n' ? "\n" : "");
    return 0;
}

int guarded(const std::function<int()>& f) {
    try {
        return f();
    } catch (const ConfigError& e) {
        std::cerr << "invalid config: " << e.what() << "\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

void add_cache_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
    auto* cache = app.add_subcommand("cache", "Response cache of a running gateway (admin key)");
    cache->require_subcommand(1);

    struct InvalidateArgs {
        GatewayOptions gw;
        std::string ns, model, older_than, prompt_regex;
        bool all = false;
    };
    auto inv = std::make_shared<InvalidateArgs>();
    auto* invalidate = cache->add_subcommand(
        "invalidate", "Remove cached answers by namespace, model, age or prompt regex");
    add_gateway_options(invalidate, inv->gw);
    invalidate->add_option("--namespace", inv->ns,
                           "Cache namespace: key:<id>, open, shared, or a request's own");
    invalidate->add_option("--model", inv->model, "Requested model/route or answering model");
    invalidate->add_option("--older-than", inv->older_than,
                           "Entries created longer ago than this (600, 15m, 2h, 7d)");
    invalidate->add_option("--prompt-regex", inv->prompt_regex,
                           "ECMAScript regex searched in the cached prompts' text");
    invalidate->add_flag("--all", inv->all, "Everything (alone)");
    actions.emplace_back(invalidate, [inv] {
        return guarded([&] {
            const InvalidateArgs& a = *inv;
            if (a.all && (!a.ns.empty() || !a.model.empty() || !a.older_than.empty() ||
                          !a.prompt_regex.empty())) {
                throw std::invalid_argument("--all goes alone");
            }
            if (!a.all && a.ns.empty() && a.model.empty() && a.older_than.empty() &&
                a.prompt_regex.empty()) {
                throw std::invalid_argument(
                    "name what to invalidate: --namespace, --model, --older-than, "
                    "--prompt-regex, or --all");
            }
            std::string body;
            JsonWriter w(body);
            w.begin_object();
            if (a.all) w.kv("all", true);
            if (!a.ns.empty()) w.kv("namespace", a.ns);
            if (!a.model.empty()) w.kv("model", a.model);
            if (!a.older_than.empty()) w.kv("older_than_s", parse_duration_s(a.older_than));
            if (!a.prompt_regex.empty()) w.kv("prompt_regex", a.prompt_regex);
            w.end_object();
            const Target t = resolve_target(a.gw);
            return report(call(t, bhttp::verb::post, "/v1/cache/invalidate", std::move(body),
                               a.gw.timeout_s));
        });
    });

    auto st = std::make_shared<GatewayOptions>();
    auto* stats = cache->add_subcommand("stats", "Print the cache statistics (JSON)");
    add_gateway_options(stats, *st);
    actions.emplace_back(stats, [st] {
        return guarded([&] {
            const Target t = resolve_target(*st);
            return report(call(t, bhttp::verb::get, "/v1/cache/stats", {}, st->timeout_s));
        });
    });
}

}  // namespace switchyard::cli
