// Config loading: models, routing, resilience, and the cross-references between them.
#include <set>
#include <string>

#include "loader.hpp"

namespace switchyard::config_detail {

ModelConfig Loader::load_model(const YAML::Node& n, size_t index) const {
    const std::string path = fmt::format("models[{}]", index);
    check_keys(n, path,
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
            m.price.output_per_1m_usd = number(price["output"], path + ".price_per_1m.output", 0);
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
            dep.name =
                d["name"] ? str(d["name"], dpath + ".name") : fmt::format("{}#{}", m.name, i + 1);
            if (!d["base_url"]) fail(d, dpath + ".base_url", "is required");
            dep.base_url = str(d["base_url"], dpath + ".base_url");
            auto durl = Url::parse(dep.base_url);
            if (!durl) {
                fail(d["base_url"], dpath + ".base_url",
                     fmt::format("'{}' is not an http:// or https:// URL", dep.base_url));
            }
            dep.url = *durl;
            dep.api_key_env = d["api_key_env"] ? str(d["api_key_env"], dpath + ".api_key_env") : "";
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

void Loader::load_weights(const YAML::Node& n, const std::string& path,
                          routing::RouterWeights& w) const {
    check_keys(n, path, {"quality", "cost", "latency", "errors", "load", "policy"});
    if (n["quality"]) w.quality = number(n["quality"], path + ".quality", 0);
    if (n["cost"]) w.cost = number(n["cost"], path + ".cost", 0);
    if (n["latency"]) w.latency = number(n["latency"], path + ".latency", 0);
    if (n["errors"]) w.errors = number(n["errors"], path + ".errors", 0);
    if (n["load"]) w.load = number(n["load"], path + ".load", 0);
    if (n["policy"]) w.policy = number(n["policy"], path + ".policy", 0);
}

void Loader::load_routing(const YAML::Node& n, RoutingConfig& r) const {
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
            fail(n["explicit_remote_pii"], "routing.explicit_remote_pii", "must be allow or deny");
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
            rule.name = rn["name"] ? str(rn["name"], path + ".name") : fmt::format("rule-{}", i);
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
                rule.min_privacy = enum_word(rn["min_privacy"], path + ".min_privacy",
                                             valid_privacy, "none, personal, sensitive, secret");
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
                rule.max_prompt_tokens = integer(rn["max_prompt_tokens"],
                                                 path + ".max_prompt_tokens", 0, int64_t{1} << 32);
            }
            if (rn["prefer"]) rule.prefer = strings(rn["prefer"], path + ".prefer");
            if (rn["local_only"]) rule.local_only = boolean(rn["local_only"], path + ".local_only");
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

void Loader::load_resilience(const YAML::Node& n, ResilienceConfig& r) const {
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
        if (t["budget_ratio"]) c.budget_ratio = number(t["budget_ratio"], p + "budget_ratio", 0);
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
                   {"failure_rate", "minimum_calls", "consecutive_failures", "window_ms", "open_ms",
                    "open_jitter", "half_open_probes"});
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
        if (b["window_ms"]) c.window_ms = integer(b["window_ms"], p + "window_ms", 100, 3'600'000);
        if (b["open_ms"]) c.open_ms = integer(b["open_ms"], p + "open_ms", 1, 3'600'000);
        if (b["open_jitter"]) {
            c.open_jitter = number(b["open_jitter"], p + "open_jitter", 0);
            if (c.open_jitter > 1) fail(b["open_jitter"], p + "open_jitter", "must be in [0, 1]");
        }
        if (b["half_open_probes"]) {
            c.half_open_probes = integer(b["half_open_probes"], p + "half_open_probes", 1, 1000);
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
        r.rate_limit_to_local = boolean(n["rate_limit_to_local"], "resilience.rate_limit_to_local");
    }
    if (n["incidents_path"]) {
        r.incidents_path = str(n["incidents_path"], "resilience.incidents_path");
    }
}

// Model names in routing rules, routes and fallbacks must exist.
void Loader::check_references(const YAML::Node& root, const Config& c) const {
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

}  // namespace switchyard::config_detail
