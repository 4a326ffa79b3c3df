// Response cache persistence (cache.persist_path): a cached answer survives a graceful
// restart (SIGTERM) and is served with no upstream call, the semantic side included (its
// prompts are embedded again at start-up); after kill -9 what was committed
// survives and the store still opens; an invalidated answer stays gone; a corrupted stored
// entry is skipped, counted and never served.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMock, startGateway, stopStack, postJson, parseSse, ADMIN_KEY } from './harness.mjs';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const ask = (text, extra = {}) => ({ model: 'mock-gpt', temperature: 0, messages: [{ role: 'user', content: text }], ...extra });

let hasSqliteShell = true;
try { execFileSync('sqlite3', ['-version'], { stdio: 'ignore' }); } catch { hasSqliteShell = false; }

describe('response cache persistence', () => {
  let mock, dir, gw;
  const chat = (body) => postJson(`${gw.base}/v1/chat/completions`, body);
  const calls = async () => (await mock.stats()).requests;
  const stats = async () => (await fetch(`${gw.base}/v1/cache/stats`, { headers: admin })).json();
  const start = (persistPath) => startGateway(mock.port, { cache: `  persist_path: ${JSON.stringify(persistPath)}` });
  // Waits (bounded) until the store has committed everything queued: the point after which
  // a crash cannot lose it.
  async function committed() {
    for (let i = 0; i < 250; ++i) {
      const p = (await stats()).persistence;
      if (p.pending === 0 && p.written >= p.queued) return p;
      await sleep(20);
    }
    assert.fail('the cache store did not commit within 5 s');
  }

  before(async () => {
    mock = await startMock();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-cache-persist-'));
  });
  after(async () => {
    await stopStack(gw, mock);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a cached answer survives a graceful restart: a hit with no upstream call', async () => {
    const db = path.join(dir, 'graceful.db');
    gw = await start(db);
    const body = ask('What survives a restart?');
    const first = await chat(body);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(body)).headers.get('x-switchyard-cache'), 'hit');
    const exit = await gw.stop('SIGTERM');  // no waiting for a commit: shutdown flushes
    assert.equal(exit.code, 0, gw.proc.output());

    await mock.resetStats();
    gw = await start(db);
    const again = await chat(body);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(again.json.choices[0].message.content, first.json.choices[0].message.content);
    assert.deepEqual(again.json.usage, first.json.usage);
    // Replayed as a stream as well.
    const streamed = await chat({ ...body, stream: true });
    assert.equal(streamed.headers.get('x-switchyard-cache'), 'hit');
    const text = parseSse(streamed.text).filter((e) => e.raw !== '[DONE]')
      .map((e) => e.data.choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(text, first.json.choices[0].message.content);
    assert.equal(await calls(), 0, 'no upstream call after the restart');

    const s = await stats();
    assert.equal(s.persistence.enabled, true);
    assert.equal(s.persistence.store, `sqlite:${db}`);
    assert.equal(s.persistence.loaded, 1);
    assert.equal(s.persistence.corrupt_skipped, 0);
    const metrics = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(metrics, /^switchyard_cache_persist_loaded 1$/m);
    assert.match(metrics, /^switchyard_cache_persist_corrupt_skipped_total 0$/m);
    await gw.stop();
  });

  test('the semantic side is warm after a restart: a paraphrase hits with no upstream call', async () => {
    const db = path.join(dir, 'semantic.db');
    const cache = `  persist_path: ${JSON.stringify(db)}\n  semantic:\n    enabled: true\n    embedder: glove\n    threshold: 0.80`;
    gw = await startGateway(mock.port, { cache });
    const first = await chat(ask('How do I reverse a list in Python?'));
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
    await gw.stop('SIGTERM');

    await mock.resetStats();
    gw = await startGateway(mock.port, { cache });
    const para = await chat(ask('How can I reverse a Python list?'));
    assert.equal(para.status, 200, para.text);
    assert.equal(para.headers.get('x-switchyard-cache'), 'semantic', gw.proc.output());
    assert.equal(para.json.choices[0].message.content, first.json.choices[0].message.content);
    assert.equal(await calls(), 0);
    const s = await stats();
    assert.equal(s.semantic.entries, 1);
    await gw.stop();
  });

  test('after kill -9, committed entries survive and the store still opens', async () => {
    const db = path.join(dir, 'crash.db');
    gw = await start(db);
    const kept = ask('Committed before the crash');
    assert.equal((await chat(kept)).headers.get('x-switchyard-cache'), 'miss');
    await committed();
    // Stored right before the crash: may be lost (it is in the unflushed batch), never
    // half-written.
    const late = ask('Stored just before the crash');
    assert.equal((await chat(late)).headers.get('x-switchyard-cache'), 'miss');
    const exit = await gw.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');

    await mock.resetStats();
    gw = await start(db);
    assert.equal((await chat(kept)).headers.get('x-switchyard-cache'), 'hit');
    assert.equal(await calls(), 0, 'the committed answer needed no upstream call');
    const r = await chat(late);
    assert.equal(r.status, 200, r.text);
    assert.ok(['hit', 'miss'].includes(r.headers.get('x-switchyard-cache')));
    const s = await stats();
    assert.equal(s.persistence.corrupt_skipped, 0);
    assert.ok(s.persistence.loaded >= 1 && s.persistence.loaded <= 2, JSON.stringify(s.persistence));
    await gw.stop();
  });

  test('an invalidated answer does not come back after a restart', async () => {
    const db = path.join(dir, 'invalidate.db');
    gw = await start(db);
    const gone = ask('Invalidate me');
    const kept = ask('Keep me', { max_tokens: 50 });
    assert.equal((await chat(gone)).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(kept)).headers.get('x-switchyard-cache'), 'miss');
    const inv = await postJson(`${gw.base}/v1/cache/invalidate`, { prompt_regex: 'Invalidate' }, admin);
    assert.equal(inv.status, 200, inv.text);
    assert.equal(inv.json.removed, 1);
    await gw.stop('SIGTERM');

    await mock.resetStats();
    gw = await start(db);
    assert.equal((await chat(kept)).headers.get('x-switchyard-cache'), 'hit');
    assert.equal((await chat(gone)).headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 1);
    await gw.stop();
  });

  test('a corrupted stored entry is skipped, counted and never served', { skip: !hasSqliteShell && 'no sqlite3 shell' }, async () => {
    const db = path.join(dir, 'corrupt.db');
    gw = await start(db);
    const body = ask('This entry will be damaged on disk');
    assert.equal((await chat(body)).headers.get('x-switchyard-cache'), 'miss');
    await gw.stop('SIGTERM');
    execFileSync('sqlite3', [db, "UPDATE cache_entries SET entry = x'deadbeef'"]);

    await mock.resetStats();
    gw = await start(db);
    const r = await chat(body);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 1);
    const s = await stats();
    assert.equal(s.persistence.corrupt_skipped, 1);
    assert.equal(s.persistence.loaded, 0);
    const metrics = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(metrics, /^switchyard_cache_persist_corrupt_skipped_total 1$/m);
  });
});
