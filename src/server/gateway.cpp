// Gateway: the catalog and its providers.
#include "switchyard/server/gateway.hpp"

#include <fmt/format.h>

#include <ctime>
#include <thread>

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

Gateway::Gateway(Config config)
    : config_(std::move(config)),
      metrics_(resolved_thread_count(config_.server), model_labels(config_)) {
    for (const auto& m : config_.models)
        providers_.push_back(make_provider(m));
    const auto& u = config_.upstream;
    timeouts_.connect = std::chrono::milliseconds(u.connect_timeout_ms);
    timeouts_.first_byte = std::chrono::milliseconds(u.first_byte_timeout_ms);
    timeouts_.between_chunks = std::chrono::milliseconds(u.between_chunks_timeout_ms);
    timeouts_.total = std::chrono::milliseconds(u.total_timeout_ms);
    started_unix_ = static_cast<int64_t>(std::time(nullptr));
}

Result<Gateway::Target> Gateway::resolve(std::string_view model) const {
    if (const ModelConfig* m = config_.find_model(model)) {
        const auto index = static_cast<size_t>(m - config_.models.data());
        return Target{m, providers_[index].get(), index};
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
