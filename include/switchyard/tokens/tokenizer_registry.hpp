// TokenizerRegistry: the vocabularies by name, each loaded (memory-mapped) on first use
// from a vocabulary directory and kept for the registry's lifetime.
// Thread safety: get() may be called from any thread; loading takes a mutex, lookups of an
// already-loaded vocabulary take the same mutex briefly (callers on the hot path keep the
// returned pointer, which stays valid as long as the registry).
// Failure: get() returns a message naming the file and the fix (missing data, checksum).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

inline constexpr std::array<std::string_view, 6> kVocabularies = {
    "cl100k_base", "o200k_base", "claude", "llama3", "llama2", "mistral"};

class TokenizerRegistry {
public:
    explicit TokenizerRegistry(std::string vocab_dir);

    // The tokenizer for `vocabulary` (one of kVocabularies), loading it if needed.
    std::variant<const Tokenizer*, std::string> get(std::string_view vocabulary);

    const std::string& vocab_dir() const { return vocab_dir_; }

private:
    std::string vocab_dir_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Tokenizer>, std::less<>> loaded_;  // guarded by mutex_
};

}  // namespace switchyard::tokens
