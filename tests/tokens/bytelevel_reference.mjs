// Reference tokenizers and the tokenize_tool client for the byte-level parity tests.
// Each reference takes a JS string; raw bytes become one the way the WHATWG decoder does
// (TextDecoder, BOM kept), which is also what the C++ side does with invalid UTF-8.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const corpusDir = join(repoRoot, 'tests', 'data', 'tokens');
const vocabDir = join(repoRoot, 'tools', 'vocab');
const nodeModules = join(vocabDir, 'node_modules');
const require = createRequire(join(vocabDir, 'package.json'));

export const VOCABULARIES = ['cl100k_base', 'o200k_base', 'claude', 'llama3'];

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
export const bytesToString = (bytes) => decoder.decode(bytes);

export async function loadReferences() {
  const { get_encoding } = require('tiktoken');
  const { Tiktoken } = require('tiktoken/lite');
  const claude = JSON.parse(
    readFileSync(join(nodeModules, '@anthropic-ai', 'tokenizer', 'dist', 'cjs', 'claude.json'), 'utf8'),
  );
  const llamaUrl = pathToFileURL(join(nodeModules, 'llama3-tokenizer-js', 'bundle', 'llama3-tokenizer-with-baked-data.js'));
  const { default: llama3 } = await import(llamaUrl.href);
  const cl100k = get_encoding('cl100k_base');
  const o200k = get_encoding('o200k_base');
  const claudeEnc = new Tiktoken(claude.bpe_ranks, claude.special_tokens, claude.pat_str);
  const never = /(?!)/g;
  return {
    cl100k_base: (s) => Array.from(cl100k.encode_ordinary(s)),
    o200k_base: (s) => Array.from(o200k.encode_ordinary(s)),
    // @anthropic-ai/tokenizer's countTokens, keeping the ids.
    claude: (s) => Array.from(claudeEnc.encode(s.normalize('NFKC'), 'all')),
    llama3: (s) => llama3.encode(s, { bos: false, eos: false, specialTokenRegex: never }),
  };
}

// gpt-tokenizer's encoders (its own JS split pattern), for information and TestPlans.txt.
export async function loadGptTokenizer() {
  const base = join(nodeModules, 'gpt-tokenizer', 'esm', 'encoding');
  const load = async (name) => (await import(pathToFileURL(join(base, `${name}.js`)).href)).encode;
  const none = { allowedSpecial: new Set(), disallowedSpecial: new Set() };
  const cl = await load('cl100k_base');
  const o2 = await load('o200k_base');
  return { cl100k_base: (s) => cl(s, none), o200k_base: (s) => o2(s, none) };
}

// Combining marks assigned after Unicode 15.0: their canonical combining classes are unknown
// to utf8proc 2.8, so claude's NFKC may order or compose them differently from Node's ICU
// (documented in byte_level_bpe.hpp). Random strings for claude skip them.
export const NEW_MARKS =
  /[\u{897}\u{1acf}-\u{1add}\u{1ae0}-\u{1aeb}\u{10d69}-\u{10d6d}\u{10efa}-\u{10efc}\u{113b8}-\u{113c0}\u{113c2}\u{113c5}\u{113c7}-\u{113ca}\u{113cc}-\u{113d0}\u{113d2}\u{113e1}-\u{113e2}\u{11b60}-\u{11b67}\u{11f5a}\u{1611e}-\u{1612f}\u{1e5ee}-\u{1e5ef}\u{1e6e3}\u{1e6e6}\u{1e6ee}-\u{1e6ef}\u{1e6f5}]/u;

