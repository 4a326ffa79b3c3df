// Placeholder until the sentencepiece_bpe tokenizer lands: loading fails with a clear message.
#include "switchyard/tokens/sentencepiece_bpe.hpp"

namespace switchyard::tokens {

std::variant<std::unique_ptr<Tokenizer>, std::string> load_sentencepiece_bpe(
    const std::string& path) {
    return "tokenizer for " + path + " is not implemented yet";
}

}  // namespace switchyard::tokens
