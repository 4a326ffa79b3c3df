// Chat formats of the [INST] family: the exact prompt a Llama 2 chat or Mistral instruct
// (v0.1/v0.2, tokenizer "V1") model sees for a list of turns, and its token count with the
// llama2 / mistral tokenizers. Turns are plain role + text pairs (no gateway types).
// Thread safety: pure functions; the tokenizer is only read.
// Failure: none; any turn list renders (see the normalization below).
//
// A prompt is a sequence of pieces: BOS (<s>), EOS (</s>), or a text piece. Each text piece is
// tokenized on its own with Tokenizer::encode, i.e. with the "▁" dummy prefix, exactly as the
// models' reference code calls SentencePiece once per piece.
//
// Normalization (both formats): system turns, wherever they are, are joined in order with
// "\n\n" into one system text S. The remaining turns, with consecutive turns of the same role
// joined by "\n\n", must alternate user/assistant starting with user: an empty user turn is put
// first when they start with an assistant turn or when there are none but S is non-empty. An
// empty turn list renders to nothing.
//
// Llama 2 chat (Meta's llama/generation.py chat_completion):
//   S goes into the first user text u1 := "<<SYS>>\n" + S + "\n<</SYS>>\n\n" + u1.
//   Each user turn u answered by a: BOS, "[INST] " + strip(u) + " [/INST] " + strip(a) + " ", EOS
//   A last user turn u with no answer: BOS, "[INST] " + strip(u) + " [/INST]"
//   strip() removes leading and trailing whitespace as Python's str.strip() does (ASCII
//   whitespace, \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
//   U+205F, U+3000); the system block is stripped together with the first user text.
//   Rendered: <s>[INST] <<SYS>>\n{S}\n<</SYS>>\n\n{u1} [/INST] {a1} </s><s>[INST] {u2} [/INST]
//
// Mistral instruct, tokenizer V1 (mistral-common; Mistral-7B-Instruct v0.1/v0.2, Mixtral 8x7B):
//   S goes into the first user text u1 := S + "\n\n" + u1 (mistral-common's default).
//   BOS once, then per user turn u: "[INST] " + u + " [/INST]"; per assistant turn a: a, EOS.
//   Texts are not stripped. Rendered: <s> [INST] {u1} [/INST] {a1}</s> [INST] {u2} [/INST]
//   (the spaces after <s> and </s> are the dummy prefixes of the next piece).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

enum class ChatRole { kSystem, kUser, kAssistant };

struct ChatTurn {
    ChatRole role;
    std::string_view text;
};

enum class InstFormat { kLlama2Chat, kMistralInstruct };

struct PromptPiece {
    enum class Kind { kBos, kEos, kText };
    Kind kind;
    std::string text;  // kText only
};

// The pieces of the prompt, in order.
std::vector<PromptPiece> render_inst_prompt(InstFormat format, std::span<const ChatTurn> turns);

// Appends the prompt's ids: BOS and EOS as special_token("<s>") / ("</s>") (omitted if the
// tokenizer has none), text pieces as tokenizer.encode(text).
void encode_inst_prompt(const Tokenizer& tokenizer, InstFormat format,
                        std::span<const ChatTurn> turns, std::vector<TokenId>& out);

// The prompt's token count: one per BOS/EOS plus tokenizer.count() of each text piece. Reuses a
// per-thread buffer for the text pieces, so it allocates nothing in steady state.
size_t count_inst_prompt(const Tokenizer& tokenizer, InstFormat format,
                         std::span<const ChatTurn> turns);

// Shorthands; `llama2` / `mistral` are those vocabularies' tokenizers.
inline size_t count_llama2_chat(const Tokenizer& llama2, std::span<const ChatTurn> turns) {
    return count_inst_prompt(llama2, InstFormat::kLlama2Chat, turns);
}
inline size_t count_mistral_chat(const Tokenizer& mistral, std::span<const ChatTurn> turns) {
    return count_inst_prompt(mistral, InstFormat::kMistralInstruct, turns);
}

}  // namespace switchyard::tokens