// Runs tokenize_tool on records [{vocab, bytes}] and resolves to one id array per record.
export function runTool(records) {
  const bin = process.env.TOKENIZE_BIN;
  if (!bin) throw new Error('TOKENIZE_BIN is not set (the tokenize_tool binary)');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tokenize_tool exited ${code}: ${err}`));
      const lines = Buffer.concat(out).toString('latin1').split('\n');
      lines.pop();
      if (lines.length !== records.length) {
        return reject(new Error(`tokenize_tool answered ${lines.length} of ${records.length} records`));
      }
      resolve(lines.map((l) => (l === '' ? [] : l.split(' ').map(Number))));
    });
    for (const r of records) {
      child.stdin.write(`${r.vocab} ${r.bytes.length}\n`);
      child.stdin.write(r.bytes);
    }
    child.stdin.end();
  });
}

// First difference between two id arrays, described with context; null when equal.
export function firstMismatch(want, got, text) {
  const n = Math.max(want.length, got.length);
  for (let i = 0; i < n; ++i) {
    if (want[i] !== got[i]) {
      const lo = Math.max(0, i - 3);
      return (
        `first mismatch at id #${i}: reference ${want[i]} vs ours ${got[i]}; ` +
        `reference [${want.slice(lo, i + 4)}] vs ours [${got.slice(lo, i + 4)}] ` +
        `(lengths ${want.length} vs ${got.length}); text ${JSON.stringify(text.length > 300 ? text.slice(0, 300) + '…' : text)}`
      );
    }
  }
  return null;
}

// Seeded PRNG (mulberry32).
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

// Characters the random strings draw from: everything the patterns treat differently.
const POOL = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'sStTlLvVeErRmMdD',
  "'", "'", "'", ' ', ' ', ' ', ' ', '  ', '\n', '\r', '\r\n', '\t', '\u000b', '\u000c',
  ...'.,;:!?-_/\\()[]{}<>|@#$%^&*+=~`"',
  '\u00a0', '\u0085', '\ufeff', '\u3000', '\u2028', '\u2003', '\u200b', '\u200d', '\u200c',
  '\u017f', '\u00e9', '\u00df', '\u1e9e', '\u01c5', '\u02b0', '\u0295', '\u0301', '\u0308', '\u20dd',
  '\u0645', '\u0631', '\u064e', '\u0661', '\u0915', '\u093f', '\u0967', '\u0e01', '\u0e34',
  '\u4e2d', '\u6587', '\u3053', '\u30ab', '\uac00', '\u1100', '\u1161', '\uff21', '\uff11', '\uff1c',
  '\ufb01', '\u2460', '\u00bd', '\u2163', '\u2126', '\u00b2',
  '\u{1f600}', '\u{1f44d}', '\u{1f3fd}', '\u{1f468}\u200d\u{1f469}', '\u{1f1fa}\u{1f1f8}', '\ufe0f',
  '\u{1d7d8}', '\u{1f999}', '\u{20000}', '\u{105c0}', '\u{10d4a}', '\u{10d69}', '\u{1ccf0}', '\u{1ccd6}',
  '\u{2ebf0}', '\u{323b0}', '\ua7cb', '\ua7ce', '\u1c89', '\u088f', '\u1acf', '\ua7f1', '\u{16d43}',
  '\ue000', '\u{10fffd}', '\u0000', '\u007f', '\u0080',
];

export function randomString(next, maxChars) {
  const n = Math.floor(next() * maxChars);
  let s = '';
  for (let i = 0; i < n; ++i) {
    const r = next();
    if (r < 0.05) s += String.fromCodePoint(Math.floor(next() * 0x2ffff));
    else s += POOL[Math.floor(next() * POOL.length)];
  }
  return s.replace(/[\ud800-\udfff]/gu, '\ufffd');
}

export function randomBytes(next, maxBytes) {
  const n = Math.floor(next() * maxBytes);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; ++i) {
    const r = next();
    b[i] = r < 0.5 ? 0x20 + Math.floor(next() * 0x5f) : Math.floor(next() * 256);
  }
  return b;
}

// gpt-tokenizer's data/TestPlans.txt, parsed as its own test does.
export function loadTestPlans() {
  const text = readFileSync(join(nodeModules, 'gpt-tokenizer', 'data', 'TestPlans.txt'), 'utf8');
  const plans = [];
  for (const plan of text.split('\n\n')) {
    const [nameLine, sampleLine, encodedLine] = plan.split('\n');
    if (!nameLine || !sampleLine || !encodedLine) continue;
    plans.push({
      vocab: nameLine.split(': ')[1],
      sample: sampleLine.split(': ').slice(1).join(': '),
      encoded: JSON.parse(encodedLine.split(': ')[1] ?? '[]'),
    });
  }
  return plans;
}
