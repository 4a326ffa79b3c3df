// Two ways documents reach a running gateway's RAG store. HTML uploads (a multipart file named
// *.html or sent as text/html, a JSON document with content_type text/html) are stored as their
// text: no tags, no scripts or styles. Documents that `switchyard ingest` writes into the
// gateway's rag file while it runs are seen by the next HTTP request, without a restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startMock, startGateway, stopStack, ADMIN_KEY, GATEWAY_BIN } from './harness.mjs';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };

const PAGE = `<!DOCTYPE html><html><head><title>Runbook</title>
<style>.x { color: red }</style>
<script>window.tracker = "<p>secret tracking</p>";</script></head>
<body><h1>Failover runbook</h1><!-- draft: do not publish -->
<p>When the <b>primary</b> database fails, promote the replica in zone&nbsp;B &amp; page the DBA.</p>
<script type="module">console.log('boot')</script></body></html>`;

describe('RAG: HTML uploads and documents ingested by the CLI', () => {
  let mock, gw;
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
  const noMarkup = (text) => {
    assert.doesNotMatch(text, /[<>]/, text);
    assert.doesNotMatch(text, /tracker|secret tracking|console\.log|color: red|draft/, text);
  };

  before(async () => {
    mock = await startMock();
    gw = await startGateway(mock.port, { rag: '  embedder: hashing\n' });
  });
  after(async () => stopStack(gw, mock));

  test('an uploaded HTML file is stored as its text', async () => {
    let r = await req('POST', '/v1/rag/collections', { name: 'web' });
    assert.equal(r.status, 201, r.text);
    const form = new FormData();
    form.append('file', new Blob([PAGE]), 'runbook.html');
    // HTML by its content type, whatever the file is called.
    form.append('file', new Blob([PAGE.replace('Failover', 'Switchover')], { type: 'text/html' }),
      'export.dat');
    form.append('file', new Blob(['Plain <b>text</b> keeps its angle brackets.\n']), 'plain.txt');
    const up = await fetch(`${gw.base}/v1/rag/collections/web/documents`,
      { method: 'POST', headers: admin, body: form });
    assert.equal(up.status, 201, await up.text());
    for (const id of ['runbook.html', 'export.dat']) {
      r = await req('GET', `/v1/rag/collections/web/documents/${id}`);
      assert.equal(r.status, 200, r.text);
      const text = r.json.chunks.map((c) => c.text).join('\n');
      noMarkup(text);
      assert.match(text, /over runbook/);
      assert.match(text, /promote the replica in zone B & page the DBA\./);
    }
    r = await req('GET', '/v1/rag/collections/web/documents/plain.txt');
    assert.match(r.json.chunks[0].text, /<b>text<\/b>/);

    r = await req('POST', '/v1/rag/collections/web/query',
      { query: 'promote replica database fails', mode: 'bm25', top_k: 3 });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.length >= 2, r.text);
    for (const hit of r.json.data) noMarkup(hit.text);
  });

  test('a JSON document with content_type text/html is stored as its text', async () => {
    let r = await req('POST', '/v1/rag/collections/web/documents',
      { id: 'inline', text: PAGE, content_type: 'text/html; charset=utf-8' });
    assert.equal(r.status, 201, r.text);
    r = await req('GET', '/v1/rag/collections/web/documents/inline');
    noMarkup(r.json.chunks.map((c) => c.text).join('\n'));
    r = await req('POST', '/v1/rag/collections/web/documents',
      { id: 'pdf', text: 'x', content_type: 'application/pdf' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.param, 'content_type');
  });

  test('documents the CLI ingests into the running gateway\'s store are found at once', async () => {
    let r = await req('POST', '/v1/rag/collections', { name: 'shared' });
    assert.equal(r.status, 201, r.text);
    r = await req('POST', '/v1/rag/collections/shared/documents',
      { id: 'http.md', text: 'Written over HTTP: the gateway listens on port eight thousand.' });
    assert.equal(r.status, 201, r.text);
    r = await req('POST', '/v1/rag/collections/shared/query', { query: 'albatross', mode: 'bm25' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, 0);  // the collection is open in the gateway now

    const dir = fs.mkdtempSync(path.join(gw.dir, 'docs-'));
    const file = path.join(dir, 'birds.md');
    fs.writeFileSync(file, '# Birds\n\nThe wandering albatross has the longest wingspan.\n');
    // --config: the gateway's rag.sqlite_path; the collection's own embedder (hashing).
    const cli = (...args) => spawnSync(GATEWAY_BIN, args, { encoding: 'utf8', timeout: 60000 });
    let c = cli('ingest', file, '--collection', 'shared', '--config', gw.configFile, '-q');
    assert.equal(c.status, 0, c.stderr + c.stdout);

    r = await req('POST', '/v1/rag/collections/shared/query', { query: 'albatross', mode: 'bm25' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, 1, r.text);
    assert.match(r.json.data[0].text, /wandering albatross/);
    r = await req('GET', '/v1/rag/collections/shared');
    assert.equal(r.json.documents, 2);

    // A changed file replaces the document's chunks in the gateway too; HTTP writes go on.
    fs.writeFileSync(file, '# Birds\n\nThe albatross glides for hours without flapping.\n');
    c = cli('ingest', file, '--collection', 'shared', '--config', gw.configFile, '-q');
    assert.equal(c.status, 0, c.stderr + c.stdout);
    r = await req('POST', '/v1/rag/collections/shared/documents',
      { id: 'more.md', text: 'Another HTTP document about penguins.' });
    assert.equal(r.status, 201, r.text);
    r = await req('POST', '/v1/rag/collections/shared/query', { query: 'albatross', mode: 'bm25' });
    assert.equal(r.json.data.length, 1, r.text);
    assert.match(r.json.data[0].text, /glides for hours/);
    r = await req('GET', '/v1/rag/collections/shared/documents');
    assert.deepEqual(r.json.data.map((d) => d.id).sort(), [file, 'http.md', 'more.md'].sort());
  });
});
