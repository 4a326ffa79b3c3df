// SentencePiece-style BPE with byte fallback: llama2, mistral.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

// Loads a VocabKind::kSentencePieceBpe file written by tools/vocab/sentencepiece.mjs.
std::variant<std::unique_ptr<Tokenizer>, std::string> load_sentencepiece_bpe(
    const std::string& path);

}  // namespace switchyard::tokens
