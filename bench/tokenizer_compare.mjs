// Side-by-side tokenizer throughput on one text, one thread: Switchyard's count() (through
// tokenizer_bench's BM_CountFile) against the references: tiktoken@1.0.22 (npm, WASM),
// tiktoken-node (npm, native tiktoken-rs via N-API) when it is installed, and for llama3 the
// pure-JS llama3-tokenizer-js. Prints MB/s and our ratio to the fastest reference.
//
//   bench/tokenizer_compare.sh [build-dir]      (installs tiktoken-node, then runs this)
//   node bench/tokenizer_compare.mjs --bench build/bench/tokenizer_bench [--text file]
//        [--tiktoken-node dir/node_modules/tiktoken-node] [--seconds 2]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const vocabModules = join(root, 'tools', 'vocab', 'node_modules');
const require = createRequire(join(root, 'tools', 'vocab', 'package.json'));

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const seconds = Number(args.seconds ?? 2);
const benchBin = args.bench ?? join(root, 'build', 'bench', 'tokenizer_bench');

// The default text: the same mix as tokenizer_bench (package READMEs, our sources, CJK).
function defaultText() {
  const parts = [];
  const walk = (dir, want, limit) => {
    let got = '';
    const visit = (d) => {
      for (const name of readdirSync(d).sort()) {
        if (got.length >= limit) return;
        const p = join(d, name);
        if (statSync(p).isDirectory()) visit(p);
        else if (want(name)) got += readFileSync(p, 'utf8');
      }
    };
    visit(dir);
    return got.slice(0, limit);
  };
  parts.push(walk(vocabModules, (n) => n === 'README.md', 512 << 10));
  parts.push(walk(join(root, 'src'), (n) => /\.(cpp|hpp)$/.test(n), 512 << 10));
  const cjk = readFileSync(join(root, 'tests', 'data', 'tokens', 'bl_cjk.txt'), 'utf8');
  parts.push(cjk.repeat(Math.ceil((64 << 10) / cjk.length)));
  return parts.join('\n');
}

const text = args.text ? readFileSync(args.text, 'utf8') : defaultText();
const bytes = Buffer.byteLength(text);

function measure(fn) {
  fn(text);  // warm-up (and JIT)
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds || iterations < 2) {
    fn(text);
    ++iterations;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return (bytes * iterations) / elapsed / 1e6;
}

function ours(vocab) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenizer-compare-'));
  const file = join(dir, 'text.txt');
  writeFileSync(file, text);
  const out = execFileSync(
    benchBin,
    [`--benchmark_filter=^BM_CountFile/${vocab}$`, '--benchmark_format=json', `--benchmark_min_time=${seconds}`],
    { env: { ...process.env, TOKENIZER_BENCH_TEXT: file }, maxBuffer: 1 << 24 },
  );
  const run = JSON.parse(out.toString()).benchmarks[0];
  return run.bytes_per_second / 1e6;
}

const { get_encoding } = require('tiktoken');
const { Tiktoken } = require('tiktoken/lite');
const claude = JSON.parse(readFileSync(join(vocabModules, '@anthropic-ai', 'tokenizer', 'dist', 'cjs', 'claude.json'), 'utf8'));
const { default: llama3 } = await import(
  pathToFileURL(join(vocabModules, 'llama3-tokenizer-js', 'bundle', 'llama3-tokenizer-with-baked-data.js')).href
);
let tiktokenNode = null;
if (args['tiktoken-node'] && existsSync(args['tiktoken-node'])) {
  try {
    tiktokenNode = createRequire(join(args['tiktoken-node'], 'package.json'))(args['tiktoken-node']);
  } catch (e) {
    console.log(`tiktoken-node: cannot load (${e.message.split('\n')[0]})`);
  }
} else {
  console.log('tiktoken-node: not installed (tokenizer_compare.sh installs it from npm); skipped');
}

const references = {
  cl100k_base: [['tiktoken WASM', ((e) => (s) => e.encode_ordinary(s).length)(get_encoding('cl100k_base'))]],
  o200k_base: [['tiktoken WASM', ((e) => (s) => e.encode_ordinary(s).length)(get_encoding('o200k_base'))]],
  claude: [
    ['@anthropic-ai/tokenizer (tiktoken WASM lite, NFKC)',
      ((e) => (s) => e.encode(s.normalize('NFKC'), 'all').length)(new Tiktoken(claude.bpe_ranks, claude.special_tokens, claude.pat_str))],
  ],
  llama3: [['llama3-tokenizer-js (JS)', (s) => llama3.encode(s, { bos: false, eos: false }).length]],
};
if (tiktokenNode) {
  const enc = tiktokenNode.getEncoding('cl100k_base');
  references.cl100k_base.push(['tiktoken-node (native tiktoken-rs)', (s) => enc.encode(s).length]);
  try {
    const o2 = tiktokenNode.getEncoding('o200k_base');
    references.o200k_base.push(['tiktoken-node (native tiktoken-rs)', (s) => o2.encode(s).length]);
  } catch {
    console.log('tiktoken-node: no o200k_base in this version; o200k_base compares with WASM only');
  }
}

console.log(`text: ${(bytes / 1e6).toFixed(2)} MB (${args.text ?? 'READMEs + src/ + CJK'}), ${seconds} s per measurement, one thread`);
console.log('vocabulary    ours MB/s  reference                                         MB/s   ours/ref');
for (const vocab of Object.keys(references)) {
  const mine = ours(vocab);
  let best = 0;
  for (const [name, fn] of references[vocab]) {
    const mbps = measure(fn);
    best = Math.max(best, mbps);
    console.log(`${vocab.padEnd(13)} ${mine.toFixed(1).padStart(9)}  ${name.padEnd(48)} ${mbps.toFixed(1).padStart(6)}  ${(mine / mbps).toFixed(1).padStart(6)}x`);
  }
  console.log(`${vocab.padEnd(13)} ratio to the fastest reference: ${(mine / best).toFixed(1)}x`);
}
