// The semantic cache over HTTP: after an exact miss, a paraphrase of a cached question is
// answered from the cache (JSON and SSE) with x-switchyard-cache: semantic and the
// similarity; a guard veto (another number) goes upstream; tenants never share entries;
// conversations use it only when the earlier turns match exactly; feedback on a bad hit
// removes the entry, so the next paraphrase goes upstream.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMock, startGateway, stopStack, postJson, parseSse, ADMIN_KEY } from './harness.mjs';

let hasSqliteShell = true;
try { execFileSync('sqlite3', ['-version'], { stdio: 'ignore' }); } catch { hasSqliteShell = false; }

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const user = (text) => [{ role: 'user', content: text }];

// The harness has no cache option: the section rides after an (empty) routing section.
const SEMANTIC = `  policy: []
cache:
  semantic:
    enabled: true
    embedder: glove
    threshold: 0.80
    multi_turn: true`;

describe('semantic cache', () => {
  let mock, gw;
  const chat = (body, headers) => postJson(`${gw.base}/v1/chat/completions`, body, headers);
  const calls = async () => (await mock.stats()).requests;
  const ask = (text, extra = {}) => ({ model: 'mock-gpt', temperature: 0, messages: user(text), ...extra });
  const feedback = (body, headers) => postJson(`${gw.base}/v1/cache/feedback`, body, headers);

  before(async () => {
    mock = await startMock();
    gw = await startGateway(mock.port, { open_access: false, routing: SEMANTIC });
  });
  after(async () => stopStack(gw, mock));

  let keyA, keyB;
  test('setup: two tenants', async () => {
    for (const name of ['tenant-a', 'tenant-b']) {
      const r = await postJson(`${gw.base}/v1/keys`, { name }, admin);
      assert.equal(r.status, 201, r.text);
      if (name === 'tenant-a') keyA = { authorization: `Bearer ${r.json.key}` };
      else keyB = { authorization: `Bearer ${r.json.key}` };
    }
  });

  test('a paraphrase is answered from the cache with the semantic headers', async () => {
    await mock.resetStats();
    const first = await chat(ask('How do I reverse a list in Python?'), keyA);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
    const para = await chat(ask('How can I reverse a Python list?'), keyA);
    assert.equal(para.status, 200, para.text);
    assert.equal(para.headers.get('x-switchyard-cache'), 'semantic');
    const similarity = Number(para.headers.get('x-switchyard-cache-similarity'));
    assert.ok(similarity >= 0.8 && similarity <= 1, `similarity ${similarity}`);
    assert.equal(para.json.choices[0].message.content, first.json.choices[0].message.content);
    assert.notEqual(para.json.id, first.json.id);
    assert.equal(await calls(), 1, 'the paraphrase made no upstream call');

    const stats = await (await fetch(`${gw.base}/v1/cache/stats`, { headers: admin })).json();
    assert.equal(stats.semantic.enabled, true);
    assert.ok(stats.lookups.semantic_hits >= 1, JSON.stringify(stats));
    assert.ok(stats.semantic.entries >= 1);
    const m = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(m, /switchyard_cache_semantic_lookups_total\{result="hit"\} [1-9]/);
  });

  test('a semantic hit is replayed as SSE when the request streams', async () => {
    await mock.resetStats();
    const first = await chat(ask('How do I install Docker on Ubuntu?'), keyA);
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
    const s = await chat(ask('How can I install Docker on Ubuntu?', { stream: true }), keyA);
    assert.equal(s.status, 200);
    assert.equal(s.headers.get('x-switchyard-cache'), 'semantic');
    assert.match(s.headers.get('content-type'), /text\/event-stream/);
    const events = parseSse(s.text);
    assert.equal(events.at(-1).raw, '[DONE]');
    assert.equal(events[0].data.choices[0].delta.role, 'assistant');
    const text = events.filter((e) => e.raw !== '[DONE]')
      .map((e) => e.data.choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(text, first.json.choices[0].message.content);
    assert.equal(await calls(), 1);
  });

  test('a guard veto (another number) goes upstream', async () => {
    await mock.resetStats();
    assert.equal((await chat(ask('Convert 100 Fahrenheit to Celsius.'), keyA)).headers.get('x-switchyard-cache'), 'miss');
    const other = await chat(ask('Convert 50 Fahrenheit to Celsius.'), keyA);
    assert.equal(other.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 2);
    const m = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(m, /switchyard_cache_semantic_lookups_total\{result="vetoed"\} [1-9]/);
  });

  test('tenants never receive each other\'s semantic hits', async () => {
    await mock.resetStats();
    await chat(ask('What is the capital city of France?'), keyA);
    const b = await chat(ask("What's the capital city of France?"), keyB);
    assert.equal(b.headers.get('x-switchyard-cache'), 'miss');
    const a = await chat(ask("What's the capital city of France?"), keyA);
    assert.equal(a.headers.get('x-switchyard-cache'), 'semantic');
    assert.equal(await calls(), 2);
  });

  test('a conversation hits only when its earlier turns match exactly', async () => {
    await mock.resetStats();
    const convo = (answer, last) => ({
      model: 'mock-gpt', temperature: 0,
      messages: [
        { role: 'user', content: 'Tell me about Rust.' },
        { role: 'assistant', content: answer },
        { role: 'user', content: last },
      ],
    });
    assert.equal((await chat(convo('Rust is a language.', 'How do I write a for loop in Rust?'), keyA)).headers.get('x-switchyard-cache'), 'miss');
    const same = await chat(convo('Rust is a language.', 'How to write a for loop in Rust?'), keyA);
    assert.equal(same.headers.get('x-switchyard-cache'), 'semantic');
    const other = await chat(convo('Rust is a video game.', 'How to write a for loop in Rust?'), keyA);
    assert.equal(other.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 2);
  });

  test('feedback on a bad hit removes the entry; the next paraphrase goes upstream', async () => {
    await mock.resetStats();
    await chat(ask('How do I write a resume?'), keyA);
    const hit = await chat(ask('How should I write my resume?'), keyA);
    assert.equal(hit.headers.get('x-switchyard-cache'), 'semantic');

    const wrong = await feedback({ id: hit.json.id, bad: true }, keyB);
    assert.equal(wrong.status, 403, wrong.text);
    const bad = await feedback({ id: hit.json.id }, keyA);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'bad');
    const unknown = await feedback({ id: 'chatcmpl-nope', bad: true }, keyA);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'unknown_response_id');

    const ok = await feedback({ id: hit.json.id, bad: true }, keyA);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.removed, true);
    assert.ok(ok.json.threshold > Number(hit.headers.get('x-switchyard-cache-similarity')));
    const again = await feedback({ id: hit.json.id, bad: true }, keyA);
    assert.equal(again.status, 404, 'each hit is reported once');

    const next = await chat(ask('How should I write my resume?'), keyA);
    assert.equal(next.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 2);
    const stats = await (await fetch(`${gw.base}/v1/cache/stats`, { headers: admin })).json();
    assert.equal(stats.semantic.feedback_bad, 1);
    assert.ok(stats.semantic.veto_points >= 1);
  });

  test('the ledger marks semantic hits as cache hits, with their route', { skip: !hasSqliteShell && 'no sqlite3 shell' }, async () => {
    const query = "SELECT COUNT(*) FROM usage WHERE cache_hit = 1 AND route_reason LIKE 'semantic cache hit (0.%'";
    let n = 0;
    for (let i = 0; i < 100 && n < 4; ++i) {  // the ledger writes in batches
      n = Number(execFileSync('sqlite3', [gw.dbPath, query]).toString().trim());
      if (n < 4) await sleep(50);
    }
    assert.ok(n >= 4, `semantic hits in the ledger: ${n}`);
  });

  test('invalidating a namespace removes its semantic entries too', async () => {
    await mock.resetStats();
    await chat(ask('What is the greenhouse effect?'), keyB);
    assert.equal((await chat(ask('Explain the greenhouse effect.'), keyB)).headers.get('x-switchyard-cache'), 'semantic');
    const r = await postJson(`${gw.base}/v1/cache/invalidate`, { all: true }, admin);
    assert.equal(r.status, 200);
    const after = await chat(ask('Explain the greenhouse effect.'), keyB);
    assert.equal(after.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 2);
  });
});
