// Keys, budgets, rate limits and the usage ledger through the HTTP API (and the CLI), with the
// gateway in front of the mock upstream and open access switched off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startMock, startGateway, stopStack, postJson, parseSse, ADMIN_KEY, GATEWAY_BIN,
} from './harness.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startGateway(mock.port, { open_access: false });
});
after(async () => { await stopStack(gw, mock); });

const chat = (key, body = {}, headers = {}) => postJson(`${gw.base}/v1/chat/completions`, {
  model: 'mock-gpt', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 50, ...body,
}, key ? { authorization: `Bearer ${key}`, ...headers } : headers);

async function getJson(url, key) {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

async function createKey(spec) {
  const r = await postJson(`${gw.base}/v1/keys`, spec, { authorization: `Bearer ${ADMIN_KEY}` });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.key, /^sk-sy-[0-9A-Za-z]{40}$/);
  return r.json;
}

function cli(args) {
  return execFileSync(GATEWAY_BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Polls `probe` until it returns true (the key table refreshes every 200 ms in these tests).
async function eventually(probe, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('requests without a valid key get 401 in the caller\'s error shape', async () => {
  const none = await chat(null);
  assert.equal(none.status, 401);
  assert.equal(none.json.error.type, 'authentication_error');
  assert.equal(none.json.error.code, 'missing_api_key');
  const wrong = await chat('sk-sy-not-a-real-key-000000000000000000000000');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.code, 'invalid_api_key');
  assert.ok(!wrong.text.includes('not-a-real-key-0000000'), 'the presented key is not echoed whole');
  const anthropic = await postJson(`${gw.base}/v1/messages`, {
    model: 'mock-claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(anthropic.status, 401);
  assert.equal(anthropic.json.type, 'error');
  assert.equal(anthropic.json.error.type, 'authentication_error');
  // Health and metrics stay open for probes and scrapers.
  assert.equal((await fetch(`${gw.base}/healthz`)).status, 200);
  assert.equal((await fetch(`${gw.base}/metrics`)).status, 200);
  assert.equal((await mock.stats()).by_path['/v1/chat/completions'] ?? 0, 0, 'nothing reached the upstream');
});

test('the admin key creates keys; a created key works with Bearer and x-api-key', async () => {
  const k = await createKey({ name: 'team-a' });
  assert.equal(k.name, 'team-a');
  assert.ok(k.id.startsWith('key_'));
  const ok = await chat(k.key);
  assert.equal(ok.status, 200, ok.text);
  const msg = await postJson(`${gw.base}/v1/messages`, {
    model: 'mock-claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }],
  }, { 'x-api-key': k.key, 'anthropic-version': '2023-06-01' });
  assert.equal(msg.status, 200, msg.text);
  // A regular key may not manage keys; no key at all is a 401.
  const denied = await postJson(`${gw.base}/v1/keys`, { name: 'x' }, { authorization: `Bearer ${k.key}` });
  assert.equal(denied.status, 403);
  assert.equal(denied.json.error.type, 'permission_error');
  assert.equal((await getJson(`${gw.base}/v1/keys`, null)).status, 401);
  const list = await getJson(`${gw.base}/v1/keys`, ADMIN_KEY);
  assert.equal(list.status, 200);
  const listed = list.json.data.find((x) => x.id === k.id);
  assert.ok(listed);
  assert.equal(listed.key, undefined, 'secrets are never listed');
  const bad = await postJson(`${gw.base}/v1/keys`, { name: 'x', budget_usd: 'lots' }, { authorization: `Bearer ${ADMIN_KEY}` });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'budget_usd');
});

test('a key limited to some models gets 403 for the others', async () => {
  const k = await createKey({ name: 'gpt-only', models: ['mock-gpt'] });
  assert.equal((await chat(k.key)).status, 200);
  const other = await chat(k.key, { model: 'mock-local' });
  assert.equal(other.status, 403);
  assert.equal(other.json.error.code, 'model_not_allowed');
});

test('revoked keys stop working at once (HTTP) and within the refresh interval (CLI)', async () => {
  const k = await createKey({ name: 'short-lived' });
  assert.equal((await chat(k.key)).status, 200);
  const del = await fetch(`${gw.base}/v1/keys/${k.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(del.status, 200);
  assert.equal((await chat(k.key)).status, 401);

  // The CLI writes the same table; the running gateway picks the change up by itself.
  const secret = cli(['keys', 'create', '--db', gw.dbPath, '--name', 'cli-team']).trim();
  assert.match(secret, /^sk-sy-/);
  await eventually(async () => (await chat(secret)).status === 200, 'the CLI-created key to work');
  assert.match(cli(['keys', 'list', '--db', gw.dbPath]), /cli-team/);
  cli(['keys', 'revoke', '--db', gw.dbPath, 'cli-team']);
  await eventually(async () => (await chat(secret)).status === 401, 'the CLI-revoked key to fail');
});

test('usage is recorded per request with tokens and cost; keys see only their own', async () => {
  const a = await createKey({ name: 'usage-a' });
  const b = await createKey({ name: 'usage-b' });
  const r1 = await chat(a.key, { messages: [{ role: 'user', content: 'one two three' }] });
  assert.equal(r1.status, 200);
  const r2 = await chat(a.key, { stream: true, messages: [{ role: 'user', content: 'four five' }] });
  assert.equal(r2.status, 200);
  const streamed = parseSse(r2.text);
  assert.equal(streamed.at(-1).raw, '[DONE]');
  assert.equal((await chat(b.key)).status, 200);

  const mine = await getJson(`${gw.base}/v1/usage?group_by=model`, a.key);
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.json.total.requests, 2);
  const u1 = r1.json.usage;
  assert.ok(mine.json.total.input_tokens >= u1.prompt_tokens);
  // Cost at mock-gpt's list price ($30 / $60 per 1M), from the provider-reported usage.
  const row = mine.json.data.find((d) => d.model === 'mock-gpt');
  const expected = (row.input_tokens * 30 + row.output_tokens * 60) / 1e6;
  assert.ok(Math.abs(row.cost_usd - expected) < 1e-9, `${row.cost_usd} vs ${expected}`);
  assert.equal(row.counted_requests, 0, 'the mock reports usage, so nothing was counted by us');

  const other = await getJson(`${gw.base}/v1/usage?key=${b.id}`, a.key);
  assert.equal(other.status, 403);
  const all = await getJson(`${gw.base}/v1/usage?group_by=key`, ADMIN_KEY);
  assert.equal(all.status, 200);
  const byKey = Object.fromEntries(all.json.data.map((d) => [d.key_id, d]));
  assert.equal(byKey[a.id].requests, 2);
  assert.equal(byKey[a.id].key_name, 'usage-a');
  assert.equal(byKey[b.id].requests, 1);

  for (const q of ['group_by=week', 'from=yesterday', 'from=2026-13-01', 'from=2026-11-25&to=2026-11-01', 'key=%zz']) {
    const bad = await getJson(`${gw.base}/v1/usage?${q}`, ADMIN_KEY);
    assert.equal(bad.status, 400, q);
    assert.equal(bad.json.error.type, 'invalid_request_error', q);
  }
  const report = cli(['usage', 'report', '--db', gw.dbPath, '--group-by', 'key', '--format', 'csv']);
  assert.match(report, new RegExp(`${a.id},usage-a,2,`));
});

test('when the provider reports no usage, the gateway counts the tokens itself', async () => {
  const k = await createKey({ name: 'counted' });
  const r = await chat(k.key, { messages: [{ role: 'user', content: 'count me [[mock: no_usage=1]]' }] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.usage, undefined);
  const s = await chat(k.key, { stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'count me too [[mock: no_usage=1]]' }] });
  assert.equal(s.status, 200);
  const u = await getJson(`${gw.base}/v1/usage`, k.key);
  assert.equal(u.json.total.requests, 2);
  assert.equal(u.json.total.counted_requests, 2);
  // Our count of the reply text equals what `switchyard tokens count` says for it.
  const reply = r.json.choices[0].message.content;
  const counted = execFileSync(GATEWAY_BIN, ['tokens', 'count', '--vocab', 'cl100k_base'], { input: reply, encoding: 'utf8' });
  const n = Number(/tokens: (\d+)/.exec(counted)[1]);
  assert.ok(n > 0);
  assert.ok(u.json.total.output_tokens >= n, `${u.json.total.output_tokens} >= ${n}`);
});

test('prompt + max_tokens beyond the context window is refused before any upstream call', async () => {
  const k = await createKey({ name: 'ctx' });
  await mock.resetStats();
  const r = await chat(k.key, { max_tokens: 200000 });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'context_length_exceeded');
  assert.match(r.json.error.message, /maximum context length is 128000 tokens/);
  assert.equal((await mock.stats()).requests, 0);
});

test('rate limits: the request over rpm gets 429 with Retry-After', async () => {
  const k = await createKey({ name: 'rpm', rpm: 3 });
  for (let i = 0; i < 3; ++i) assert.equal((await chat(k.key)).status, 200);
  const r = await chat(k.key);
  assert.equal(r.status, 429);
  assert.equal(r.json.error.type, 'rate_limit_error');
  assert.equal(r.json.error.code, 'rate_limit_requests');
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `retry-after ${retry}`);
  const t = await createKey({ name: 'tpm', tpm: 100 });
  const big = await chat(t.key, { max_tokens: 500 });
  assert.equal(big.status, 400, 'a request larger than the whole tpm can never fit');
  // Each request reserves prompt (9) + max_tokens (90); the first settles at its real use
  // (about 11: the mock counts words), which leaves too little for a second reservation within the minute.
  assert.equal((await chat(t.key, { max_tokens: 90 })).status, 200);
  const second = await chat(t.key, { max_tokens: 90 });
  assert.equal(second.status, 429);
  assert.equal(second.json.error.code, 'rate_limit_tokens');
});

test('a small budget under 24 concurrent requests is never overspent by more than one estimate', async () => {
  // mock-gpt: $30/$60 per 1M. Each request reserves prompt + max_tokens=100 (~$0.0064).
  const budget = 0.03;
  const k = await createKey({ name: 'tight', budget_usd: budget, budget_period: 'day' });
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) =>
    chat(k.key, { max_tokens: 100, messages: [{ role: 'user', content: `request ${i} [[mock: latency_ms=50]]` }] })));
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 429);
  assert.equal(ok.length + refused.length, 24, results.map((r) => r.status).join(','));
  assert.ok(ok.length >= 1, 'some requests fit');
  assert.ok(refused.length >= 1, 'some requests were refused');
  for (const r of refused) {
    assert.equal(r.json.error.code, 'budget_exceeded');
    assert.match(r.json.error.message, /tight/);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  }
  const u = await getJson(`${gw.base}/v1/usage`, k.key);
  const estimate = (40 * 30 + 100 * 60) / 1e6;  // one request: prompt (< 40) + max_tokens
  assert.ok(u.json.total.cost_usd <= budget + estimate, `spent ${u.json.total.cost_usd}`);
  const self = await getJson(`${gw.base}/v1/keys/self`, k.key);
  assert.equal(self.json.name, 'tight');
  assert.ok(Math.abs(self.json.budget.spent_usd - u.json.total.cost_usd) < 1e-9);
  assert.equal(self.json.budget.reserved_usd, 0);
});

test('tokens and cost are exported as Prometheus counters', async () => {
  const text = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(text, /switchyard_tokens_total\{model="mock-gpt",provider="openai",type="input"\} [1-9]/);
  assert.match(text, /switchyard_cost_usd_total\{model="mock-gpt",provider="openai"\} 0\.0\d+/);
  assert.match(text, /switchyard_auth_failures_total\{reason="missing"\} [1-9]/);
  assert.match(text, /switchyard_budget_rejections_total\{budget="tight"\} [1-9]/);
  assert.match(text, /switchyard_budget_spent_usd\{budget="tight",period="day"\} 0\.0/);
});
