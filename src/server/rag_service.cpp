#include "rag_service.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "switchyard/providers/remote_embedder.hpp"
#include "switchyard/rag/glove_embedder.hpp"
#include "switchyard/rag/hashing_embedder.hpp"

namespace switchyard {

RagService::RagService(RagConfig config) : config_(std::move(config)) {}

Result<rag::CollectionRegistry*> RagService::registry() {
    std::lock_guard lock(mu_);
    if (registry_) return registry_.get();
    auto opened = rag::RagStore::open(config_.sqlite_path);
    if (!opened) return std::move(opened.error());
    auto resolve = [this](std::string_view name) { return embedder(name); };
    registry_ = std::make_unique<rag::CollectionRegistry>(std::move(*opened), std::move(resolve),
                                                          collection_options());
    return registry_.get();
}

Result<std::shared_ptr<const rag::Embedder>> RagService::embedder(std::string_view name) {
    const RagRemoteEmbedderConfig& remote = config_.remote_embedder;
    if (!remote.model.empty() && (name == "remote" || name == remote.model ||
                                  name == RemoteEmbedder::name_of(remote.model_config))) {
        return remote_embedder();
    }
    std::lock_guard lock(embedders_mu_);
    if (name.starts_with("glove")) {
        if (!glove_) {
            auto opened = rag::GloveEmbedder::open();
            if (auto* message = std::get_if<std::string>(&opened)) {
                return Error::internal("the GloVe embedder cannot start: " + *message);
            }
            glove_ = std::shared_ptr<const rag::Embedder>(std::move(std::get<0>(opened)));
        }
        return glove_;
    }
    if (name.starts_with("hashing")) {
        if (!hashing_) hashing_ = std::make_shared<rag::HashingEmbedder>();
        return hashing_;
    }
    const std::string configured = remote.model.empty()
                                       ? std::string("none configured")
                                       : fmt::format("'{}' ({}, or 'remote')", remote.model,
                                                     RemoteEmbedder::name_of(remote.model_config));
    return Error::invalid_request(
        fmt::format("unknown embedder '{}' (built-in: glove, hashing; remote: {}; a remote "
                    "embedder is the model rag.remote_embedder names)",
                    name, configured),
        "embedder", "unknown_embedder");
}

Result<std::shared_ptr<const rag::Embedder>> RagService::remote_embedder() {
    {
        std::lock_guard lock(embedders_mu_);
        if (remote_) return remote_;
    }
    // The dimension is needed before a collection can be created: configured, else the one
    // a stored collection of this embedder has, else learned by one call. That call runs
    // outside every lock (the registry may be waiting on this resolver); a failed probe is not
    // kept, so the next use tries again.
    RagRemoteEmbedderConfig c = config_.remote_embedder;
    const std::string name = RemoteEmbedder::name_of(c.model_config);
    if (c.dimensions == 0) {
        if (auto r = registry()) {
            if (auto listed = (*r)->list()) {
                for (const auto& info : *listed) {
                    if (info.embedder == name) c.dimensions = static_cast<int64_t>(info.dimension);
                }
            }
        }
    }
    auto made = std::make_shared<RemoteEmbedder>(c);
    if (std::string failed = made->probe(); !failed.empty()) {
        return Error{
            .kind = ErrorKind::kUpstream,
            .message = fmt::format("the remote embedder '{}' cannot start: {}", name, failed),
            .param = "embedder",
            .code = "embedding_failed"};
    }
    std::lock_guard lock(embedders_mu_);
    if (!remote_) remote_ = std::move(made);
    return remote_;
}

rag::CollectionOptions RagService::collection_options() const {
    rag::CollectionOptions o;
    o.max_document_bytes = static_cast<size_t>(config_.max_document_kb) << 10;
    return o;
}

Result<std::shared_ptr<rag::Collection>> RagService::create(const RagCreateOptions& options) {
    auto r = registry();
    if (!r) return std::move(r.error());
    rag::CollectionOptions o = collection_options();
    o.chunking.strategy = options.strategy;
    o.chunking.size.size =
        static_cast<size_t>(options.chunk_size < 0 ? config_.chunk_size : options.chunk_size);
    // Without an explicit overlap: the configured one, at most a fifth of a smaller size.
    o.chunking.size.overlap =
        options.chunk_overlap >= 0
            ? static_cast<size_t>(options.chunk_overlap)
            : std::min(static_cast<size_t>(config_.chunk_overlap), o.chunking.size.size / 5);
    const std::string& e = options.embedder.empty() ? config_.embedder : options.embedder;
    return (*r)->create(options.name, e, o);
}

Result<std::shared_ptr<rag::Collection>> RagService::collection(std::string_view name) {
    auto r = registry();
    if (!r) return std::move(r.error());
    return (*r)->get(name);
}

Result<std::vector<rag::CollectionInfo>> RagService::list() {
    auto r = registry();
    if (!r) return std::move(r.error());
    return (*r)->list();
}

Status RagService::drop(std::string_view name) {
    auto r = registry();
    if (!r) return std::move(r.error());
    return (*r)->drop(name);
}

void RagService::note_own_write(std::string_view name) {
    auto r = registry();
    if (r) (*r)->note_own_write(name);
}

}  // namespace switchyard
