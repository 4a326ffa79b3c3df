// SentencePiece-style BPE with byte fallback for the llama2 and mistral vocabularies, giving
// exactly the ids of the npm packages llama-tokenizer-js@1.2.2 and mistral-tokenizer-js@1.0.0.
// Thread safety: the loaded Tokenizer is immutable; encode/count/decode may run concurrently
// (each thread reuses its own scratch; nothing is allocated by count() in steady state).
// Failure: loading returns a message naming the file and the fix (missing, corrupt, wrong
// layout); encoding never fails and accepts any bytes.
//
// Mapping to the reference. Tokenizer::encode(text) returns what the reference returns for
//   encode(jsText, /*add_bos_token=*/false, /*add_preceding_space=*/true)
// i.e. the "▁" dummy prefix a model sees at the start of a turn (SentencePiece's
// add_dummy_prefix), and no BOS. With BOS: [special_token("<s>")] + encode(text) equals
// encode(jsText, true, true) (no merge involves <s>; the converter checks it). The empty text
// encodes to nothing in both (the reference returns [] even when asked for BOS).
// add_preceding_space=false has no counterpart here.
//
// Bytes to a JS string. The reference takes JS strings; the byte input is taken to be the
// string `new TextDecoder('utf-8', {ignoreBOM: true}).decode(bytes)` (WHATWG UTF-8: every
// maximal ill-formed subpart becomes one U+FFFD, a leading BOM is kept as U+FEFF). So
// invalid bytes encode as the "�" piece (both vocabularies have one), not as <0xXX> pieces,
// and do not round-trip. Node's Buffer.toString('utf8') gives the same string.
//
// How the reference tokenizes (and so this one):
//  1. Prepend " ", replace every U+0020 with "▁" (U+2581; a literal U+2581 is the same
//     piece), split into code points; a code point whose one-character piece exists becomes
//     that id, any other becomes the <0xXX> pieces of its UTF-8 bytes (byte fallback; tabs,
//     newlines, most emoji, rare CJK).
//  2. Merge adjacent pairs by the priority of the pair in the HF "merges" list (earlier
//     first), equal priorities left to right, over the whole string: there is no whitespace
//     pre-splitting, so a merge could in principle join across spaces.
// We match it and, for speed and bounded memory, segment where no merge can ever join:
// before a "▁" that follows a non-"▁" code point, and around byte-fallback pieces; the
// converter verifies from the merges that both hold (flags in the file; the loader refuses a
// vocabulary without them). Inside a segment the reference's priority
// rank + origPos / jsText.length orders pairs exactly as (rank, position): ranks are odd
// (2i+1) and a segment holds at most jsText.length + 1 pieces, so the position term never
// outweighs a rank step of 2, and live pairs never tie. Short segments use an O(n^2) scan,
// longer ones a binary heap over adjacent pairs (O(n log n)).
//
// Where the reference differs from real SentencePiece (we follow the reference):
//  - merge order comes from the HF merges list, not SentencePiece's piece scores, and merges
//    are not confined to whitespace-delimited pieces;
//  - no NFKC normalization (SentencePiece's nmt_nfkc would e.g. map U+3000 to a space);
//  - characters the vocabulary lacks always fall back to bytes, never to <unk>;
//  - invalid UTF-8 is seen as U+FFFD (above).
//
// Limit: a run of more than kMaxSegmentSymbols code points without any space or
// byte-fallback character (e.g. a multi-megabyte base64 blob) is cut into pieces of that
// length, so ids next to each cut may differ from the reference's; scratch stays O(that).
//
// decode(ids): the concatenated pieces (byte pieces as raw bytes), "▁" turned back into spaces,
// one leading space (the dummy prefix) removed; control pieces (<unk>, <s>, </s>) and ids out of
// range decode to nothing. decode(encode(t)) == t for valid UTF-8 t without U+2581.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <variant>

#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

// Longest run of pieces merged as one unit (see "Limit" above).
inline constexpr size_t kMaxSegmentSymbols = size_t{1} << 20;

// Loads a VocabKind::kSentencePieceBpe file written by tools/vocab/sentencepiece.mjs.
// special_token() knows "<unk>", "<s>" (BOS, id 1) and "</s>" (EOS, id 2).
std::variant<std::unique_ptr<Tokenizer>, std::string> load_sentencepiece_bpe(
    const std::string& path);

}  // namespace switchyard::tokens
