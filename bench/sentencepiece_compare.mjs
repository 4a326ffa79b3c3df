// Side by side: the JavaScript references (llama-tokenizer-js@1.2.2, mistral-tokenizer-js@1.0.0)
// and Switchyard's C++ tokenizers on the same texts, in one run. Builds the texts exactly as
// bench/sentencepiece_bench.cpp does (tests/data/tokens/sp_{prose,code,cjk}.txt repeated whole
// to at least 256 KiB), times reference encode(text, false, true) for ~2 s per text, runs the
// C++ benchmark binary (JSON output) and prints MB/s for both and the ratio.
//
//   node bench/sentencepiece_compare.mjs [path/to/sentencepiece_bench] [--min-time=2]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadReferences } from '../tests/tokens/sentencepiece_reference.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'tests', 'data', 'tokens');
const TEXT_BYTES = 256 * 1024;
const args = process.argv.slice(2);
const minTime = Number(args.find((a) => a.startsWith('--min-time='))?.split('=')[1] ?? 2);
const bin = args.find((a) => !a.startsWith('--')) ?? join(here, '..', 'build', 'bench', 'sentencepiece_bench');

function corpusText(kind) {
  const one = readFileSync(join(dataDir, `sp_${kind}.txt`));
  const parts = [];
  let n = 0;
  while (n < TEXT_BYTES) {
    parts.push(one);
    n += one.length;
  }
  return Buffer.concat(parts);
}

function timeReference(ref, text, seconds) {
  ref.encode(text, false, true);  // warm up
  let iterations = 0;
  let tokens = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    tokens = ref.encode(text, false, true).length;
    iterations++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return { seconds: elapsed / iterations, tokens };
}

// The longest prefix of prose + code + prose (whole lines) with at most 2,000 tokens, as the
// C++ benchmark builds it (the counts are identical, so the prompt is the same).
function prompt2000(ref) {
  const read = (kind) => readFileSync(join(dataDir, `sp_${kind}.txt`), 'utf8');
  const lines = (read('prose') + read('code') + read('prose')).split(/(?<=\n)/);
  let prompt = '';
  for (const line of lines) {
    if (ref.encode(prompt + line, false, true).length > 2000) break;
    prompt += line;
  }
  return prompt;
}

const refs = await loadReferences();
const kinds = ['prose', 'code', 'cjk'];
const rows = [];
for (const vocabulary of ['llama2', 'mistral']) {
  for (const kind of kinds) {
    const bytes = corpusText(kind);
    const { seconds, tokens } = timeReference(refs[vocabulary], bytes.toString('utf8'), minTime);
    rows.push({ vocabulary, kind, bytes: bytes.length, jsMBps: bytes.length / seconds / 1e6, tokens });
  }
}

const promptRows = {};
for (const vocabulary of ['llama2', 'mistral']) {
  const prompt = prompt2000(refs[vocabulary]);
  promptRows[vocabulary] = { ...timeReference(refs[vocabulary], prompt, minTime), bytes: Buffer.byteLength(prompt) };
}

let cpp = null;
if (existsSync(bin)) {
  const out = execFileSync(bin, ['--benchmark_format=json', '--benchmark_filter=BM_Count',
    `--benchmark_min_time=${Math.max(0.5, minTime / 2)}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  cpp = JSON.parse(out).benchmarks;
} else {
  console.error(`(C++ benchmark ${bin} not found: build it with ninja -C build sentencepiece_bench)`);
}

const cppFigure = (name) => cpp?.find((b) => b.name === name);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}`);
console.log('| vocabulary | text | bytes | tokens | JS reference MB/s | Switchyard count() MB/s | ratio |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const b = cppFigure(`BM_Count/${r.vocabulary}/${r.kind}`);
  const cppMBps = b ? b.bytes_per_second / 1e6 : NaN;
  if (b && Math.round(b.tokens) !== r.tokens) {
    console.error(`token counts differ for ${r.vocabulary}/${r.kind}: JS ${r.tokens}, C++ ${b.tokens}`);
    process.exitCode = 1;
  }
  console.log(`| ${r.vocabulary} | ${r.kind} | ${r.bytes} | ${r.tokens} | ${r.jsMBps.toFixed(2)} | ` +
    `${cppMBps.toFixed(1)} | ${(cppMBps / r.jsMBps).toFixed(0)}x |`);
}
console.log('');
console.log('| vocabulary | 2,000-token prompt | bytes | JS reference encode | Switchyard count() | ratio | Switchyard chat count |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const vocabulary of ['llama2', 'mistral']) {
  const js = promptRows[vocabulary];
  const b = cppFigure(`BM_Count2000TokenPrompt/${vocabulary}`);
  const chat = cppFigure(`BM_CountChat2000/${vocabulary}`);
  const us = (x) => (x ? `${(x.cpu_time / 1e3).toFixed(0)} us` : 'n/a');
  if (b && Math.round(b.tokens) !== js.tokens) {
    console.error(`2,000-token prompt differs for ${vocabulary}: JS ${js.tokens}, C++ ${b.tokens} tokens`);
    process.exitCode = 1;
  }
  console.log(`| ${vocabulary} | ${js.tokens} tokens | ${js.bytes} | ${(js.seconds * 1e3).toFixed(1)} ms | ${us(b)} | ` +
    `${b ? (js.seconds * 1e9 / b.cpu_time).toFixed(0) : 'n/a'}x | ${us(chat)} (${chat?.tokens ?? '?'} tokens) |`);
}
