// Converts the SentencePiece-style BPE vocabularies shipped (base64) inside the pinned npm
// packages llama-tokenizer-js@1.2.2 and mistral-tokenizer-js@1.0.0 into data/vocab/llama2.syvocab
// and data/vocab/mistral.syvocab (VocabKind.SentencePieceBpe), read by
// src/tokens/sentencepiece_bpe.cpp. The packages themselves decode their data; we read their
// vocabById / vocabByString / merges, so the file holds exactly what the reference encodes with.
//
// Payload layout (little-endian, offsets from the payload start, every section 8-byte aligned);
// mirrored by src/tokens/sentencepiece_layout.hpp:
//   0   char[8]  "SYSPBPE1"
//   8   u32      layout version (1)
//   12  u32      vocab size (ids < 65536: merge keys pack two ids into a u32)
//   16  u32      flags: bit 0 = no merge involves a byte piece <0xXX>;
//                       bit 1 = no merge joins a piece not ending in U+2581 to one starting with it
//   20  u32      id of "▁" (U+2581, what a space becomes)
//   24  u32      <unk> id, 28 <s> id, 32 </s> id
//   36  u32      merge count, 40 merge table capacity (power of two)
//   44  u32      astral (code point > U+FFFF) single-character piece count
//   48  u32      reserved, 52 u32 piece bytes
//   56  u64      offset of byte pieces: 256 x u32, id of <0xXX> for byte XX
//   64  u64      offset of the BMP table: 65536 x u16, id of the one-code-point piece, 0xFFFF none
//   72  u64      offset of astral pieces: count x {u32 code point, u32 id}, sorted by code point
//   80  u64      offset of the merge table: capacity x {u32 key, u32 rank << 16 | merged id};
//                key = left << 16 | right (0xFFFFFFFF = empty), slot = (key * 0x9E3779B1) >> (32 -
//                log2 capacity), linear probing; rank = k where the reference's merge priority
//                is 2k+1 (same order; 8-byte entries keep the table at 1 MiB)
//   88  u64      offset of piece offsets: (vocab size + 1) x u32 into the piece bytes
//   96  u64      offset of piece kinds: vocab size x u8 (0 text, 1 byte, 2 control)
//   104 u64      offset of piece bytes: what each piece decodes to (UTF-8 with "▁" kept; one raw
//                byte for <0xXX>; the name for control pieces, which decode to nothing)
//   112 16 bytes reserved (zero)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VocabKind, writeVocabFile } from './vocab_file.mjs';

const LAYOUT_VERSION = 2;
const HEADER_BYTES = 128;
const EMPTY_KEY = 0xffffffff;
const SPACE_PIECE = '\u2581';
const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;
const CONTROL_PIECES = ['<unk>', '<s>', '</s>'];

export const FLAG_BYTES_NEVER_MERGE = 1;
export const FLAG_NO_MERGE_BEFORE_SPACE = 2;

const families = [
  { name: 'llama2', module: 'llama-tokenizer-js/llama-tokenizer.js' },
  { name: 'mistral', module: 'mistral-tokenizer-js/mistral-tokenizer.js' },
];

function align8(n) {
  return (n + 7) & ~7;
}

export function mergeSlot(key, bits) {
  return Math.imul(key, 0x9e3779b1) >>> (32 - bits);
}

