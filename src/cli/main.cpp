// The `switchyard` command: serve, version, config check|default, keys, usage, tokens, cache,
// ingest, query, chunk.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/server/http_server.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

void setup_logging(const switchyard::LoggingConfig& logging) {
    spdlog::set_level(spdlog::level::from_str(logging.level));
    if (logging.format == "json") {
        spdlog::set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%v"})");
    } else {
        spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    }
}

switchyard::Config load(const std::string& path) {
    return path.empty() ? switchyard::default_config() : switchyard::load_config_file(path);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Switchyard: a self-hosted LLM gateway with an OpenAI-compatible API"};
    app.require_subcommand(1);

    auto* serve = app.add_subcommand("serve", "Run the gateway");
    std::string config_path;
    std::string host;
    int port = -1;
    int threads = -1;
    serve->add_option("-c,--config", config_path,
                      "YAML config file (default: the built-in config, same as "
                      "examples/switchyard.yaml)");
    serve->add_option("--host", host, "Listen address (overrides server.host)");
    serve->add_option("-p,--port", port, "Listen port (overrides server.port; 0 = any free port)")
        ->check(CLI::Range(0, 65535));
    serve->add_option("-t,--threads", threads, "Worker threads (overrides server.threads)")
        ->check(CLI::Range(0, 256));
    std::string port_file;
    serve->add_option("--port-file", port_file,
                      "Write the bound port to this file once listening (for scripts and tests)");

    auto* version = app.add_subcommand("version", "Print the version");

    auto* config = app.add_subcommand("config", "Configuration tools");
    config->require_subcommand(1);
    auto* check = config->add_subcommand("check", "Validate a config file; exit 2 if invalid");
    std::string check_path;
    check->add_option("file", check_path, "Config file")->required();
    auto* show_default = config->add_subcommand("default", "Print the built-in default config");

    std::vector<std::pair<CLI::App*, switchyard::cli::Action>> actions;
    switchyard::cli::add_accounting_commands(app, actions);
    switchyard::cli::add_token_commands(app, actions);
    switchyard::cli::add_cache_commands(app, actions);
    switchyard::cli::add_rag_commands(app, actions);

    CLI11_PARSE(app, argc, argv);

    for (auto& [cmd, action] : actions) {
        if (cmd->parsed()) return action();
    }

    if (version->parsed()) {
        std::cout << "switchyard " << kVersion << "\n";
        return 0;
    }
    if (show_default->parsed()) {
        std::cout << switchyard::default_config_yaml();
        return 0;
    }
    if (check->parsed()) {
        try {
            auto cfg = switchyard::load_config_file(check_path);
            std::cout << check_path << ": OK (" << cfg.models.size() << " models)\n";
            return 0;
        } catch (const switchyard::ConfigError& e) {
            std::cerr << "invalid config: " << e.what() << "\n";
            return 2;
        }
    }
    if (serve->parsed()) {
        switchyard::Config cfg;
        try {
            cfg = load(config_path);
        } catch (const switchyard::ConfigError& e) {
            std::cerr << "invalid config: " << e.what() << "\n";
            return 2;
        }
        if (!host.empty()) cfg.server.host = host;
        if (cfg.auth.open_access && !switchyard::is_loopback_host(cfg.server.host)) {
            std::cerr << "invalid config: auth.open_access (no API keys) is for local "
                         "development only and needs a loopback server.host, not '"
                      << cfg.server.host << "'\n";
            return 2;
        }
        if (port >= 0) cfg.server.port = static_cast<uint16_t>(port);
        if (threads >= 0) cfg.server.threads = threads;
        setup_logging(cfg.logging);
        try {
            switchyard::HttpServer server(std::move(cfg));
            return server.run([&](uint16_t bound) {
                if (port_file.empty()) return;
                const std::string tmp = port_file + ".tmp";
                if (FILE* f = std::fopen(tmp.c_str(), "w")) {
                    std::fprintf(f, "%u\n", static_cast<unsigned>(bound));
                    std::fclose(f);
                    std::rename(tmp.c_str(), port_file.c_str());
                }
            });
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            return 1;
        }
    }
    return 0;
}
