// Gateway: the catalog and its providers.
#include "switchyard/server/gateway.hpp"

#include <fmt/format.h>

#include <ctime>
#include <stdexcept>
#include <thread>

#include "cache_stage.hpp"
#include "rag_service.hpp"
#include "single_flight.hpp"
#include "switchyard/cache/cache_store.hpp"
#include "switchyard/storage/sqlite.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard {
namespace {

std::vector<std::pair<std::string, std::string>> model_labels(const Config& c) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& m : c.models)
        out.emplace_back(m.name, m.provider_name);
    return out;
}

}  // namespace

int resolved_thread_count(const ServerConfig& server) {
    if (server.threads > 0) return server.threads;
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

static int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Gateway::Gateway(Config config, Clock clock)
    : config_(std::move(config)),
      clock_(clock ? std::move(clock) : Clock(system_now_ms)),
      tokenizers_(config_.tokens.vocab_dir.empty() ? tokens::default_vocab_dir()
                                                   : config_.tokens.vocab_dir),
      metrics_(resolved_thread_count(config_.server), model_labels(config_)),
      retry_policy_(config_.resilience.retry),
      retry_budget_(config_.resilience.retry) {
    build_routing();
    if (config_.rag.enabled) rag_ = std::make_unique<RagService>(config_.rag);
    // The semantic cache's embedder (GloVe: ~70 ms to map and prepare) loads now, not on the
    // io thread of the first request that needs it.
    if (config_.cache.enabled && config_.cache.semantic.enabled) semantic_cache(*this);
    warm_cache();  // after the semantic side exists: it indexes the loaded prompts again
    // Every vocabulary the catalog needs is loaded now, so a missing data file stops the
    // start-up with the fix in the message instead of failing requests later.
    for (const auto& m : config_.models) {
        ModelTokens t;
        t.vocabulary =
            m.tokenizer.empty() ? tokens::vocabulary_for_model(m.upstream_model) : m.tokenizer;
        auto loaded = tokenizers_.get(t.vocabulary);
        if (auto* error = std::get_if<std::string>(&loaded)) {
            throw std::runtime_error(fmt::format("model {}: {}", m.name, *error));
        }
        t.tokenizer = std::get<0>(loaded);
        t.family = tokens::chat_family_for_vocabulary(t.vocabulary);
        model_tokens_.push_back(t);
    }
    tokens::LedgerOptions lo;
    lo.path = config_.storage.sqlite_path;
    lo.flush_interval_ms = config_.ledger.flush_interval_ms;
    lo.batch_rows = static_cast<size_t>(config_.ledger.batch_rows);
    lo.max_pending_rows = static_cast<size_t>(config_.ledger.max_pending_rows);
    ledger_ = std::make_unique<tokens::UsageLedger>(std::move(lo));
    KeyRingOptions ko;
    ko.db_path = config_.storage.sqlite_path;
    ko.refresh_interval_ms = config_.auth.refresh_interval_ms;
    ko.alert_thresholds = config_.budgets.alert_thresholds;
    ko.admin_secret = config_.auth.admin_key;
    keys_ = std::make_unique<KeyRing>(std::move(ko), clock_);
    if (config_.budgets.global_usd > 0) {
        const auto period = tokens::parse_budget_period(config_.budgets.global_period)
                                .value_or(tokens::BudgetPeriod::kMonth);
        global_budget_ = std::make_unique<tokens::Budget>(
            "the gateway's global budget", tokens::to_nusd(config_.budgets.global_usd), period,
            config_.budgets.alert_thresholds);
        storage::SqliteDb db(config_.storage.sqlite_path);
        const int64_t now = clock_();
        global_budget_->add_spent(
            tokens::total_spend_since(db, tokens::period_start_ms(period, now)), now);
    }
    metrics_.add_gauge_source([this](std::string& out) { render_accounting_gauges(out); });
    metrics_.add_gauge_source([this](std::string& out) { render_routing_gauges(out); });
    const auto& u = config_.upstream;
    timeouts_.connect = std::chrono::milliseconds(u.connect_timeout_ms);
    timeouts_.first_byte = std::chrono::milliseconds(u.first_byte_timeout_ms);
    timeouts_.between_chunks = std::chrono::milliseconds(u.between_chunks_timeout_ms);
    timeouts_.total = std::chrono::milliseconds(u.total_timeout_ms);
    started_unix_ = static_cast<int64_t>(std::time(nullptr));
}

void Gateway::render_accounting_gauges(std::string& out) {
    const int64_t now = clock_();
    std::string spent, limit, ratio;
    auto add = [&](tokens::Budget& b, std::string_view name) {
        const auto snap = b.snapshot(now);
        const auto labels =
            Metrics::label_set({{"budget", name}, {"period", to_string(b.period())}});
        spent += fmt::format("switchyard_budget_spent_usd{} {:.9f}\n", labels,
                             tokens::to_usd(snap.spent_nusd));
        limit += fmt::format("switchyard_budget_limit_usd{} {:.9f}\n", labels,
                             tokens::to_usd(snap.limit_nusd));
        ratio += fmt::format("switchyard_budget_used_ratio{} {:.6f}\n", labels,
                             snap.limit_nusd > 0 ? static_cast<double>(snap.spent_nusd) /
                                                       static_cast<double>(snap.limit_nusd)
                                                 : 0.0);
    };
    if (global_budget_) add(*global_budget_, "global");
    for (const auto& k : keys_->all()) {
        if (k->budget) add(*k->budget, k->key.name);
    }
    out +=
        "# HELP switchyard_budget_spent_usd Spend in the current budget period, USD.\n"
        "# TYPE switchyard_budget_spent_usd gauge\n";
    out += spent;
    out +=
        "# HELP switchyard_budget_limit_usd Budget limit per period, USD.\n"
        "# TYPE switchyard_budget_limit_usd gauge\n";
    out += limit;
    out +=
        "# HELP switchyard_budget_used_ratio Spend over limit in the current period.\n"
        "# TYPE switchyard_budget_used_ratio gauge\n";
    out += ratio;
    const auto st = ledger_->stats();
    out += fmt::format(
        "# HELP switchyard_ledger_rows_total Usage ledger rows, by state.\n"
        "# TYPE switchyard_ledger_rows_total counter\n"
        "switchyard_ledger_rows_total{{state=\"recorded\"}} {}\n"
        "switchyard_ledger_rows_total{{state=\"written\"}} {}\n"
        "switchyard_ledger_rows_total{{state=\"dropped\"}} {}\n",
        st.recorded, st.written, st.dropped);
}

Gateway::~Gateway() {
    blocking_pool_.join();  // queued incident appends and admin queries use members below
    if (ledger_) ledger_->close();
    if (cache_ && cache_->store()) cache_->store()->close();  // commits the queued writes
}

Result<Gateway::Target> Gateway::resolve(std::string_view model) const {
    if (const ModelConfig* m = config_.find_model(model)) {
        const auto index = static_cast<size_t>(m - config_.models.data());
        return Target{m, by_model_[index].front()->provider.get(), index};
    }
    std::string names;
    for (const auto& m : config_.models)
        names += (names.empty() ? "" : ", ") + m.name;
    Error e;
    e.kind = ErrorKind::kModelNotFound;
    e.param = "model";
    e.code = "model_not_found";
    e.message = fmt::format("The model '{}' does not exist on this gateway. Available models: {}",
                            model, names);
    return e;
}

}  // namespace switchyard