// Builds the payload from a reference tokenizer object ({vocabById, vocabByString, merges}).
export function buildPayload(name, ref) {
  const vocab = ref.vocabById;
  const byString = ref.vocabByString;
  const n = vocab.length;
  if (n === 0 || n > 0xffff) throw new Error(`${name}: vocabulary size ${n} out of range`);
  const idOf = (s, what) => {
    const id = byString.get(s);
    if (id === undefined) throw new Error(`${name}: ${what} piece ${JSON.stringify(s)} missing`);
    return id;
  };
  const spaceId = idOf(SPACE_PIECE, 'space');
  const [unkId, bosId, eosId] = CONTROL_PIECES.map((s) => idOf(s, 'control'));

  const byteIds = new Uint32Array(256);
  const bytePieceIds = new Set();
  for (let b = 0; b < 256; b++) {
    const piece = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    // The reference falls back to <unk> (0) when a byte piece is missing.
    byteIds[b] = byString.get(piece) ?? 0;
    bytePieceIds.add(byteIds[b]);
  }

  // Single-code-point pieces: the reference looks characters up by string, so the id is
  // vocabByString's (the last id when a string repeats).
  const bmp = new Uint16Array(65536).fill(0xffff);
  const astral = [];
  for (const [s, id] of byString) {
    const cps = Array.from(s);
    if (cps.length !== 1) continue;
    const cp = cps[0].codePointAt(0);
    if (cp >= 0xd800 && cp <= 0xdfff) continue;  // lone surrogates never come from UTF-8
    if (cp < 0x10000) bmp[cp] = id;
    else astral.push([cp, id]);
  }
  astral.sort((a, b) => a[0] - b[0]);

  // Merges: the reference keys them by "left right" strings with priority i+1 (i even), later
  // duplicates overwriting earlier ones; the merged piece is vocabByString(left + right).
  let flags = FLAG_BYTES_NEVER_MERGE | FLAG_NO_MERGE_BEFORE_SPACE;
  const merges = [];
  for (const [key, rank] of ref.merges) {
    const parts = key.split(' ');
    if (parts.length !== 2) throw new Error(`${name}: merge key ${JSON.stringify(key)} is ambiguous`);
    const [a, b] = parts;
    const left = idOf(a, 'merge left');
    const right = idOf(b, 'merge right');
    const merged = idOf(a + b, 'merge result');
    // The reference's priority is 2k+1 for the k-th merge; k must fit 16 bits.
    if (!Number.isInteger(rank) || rank % 2 !== 1 || rank > 2 * 0xfffe + 1) {
      throw new Error(`${name}: merge priority ${rank} is not 2k+1 with k < 65535`);
    }
    if ([unkId, bosId, eosId].includes(left) || [unkId, bosId, eosId].includes(right)) {
      // BOS acting as a barrier is what makes encode(text) with BOS = [BOS] + encode(text).
      throw new Error(`${name}: merge ${JSON.stringify(key)} involves a control piece`);
    }
    if (bytePieceIds.has(left) || bytePieceIds.has(right)) flags &= ~FLAG_BYTES_NEVER_MERGE;
    if (!a.endsWith(SPACE_PIECE) && b.startsWith(SPACE_PIECE)) flags &= ~FLAG_NO_MERGE_BEFORE_SPACE;
    merges.push([(left << 16) | right, (rank - 1) / 2, merged]);
  }
  let bits = 1;
  while ((1 << bits) < merges.length * 2) bits++;
  const capacity = 1 << bits;
  const table = new Uint32Array(capacity * 2);
  for (let i = 0; i < capacity; i++) table[i * 2] = EMPTY_KEY;
  for (const [key, rank, merged] of merges) {
    const k = key >>> 0;
    let slot = mergeSlot(k, bits);
    while (table[slot * 2] !== EMPTY_KEY) {
      if (table[slot * 2] === k) throw new Error(`${name}: duplicate merge key ${k}`);
      slot = (slot + 1) & (capacity - 1);
    }
    table[slot * 2] = k;
    table[slot * 2 + 1] = ((rank << 16) | merged) >>> 0;
  }

  const kinds = new Uint8Array(n);
  const pieceBufs = vocab.map((s, id) => {
    const m = BYTE_PIECE.exec(s);
    if (m) {
      kinds[id] = 1;
      return Buffer.from([parseInt(m[1], 16)]);
    }
    if (id === unkId || id === bosId || id === eosId) kinds[id] = 2;
    return Buffer.from(s, 'utf8');
  });
  const pieceOffsets = new Uint32Array(n + 1);
  let pieceBytes = 0;
  pieceBufs.forEach((buf, id) => {
    pieceOffsets[id] = pieceBytes;
    pieceBytes += buf.length;
  });
  pieceOffsets[n] = pieceBytes;

  const sections = [
    ['byteIds', Buffer.from(byteIds.buffer)],
    ['bmp', Buffer.from(bmp.buffer)],
    ['astral', Buffer.from(Uint32Array.from(astral.flat()).buffer)],
    ['merges', Buffer.from(table.buffer)],
    ['pieceOffsets', Buffer.from(pieceOffsets.buffer)],
    ['kinds', Buffer.from(kinds.buffer)],
    ['pieces', Buffer.concat(pieceBufs)],
  ];
  const offsets = {};
  let at = HEADER_BYTES;
  for (const [key, buf] of sections) {
    offsets[key] = at;
    at = align8(at + buf.length);
  }
  const payload = Buffer.alloc(at);
  payload.write('SYSPBPE1', 0, 'latin1');
  const u32 = [LAYOUT_VERSION, n, flags, spaceId, unkId, bosId, eosId, merges.length, capacity,
    astral.length, 0, pieceBytes];
  u32.forEach((v, i) => payload.writeUInt32LE(v, 8 + 4 * i));
  sections.forEach(([key, buf], i) => {
    payload.writeBigUInt64LE(BigInt(offsets[key]), 56 + 8 * i);
    buf.copy(payload, offsets[key]);
  });
  return { payload, flags };
}

export async function loadReference(nodeModulesDir, name) {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`unknown SentencePiece vocabulary ${name}`);
  const mod = await import(pathToFileURL(join(nodeModulesDir, family.module)).href);
  return mod.default;
}

export async function convert(outDir, nodeModulesDir) {
  const written = [];
  for (const family of families) {
    const ref = await loadReference(nodeModulesDir, family.name);
    const { payload } = buildPayload(family.name, ref);
    const file = `${family.name}.syvocab`;
    writeVocabFile(join(outDir, file), VocabKind.SentencePieceBpe, family.name, payload);
    written.push(file);
  }
  return written;
}
