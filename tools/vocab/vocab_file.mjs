// Writes one Switchyard vocabulary file (layout: include/switchyard/tokens/vocab_file.hpp).
// Written to a temporary name and renamed, so a reader never sees half a file.
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';

export const VOCAB_FORMAT_VERSION = 1;
export const VocabKind = { ByteLevelBpe: 1, SentencePieceBpe: 2 };
const HEADER_BYTES = 96;

export function writeVocabFile(path, kind, name, payload) {
  if (Buffer.byteLength(name) > 40) throw new Error(`vocabulary name too long: ${name}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('SYVOCAB1', 0, 'latin1');
  header.writeUInt32LE(VOCAB_FORMAT_VERSION, 8);
  header.writeUInt32LE(kind, 12);
  header.writeBigUInt64LE(BigInt(payload.length), 16);
  createHash('sha256').update(payload).digest().copy(header, 24);
  header.write(name, 56, 'utf8');
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([header, payload]));
  renameSync(tmp, path);
}
