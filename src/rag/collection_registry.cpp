#include "switchyard/rag/collection_registry.hpp"

#include <utility>

namespace switchyard::rag {

CollectionRegistry::CollectionRegistry(std::shared_ptr<RagStore> store, EmbedderResolver resolve,
                                       CollectionOptions options)
    : store_(std::move(store)), resolve_(std::move(resolve)), options_(std::move(options)) {}

Result<std::shared_ptr<Collection>> CollectionRegistry::get(std::string_view name) {
    std::lock_guard lock(mutex_);
    if (auto it = open_.find(name); it != open_.end()) return it->second;
    auto listed = store_->collections();
    if (!listed) return listed.error();
    const CollectionInfo* info = nullptr;
    for (const CollectionInfo& c : listed.value()) {
        if (c.name == name) info = &c;
    }
    if (info == nullptr) {
        return Error{.kind = ErrorKind::kNotFound,
                     .message = "collection '" + std::string(name) + "' does not exist",
                     .param = "collection",
                     .code = "collection_not_found"};
    }
    auto embedder = resolve_(info->embedder);
    if (!embedder) return embedder.error();
    auto opened = Collection::open(store_, name, std::move(embedder).value(), options_);
    if (!opened) return opened.error();
    open_.emplace(std::string(name), opened.value());
    return opened;
}

Result<std::shared_ptr<Collection>> CollectionRegistry::create(std::string_view name,
                                                               std::string_view embedder_name,
                                                               const CollectionOptions& options) {
    auto embedder = resolve_(embedder_name);
    if (!embedder) return embedder.error();
    std::lock_guard lock(mutex_);
    auto created = Collection::create(store_, name, std::move(embedder).value(), options);
    if (!created) return created.error();
    open_[std::string(name)] = created.value();
    return created;
}

Status CollectionRegistry::drop(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto dropped = store_->drop_collection(name);
    if (!dropped) return dropped;
    if (auto it = open_.find(name); it != open_.end()) open_.erase(it);
    return Ok{};
}

}  // namespace switchyard::rag
