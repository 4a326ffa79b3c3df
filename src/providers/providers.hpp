// Private: constructors of the concrete provider adapters, used by make_provider().
#pragma once

#include <memory>

#include "switchyard/providers/provider.hpp"

namespace switchyard {

std::unique_ptr<Provider> make_openai_provider(const ModelConfig& model);
std::unique_ptr<Provider> make_anthropic_provider(const ModelConfig& model);

}  // namespace switchyard
