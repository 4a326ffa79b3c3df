// Shared by the LangChain parity test and bench/chunking_compare.mjs: LangChain's splitter
// (tests/rag/langchain, pinned), chunk_tool (CHUNK_BIN) driven over its stdin protocol, and
// a seeded corpus of real and generated texts.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');

export async function loadLangChain() {
  const require = createRequire(join(here, 'langchain', 'package.json'));
  const path = require.resolve('@langchain/textsplitters');
  const mod = await import(path.replace(/\.cjs$/, '.js'));
  return mod.RecursiveCharacterTextSplitter;
}

// cl100k_base token counts from gpt-tokenizer (tools/vocab), for the token-length check; null
// when that package is not installed.
export async function loadCl100kCount() {
  const dir = join(repoRoot, 'tools', 'vocab', 'node_modules', 'gpt-tokenizer');
  if (!existsSync(dir)) return null;
  const require = createRequire(join(repoRoot, 'tools', 'vocab', 'package.json'));
  const mod = await import(require.resolve('gpt-tokenizer/encoding/cl100k_base'));
  return (text) => mod.encode(text).length;
}

// records: [{unit, size, overlap, separators, text}] -> per record an array of chunk texts
// (or {error}).
export function runTool(records) {
  const bin = process.env.CHUNK_BIN;
  if (!bin) throw new Error('CHUNK_BIN is not set (the chunk_tool binary)');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`chunk_tool exited ${code}: ${err}`));
      const lines = Buffer.concat(out).toString('utf8').split('\n');
      lines.pop();
      if (lines.length !== records.length) {
        return reject(new Error(`chunk_tool answered ${lines.length} of ${records.length} records`));
      }
      resolve(lines.map((l) => JSON.parse(l)));
    });
    for (const r of records) {
      child.stdin.write(`${r.unit} ${r.size} ${r.overlap} ${r.separators.length}\n`);
      for (const s of r.separators) {
        const b = Buffer.from(s, 'utf8');
        child.stdin.write(`${b.length}\n`);
        child.stdin.write(b);
      }
      const t = Buffer.from(r.text, 'utf8');
      child.stdin.write(`${t.length}\n`);
      child.stdin.write(t);
    }
    child.stdin.end();
  });
}

export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The repository's own prose, Markdown and code: real text of every shape.
export function realTexts() {
  const items = [];
  const add = (rel) => {
    const path = join(repoRoot, rel);
    if (existsSync(path)) items.push({ label: rel, text: readFileSync(path, 'utf8') });
  };
  add('README.md');
  for (const f of readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).sort()) {
    add(`docs/${f}`);
  }
  for (const rel of [
    'src/rag/chunking/recursive_chunker.cpp',
    'src/rag/chunking/text_units.cpp',
    'src/rag/chunking/sentence_chunker.cpp',
    'tests/rag/langchain_reference.mjs',
    'scripts/bootstrap.sh',
    'CMakeLists.txt',
  ]) {
    add(rel);
  }
  return items;
}

// Generated texts: CJK prose, Arabic, mixed whitespace (Unicode spaces that trim() removes),
// long lines without separators, separator runs.
export function generatedTexts(seed) {
  const next = rng(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const items = [];
  const cjk = '中文句子在这里第二句话第三日本語の文ですひらがなカタカナ한국어문장입니다';
  let zh = '';
  for (let i = 0; i < 400; ++i) {
    zh += cjk[Math.floor(next() * cjk.length)];
    if (next() < 0.08) zh += pick(['。', '！', '？', '，', '\n', '\n\n', ' ']);
  }
  items.push({ label: 'cjk', text: zh });
  let ar = '';
  for (let i = 0; i < 300; ++i) {
    ar += pick(['هل', 'هذا', 'سؤال', 'نعم', 'جواب', 'انتهى', 'كتاب', 'مدرسة']);
    ar += pick([' ', ' ', ' ', '؟ ', '۔ ', '\n', '\n\n', '، ']);
  }
  items.push({ label: 'arabic', text: ar });
  const pieces = ['word', 'a', 'longerword', 'x', '\n', '\n\n', ' ', '  ', '\t', '\u00a0', '\u3000',
    '\u2028', '\n\n\n', 'é', 'e\u0301', '中', '—', '.', '```\n', '# ', '## ', '\n## ', '- ',
    '| a | b |\n', '\r\n', '\u2003', '\ufeff', 'def ', '\nclass ', '\ndef '];
  for (let n = 0; n < 40; ++n) {
    let t = '';
    const len = 20 + Math.floor(next() * (n % 6 === 0 ? 3000 : 300));
    while (t.length < len) t += pick(pieces);
    items.push({ label: `random #${n}`, text: t });
  }
  items.push({ label: 'long line', text: 'abcdefghij'.repeat(1000) });
  items.push({ label: 'long words', text: Array.from({ length: 200 }, (_, i) => 'w'.repeat(1 + (i * 37) % 150)).join(' ') });
  items.push({ label: 'only separators', text: '\n\n\n\n \n \n\n  \n' });
  items.push({ label: 'empty', text: '' });
  return items;
}

// Astral-plane text: counted in UTF-16 units (unit "utf16") as JavaScript does.
export function astralTexts(seed) {
  const next = rng(seed);
  const pieces = ['😀', '👨‍👩‍👧', '🇫🇷', 'word', ' ', '\n', '\n\n', '𠀀𠀁', 'ab', '. '];
  const items = [];
  for (let n = 0; n < 20; ++n) {
    let t = '';
    const len = 20 + Math.floor(next() * 400);
    while (t.length < len) t += pieces[Math.floor(next() * pieces.length)];
    items.push({ label: `astral #${n}`, text: t });
  }
  return items;
}

export const SEPARATOR_SETS = {
  default: ['\n\n', '\n', ' ', ''],
  markdown: ['\n## ', '\n### ', '\n#### ', '\n##### ', '\n###### ', '```\n\n', '\n\n***\n\n',
    '\n\n---\n\n', '\n\n___\n\n', '\n\n', '\n', ' ', ''],
  python: ['\nclass ', '\ndef ', '\n\tdef ', '\n\n', '\n', ' ', ''],
  cpp: ['\nclass ', '\nvoid ', '\nint ', '\nfloat ', '\ndouble ', '\nif ', '\nfor ', '\nwhile ',
    '\nswitch ', '\ncase ', '\n\n', '\n', ' ', ''],
  no_empty: ['\n\n', '\n'],
  cjk: ['\n\n', '。', '！', '？', '，', ''],
  space_only: [' '],
  none: [],
};

// A lone UTF-16 surrogate: LangChain cut a surrogate pair (its "" separator splits code
// units); such chunks cannot exist in UTF-8.
export function hasLoneSurrogate(s) {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
