// The exact response cache over HTTP: hits replace upstream calls, the key ignores JSON key
// order, whitespace and fields that do not change the answer, tenants never share entries,
// streamed requests are replayed as SSE, Cache-Control and the `cache` field are honoured,
// and an expired entry answers (marked stale) when every model fails.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMock, startGateway, stopStack, postJson, parseSse, ADMIN_KEY } from './harness.mjs';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const user = (text) => [{ role: 'user', content: text }];

describe('response cache', () => {
  let mock, gw;
  const chat = (body, headers) => postJson(`${gw.base}/v1/chat/completions`, body, headers);
  const calls = async () => (await mock.stats()).requests;

  before(async () => {
    mock = await startMock();
    gw = await startGateway(mock.port, { open_access: false });
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

  test('a temperature-0 request is answered from the cache the second time', async () => {
    await mock.resetStats();
    const body = { model: 'mock-gpt', temperature: 0, messages: user('What is 2+2?') };
    const first = await chat(body, keyA);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
    const second = await chat(body, keyA);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(second.json.choices[0].message.content, first.json.choices[0].message.content);
    assert.deepEqual(second.json.usage, first.json.usage);
    assert.notEqual(second.json.id, first.json.id);
    assert.equal(await calls(), 1, 'one upstream call for two requests');
  });

  test('a hit costs nothing: the ledger records what it saved, and the budget is not charged', async () => {
    const made = await postJson(`${gw.base}/v1/keys`, { name: 'saver', budget_usd: 5, budget_period: 'day' }, admin);
    assert.equal(made.status, 201, made.text);
    const key = { authorization: `Bearer ${made.json.key}` };
    const body = { model: 'mock-gpt', temperature: 0, messages: user('how much does a hit cost?') };
    assert.equal((await chat(body, key)).headers.get('x-switchyard-cache'), 'miss');
    for (let i = 0; i < 3; ++i) assert.equal((await chat(body, key)).headers.get('x-switchyard-cache'), 'hit');
    const usage = (await (await fetch(`${gw.base}/v1/usage`, { headers: key })).json()).total;
    assert.equal(usage.requests, 4);
    assert.equal(usage.cache_hits, 3);
    assert.ok(usage.cost_usd > 0, JSON.stringify(usage));
    // Three hits of the same answer saved three times what the miss paid.
    assert.ok(Math.abs(usage.saved_usd - 3 * usage.cost_usd) < 1e-9, JSON.stringify(usage));
    const self = await (await fetch(`${gw.base}/v1/keys/self`, { headers: key })).json();
    assert.ok(Math.abs(self.budget.spent_usd - usage.cost_usd) < 1e-9, `budget charged for the miss only: ${JSON.stringify(self.budget)}`);
  });

  test('key order, whitespace, user and stream_options do not change the key; temperature does', async () => {
    await mock.resetStats();
    const a = '{"model":"mock-gpt","temperature":0,"messages":[{"role":"user","content":"order test"}],"seed":7}';
    const b = '{ "seed": 7, "messages" : [ {"content":"order test", "role":"user"} ],\n "user":"u-99", "temperature": 0.0, "model":"mock-gpt" }';
    assert.equal((await chat(a, keyA)).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(b, keyA)).headers.get('x-switchyard-cache'), 'hit');
    const c = '{"model":"mock-gpt","temperature":0,"messages":[{"role":"user","content":"order test"}],"seed":8}';
    assert.equal((await chat(c, keyA)).headers.get('x-switchyard-cache'), 'miss', 'seed changes the answer');
    assert.equal(await calls(), 2);
  });

  test('one tenant never receives the cached answer of another', async () => {
    await mock.resetStats();
    const body = { model: 'mock-gpt', temperature: 0, messages: user('tenant secret question') };
    assert.equal((await chat(body, keyA)).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(body, keyB)).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(body, keyB)).headers.get('x-switchyard-cache'), 'hit');
    assert.equal(await calls(), 2);
  });

  test('default temperature is not cached; Cache-Control max-age or the cache field opt in', async () => {
    await mock.resetStats();
    const body = { model: 'mock-gpt', messages: user('creative, not cached') };
    const r = await chat(body, keyA);
    assert.equal(r.headers.get('x-switchyard-cache'), null);
    await chat(body, keyA);
    assert.equal(await calls(), 2);
    const optIn = { ...body, messages: user('opted in'), cache: { ttl_s: 60 } };
    assert.equal((await chat(optIn, keyA)).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(optIn, keyA)).headers.get('x-switchyard-cache'), 'hit');
    const header = { ...body, messages: user('opted in by header') };
    await chat(header, { ...keyA, 'cache-control': 'max-age=60' });
    assert.equal((await chat(header, { ...keyA, 'cache-control': 'max-age=60' })).headers.get('x-switchyard-cache'), 'hit');
    // The extension field never reaches the upstream.
    const last = await mock.lastRequest();
    assert.equal(last.body.cache, undefined);
  });

  test('no-cache skips the lookup, no-store skips the store, bad cache fields are 400', async () => {
    await mock.resetStats();
    const body = { model: 'mock-gpt', temperature: 0, messages: user('control headers') };
    await chat(body, { ...keyA, 'cache-control': 'no-store' });
    assert.equal((await chat(body, keyA)).headers.get('x-switchyard-cache'), 'miss', 'no-store stored nothing');
    assert.equal((await chat(body, { ...keyA, 'cache-control': 'no-cache' })).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await chat(body, keyA)).headers.get('x-switchyard-cache'), 'hit');
    assert.equal(await calls(), 3);
    const bad = await chat({ ...body, cache: { ttl_s: 'soon' } }, keyA);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'cache');
    const badNs = await chat({ ...body, cache: { namespace: '../other' } }, keyA);
    assert.equal(badNs.status, 400);
  });

  test('a streamed request is stored and replayed as SSE, and a JSON answer replays as a stream', async () => {
    await mock.resetStats();
    const body = { model: 'mock-gpt', temperature: 0, stream: true, stream_options: { include_usage: true }, messages: user('stream this answer please') };
    const first = await chat(body, keyA);
    assert.equal(first.headers.get('x-switchyard-cache'), 'miss');
    const second = await chat(body, keyA);
    assert.equal(second.headers.get('x-switchyard-cache'), 'hit');
    assert.match(second.headers.get('content-type'), /text\/event-stream/);
    const text = (r) => parseSse(r.text).filter((e) => e.raw !== '[DONE]').map((e) => e.data.choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(text(second), text(first));
    const events = parseSse(second.text);
    assert.equal(events.at(-1).raw, '[DONE]');
    assert.ok(events.some((e) => e.data?.usage?.completion_tokens > 0), 'usage chunk replayed');
    assert.equal(await calls(), 1);

    const json = { model: 'mock-gpt', temperature: 0, messages: user('json then stream') };
    const j = await chat(json, keyA);
    const s = await chat({ ...json, stream: true }, keyA);
    assert.equal(s.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(text(s), j.json.choices[0].message.content);
  });

  test('stale-if-error: an expired entry answers, marked stale, only when every model fails', async () => {
    const body = { model: 'mock-gpt', temperature: 0, messages: user('stale me'), cache: { ttl_s: 1 } };
    assert.equal((await chat(body, keyA)).status, 200);
    await sleep(1100);
    // Expired and the upstream healthy: a fresh call, not the stale entry.
    await mock.resetStats();
    const fresh = await chat(body, keyA);
    assert.equal(fresh.headers.get('x-switchyard-cache'), 'miss');
    assert.equal(await calls(), 1);
    await sleep(1100);
    await mock.addFault({ fault: 'status=500', count: 20 });
    const stale = await chat(body, keyA);
    await mock.clearFaults();
    assert.equal(stale.status, 200, stale.text);
    assert.equal(stale.headers.get('x-switchyard-cache'), 'stale');
    assert.match(stale.json.choices[0].message.content, /stale me/);
    // Without a cached answer the outage is still an error.
    await mock.addFault({ fault: 'status=500', count: 20 });
    const none = await chat({ ...body, messages: user('never cached') }, keyA);
    await mock.clearFaults();
    assert.equal(none.status, 502);
  });

  test('identical requests at once make one upstream call (single-flight)', async () => {
    await mock.resetStats();
    const body = { model: 'mock-gpt', temperature: 0, messages: user('[[mock: latency_ms=300]] everyone asks this at once') };
    const all = await Promise.all(Array.from({ length: 5 }, () => chat(body, keyA)));
    assert.ok(all.every((r) => r.status === 200), all.map((r) => r.status).join());
    assert.equal(await calls(), 1, 'one upstream call for five identical requests');
    const kinds = all.map((r) => r.headers.get('x-switchyard-cache')).sort();
    assert.deepEqual(kinds, ['hit', 'hit', 'hit', 'hit', 'miss']);
    const texts = new Set(all.map((r) => r.json.choices[0].message.content));
    assert.equal(texts.size, 1);
    // A failing leader releases the waiters, which then try on their own.
    await mock.resetStats();
    await mock.addFault({ fault: 'status=400', count: 1 });
    const failing = { model: 'mock-gpt', temperature: 0, messages: user('[[mock: latency_ms=200]] leader fails') };
    const rs = await Promise.all(Array.from({ length: 3 }, () => chat(failing, keyA)));
    await mock.clearFaults();
    assert.equal(rs.filter((r) => r.status === 400).length, 1);
    assert.ok(rs.filter((r) => r.status === 200).length === 2, rs.map((r) => r.status).join());
  });

  test('invalidation by regex and namespace, and stats', async () => {
    const body = { model: 'mock-gpt', temperature: 0, messages: user('invalidate the invoice answer') };
    await chat(body, keyA);
    assert.equal((await chat(body, keyA)).headers.get('x-switchyard-cache'), 'hit');
    const bad = await postJson(`${gw.base}/v1/cache/invalidate`, { prompt_regex: '(' }, admin);
    assert.equal(bad.status, 400);
    const notAdmin = await postJson(`${gw.base}/v1/cache/invalidate`, { all: true }, keyA);
    assert.equal(notAdmin.status, 403);
    const r = await postJson(`${gw.base}/v1/cache/invalidate`, { prompt_regex: 'invoice' }, admin);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.removed, 1);
    assert.equal((await chat(body, keyA)).headers.get('x-switchyard-cache'), 'miss');
    const stats = await (await fetch(`${gw.base}/v1/cache/stats`, { headers: admin })).json();
    assert.ok(stats.lookups.hits >= 8, JSON.stringify(stats));
    assert.ok(stats.lookups.stale_hits >= 1);
    assert.ok(stats.entries >= 1 && stats.bytes > 0);
    assert.ok(stats.saved_usd > 0);
    assert.ok(stats.saved_tokens >= 8, `every hit saves its prompt and completion tokens: ${JSON.stringify(stats)}`);
    const m = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(m, /switchyard_cache_lookups_total\{result="hit"\} [1-9]/);
    assert.match(m, /switchyard_cache_saved_tokens_total [1-9]/);
    // The ledger marks cache hits.
    const usage = await (await fetch(`${gw.base}/v1/usage?group_by=model`, { headers: admin })).json();
    assert.ok(usage, 'usage endpoint answers');
  });
});
