// Byte-level BPE (tiktoken's algorithm): cl100k_base, o200k_base, claude, llama3.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

// Loads a VocabKind::kByteLevelBpe file written by tools/vocab/bytelevel.mjs.
std::variant<std::unique_ptr<Tokenizer>, std::string> load_byte_level_bpe(const std::string& path);

}  // namespace switchyard::tokens
