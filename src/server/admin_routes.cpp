// The auth stage (gateway API keys) and the accounting endpoints: GET /v1/usage, and key
// management under /v1/keys (admin key required, except GET /v1/keys/self).
#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "switchyard/tokens/budget.hpp"

#include "request_context.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/ledger.hpp"

namespace switchyard {
namespace {

using tokens::to_usd;

std::string_view header(const RequestContext& ctx, std::string_view name) {
    auto it = ctx.request.find(name);
    return it == ctx.request.end() ? std::string_view{} : it->value();
}

// The presented key: `Authorization: Bearer <key>` (OpenAI SDKs, and the Anthropic SDK with
// authToken) or `x-api-key: <key>` (Anthropic SDKs).
std::string_view presented_key(const RequestContext& ctx) {
    std::string_view auth = header(ctx, "authorization");
    if (auth.size() > 7 && (auth.starts_with("Bearer ") || auth.starts_with("bearer "))) {
        auth.remove_prefix(7);
        while (!auth.empty() && auth.front() == ' ')
            auth.remove_prefix(1);
        return auth;
    }
    return header(ctx, "x-api-key");
}

// "sk-sy-abc…" without showing the secret.
std::string redacted(std::string_view key) {
    if (key.size() <= 10) return std::string(key.substr(0, 3)) + "***";
    return fmt::format("{}***{}", key.substr(0, 8), key.substr(key.size() - 2));
}

Error auth_error(ErrorKind kind, std::string code, std::string message) {
    Error e;
    e.kind = kind;
    e.code = std::move(code);
    e.message = std::move(message);
    return e;
}

void write_key(JsonWriter& w, const ApiKey& k) {
    w.begin_object().kv("id", k.id).kv("object", "api_key").kv("name", k.name);
    w.kv("prefix", k.prefix).kv("created_at", k.created_ms / 1000);
    if (k.revoked_ms) {
        w.kv("revoked_at", *k.revoked_ms / 1000);
    } else {
        w.kv_null("revoked_at");
    }
    if (k.budget_nusd) {
        w.kv("budget_usd", to_usd(*k.budget_nusd));
    } else {
        w.kv_null("budget_usd");
    }
    w.kv("budget_period", tokens::to_string(k.budget_period));
    w.kv("rpm", k.rpm).kv("tpm", k.tpm);
    w.key("models").begin_array();
    for (const auto& m : k.models)
        w.value(m);
    w.end_array().kv("admin", k.admin);
    w.end_object();
}

// ---------------------------------------------------------------- GET /v1/usage

// The query of GET /v1/usage, or a 400 naming the bad parameter.
Result<tokens::UsageQuery> parse_usage_query(std::string_view target, std::string& group_name) {
    tokens::UsageQuery q;
    for (std::string_view known : {"key", "model", "from", "to", "group_by"}) {
        auto v = query_param(target, known);
        if (v && *v == "\x01") {
            return Error::invalid_request(fmt::format("`{}` is not valid percent-encoding", known),
                                          std::string(known));
        }
    }
    if (auto v = query_param(target, "key")) q.key_id = *v;
    if (auto v = query_param(target, "model")) q.model = *v;
    for (std::string_view name : {"from", "to"}) {
        auto v = query_param(target, name);
        if (!v) continue;
        auto t = tokens::parse_utc_time(*v);
        if (!t) {
            return Error::invalid_request(
                fmt::format("`{}` must be unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; got "
                            "'{}'",
                            name, *v),
                std::string(name));
        }
        (name == "from" ? q.from_ms : q.to_ms) = *t;
    }
    if (q.from_ms && q.to_ms && *q.from_ms > *q.to_ms) {
        return Error::invalid_request("`from` is after `to`", "from");
    }
    group_name = "none";
    if (auto v = query_param(target, "group_by")) {
        group_name = *v;
        if (*v == "model") {
            q.group_by = tokens::UsageGroupBy::kModel;
        } else if (*v == "key") {
            q.group_by = tokens::UsageGroupBy::kKey;
        } else if (*v == "day") {
            q.group_by = tokens::UsageGroupBy::kDay;
        } else if (*v != "none" && !v->empty()) {
            return Error::invalid_request(
                fmt::format("`group_by` must be model, key, day or none; got '{}'", *v),
                "group_by");
        }
    }
    return q;
}

awaitable<void> handle_usage(RequestContext& ctx) {
    ctx.endpoint = "usage";
    std::string group_name;
    auto parsed = parse_usage_query(ctx.request.target(), group_name);
    if (!parsed) {
        co_await send_error(ctx, parsed.error(), ErrorStyle::kOpenAI);
        co_return;
    }
    tokens::UsageQuery q = std::move(*parsed);
    // A non-admin key sees only its own usage.
    if (ctx.key && !ctx.key->key.admin) {
        if (q.key_id && *q.key_id != ctx.key->key.id) {
            co_await send_error(ctx,
                                auth_error(ErrorKind::kPermission, "forbidden",
                                           "Only an admin key may read another key's usage."),
                                ErrorStyle::kOpenAI);
            co_return;
        }
        q.key_id = ctx.key->key.id;
    }
    Gateway& gw = ctx.gateway;
    const std::string path = gw.config().storage.sqlite_path;
    std::string error;
    std::vector<tokens::UsageGroup> groups;
    try {
        auto work = [&gw, path, q] {
            gw.ledger().flush();  // what was answered before this query is counted
            storage::SqliteDb db(path);
            return tokens::query_usage(db, q);
        };
        groups = co_await run_blocking(gw, std::move(work));
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) {
        spdlog::error("usage query failed: {}", error);
        co_await send_error(ctx, Error::internal("usage query failed; see the gateway log"),
                            ErrorStyle::kOpenAI);
        co_return;
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("object", "usage").kv("group_by", group_name);
    if (q.from_ms)
        w.kv("from", *q.from_ms / 1000);
    else
        w.kv_null("from");
    if (q.to_ms)
        w.kv("to", *q.to_ms / 1000);
    else
        w.kv_null("to");
    tokens::UsageGroup total;
    auto write_totals = [&](const tokens::UsageGroup& g) {
        w.kv("requests", g.requests).kv("input_tokens", g.input_tokens);
        w.kv("output_tokens", g.output_tokens).kv("total_tokens", g.input_tokens + g.output_tokens);
        w.kv("cost_usd", to_usd(g.cost_nusd)).kv("counted_requests", g.counted_requests);
        w.kv("cache_hits", g.cache_hits).kv("saved_usd", to_usd(g.saved_nusd));
    };
    w.key("data").begin_array();
    for (const auto& g : groups) {
        total.requests += g.requests;
        total.input_tokens += g.input_tokens;
        total.output_tokens += g.output_tokens;
        total.cost_nusd += g.cost_nusd;
        total.counted_requests += g.counted_requests;
        total.cache_hits += g.cache_hits;
        total.saved_nusd += g.saved_nusd;
        if (q.group_by == tokens::UsageGroupBy::kNone) continue;
        w.begin_object();
        switch (q.group_by) {
            case tokens::UsageGroupBy::kModel:
                w.kv("model", g.group);
                break;
            case tokens::UsageGroupBy::kKey:
                w.kv("key_id", g.group).kv("key_name", g.key_name);
                break;
            case tokens::UsageGroupBy::kDay:
                w.kv("day", g.group);
                break;
            case tokens::UsageGroupBy::kNone:
                break;
        }
        write_totals(g);
        w.end_object();
    }
    w.end_array().key("total").begin_object();
    write_totals(total);
    w.end_object().end_object();
    co_await send_json(ctx, http::status::ok, std::move(out));
}

// ---------------------------------------------------------------- /v1/keys

awaitable<void> handle_key_self(RequestContext& ctx) {
    std::string out;
    JsonWriter w(out);
    if (!ctx.key) {
        w.begin_object().kv("object", "api_key").kv("open_access", true).end_object();
        co_await send_json(ctx, http::status::ok, std::move(out));
        co_return;
    }
    const ApiKey& k = ctx.key->key;
    std::string key_json;
    JsonWriter kw(key_json);
    write_key(kw, k);
    key_json.pop_back();  // reopen the object to add the live budget
    out = key_json;
    if (ctx.key->budget) {
        const auto snap = ctx.key->budget->snapshot(ctx.gateway.now_ms());
        out += fmt::format(
            R"(,"budget":{{"limit_usd":{},"spent_usd":{},"reserved_usd":{},"resets_at":{}}})",
            to_usd(snap.limit_nusd), to_usd(snap.spent_nusd), to_usd(snap.reserved_nusd),
            snap.resets_at_ms / 1000);
    }
    out += '}';
    co_await send_json(ctx, http::status::ok, std::move(out));
}

Result<NewKey> parse_new_key(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get(doc) || doc.get(obj)) {
        return Error::invalid_request("The body must be a JSON object");
    }
    NewKey spec;
    for (auto field : obj) {
        const std::string_view k = field.key;
        auto v = field.value;
        if (k == "name") {
            std::string_view s;
            if (v.get(s)) return Error::invalid_request("`name` must be a string", "name");
            spec.name = std::string(s);
        } else if (k == "budget_usd") {
            double d = 0;
            if (v.is_null()) continue;
            if (v.is_int64()) {
                d = static_cast<double>(v.get_int64().value_unsafe());
            } else if (v.get(d)) {
                return Error::invalid_request("`budget_usd` must be a number", "budget_usd");
            }
            if (d < 0) return Error::invalid_request("`budget_usd` must be >= 0", "budget_usd");
            spec.budget_usd = d;
        } else if (k == "budget_period") {
            std::string_view s;
            std::optional<tokens::BudgetPeriod> p;
            if (!v.get(s)) p = tokens::parse_budget_period(s);
            if (!p)
                return Error::invalid_request("`budget_period` must be day or month",
                                              "budget_period");
            spec.budget_period = *p;
        } else if (k == "rpm" || k == "tpm") {
            int64_t n = 0;
            if (v.get(n) || n < 0)
                return Error::invalid_request(fmt::format("`{}` must be an integer >= 0", k),
                                              std::string(k));
            (k == "rpm" ? spec.rpm : spec.tpm) = n;
        } else if (k == "models") {
            simdjson::dom::array a;
            if (v.get(a))
                return Error::invalid_request("`models` must be a list of names", "models");
            for (auto m : a) {
                std::string_view s;
                if (m.get(s))
                    return Error::invalid_request("`models` must be a list of names", "models");
                spec.models.emplace_back(s);
            }
        } else if (k == "admin") {
            bool b = false;
            if (v.get(b)) return Error::invalid_request("`admin` must be true or false", "admin");
            spec.admin = b;
        } else {
            return Error::invalid_request(
                fmt::format("Unknown field `{}` (expected name, budget_usd, budget_period, rpm, "
                            "tpm, models, admin)",
                            k),
                std::string(k));
        }
    }
    if (spec.name.empty()) return Error::invalid_request("`name` is required", "name");
    return spec;
}

awaitable<void> handle_keys(RequestContext& ctx, std::string_view rest) {
    ctx.endpoint = "keys";
    const auto method = ctx.request.method();
    if (rest == "self" && method == http::verb::get) {
        co_await handle_key_self(ctx);
        co_return;
    }
    const bool admin = co_await require_admin(ctx);
    if (!admin) co_return;
    Gateway& gw = ctx.gateway;
    const std::string path = gw.config().storage.sqlite_path;
    std::string out;
    JsonWriter w(out);
    std::string error;
    try {
        if (rest.empty() && method == http::verb::get) {
            // (Lambdas are named locals: GCC 12 destroys temporaries of a co_await twice.)
            auto work = [path] {
                storage::SqliteDb db(path);
                return KeyStore(db).list(true);
            };
            auto keys = co_await run_blocking(gw, std::move(work));
            w.begin_object().kv("object", "list").key("data").begin_array();
            for (const auto& k : keys)
                write_key(w, k);
            w.end_array().end_object();
        } else if (rest.empty() && method == http::verb::post) {
            auto spec = parse_new_key(ctx.request.body());
            if (!spec) {
                co_await send_error(ctx, spec.error(), ErrorStyle::kOpenAI);
                co_return;
            }
            const int64_t now = gw.now_ms();
            auto work = [&gw, path, s = *spec, now] {
                storage::SqliteDb db(path);
                auto c = KeyStore(db).create(s, now);
                gw.keys().refresh();  // usable at once, not after the next refresh tick
                return c;
            };
            auto created = co_await run_blocking(gw, std::move(work));
            std::string key_json;
            JsonWriter kw(key_json);
            write_key(kw, created.key);
            key_json.pop_back();
            out = key_json;
            out += ",\"key\":";
            std::string secret;
            JsonWriter(secret).value(created.secret);
            out += secret;
            out += '}';
            co_await send_json(ctx, http::status::created, std::move(out));
            co_return;
        } else if (!rest.empty() && method == http::verb::delete_) {
            const std::string id(rest);
            const int64_t now = gw.now_ms();
            auto work = [&gw, path, id, now] {
                storage::SqliteDb db(path);
                int revoked = KeyStore(db).revoke(id, now);
                gw.keys().refresh();
                return revoked;
            };
            int n = co_await run_blocking(gw, std::move(work));
            if (n == 0) {
                Error e;
                e.kind = ErrorKind::kNotFound;
                e.code = "key_not_found";
                e.message = fmt::format("No active key with id or name '{}'", id);
                co_await send_error(ctx, e, ErrorStyle::kOpenAI);
                co_return;
            }
            w.begin_object().kv("id", id).kv("object", "api_key").kv("revoked", true);
            w.kv("count", n).end_object();
        } else {
            Error e;
            e.kind = ErrorKind::kNotFound;
            e.code = "unknown_url";
            e.message =
                "Key endpoints: GET /v1/keys, POST /v1/keys, DELETE /v1/keys/{id}, "
                "GET /v1/keys/self";
            co_await send_error(ctx, e, ErrorStyle::kOpenAI);
            co_return;
        }
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) {
        spdlog::error("key operation failed: {}", error);
        co_await send_error(ctx, Error::internal("key operation failed; see the gateway log"),
                            ErrorStyle::kOpenAI);
        co_return;
    }
    co_await send_json(ctx, http::status::ok, std::move(out));
}

}  // namespace

awaitable<bool> authenticate(RequestContext& ctx, ErrorStyle style) {
    Gateway& gw = ctx.gateway;
    const std::string_view secret = presented_key(ctx);
    if (secret.empty()) {
        if (gw.config().auth.open_access) co_return true;
        gw.metrics().count_event(ctx.worker_index, "switchyard_auth_failures_total",
                                 {{"reason", "missing"}});
        const Error e = auth_error(
            ErrorKind::kAuthentication, "missing_api_key",
            "You didn't provide an API key. Send it as `Authorization: Bearer sk-sy-...` (or "
            "`x-api-key`). Keys are created with `switchyard keys create`.");
        co_await send_error(ctx, e, style);
        co_return false;
    }
    ctx.key = gw.keys().find(secret);
    if (!ctx.key) {
        if (gw.config().auth.open_access) co_return true;  // open access ignores keys
        gw.metrics().count_event(ctx.worker_index, "switchyard_auth_failures_total",
                                 {{"reason", "invalid"}});
        const Error e = auth_error(ErrorKind::kAuthentication, "invalid_api_key",
                                   fmt::format("Incorrect API key provided: {}. The key is "
                                               "unknown or has been revoked.",
                                               redacted(secret)));
        co_await send_error(ctx, e, style);
        co_return false;
    }
    co_return true;
}

awaitable<bool> require_admin(RequestContext& ctx) {
    Gateway& gw = ctx.gateway;
    const bool open_admin = gw.config().auth.open_access && gw.config().auth.admin_key.empty();
    if (open_admin || (ctx.key && ctx.key->key.admin)) co_return true;
    gw.metrics().count_event(ctx.worker_index, "switchyard_auth_failures_total",
                             {{"reason", "not_admin"}});
    Error e;
    if (!ctx.key) {
        e = auth_error(ErrorKind::kAuthentication, "missing_api_key",
                       "This endpoint needs the admin key (auth.admin_key_env) or an admin key "
                       "created with `switchyard keys create --admin`.");
    } else {
        e = auth_error(ErrorKind::kPermission, "forbidden",
                       fmt::format("The API key '{}' is not an admin key; this endpoint needs one.",
                                   ctx.key->key.name));
    }
    co_await send_error(ctx, e, ErrorStyle::kOpenAI);
    co_return false;
}

awaitable<void> handle_admin(RequestContext& ctx, std::string_view path) {
    if (path == "/v1/usage") {
        if (ctx.request.method() != http::verb::get) {
            co_await send_error(
                ctx, Error::invalid_request("GET /v1/usage only", {}, "method_not_allowed"),
                ErrorStyle::kOpenAI);
            co_return;
        }
        co_await handle_usage(ctx);
        co_return;
    }
    std::string_view rest = path.substr(std::string_view("/v1/keys").size());
    if (!rest.empty()) rest.remove_prefix(1);  // the '/'
    co_await handle_keys(ctx, rest);
}

awaitable<void> send_json(RequestContext& ctx, http::status status, std::string body) {
    co_await ctx.response.send(status, "application/json", std::move(body));
}

std::optional<std::string> percent_decode(std::string_view v, bool plus_is_space) {
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+' && plus_is_space) {
            out.push_back(' ');
        } else if (v[i] == '%') {
            if (i + 2 >= v.size()) return std::nullopt;
            unsigned x = 0;
            auto [p, ec] = std::from_chars(v.data() + i + 1, v.data() + i + 3, x, 16);
            if (ec != std::errc() || p != v.data() + i + 3) return std::nullopt;
            out.push_back(static_cast<char>(x));
            i += 2;
        } else {
            out.push_back(v[i]);
        }
    }
    return out;
}

// Query string value of `name` (percent-decoding '+' and %XX), or nullopt.
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        std::string_view k = pair.substr(0, eq);
        if (k == name) {
            std::string_view v = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
            auto decoded = percent_decode(v, true);
            return decoded ? std::move(*decoded) : std::string("\x01");
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace switchyard
