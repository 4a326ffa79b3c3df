// Byte-level BPE tokenizers (tiktoken's algorithm) for cl100k_base, o200k_base, claude and
// llama3: ids identical to the reference npm packages pinned in tools/vocab.
// Thread safety: a loaded tokenizer is immutable; encode/count/decode may run on any number of
// threads at once (merge scratch is thread-local; the vocabulary is a read-only mapping).
// Failure: loading returns a message naming the file and the problem; encoding never fails.
//
// What "identical" means, vocabulary by vocabulary (the parity test checks it on a corpus and
// on seeded random strings; tests/tokens/bytelevel_parity_test.mjs):
// - cl100k_base, o200k_base: tiktoken@1.0.22 (OpenAI's Rust core in WASM) `encode_ordinary`.
//   Special-token strings in text are ordinary text. gpt-tokenizer@4.0.0's own split pattern
//   differs from tiktoken's for trailing whitespace holding a newline ("a\n " is one piece
//   there, two in tiktoken) and it uses Node's Unicode 17 classes; we follow tiktoken.
// - claude: @anthropic-ai/tokenizer@0.0.4's countTokens: NFKC (utf8proc, see below), then
//   tiktoken-lite with claude.json and allowed_special 'all', so "<EOT>", "<META>",
//   "<META_START>", "<META_END>" and "<SOS>" in text count as one special token each.
//   Anthropic publishes no tokenizer for Claude 3 and later models: this is the Claude 2
//   vocabulary, so counts are an estimate for current models. Provider-reported usage is
//   what gets billed; use these counts only for budgets and routing.
// - llama3: llama3-tokenizer-js@1.2.0 `encode(text, {bos: false, eos: false})` with special
//   tokens not recognised (a never-matching specialTokenRegex), including the package's merge
//   order quirk for long runs of multi-byte characters (see src/tokens/byte_level_merge.hpp).
//
// Input bytes: every reference takes a JS string, so invalid UTF-8 is first replaced as the
// WHATWG decoder (TextDecoder with ignoreBOM) does: one U+FFFD per maximal ill-formed
// subpart; a BOM stays U+FEFF. decode() returns the bytes the ids stand for, so it is lossless
// for valid UTF-8 (and for claude, for NFKC-stable text).
//
// Unicode: character classes come from utf8proc (Unicode 15.0) patched to the version each
// reference's regex engine uses (tiktoken's Rust regex: Unicode 16.0, \s = White_Space;
// Node 20's V8: Unicode 17.0, \s includes U+FEFF but not U+0085). NFKC for claude is
// utf8proc's plus the Unicode 16/17 compatibility singletons ICU has; canonical compositions
// and combining classes of characters assigned after Unicode 15.0 are not applied (a
// documented divergence for decomposed text in scripts new in Unicode 16/17).
//
// Cost: no regex engine; a hand-written pre-tokeniser per pattern, a per-thread piece cache
// (about 320 KB per tokenizer and thread, at most 8 tokenizers per thread), a hash lookup per
// piece the cache misses, and BPE only for pieces that are not a token (linear scan for short
// pieces, a heap for long ones). count() keeps no ids and, in the steady state, allocates
// nothing (per-thread buffers are reused) except utf8proc's buffers when claude text holds
// characters NFKC may change. Memory is O(n): besides the ids (encode only) and a copy of the
// input when it is not valid UTF-8 or NFKC changes it, about 32 bytes per byte of the longest
// piece that needs merging.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

// Loads a VocabKind::kByteLevelBpe file written by tools/vocab/bytelevel.mjs.
std::variant<std::unique_ptr<Tokenizer>, std::string> load_byte_level_bpe(const std::string& path);

// The pre-tokeniser patterns, for tests and tools.
enum class ByteLevelPattern { kCl100k, kO200k, kGpt2, kLlama3 };

// Appends the pieces the pattern splits `text` (valid UTF-8) into, in order; they cover it.
void split_byte_level_pieces(ByteLevelPattern pattern, std::string_view text,
                             std::vector<std::string_view>& out);

}  // namespace switchyard::tokens
