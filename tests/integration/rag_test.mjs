// The RAG HTTP API: collections created and listed, documents added as JSON, in batches and
// as multipart file uploads, re-ingested (unchanged: nothing embedded), retrieved in the three
// modes with filters, deleted; the collection survives a restart; writes need the admin key;
// bad input gets clear errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, stopStack, postJson, ADMIN_KEY } from './harness.mjs';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };

const DOCS = [
  {
    id: 'backup.md',
    source: 'ops/backup.md',
    metadata: { team: 'ops', year: 2024 },
    text: '# Backups\n\nNightly backups of the Postgres database run at 02:00 UTC with pg_dump.\n' +
      'They are kept for thirty days in the object store.\n\n## Restore\n\nTo restore, ' +
      'download the latest dump and run pg_restore against an empty database.\n',
  },
  {
    id: 'oncall.md',
    source: 'ops/oncall.md',
    metadata: { team: 'ops', year: 2023 },
    text: '# On-call\n\nThe on-call engineer answers pages within fifteen minutes. Escalate to ' +
      'the team lead after an hour without progress.\n',
  },
  {
    id: 'lunch.txt',
    source: 'office/lunch.txt',
    metadata: { team: 'office', year: 2024 },
    text: 'The cafeteria serves vegetarian lasagna on Tuesdays and fish on Fridays.\n',
  },
];

