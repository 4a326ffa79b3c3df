// Side-by-side dense search at 100k vectors, in one run: npm hnswlib-node (pinned in
// bench/package.json; install with `npm install --prefix bench`) against Switchyard's
// VectorIndex (vector_index_bench). Same data and settings as vector_index_bench: the
// 100,000 most frequent GloVe 6B 100-d words from data/rag/glove-6b-100d.syemb, normalised,
// inner-product space, M 16, ef_construction 200 (hnswlib-node inserts on one thread: it has
// no parallel add; ours uses 2); queries are the next 1,000 words; recall@10 against exact
// search computed here. Prints recall@10, p50 and p99 per query on one thread at ef 32 to 256
// for both. --query-cpu N pins both libraries' querying thread to CPU N (taskset; our build
// still runs on every CPU).
//
//   node bench/hnswlib_node_compare.mjs [--bench build/bench/vector_index_bench] [--query-cpu 1]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const N = 100000;
const Q = 1000;
const K = 10;
const EFS = [32, 64, 128, 160, 176, 192, 256];

const require = createRequire(join(here, 'package.json'));
let HierarchicalNSW;
try {
  ({ HierarchicalNSW } = require('hnswlib-node'));
} catch (e) {
  console.error(`hnswlib-node is not installed (npm install --prefix bench): ${e.message}`);
  process.exit(2);
}

// The .syemb layout: see include/switchyard/rag/word_vectors.hpp.
function readGlove(path) {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 8) !== 'SYEMBED1') throw new Error(`${path}: not a word-vector file`);
  const dims = buf.readUInt32LE(12);
  const count = buf.readUInt32LE(16);
  const align8 = (n) => (n + 7) & ~7;
  const scalesAt = 128;
  const vectorsAt = scalesAt + align8(count * 4);
  const rows = (first, n) => {
    const out = [];
    for (let i = first; i < first + n; ++i) {
      const scale = buf.readFloatLE(scalesAt + 4 * i);
      const v = new Float32Array(dims);
      let norm = 0;
      for (let d = 0; d < dims; ++d) {
        v[d] = buf.readInt8(vectorsAt + i * dims + d) * scale;
        norm += v[d] * v[d];
      }
      norm = Math.sqrt(norm);
      for (let d = 0; d < dims; ++d) v[d] /= norm;
      out.push(v);
    }
    return out;
  };
  return { dims, base: rows(0, N), queries: rows(N, Q) };
}

const dataDir = process.env.SWITCHYARD_RAG_DATA_DIR ?? join(root, 'data', 'rag');
const { dims, base, queries } = readGlove(join(dataDir, 'glove-6b-100d.syemb'));

// Exact top 10 by dot product.
const truth = queries.map((q) => {
  const best = [];
  for (let i = 0; i < N; ++i) {
    const v = base[i];
    let s = 0;
    for (let d = 0; d < dims; ++d) s += q[d] * v[d];
    if (best.length < K || s > best[best.length - 1][0]) {
      best.push([s, i]);
      best.sort((a, b) => b[0] - a[0]);
      if (best.length > K) best.pop();
    }
  }
  return new Set(best.map(([, i]) => i));
});

const index = new HierarchicalNSW('ip', dims);
index.initIndex(N, 16, 200, 100);
let t0 = process.hrtime.bigint();
for (let i = 0; i < N; ++i) index.addPoint(Array.from(base[i]), i);
const buildS = Number(process.hrtime.bigint() - t0) / 1e9;

// Queries on one CPU: the main thread (searchKnn is synchronous) is pinned after the build.
const queryCpu = args['query-cpu'];
if (queryCpu !== undefined) execFileSync('taskset', ['-p', '-c', queryCpu, String(process.pid)], { stdio: 'ignore' });

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const node = [];
const queryArrays = queries.map((q) => Array.from(q));
for (const ef of EFS) {
  index.setEf(ef);
  let found = 0;
  const samples = [];
  for (let rep = 0; rep < 3; ++rep) {
    for (let q = 0; q < Q; ++q) {
      t0 = process.hrtime.bigint();
      const { neighbors } = index.searchKnn(queryArrays[q], K);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
      if (rep === 0) for (const n of neighbors) found += truth[q].has(n) ? 1 : 0;
    }
  }
  node.push({ ef, recall: found / (Q * K), p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) });
}

console.log(`hnswlib-node 3.0.0 (Node ${process.versions.node}): build ${buildS.toFixed(1)} s (one thread)`);
for (const r of node) {
  console.log(`  ef ${r.ef}: recall@10 ${r.recall.toFixed(3)}, p50 ${r.p50.toFixed(0)} us, p99 ${r.p99.toFixed(0)} us`);
}

const benchBin = args.bench ?? join(root, 'build', 'bench', 'vector_index_bench');
try {
  const benchArgs = ['--benchmark_filter=BM_Vector(Build|Query)', '--benchmark_format=json'];
  // The child would inherit the pinning: widen it to every CPU for the 2-thread build; the
  // bench pins its querying thread itself (VECTOR_BENCH_QUERY_CPU).
  const [file, argv] = queryCpu === undefined ? [benchBin, benchArgs] : ['taskset', ['-c', `0-${cpus().length - 1}`, benchBin, ...benchArgs]];
  const env = queryCpu === undefined ? process.env : { ...process.env, VECTOR_BENCH_QUERY_CPU: queryCpu };
  const out = execFileSync(file, argv, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] });
  const { benchmarks } = JSON.parse(out);
  const build = benchmarks.find((b) => b.name.startsWith('BM_VectorBuild'));
  console.log(`Switchyard VectorIndex: build ${build.build_s.toFixed(1)} s (2 threads)`);
  for (const b of benchmarks.filter((x) => x.name.startsWith('BM_VectorQuery'))) {
    console.log(`  ef ${b.name.split('/')[1]}: recall@10 ${b['recall@10'].toFixed(3)}, p50 ${b.p50_us.toFixed(0)} us, p99 ${b.p99_us.toFixed(0)} us`);
  }
} catch (e) {
  console.error(`vector_index_bench did not run (${benchBin}): ${e.message}`);
}
