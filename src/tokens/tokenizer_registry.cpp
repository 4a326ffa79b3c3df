#include "switchyard/tokens/tokenizer_registry.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "switchyard/tokens/byte_level_bpe.hpp"
#include "switchyard/tokens/sentencepiece_bpe.hpp"

namespace switchyard::tokens {

TokenizerRegistry::TokenizerRegistry(std::string vocab_dir) : vocab_dir_(std::move(vocab_dir)) {}

std::variant<const Tokenizer*, std::string> TokenizerRegistry::get(std::string_view vocabulary) {
    std::lock_guard lock(mutex_);
    if (auto it = loaded_.find(vocabulary); it != loaded_.end()) return it->second.get();
    if (std::find(kVocabularies.begin(), kVocabularies.end(), vocabulary) == kVocabularies.end()) {
        return fmt::format("unknown vocabulary '{}' (known: {})", vocabulary,
                           fmt::join(kVocabularies, ", "));
    }
    std::string path = fmt::format("{}/{}.syvocab", vocab_dir_, vocabulary);
    bool sentencepiece = vocabulary == "llama2" || vocabulary == "mistral";
    auto result = sentencepiece ? load_sentencepiece_bpe(path) : load_byte_level_bpe(path);
    if (auto* error = std::get_if<std::string>(&result)) return std::move(*error);
    auto& slot = loaded_[std::string(vocabulary)];
    slot = std::move(std::get<0>(result));
    return slot.get();
}

}  // namespace switchyard::tokens
