// make_provider: the adapter for each provider kind.
#include "providers.hpp"

namespace switchyard {

std::unique_ptr<Provider> make_provider(const ModelConfig& model) {
    switch (model.provider) {
        case ProviderKind::kOpenAI:
        case ProviderKind::kOpenAICompatible:
            return make_openai_provider(model);
        case ProviderKind::kAnthropic:
            return make_anthropic_provider(model);
    }
    return make_openai_provider(model);
}

}  // namespace switchyard
