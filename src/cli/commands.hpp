// The `switchyard` subcommands beyond `serve`: keys, usage, tokens and cache. Each registers its
// options on the CLI11 app and runs when parsed; all print errors to stderr and return the
// process exit code (0 ok, 1 failure, 2 invalid config or arguments).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace switchyard::cli {

// A parsed subcommand's action; called after CLI11 parsing when its command was chosen.
using Action = std::function<int()>;

// `switchyard keys create|list|revoke`, `switchyard usage report`.
void add_accounting_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions);
// `switchyard tokens count|encode`.
void add_token_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions);
// `switchyard cache invalidate|stats` (over HTTP to a running gateway, with the admin key).
void add_cache_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions);
// `switchyard ingest|query|chunk` (RAG collections in a local SQLite store).
void add_rag_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions);

}  // namespace switchyard::cli
