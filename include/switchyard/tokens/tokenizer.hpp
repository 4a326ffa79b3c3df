// Tokenizer: exact token ids for one vocabulary (cl100k_base, o200k_base, claude, llama2,
// mistral, llama3), identical to the reference npm packages pinned in tools/vocab.
// Thread safety: a loaded Tokenizer is immutable; every method is const and may be called
// from any number of threads at once (scratch memory is per call or thread-local).
// Failure: encoding never fails; any byte string encodes (invalid UTF-8 as each vocabulary's
// reference does; see its header). Loading fails with a message naming the missing or
// corrupt file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::tokens {

using TokenId = uint32_t;

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Vocabulary name, as in the model catalog: "cl100k_base", "o200k_base", "claude",
    // "llama2", "mistral", "llama3".
    virtual std::string_view name() const = 0;

    // Appends the ids of `text` encoded as ordinary text: no BOS/EOS is added and
    // special-token strings ("<|endoftext|>", "<s>") are not recognised, except where a
    // vocabulary's reference counts them (claude; see its header).
    virtual void encode(std::string_view text, std::vector<TokenId>& out) const = 0;

    // encode(text).size(), without keeping the ids.
    virtual size_t count(std::string_view text) const = 0;

    // The text the ids stand for (bytes concatenated; lossless for byte-level vocabularies).
    virtual std::string decode(std::span<const TokenId> ids) const = 0;

    // Id of a special or control token ("<|endoftext|>", "<|im_start|>", "<s>", "[INST]"),
    // if the vocabulary has one by that name.
    virtual std::optional<TokenId> special_token(std::string_view text) const = 0;
};

}  // namespace switchyard::tokens
