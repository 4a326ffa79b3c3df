// switchyard keys create|list|revoke, switchyard usage report: the key table and the usage
// ledger in the SQLite file the config names (storage.sqlite_path), or --db.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/server/keys.hpp"
#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/budget.hpp"
#include "switchyard/tokens/ledger.hpp"

namespace switchyard::cli {
namespace {

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct DbOptions {
    std::string config;
    std::string db;
};

void add_db_options(CLI::App* cmd, DbOptions& o) {
    cmd->add_option("-c,--config", o.config,
                    "Config file whose storage.sqlite_path to use (default: built-in config)");
    cmd->add_option("--db", o.db, "SQLite file (overrides the config)");
}

// The database path, or throws ConfigError.
std::string db_path(const DbOptions& o) {
    if (!o.db.empty()) return o.db;
    Config cfg = o.config.empty() ? default_config() : load_config_file(o.config);
    return cfg.storage.sqlite_path;
}

// Runs `f`, turning the expected failures into messages and exit codes.
int guarded(const std::function<int()>& f) {
    try {
        return f();
    } catch (const ConfigError& e) {
        std::cerr << "invalid config: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}

std::string money(int64_t nusd) {
    return fmt::format("{:.4f}", tokens::to_usd(nusd));
}

std::string day_of(int64_t ms) {
    return tokens::format_utc(ms).substr(0, 10);
}

// CSV field: quoted when it holds a comma, quote or newline.
std::string csv(std::string_view v) {
    if (v.find_first_of(",\"\n") == std::string_view::npos) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::optional<int64_t> parse_when(const std::string& text, const char* what) {
    if (text.empty()) return std::nullopt;
    auto t = tokens::parse_utc_time(text);
    if (!t) {
        throw std::invalid_argument(fmt::format(
            "{} must be unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got '{}'", what, text));
    }
    return t;
}

}  // namespace

void add_accounting_commands(CLI::App& app, std::vector<std::pair<CLI::App*, Action>>& actions) {
    auto* keys = app.add_subcommand("keys", "Gateway API keys (stored hashed)");
    keys->require_subcommand(1);

    // keys create
    auto* create = keys->add_subcommand("create", "Create a key; the secret is shown once");
    auto opts = std::make_shared<DbOptions>();
    auto spec = std::make_shared<NewKey>();
    auto budget = std::make_shared<double>(-1);
    auto period = std::make_shared<std::string>("month");
    auto models = std::make_shared<std::string>();
    create->add_option("--name", spec->name, "Who the key is for, e.g. team-a")->required();
    create->add_option("--budget-usd", *budget, "Spending limit per period, USD")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--period", *period, "Budget period: day or month")
        ->check(CLI::IsMember({"day", "month"}));
    create->add_option("--rpm", spec->rpm, "Requests per minute (0 = unlimited)")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--tpm", spec->tpm, "Tokens per minute (0 = unlimited)")
        ->check(CLI::NonNegativeNumber);
    create->add_option("--models", *models, "Comma-separated models the key may use (default all)");
    create->add_flag("--admin", spec->admin, "May call admin endpoints and read all usage");
    add_db_options(create, *opts);
    actions.emplace_back(create, [=] {
        return guarded([&] {
            if (*budget >= 0) spec->budget_usd = *budget;
            spec->budget_period = *tokens::parse_budget_period(*period);
            std::string_view rest = *models;
            while (!rest.empty()) {
                auto comma = rest.find(',');
                if (auto m = rest.substr(0, comma); !m.empty()) spec->models.emplace_back(m);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
            storage::SqliteDb db(db_path(*opts));
            auto created = KeyStore(db).create(*spec, now_ms());
            std::cout << created.secret << "\n";
            std::cerr << fmt::format(
                "created key {} for '{}'{}{}; the secret above is shown only once\n",
                created.key.id, created.key.name,
                created.key.budget_nusd
                    ? fmt::format(", budget ${} per {}", money(*created.key.budget_nusd),
                                  tokens::to_string(created.key.budget_period))
                    : "",
                created.key.admin ? ", admin" : "");
            return 0;
        });
    });

    // keys list
    auto* list = keys->add_subcommand("list", "List keys (never their secrets)");
    auto list_opts = std::make_shared<DbOptions>();
    auto all = std::make_shared<bool>(false);
    list->add_flag("--all", *all, "Include revoked keys");
    add_db_options(list, *list_opts);
    actions.emplace_back(list, [=] {
        return guarded([&] {
            storage::SqliteDb db(db_path(*list_opts));
            auto rows = KeyStore(db).list(*all);
            std::cout << fmt::format("{:<18} {:<20} {:<12} {:>12} {:<6} {:>6} {:>8} {:<10} {}\n",
                                     "ID", "NAME", "PREFIX", "BUDGET_USD", "PERIOD", "RPM", "TPM",
                                     "CREATED", "STATUS");
            for (const auto& k : rows) {
                std::cout << fmt::format(
                    "{:<18} {:<20} {:<12} {:>12} {:<6} {:>6} {:>8} {:<10} {}\n", k.id, k.name,
                    k.prefix + "…", k.budget_nusd ? money(*k.budget_nusd) : "-",
                    k.budget_nusd ? tokens::to_string(k.budget_period) : "-", k.rpm, k.tpm,
                    day_of(k.created_ms),
                    k.revoked_ms ? "revoked " + day_of(*k.revoked_ms)
                                 : (k.admin ? "active admin" : "active"));
            }
            return 0;
        });
    });

    // keys revoke
    auto* revoke = keys->add_subcommand("revoke", "Revoke a key by id or name");
    auto revoke_opts = std::make_shared<DbOptions>();
    auto which = std::make_shared<std::string>();
    revoke->add_option("key", *which, "Key id (key_...) or name")->required();
    add_db_options(revoke, *revoke_opts);
    actions.emplace_back(revoke, [=] {
        return guarded([&] {
            storage::SqliteDb db(db_path(*revoke_opts));
            const int n = KeyStore(db).revoke(*which, now_ms());
            if (n == 0) {
                std::cerr << "no active key with id or name '" << *which << "'\n";
                return 1;
            }
            std::cerr << "revoked " << n << " key(s); running gateways stop accepting them "
                      << "within auth.refresh_interval_ms\n";
            return 0;
        });
    });

    // usage report
    auto* usage = app.add_subcommand("usage", "Usage ledger reports");
    usage->require_subcommand(1);
    auto* report = usage->add_subcommand("report", "Requests, tokens and cost, grouped");
    auto report_opts = std::make_shared<DbOptions>();
    auto q = std::make_shared<tokens::UsageQuery>();
    auto key = std::make_shared<std::string>();
    auto model = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto group = std::make_shared<std::string>("model");
    auto format = std::make_shared<std::string>("table");
    report->add_option("--key", *key, "Only this key id");
    report->add_option("--model", *model, "Only this model");
    report->add_option("--from", *from,
                       "From (inclusive): unix seconds, YYYY-MM-DD, or "
                       "YYYY-MM-DDTHH:MM:SSZ");
    report->add_option("--to", *to, "To (exclusive), same formats");
    report->add_option("--group-by", *group, "model, key, day or none")
        ->check(CLI::IsMember({"model", "key", "day", "none"}));
    report->add_option("--format", *format, "table or csv")->check(CLI::IsMember({"table", "csv"}));
    add_db_options(report, *report_opts);
    actions.emplace_back(report, [=] {
        return guarded([&] {
            if (!key->empty()) q->key_id = *key;
            if (!model->empty()) q->model = *model;
            q->from_ms = parse_when(*from, "--from");
            q->to_ms = parse_when(*to, "--to");
            q->group_by = *group == "model" ? tokens::UsageGroupBy::kModel
                          : *group == "key" ? tokens::UsageGroupBy::kKey
                          : *group == "day" ? tokens::UsageGroupBy::kDay
                                            : tokens::UsageGroupBy::kNone;
            storage::SqliteDb db(db_path(*report_opts));
            tokens::create_usage_schema(db);
            auto rows = tokens::query_usage(db, *q);
            const bool is_csv = *format == "csv";
            const std::string head = *group == "none" ? "ALL" : *group;
            if (is_csv) {
                std::cout << *group << (*group == "key" ? ",key_name" : "")
                          << ",requests,input_tokens,output_tokens,cost_usd,counted_requests,"
                             "cache_hits,saved_usd\n";
            } else {
                std::cout << fmt::format("{:<28} {:>9} {:>13} {:>13} {:>12} {:>10} {:>12}\n", head,
                                         "REQUESTS", "INPUT_TOKENS", "OUTPUT_TOKENS", "COST_USD",
                                         "CACHE_HITS", "SAVED_USD");
            }
            tokens::UsageGroup total;
            for (const auto& r : rows) {
                total.requests += r.requests;
                total.input_tokens += r.input_tokens;
                total.output_tokens += r.output_tokens;
                total.cost_nusd += r.cost_nusd;
                total.cache_hits += r.cache_hits;
                total.saved_nusd += r.saved_nusd;
                std::string label = r.group.empty() ? "all" : r.group;
                if (*group == "key" && !r.key_name.empty() && !is_csv)
                    label += " (" + r.key_name + ")";
                if (is_csv) {
                    std::cout << csv(label) << (*group == "key" ? "," + csv(r.key_name) : "")
                              << fmt::format(",{},{},{},{:.9f},{},{},{:.9f}\n", r.requests,
                                             r.input_tokens, r.output_tokens,
                                             tokens::to_usd(r.cost_nusd), r.counted_requests,
                                             r.cache_hits, tokens::to_usd(r.saved_nusd));
                } else {
                    std::cout << fmt::format("{:<28} {:>9} {:>13} {:>13} {:>12} {:>10} {:>12}\n",
                                             label, r.requests, r.input_tokens, r.output_tokens,
                                             money(r.cost_nusd), r.cache_hits, money(r.saved_nusd));
                }
            }
            if (!is_csv && *group != "none") {
                std::cout << fmt::format("{:<28} {:>9} {:>13} {:>13} {:>12} {:>10} {:>12}\n",
                                         "TOTAL", total.requests, total.input_tokens,
                                         total.output_tokens, money(total.cost_nusd),
                                         total.cache_hits, money(total.saved_nusd));
            }
            return 0;
        });
    });
}

}  // namespace switchyard::cli
