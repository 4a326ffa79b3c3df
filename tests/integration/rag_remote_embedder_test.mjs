// The RAG engine with a remote embedder: rag.remote_embedder names a model of the config
// (the mock's /v1/embeddings, 16-d deterministic unit vectors). Collections record the
// embedder "<provider>:<model>" and the dimension learned from a probe call; texts go up in
// batches of batch_size with the model's key; 429 and 5xx answers are retried; a permanent
// failure is a clear 502 and stores nothing; the CLI (--config) embeds with the same model
// into the running gateway's store; a collection cannot take another embedder's vectors, nor
// be reopened with another dimension after a restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startMock, startGateway, stopStack, ADMIN_KEY, MOCK_KEY, GATEWAY_BIN } from './harness.mjs';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const UPSTREAM = 'embed-upstream';

const models = (base) => `  - name: mock-gpt
    provider: openai
    upstream_model: gpt-4-turbo-upstream
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
  - name: mock-embed
    provider: openai
    upstream_model: ${UPSTREAM}
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
`;
const ragSection = (remote) => `  embedder: remote\n  remote_embedder: ${remote}\n`;
const REMOTE = '{model: mock-embed, batch_size: 4, max_retries: 2, timeout_ms: 2000}';

// Eleven short paragraphs: with chunks of at most 80 characters, one chunk each.
const PARAS = Array.from({ length: 11 }, (_, i) =>
  `Paragraph ${i} says the service number ${i * 7} runs in zone ${String.fromCharCode(97 + i)}.`);
const LONG = PARAS.join('\n\n');

