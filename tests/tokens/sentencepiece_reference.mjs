// Shared by the SentencePiece parity and chat-format tests and bench/sentencepiece_compare.mjs:
// the reference tokenizers (llama-tokenizer-js, mistral-tokenizer-js from tools/vocab), the
// bytes -> JS string convention, a client for tokenize_tool, and a mismatch report.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const nodeModules = join(repoRoot, 'tools', 'vocab', 'node_modules');
export const dataDir = join(repoRoot, 'tests', 'data', 'tokens');
export const VOCABULARIES = ['llama2', 'mistral'];

const modules = {
  llama2: 'llama-tokenizer-js/llama-tokenizer.js',
  mistral: 'mistral-tokenizer-js/mistral-tokenizer.js',
};

export async function loadReferences() {
  const refs = {};
  for (const name of VOCABULARIES) {
    refs[name] = (await import(pathToFileURL(join(nodeModules, modules[name])).href)).default;
  }
  return refs;
}

// The string the reference sees for raw bytes: WHATWG UTF-8 decoding (each maximal ill-formed
// subpart becomes U+FFFD), keeping a leading BOM. The C++ tokenizer decodes bytes the same way.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
export function bytesToJsString(bytes) {
  return decoder.decode(bytes);
}

// What Tokenizer::encode(text) must return: no BOS, with the "▁" dummy prefix.
export function referenceIds(ref, bytes) {
  const text = typeof bytes === 'string' ? bytes : bytesToJsString(bytes);
  return text.length === 0 ? [] : ref.encode(text, false, true);
}

// One tokenize_tool process; records are answered in order.
export class TokenizeTool {
  constructor(bin = process.env.TOKENIZE_BIN) {
    if (!bin) throw new Error('TOKENIZE_BIN is not set (path to tests/tokens/tokenize_tool)');
    this.proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pending = [];
    this.buffer = '';
    this.stderr = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      this.buffer += chunk;
      let nl;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const next = this.pending.shift();
        if (next) next.resolve(line.length === 0 ? [] : line.split(' ').map(Number));
      }
    });
    this.proc.stderr.on('data', (chunk) => {
      this.stderr += chunk;
    });
    this.proc.on('exit', (code) => {
      for (const p of this.pending.splice(0)) {
        p.reject(new Error(`tokenize_tool exited (${code}): ${this.stderr.trim()}`));
      }
    });
  }

  encode(vocabulary, bytes) {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(`${vocabulary} ${buf.length}\n`);
      this.proc.stdin.write(buf);
    });
  }

  close() {
    this.proc.stdin.end();
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null) resolve();
      else this.proc.on('exit', resolve);
    });
  }
}

// null when equal; otherwise a description of the first differing id with context.
export function firstMismatch(ref, caseName, text, want, got) {
  const n = Math.min(want.length, got.length);
  let i = 0;
  while (i < n && want[i] === got[i]) i++;
  if (i === n && want.length === got.length) return null;
  const lo = Math.max(0, i - 5);
  const show = (ids) =>
    ids
      .slice(lo, i + 6)
      .map((id, k) => `${lo + k === i ? '>' : ''}${id}:${JSON.stringify(ref.vocabById[id])}`)
      .join(' ');
  // Roughly where in the text: the reference pieces before the mismatch.
  const before = ref.decode(want.slice(0, i), false, true);
  const at = before.length;
  return [
    `${caseName}: first mismatch at id index ${i} (reference ${want.length} ids, ours ${got.length})`,
    `  text near there: ${JSON.stringify(text.slice(Math.max(0, at - 30), at + 30))}`,
    `  reference: ${show(want)}`,
    `  ours:      ${show(got)}`,
  ].join('\n');
}

// Deterministic PRNG (mulberry32) for the random cases.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
