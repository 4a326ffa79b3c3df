// Placeholder until the byte_level_bpe tokenizer lands: loading fails with a clear message.
#include "switchyard/tokens/byte_level_bpe.hpp"

namespace switchyard::tokens {

std::variant<std::unique_ptr<Tokenizer>, std::string> load_byte_level_bpe(const std::string& path) {
    return "tokenizer for " + path + " is not implemented yet";
}

}  // namespace switchyard::tokens
