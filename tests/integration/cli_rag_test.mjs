// switchyard ingest | query | chunk: files and directories into a collection (progress on
// stderr, re-ingest unchanged, bad files skipped with a reason), queries in every mode with
// JSON output and a token-budgeted context with citations, and chunk for tuning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_BIN } from './harness.mjs';

const run = (...args) => spawnSync(GATEWAY_BIN, args, { encoding: 'utf8', timeout: 60000 });

function corpus() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-rag-'));
  const docs = path.join(dir, 'docs');
  fs.mkdirSync(path.join(docs, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(docs, '.git'));
  fs.writeFileSync(path.join(docs, 'solar.md'),
    '# Solar power\n\nThe photovoltaic panel converts sunlight into direct current.\n\n' +
    '## Inverter\n\nAn inverter turns direct current into alternating current for the house.\n');
  fs.writeFileSync(path.join(docs, 'garden.txt'),
    'Tomatoes need six hours of sun and regular watering. Compost improves the soil.\n');
  fs.writeFileSync(path.join(docs, 'sub', 'bread.html'),
    '<html><head><style>body { color: red }</style><script>var secretword = 1;</script></head>' +
    '<body><h1>Sourdough</h1><p>Sourdough bread rises with a starter of wild yeast &amp; ' +
    'flour.</p></body></html>');
  fs.writeFileSync(path.join(docs, 'sub', 'retry.py'),
    'def retry_with_backoff(call, attempts=3):\n    """Exponential backoff between attempts."""\n' +
    '    for i in range(attempts):\n        pass\n');
  fs.writeFileSync(path.join(docs, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
  fs.writeFileSync(path.join(docs, '.git', 'config.txt'), 'hidden directory, never ingested\n');
  return { dir, docs, db: path.join(dir, 'rag.db') };
}

test('ingest a directory, re-ingest unchanged, query in every mode', () => {
  const { dir, docs, db } = corpus();
  let r = run('ingest', docs, '--collection', 'notes', '--db', db);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /collection notes: 4 files: 4 added, 0 replaced, 0 unchanged/);
  assert.match(r.stderr, /\[4\/4 files\] .* MB\/s/);  // progress: files, MB/s
  assert.match(r.stderr, /ETA|done/);

  r = run('ingest', docs, '--collection', 'notes', '--db', db, '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /0 added, 0 replaced, 4 unchanged/);
  assert.equal(r.stderr, '');

  fs.appendFileSync(path.join(docs, 'garden.txt'), 'Mulch keeps moisture in.\n');
  r = run('ingest', docs, '--collection', 'notes', '--db', db, '-q');
  assert.match(r.stdout, /0 added, 1 replaced, 3 unchanged/);

  for (const mode of ['dense', 'bm25', 'hybrid']) {
    r = run('query', '--collection', 'notes', '--db', db, '--mode', mode, '--json', '-k', '2',
      'inverter alternating current');
    assert.equal(r.status, 0, r.stderr);
    const hits = JSON.parse(r.stdout);
    assert.ok(hits.length >= 1 && hits.length <= 2, mode);
    assert.match(hits[0].source, /solar\.md$/, mode);
    assert.match(hits[0].text, /inverter/i, mode);
  }
  r = run('query', '--collection', 'notes', '--db', db, '--bm25-weight', '3', '--json', '-k', '1',
    'tomatoes watering');
  assert.equal(r.status, 0, r.stderr);
  assert.match(JSON.parse(r.stdout)[0].source, /garden\.txt$/);
  // Filters: on the source path (the file's path as given) and metadata.
  r = run('query', '--collection', 'notes', '--db', db, '--json', '-k', '10',
    '--filter', JSON.stringify({ source: { prefix: path.join(docs, 'sub') } }), 'sun bread backoff');
  assert.equal(r.status, 0, r.stderr);
  const filtered = JSON.parse(r.stdout);
  assert.ok(filtered.length >= 2);
  for (const h of filtered) assert.ok(h.source.startsWith(path.join(docs, 'sub')), h.source);
  // HTML: the text is indexed, scripts and styles are not.
  r = run('query', '--collection', 'notes', '--db', db, '--mode', 'bm25', '--json', 'sourdough yeast');
  assert.match(JSON.parse(r.stdout)[0].source, /bread\.html$/);
  assert.match(JSON.parse(r.stdout)[0].text, /wild yeast & flour/);
  r = run('query', '--collection', 'notes', '--db', db, '--mode', 'bm25', '--json', 'secretword');
  assert.deepEqual(JSON.parse(r.stdout), []);
  // Source code is ingested from directories; hidden directories and other files are not.
  r = run('query', '--collection', 'notes', '--db', db, '--mode', 'bm25', 'backoff');
  assert.match(r.stdout, /retry\.py#0/);
  r = run('query', '--collection', 'notes', '--db', db, '--mode', 'bm25', 'hidden');
  assert.match(r.stdout, /no results/);

  // A token-budgeted context with citations.
  r = run('query', '--collection', 'notes', '--db', db, '--budget', '60', '--json',
    'solar panel inverter');
  assert.equal(r.status, 0, r.stderr);
  const ctx = JSON.parse(r.stdout);
  assert.ok(ctx.tokens > 0 && ctx.tokens <= 60);
  assert.match(ctx.context, /^\[1\] \S+#\d+/);
  assert.equal(ctx.citations[0].number, 1);
  assert.ok(ctx.citations[0].byte_end > ctx.citations[0].byte_begin);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('bad files are skipped with a reason; bad queries are clear errors', () => {
  const { dir, docs, db } = corpus();
  const binary = path.join(dir, 'blob.txt');
  fs.writeFileSync(binary, Buffer.from('PK\x03\x04\x00\x00binary', 'binary'));
  const latin1 = path.join(dir, 'latin1.txt');
  fs.writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  const empty = path.join(dir, 'empty.md');
  fs.writeFileSync(empty, '\n\n');
  let r = run('ingest', path.join(docs, 'solar.md'), binary, latin1, empty,
    '--collection', 'c', '--db', db, '-q');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /1 added, .* 3 failed/);
  assert.match(r.stderr, /blob\.txt: .*binary/);
  assert.match(r.stderr, /latin1\.txt: .*not valid UTF-8 \(first bad byte at offset 3\)/);
  assert.match(r.stderr, /empty\.md' is empty/);

  r = run('ingest', path.join(dir, 'nope'), '--collection', 'c', '--db', db);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no such file or directory/);

  // Another embedder into the same collection is refused.
  r = run('ingest', path.join(docs, 'garden.txt'), '--collection', 'c', '--db', db,
    '--embedder', 'hashing');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /embedders cannot be mixed/);

  r = run('query', '--collection', 'missing', '--db', db, 'sun');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /collection 'missing' does not exist/);
  r = run('query', '--collection', 'c', '--db', db, '-k', '0', 'sun');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /top_k must be at least 1/);
  r = run('query', '--collection', 'c', '--db', db, '--mode', 'semantic', 'sun');
  assert.equal(r.status, 2);
  r = run('query', '--collection', 'c', '--db', db, '--filter', '{"year":{"gte":"x"}}', 'sun');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /year/);
  r = run('query', '--collection', 'c', '--db', path.join(dir, 'none.db'), 'sun');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /does not exist/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('chunk prints a file\'s chunks, exact byte ranges, heading paths', () => {
  const { dir, docs } = corpus();
  const file = path.join(docs, 'solar.md');
  const bytes = fs.readFileSync(file);
  let r = run('chunk', file, '--strategy', 'structural', '--size', '80', '--json');
  assert.equal(r.status, 0, r.stderr);
  const chunks = JSON.parse(r.stdout);
  assert.ok(chunks.length >= 2);
  for (const c of chunks) {
    assert.equal(bytes.subarray(c.byte_begin, c.byte_end).toString('utf8'), c.text);
    assert.ok(c.n_tokens > 0);
  }
  assert.ok(chunks.some((c) => c.heading_path.join(' > ') === 'Solar power > Inverter'));

  r = run('chunk', file, '--strategy', 'sentence', '--size', '20', '--unit', 'tokens');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--- chunk 0 {2}bytes 0-\d+/);
  assert.match(r.stdout, /--- \d+ chunks \(sentence, size 20 tokens, overlap 0\)/);

  r = run('chunk', file, '--strategy', 'fractal');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown --strategy 'fractal'/);
  r = run('chunk', file, '--size', '10', '--overlap', '10');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /overlap/);
  fs.rmSync(dir, { recursive: true, force: true });
});