describe('RAG over HTTP', () => {
  let mock, gw, tenant;
  const req = async (method, path, body, headers = admin) => {
    const r = await fetch(`${gw.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text, headers: r.headers };
  };
  const query = (body, headers = admin) =>
    req('POST', '/v1/rag/collections/handbook/query', body, headers);

  before(async () => {
    mock = await startMock();
    gw = await startGateway(mock.port, { open_access: false });
    const k = await postJson(`${gw.base}/v1/keys`, { name: 'reader' }, admin);
    assert.equal(k.status, 201, k.text);
    tenant = { authorization: `Bearer ${k.json.key}` };
  });
  after(async () => stopStack(gw, mock));

  test('create a collection; a second one of the same name is refused', async () => {
    let r = await req('POST', '/v1/rag/collections',
      { name: 'handbook', chunking: { strategy: 'recursive', size: 200, overlap: 20 } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.name, 'handbook');
    assert.match(r.json.embedder, /^glove/);
    assert.equal(r.json.dimension, 100);
    assert.equal(r.json.documents, 0);
    r = await req('POST', '/v1/rag/collections', { name: 'handbook' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'collection_exists');
    r = await req('GET', '/v1/rag/collections');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.data.map((c) => c.name), ['handbook']);
  });

  test('add documents as JSON (one, then a batch); re-ingesting unchanged text embeds nothing', async () => {
    let r = await req('POST', '/v1/rag/collections/handbook/documents', DOCS[0]);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.data[0].outcome, 'added');
    assert.ok(r.json.data[0].chunks >= 2, r.text);
    r = await req('POST', '/v1/rag/collections/handbook/documents', { documents: DOCS.slice(1) });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.data.map((d) => d.outcome), ['added', 'added']);
    r = await req('POST', '/v1/rag/collections/handbook/documents', DOCS[0]);
    assert.equal(r.status, 201);
    assert.equal(r.json.data[0].outcome, 'unchanged');
    assert.equal(r.json.data[0].embedded, 0);
    r = await req('GET', '/v1/rag/collections/handbook');
    assert.equal(r.json.documents, 3);
  });

  test('a multipart upload adds files, named by their file names', async () => {
    const form = new FormData();
    form.append('metadata', JSON.stringify({ team: 'security', year: 2024 }));
    form.append('file', new Blob(['Rotate the API keys every ninety days. Revoke a leaked key at once.\n']),
      'keys.txt');
    form.append('file', new Blob(['Laptops must use full-disk encryption.\n']), 'laptops.txt');
    const r = await fetch(`${gw.base}/v1/rag/collections/handbook/documents`,
      { method: 'POST', headers: admin, body: form });
    const json = await r.json();
    assert.equal(r.status, 201, JSON.stringify(json));
    assert.deepEqual(json.data.map((d) => d.id), ['keys.txt', 'laptops.txt']);
    const doc = await req('GET', '/v1/rag/collections/handbook/documents/keys.txt');
    assert.equal(doc.status, 200);
    assert.equal(doc.json.source, 'keys.txt');
    assert.deepEqual(doc.json.metadata, { team: 'security', year: '2024' });
    assert.match(doc.json.chunks[0].text, /ninety days/);
  });

  test('query in bm25, dense and hybrid mode; any valid key may query', async () => {
    for (const mode of ['bm25', 'dense', 'hybrid']) {
      const r = await query({ query: 'how do I restore the database backup', mode, top_k: 3 }, tenant);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.mode, mode);
      assert.ok(r.json.data.length >= 1 && r.json.data.length <= 3);
      assert.equal(r.json.data[0].document_id, 'backup.md', `${mode}: ${r.text}`);
      const c = r.json.data[0];
      const doc = DOCS[0].text;
      assert.equal(doc.slice(c.byte_begin, c.byte_end), c.text, 'offsets trace back to the document');
      assert.ok(typeof c.score === 'number');
    }
  });

  test('filters apply inside the search; top_k larger than the collection returns every match', async () => {
    let r = await query({ query: 'engineer pages backups lasagna', mode: 'bm25', top_k: 1000000000,
      filters: { team: 'ops', year: { gte: 2024 } } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.length >= 1);
    assert.ok(r.json.data.every((c) => c.document_id === 'backup.md'), r.text);
    r = await query({ query: 'lasagna', filters: { nosuchfield: 'x' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.data, [], 'a filter on a missing field matches nothing');
  });

  test('delete a document: it is gone from every mode', async () => {
    let r = await req('DELETE', '/v1/rag/collections/handbook/documents/lunch.txt');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.deleted, true);
    for (const mode of ['bm25', 'dense', 'hybrid']) {
      r = await query({ query: 'vegetarian lasagna cafeteria', mode, top_k: 10 });
      assert.ok(r.json.data.every((c) => c.document_id !== 'lunch.txt'), `${mode}: ${r.text}`);
    }
    r = await req('DELETE', '/v1/rag/collections/handbook/documents/lunch.txt');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'document_not_found');
  });

  test('writes need the admin key; unknown collections are 404', async () => {
    let r = await req('POST', '/v1/rag/collections/handbook/documents', DOCS[2], tenant);
    assert.equal(r.status, 403, r.text);
    r = await req('POST', '/v1/rag/collections', { name: 'mine' }, tenant);
    assert.equal(r.status, 403);
    r = await req('POST', '/v1/rag/collections/handbook/query', { query: 'x' }, {});
    assert.equal(r.status, 401);
    r = await req('POST', '/v1/rag/collections/nope/query', { query: 'x' });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'collection_not_found');
  });

  test('bad input: clear 4xx errors, nothing half-ingested', async () => {
    const cases = [
      [['POST', '/v1/rag/collections/handbook/documents', '{"id": "x", "text": '], 400, null],
      [['POST', '/v1/rag/collections/handbook/documents', { id: 'empty', text: '   ' }], 400, 'empty_document'],
      [['POST', '/v1/rag/collections/handbook/documents', { text: 'no id' }], 400, null],
      [['POST', '/v1/rag/collections/handbook/documents', { id: 'b', text: 'nul\u0000bytes\u0000in\u0000here' }], 400, 'binary_content'],
      [['POST', '/v1/rag/collections/handbook/documents', { documents: [] }], 400, null],
      [['POST', '/v1/rag/collections/handbook/query', { query: 'x', top_k: 0 }], 400, 'invalid_top_k'],
      [['POST', '/v1/rag/collections/handbook/query', { query: 'x', mode: 'magic' }], 400, null],
      [['POST', '/v1/rag/collections/handbook/query', { top_k: 3 }], 400, null],
      [['POST', '/v1/rag/collections/handbook/query', { query: 'x', filters: { year: { gte: 'soon' } } }], 400, null],
      [['POST', '/v1/rag/collections', { name: 'bad name/with slash' }], 400, 'invalid_name'],
      [['POST', '/v1/rag/collections', { name: 'x', embedder: 'word2vec' }], 400, 'unknown_embedder'],
      [['PUT', '/v1/rag/collections/handbook/query', { query: 'x' }], 405, 'method_not_allowed'],
      [['GET', '/v1/rag/collections/handbook/frobnicate'], 404, 'unknown_url'],
    ];
    for (const [[method, path, body], status, code] of cases) {
      const r = await req(method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
      assert.ok(r.json?.error?.message, r.text);
      if (code) assert.equal(r.json.error.code, code, r.text);
    }
    // Invalid UTF-8 in a multipart file.
    const form = new FormData();
    form.append('file', new Blob([Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21])]), 'bad.txt');
    const r = await fetch(`${gw.base}/v1/rag/collections/handbook/documents`,
      { method: 'POST', headers: admin, body: form });
    const json = await r.json();
    assert.equal(r.status, 400, JSON.stringify(json));
    assert.equal(json.error.code, 'invalid_utf8');
    const list = await req('GET', '/v1/rag/collections/handbook/documents');
    assert.deepEqual(list.json.data.map((d) => d.id).sort(),
      ['backup.md', 'keys.txt', 'laptops.txt', 'oncall.md']);
  });

  test('the chat rag field puts the retrieved context, with citations, in front of the conversation', async () => {
    const chat = (body, headers = tenant) => postJson(`${gw.base}/v1/chat/completions`, body, headers);
    let r = await chat({ model: 'mock-gpt', messages: [
      { role: 'system', content: 'You are the ops assistant.' },
      { role: 'user', content: 'How do I restore the Postgres backup?' }],
    rag: { collection: 'handbook', top_k: 3, budget_tokens: 300 } });
    assert.equal(r.status, 200, r.text);
    const last = await mock.lastRequest();
    assert.equal(last.body.rag, undefined, 'the rag field is never sent upstream');
    const system = last.body.messages[0];
    assert.equal(system.role, 'system');
    assert.match(system.content, /^Answer using the context below/);
    assert.match(system.content, /\[1\] ops\/backup\.md#\d/);
    assert.match(system.content, /pg_restore/);
    assert.match(system.content, /You are the ops assistant\.$/, 'the original system prompt is kept');
    assert.equal(last.body.messages.length, 2);
    assert.equal(r.json.rag.collection, 'handbook');
    assert.ok(r.json.rag.context_tokens > 0 && r.json.rag.context_tokens <= 300);
    assert.ok(r.json.rag.citations.some((c) => c.document_id === 'backup.md'), r.text);
    assert.equal(r.json.rag.citations[0].number, 1);
    assert.match(r.headers.get('x-switchyard-rag-citations'), /^\[1\] /);

    // A cached answer (same question, same context) carries the citations too.
    const cached = { model: 'mock-gpt', temperature: 0, messages: [
      { role: 'user', content: 'How do I restore the Postgres backup?' }],
    rag: { collection: 'handbook', top_k: 2 } };
    assert.equal((await chat(cached)).headers.get('x-switchyard-cache'), 'miss');
    const again = await chat(cached);
    assert.equal(again.headers.get('x-switchyard-cache'), 'hit');
    assert.ok(again.json.rag.citations.length >= 1, again.text);
    assert.ok(again.headers.get('x-switchyard-rag-citations').startsWith('[1] '));

    // Streaming (and the Anthropic endpoint): the citations come in the header.
    const s = await fetch(`${gw.base}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...tenant },
      body: JSON.stringify({ model: 'mock-gpt', stream: true, messages: [
        { role: 'user', content: 'Who answers pages when on call?' }],
      rag: { collection: 'handbook', mode: 'bm25', filters: { team: 'ops' } } }),
    });
    assert.equal(s.status, 200);
    assert.match(s.headers.get('x-switchyard-rag-citations'), /oncall\.md/);
    assert.match(await s.text(), /data: \[DONE\]/);
    const sys2 = (await mock.lastRequest()).body.messages[0];
    assert.equal(sys2.role, 'system', 'a system message is added when there is none');
    assert.match(sys2.content, /fifteen minutes/);
    const m = await postJson(`${gw.base}/v1/messages`, { model: 'mock-claude', max_tokens: 50,
      system: 'Be brief.', messages: [{ role: 'user', content: 'key rotation policy?' }],
      rag: { collection: 'handbook' } }, tenant);
    assert.equal(m.status, 200, m.text);
    assert.match((await mock.lastRequest()).body.system, /ninety days[\s\S]*Be brief\.$/);

    // Errors: unknown collection, bad fields.
    r = await chat({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }], rag: { collection: 'nope' } });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'collection_not_found');
    r = await chat({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }], rag: { collection: 'handbook', top_k: 0 } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'rag.top_k');
    r = await chat({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }], rag: 'handbook' });
    assert.equal(r.status, 400);
  });

  test('the collection survives a restart of the gateway', async () => {
    const before = await query({ query: 'restore the database', mode: 'hybrid', top_k: 3 });
    const ragPath = `${gw.dir}/rag.db`;
    await gw.stop();
    gw = await startGateway(mock.port, { open_access: false, rag_path: ragPath, sqlite_path: gw.dbPath });
    const r = await query({ query: 'restore the database', mode: 'hybrid', top_k: 3 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data.map((c) => [c.document_id, c.index]),
      before.json.data.map((c) => [c.document_id, c.index]));
    const d = await req('DELETE', '/v1/rag/collections/handbook');
    assert.equal(d.status, 200, d.text);
    assert.equal((await req('GET', '/v1/rag/collections')).json.data.length, 0);
  });
});