describe('RAG with a remote embedder', () => {
  let mock, gw;
  const ragPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sy-rag-remote-')), 'rag.db');
  const req = async (method, p, body) => {
    const r = await fetch(`${gw.base}${p}`, {
      method,
      headers: { 'content-type': 'application/json', ...admin },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text };
  };
  const embedCalls = async () => (await mock.stats()).by_path['/v1/embeddings'] ?? 0;
  const start = (remote = REMOTE) =>
    startGateway(mock.port, { models, rag: ragSection(remote), rag_path: ragPath });

  before(async () => {
    mock = await startMock();
    gw = await start();
  });
  after(async () => stopStack(gw, mock));

  test('a new collection records the remote embedder and the probed dimension', async () => {
    const r = await req('POST', '/v1/rag/collections',
      { name: 'remote', chunking: { strategy: 'paragraph', size: 80, overlap: 0 } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.embedder, `openai:${UPSTREAM}`);
    assert.equal(r.json.dimension, 16);
    const last = await mock.lastRequest();
    assert.equal(last.path, '/v1/embeddings');
    assert.equal(last.headers.authorization, `Bearer ${MOCK_KEY}`);
    assert.equal(last.body.model, UPSTREAM);
    assert.equal(last.body.encoding_format, 'float');
  });

  test('ingest sends the chunks in batches of batch_size; query finds them', async () => {
    await mock.resetStats();
    let r = await req('POST', '/v1/rag/collections/remote/documents',
      { id: 'long', text: LONG, source: 'ops/long.md' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.data[0].chunks, 11, r.text);
    assert.equal(r.json.data[0].embedded, 11);
    assert.equal(await embedCalls(), 3);  // 4 + 4 + 3
    const last = await mock.lastRequest();
    assert.deepEqual(last.body.input, PARAS.slice(8));  // the last batch, in order

    // The mock's vectors hash the whole text: a query equal to a chunk's text has cosine 1.
    r = await req('POST', '/v1/rag/collections/remote/query',
      { query: PARAS[5], mode: 'dense', top_k: 1 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data[0].text, PARAS[5]);
    assert.ok(Math.abs(r.json.data[0].score - 1) < 1e-4, r.text);
    r = await req('POST', '/v1/rag/collections/remote/query',
      { query: 'zone c service', mode: 'hybrid', top_k: 2 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, 2);

    // Each query embeds its text; the gateway's two blocking threads keep their connections.
    await mock.resetStats();
    for (let i = 0; i < 6; i++) {
      r = await req('POST', '/v1/rag/collections/remote/query', { query: `zone ${i}`, mode: 'dense' });
      assert.equal(r.status, 200, r.text);
    }
    const stats = await mock.stats();
    assert.equal(stats.by_path['/v1/embeddings'], 6);
    assert.ok(stats.connections <= 2, JSON.stringify(stats));
  });

  test('the chat rag field retrieves with the remote embedder', async () => {
    await mock.resetStats();
    const r = await fetch(`${gw.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: PARAS[7] }],
        rag: { collection: 'remote', mode: 'dense', top_k: 1 } }),
    });
    const json = await r.json();
    assert.equal(r.status, 200, JSON.stringify(json));
    assert.equal(json.rag.citations[0].document_id, 'long');
    assert.equal((await mock.stats()).by_path['/v1/embeddings'], 1);  // the question
    const last = await mock.lastRequest();
    assert.equal(last.path, '/v1/chat/completions');
    assert.ok(last.body.messages[0].content.includes(PARAS[7]), JSON.stringify(last.body));
  });

  test('429 and 500 answers are retried and the ingest succeeds', async () => {
    // [fault, failures]: one Retry-After of 1 s fits in a batch's timeout_ms (2 s), two would not.
    for (const [fault, failures] of [['status=429,retry_after=1', 1], ['status=500', 2]]) {
      await mock.resetStats();
      await mock.addFault({ fault, model: UPSTREAM, count: failures });
      const r = await req('POST', '/v1/rag/collections/remote/documents',
        { id: `retried-${fault}`, text: `The retried document (${fault}) mentions a lighthouse.` });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.data[0].outcome, 'added');
      assert.equal(await embedCalls(), failures + 1, fault);  // the failures, then the answer
      await mock.clearFaults();
    }
  });

  test('a batch\'s attempts and waits end within timeout_ms: a wait past it is not made', async () => {
    // timeout_ms is 2000: after a first 429 asking for 2 s, the retry would end past it.
    await mock.resetStats();
    await mock.addFault({ fault: 'status=429,retry_after=2', model: UPSTREAM, count: 3 });
    const r = await req('POST', '/v1/rag/collections/remote/query', { query: 'anything', mode: 'dense' });
    assert.equal(r.status, 502, r.text);
    assert.match(r.json.error.message, /HTTP 429/);
    assert.match(r.json.error.message, /past the batch's 2000 ms timeout_ms/);
    assert.equal(await embedCalls(), 1);
    await mock.clearFaults();
  });

  test('a permanent failure is a clear 502 and leaves nothing half-ingested', async () => {
    await mock.resetStats();
    // The first batch (4 of the 11 chunks) is answered; the second fails for good.
    await mock.addFault({ fault: 'status=503', model: UPSTREAM, count: 50 });
    await mock.addFault({ fault: 'status=200', model: UPSTREAM, count: 1 });
    let r = await req('POST', '/v1/rag/collections/remote/documents',
      { id: 'doomed', text: LONG.replace(/Paragraph/g, 'Section') });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'embedding_failed');
    assert.match(r.json.error.message, /openai:embed-upstream/);
    assert.match(r.json.error.message, /HTTP 503/);
    assert.match(r.json.error.message, /after 3 attempts/);  // max_retries: 2
    assert.equal(await embedCalls(), 4);  // one answered batch, then three failed attempts
    await mock.clearFaults();
    r = await req('GET', '/v1/rag/collections/remote/documents/doomed');
    assert.equal(r.status, 404, r.text);
    r = await req('GET', '/v1/rag/collections/remote');
    assert.equal(r.json.documents, 3);

    // A 401 is not retried: the key is wrong, waiting does not help.
    await mock.resetStats();
    await mock.addFault({ fault: 'status=401', model: UPSTREAM, count: 1 });
    r = await req('POST', '/v1/rag/collections/remote/query', { query: 'anything', mode: 'dense' });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'embedding_failed');
    assert.doesNotMatch(r.json.error.message, /attempts/);
    assert.equal(await embedCalls(), 1);
    await mock.clearFaults();

    // A 429 asking for more than 30 s is not waited for.
    await mock.resetStats();
    await mock.addFault({ fault: 'status=429,retry_after=120', model: UPSTREAM, count: 1 });
    r = await req('POST', '/v1/rag/collections/remote/query', { query: 'anything', mode: 'dense' });
    assert.equal(r.status, 502, r.text);
    assert.match(r.json.error.message, /HTTP 429/);
    assert.match(r.json.error.message, /Retry-After 120 s is more than 30 s/);
    assert.equal(await embedCalls(), 1);
    await mock.clearFaults();
  });

  test('the CLI ingests with the remote embedder the config names; mixing is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-rag-remote-cli-'));
    const file = path.join(dir, 'cli.md');
    fs.writeFileSync(file, 'The command line embedded this note about gannets remotely.\n');
    const env = { ...process.env, SY_TEST_MOCK_KEY: MOCK_KEY };
    const cli = (...args) =>
      spawnSync(GATEWAY_BIN, args, { encoding: 'utf8', timeout: 60000, env });
    await mock.resetStats();
    let c = cli('ingest', file, '--collection', 'remote', '--config', gw.configFile, '-q');
    assert.equal(c.status, 0, c.stderr + c.stdout);
    // One chunk, one call: the dimension comes from the collection, no probe.
    assert.equal(await embedCalls(), 1);
    // The running gateway sees it (and embeds the query with the same model).
    const r = await req('POST', '/v1/rag/collections/remote/query',
      { query: 'The command line embedded this note about gannets remotely.', mode: 'dense', top_k: 1 });
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.data[0].text, /gannets/);
    c = cli('query', 'gannets', '--collection', 'remote', '--config', gw.configFile, '--mode', 'dense');
    assert.equal(c.status, 0, c.stderr + c.stdout);
    assert.match(c.stdout, /gannets/);
    // Another embedder's vectors cannot join the collection; without the config the stored
    // remote embedder is unknown.
    c = cli('ingest', file, '--collection', 'remote', '--config', gw.configFile, '--embedder', 'hashing');
    assert.equal(c.status, 2, c.stderr + c.stdout);
    assert.match(c.stderr, /embedders cannot be mixed/);
    c = cli('query', 'gannets', '--collection', 'remote', '--db', ragPath);
    assert.equal(c.status, 1, c.stderr + c.stdout);
    assert.match(c.stderr, /needs --config/);
  });

  test('after a restart the collection reopens with its remote embedder', async () => {
    await gw.stop();
    gw = await start();
    await mock.resetStats();
    const r = await req('POST', '/v1/rag/collections/remote/query',
      { query: PARAS[2], mode: 'dense', top_k: 1 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data[0].text, PARAS[2]);
    assert.equal(await embedCalls(), 1);  // the query; the dimension is the stored one
  });

  test('mixing embedders in one collection is refused', async () => {
    // The same model configured with another dimension: its vectors cannot join the
    // collection's 16-d ones.
    await gw.stop();
    gw = await start('{model: mock-embed, dimensions: 32}');
    let r = await req('POST', '/v1/rag/collections/remote/query', { query: 'zone', mode: 'bm25' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'embedder_mismatch');
    assert.match(r.json.error.message, /16 dimensions/);
    // A collection of a built-in embedder next to it is fine; an unknown embedder is not.
    r = await req('POST', '/v1/rag/collections', { name: 'local', embedder: 'hashing' });
    assert.equal(r.status, 201, r.text);
    r = await req('POST', '/v1/rag/collections', { name: 'other', embedder: 'openai:nope' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'unknown_embedder');
  });

  test('an unreachable embedding server: connect failures retried, then a clear 502', async () => {
    await gw.stop();
    const dead = (base) => models(base) + `  - name: dead-embed
    provider: openai
    base_url: http://127.0.0.1:1/v1
    api_key_env: SY_TEST_MOCK_KEY
`;
    gw = await startGateway(mock.port, {
      models: dead,
      rag: '  remote_embedder: {model: dead-embed, max_retries: 2}\n',
      rag_path: ragPath,
    });
    let r = await req('POST', '/v1/rag/collections', { name: 'nowhere', embedder: 'remote' });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'embedding_failed');
    assert.match(r.json.error.message, /remote embedder 'openai:dead-embed' cannot start/);
    assert.match(r.json.error.message, /after 3 attempts/);
    r = await req('GET', '/v1/rag/collections');
    assert.ok(!r.json.data.some((c) => c.name === 'nowhere'), r.text);
  });
});
