// Tests for tools/mock-llm: every fault key and the three ways to inject one, stats and
// last_request introspection, keep-alive/pipelining, threads and shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import {
  ANTHROPIC,
  BASE,
  BIN,
  addRule,
  chat,
  clearFaults,
  dechunk,
  httpPost,
  main,
  messages,
  parseSse,
  postJson,
  rawRequest,
  resetStats,
  sleep,
  startMock,
  stats,
  stopMock,
  userChat,
  userMessages,
  waitFor,
} from './mock_support.mjs';

// ---------------------------------------------------------------------------------------------
// Faults

test('fault status: realistic OpenAI errors and Retry-After', async () => {
  const r429 = await chat(userChat('x'), { 'x-mock-fault': 'status=429' });
  assert.equal(r429.status, 429);
  assert.equal(r429.res.headers.get('retry-after'), '1');
  assert.equal(r429.json.error.type, 'requests');
  assert.equal(r429.json.error.code, 'rate_limit_exceeded');
  assert.equal(typeof r429.json.error.message, 'string');
  assert.ok('param' in r429.json.error);

  const r429b = await chat(userChat('x'), { 'x-mock-fault': 'status=429, retry_after=7' });
  assert.equal(r429b.res.headers.get('retry-after'), '7');

  const r500 = await chat(userChat('x'), { 'x-mock-fault': 'status=500' });
  assert.equal(r500.status, 500);
  assert.equal(r500.json.error.type, 'server_error');
  assert.equal(r500.res.headers.get('retry-after'), null);

  const r503 = await chat(userChat('x'), { 'x-mock-fault': 'status=503,retry_after=3' });
  assert.equal(r503.status, 503);
  assert.equal(r503.res.headers.get('retry-after'), '3');
  assert.equal(r503.json.error.type, 'service_unavailable');

  const r404 = await chat(userChat('x'), { 'x-mock-fault': 'status=404' });
  assert.equal(r404.json.error.code, 'model_not_found');
  assert.match(r404.json.error.message, /mock-gpt/);

  const emb = await postJson('/v1/embeddings', { model: 'e', input: 'x' }, { 'x-mock-fault': 'status=500' });
  assert.equal(emb.status, 500);
  const models = await fetch(`${BASE}/v1/models`, { headers: { 'x-mock-fault': 'status=502' } });
  assert.equal(models.status, 502);
});

test('fault status: realistic Anthropic errors', async () => {
  const expected = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' };
  for (const [code, type] of Object.entries(expected)) {
    const r = await messages(userMessages('x'), { 'x-mock-fault': `status=${code}` });
    assert.equal(r.status, Number(code));
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, type);
    assert.equal(typeof r.json.error.message, 'string');
  }
  const r = await messages(userMessages('x'), { 'x-mock-fault': 'status=429' });
  assert.equal(r.res.headers.get('retry-after'), '1');
});

test('fault directive in the message text; directives are stripped and not counted', async () => {
  const failed = await chat(userChat('hello [[mock: status=503]]'));
  assert.equal(failed.status, 503);
  const ok = await chat(userChat('hello [[mock: words=2]] world'));
  assert.equal(ok.json.choices[0].message.content, 'lorem lorem');
  assert.equal(ok.json.usage.prompt_tokens, 3 + 2);
  const echoed = await chat(userChat('keep [[mock: latency_ms=1]] these words'));
  assert.equal(echoed.json.choices[0].message.content, 'Mock reply from mock-gpt: keep these words');
  const anthropic = await messages(userMessages([{ type: 'text', text: 'x [[mock: status=529]]' }]));
  assert.equal(anthropic.status, 529);
});

test('fault sources merge per key: rules < header < directive', async () => {
  await clearFaults();
  await addRule({ fault: 'status=500,retry_after=9' });
  const fromRule = await chat(userChat('x'));
  assert.equal(fromRule.status, 500);
  const fromHeader = await chat(userChat('x'), { 'x-mock-fault': 'status=429' });
  assert.equal(fromHeader.status, 429);
  assert.equal(fromHeader.res.headers.get('retry-after'), '9', 'retry_after still from the rule');
  const fromText = await chat(userChat('x [[mock: status=503]]'), { 'x-mock-fault': 'status=429' });
  assert.equal(fromText.status, 503);
  await clearFaults();
  assert.equal((await chat(userChat('x'))).status, 200);
});

test('admin rules: model filter, count, list, clear, bad spec', async () => {
  await clearFaults();
  const added = await addRule({ fault: 'status=500', model: 'mock-a', count: 2 });
  assert.equal(added.status, 200);
  const listed = await (await fetch(`${BASE}/_mock/faults`)).json();
  assert.deepEqual(listed, { rules: [{ fault: 'status=500', model: 'mock-a', count: 2 }] });
  assert.equal((await chat({ ...userChat('x'), model: 'mock-b' })).status, 200);
  assert.equal((await chat({ ...userChat('x'), model: 'mock-a' })).status, 500);
  assert.equal((await chat({ ...userChat('x'), model: 'mock-a' })).status, 500);
  assert.equal((await chat({ ...userChat('x'), model: 'mock-a' })).status, 200, 'rule used up');
  assert.deepEqual(await (await fetch(`${BASE}/_mock/faults`)).json(), { rules: [] });

  const bad = await addRule({ fault: 'stauts=500' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /unknown key 'stauts'/);
  const badHeader = await chat(userChat('x'), { 'x-mock-fault': 'status=abc' });
  assert.equal(badHeader.status, 400);

  await addRule({ fault: 'status=503' });
  assert.equal((await chat(userChat('x'))).status, 503);
  await clearFaults();
  assert.equal((await chat(userChat('x'))).status, 200);
});

test('header spec with model= applies only to that model', async () => {
  const other = await chat(userChat('x'), { 'x-mock-fault': 'status=500,model=someone-else' });
  assert.equal(other.status, 200);
  const mine = await chat(userChat('x'), { 'x-mock-fault': 'status=500,model=mock-gpt' });
  assert.equal(mine.status, 500);
});

test('fail_first: first N per key fail, then succeed; DELETE resets counters', async () => {
  await clearFaults();
  const h = { 'x-mock-fault': 'fail_first=2' };
  const body = { ...userChat('x'), model: 'ff-model' };
  assert.equal((await chat(body, h)).status, 500);
  assert.equal((await chat(body, h)).status, 500);
  assert.equal((await chat(body, h)).status, 200);
  assert.equal((await chat(body, h)).status, 200);
  // A different model is a different counter.
  assert.equal((await chat({ ...body, model: 'ff-other' }, h)).status, 500);
  // Explicit key and status.
  const k = { 'x-mock-fault': 'fail_first=1,key=shared,status=429' };
  const first = await chat(body, k);
  assert.equal(first.status, 429);
  assert.equal(first.res.headers.get('retry-after'), '1');
  assert.equal((await messages(userMessages('x'), k)).status, 200, 'same key, already failed once');
  await clearFaults();
  assert.equal((await chat(body, h)).status, 500, 'counters reset');
  await clearFaults();
});

test('latency_ms delays the first byte', async () => {
  let t0 = Date.now();
  const quick = await fetch(`${BASE}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(userChat('x')) });
  const quickMs = Date.now() - t0;
  await quick.text();
  t0 = Date.now();
  const slow = await fetch(`${BASE}/v1/chat/completions`, {
    method: 'POST', headers: { 'x-mock-fault': 'latency_ms=300' }, body: JSON.stringify(userChat('x')),
  });
  const slowMs = Date.now() - t0;
  assert.equal(slow.status, 200);
  await slow.text();
  assert.ok(slowMs >= 280, `headers after ${slowMs} ms`);
  assert.ok(slowMs < 3000);
  assert.ok(quickMs < 250, `baseline ${quickMs} ms`);
});

test('hang=1 holds the request until the client aborts; counted as cancelled', async () => {
  await resetStats();
  const controller = new AbortController();
  const pending = fetch(`${BASE}/v1/chat/completions`, {
    method: 'POST', headers: { 'x-mock-fault': 'hang=1' }, body: JSON.stringify(userChat('x')), signal: controller.signal,
  });
  const inFlight = await waitFor(async () => (await stats()).in_flight === 1);
  assert.ok(inFlight, 'request is in flight');
  await sleep(150);
  assert.equal((await stats()).completed, 0);
  controller.abort();
  await assert.rejects(pending);
  const s = await waitFor(async () => { const v = await stats(); return v.cancelled === 1 ? v : null; }, 2000);
  assert.ok(s, 'cancel noticed');
  assert.equal(s.in_flight, 0);
  assert.equal(s.requests, 1);
  assert.equal(s.completed, 0);
});

test('a client leaving during latency_ms is noticed promptly', async () => {
  await resetStats();
  const controller = new AbortController();
  const pending = fetch(`${BASE}/v1/messages`, {
    method: 'POST', headers: { ...ANTHROPIC, 'x-mock-fault': 'latency_ms=10000' },
    body: JSON.stringify(userMessages('x')), signal: controller.signal,
  });
  await waitFor(async () => (await stats()).in_flight === 1);
  const t0 = Date.now();
  controller.abort();
  await assert.rejects(pending);
  const s = await waitFor(async () => ((await stats()).cancelled === 1), 2000);
  assert.ok(s);
  assert.ok(Date.now() - t0 < 2000);
});

test('a client leaving mid-stream during chunk_delay_ms is counted as cancelled', async () => {
  await resetStats();
  const controller = new AbortController();
  const res = await fetch(`${BASE}/v1/chat/completions`, {
    method: 'POST', headers: { 'x-mock-fault': 'chunk_delay_ms=200' },
    body: JSON.stringify(userChat('a b c d e f', { stream: true })), signal: controller.signal,
  });
  const reader = res.body.getReader();
  await reader.read();
  controller.abort();
  const s = await waitFor(async () => ((await stats()).cancelled === 1), 2000);
  assert.ok(s);
});

test('reset_after_chunks: stream stops after N content chunks with a TCP reset', async () => {
  const req = httpPost('/v1/chat/completions', userChat('one two three four', { stream: true }), { 'x-mock-fault': 'reset_after_chunks=2' });
  const { data, error } = await rawRequest(main.port, req);
  assert.match(data, /^HTTP\/1\.1 200 OK/);
  // The mock sends an RST; libuv reports it as ECONNRESET, or as a plain end when the RST
  // lands right behind the data. Either way the chunked body never ends.
  assert.ok(error === null || error.code === 'ECONNRESET', String(error));
  assert.ok(!data.endsWith('0\r\n\r\n'), 'no terminating chunk');
  const body = dechunk(data.slice(data.indexOf('\r\n\r\n') + 4));
  const events = parseSse(body);
  assert.equal(events.length, 3, 'role chunk + 2 content chunks');
  assert.deepEqual(events.slice(1).map((e) => e.data.choices[0].delta.content), ['Mock', ' reply']);
  assert.ok(!data.includes('[DONE]'));

  const anthropic = httpPost('/v1/messages', userMessages('one two', { stream: true }), { ...ANTHROPIC, 'x-mock-fault': 'reset_after_chunks=1' });
  const a = await rawRequest(main.port, anthropic);
  assert.ok(!a.data.endsWith('0\r\n\r\n'), 'no terminating chunk');
  const aEvents = parseSse(dechunk(a.data.slice(a.data.indexOf('\r\n\r\n') + 4)));
  assert.deepEqual(aEvents.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta']);

  // fetch sees the stream break.
  const res = await fetch(`${BASE}/v1/chat/completions`, {
    method: 'POST', headers: { 'x-mock-fault': 'reset_after_chunks=1' }, body: JSON.stringify(userChat('a b c', { stream: true })),
  });
  await assert.rejects(res.text());
});

test('reset_after_chunks on a non-stream request resets without answering', async () => {
  const req = httpPost('/v1/chat/completions', userChat('x'), { 'x-mock-fault': 'reset_after_chunks=0' });
  const { data, error } = await rawRequest(main.port, req);
  assert.equal(data, '');
  assert.equal(error?.code, 'ECONNRESET');
  await assert.rejects(chat(userChat('x'), { 'x-mock-fault': 'reset_after_chunks=3' }));
});

test('malformed=1: invalid JSON body, or an invalid SSE data line', async () => {
  const r = await chat(userChat('x'), { 'x-mock-fault': 'malformed=1' });
  assert.equal(r.status, 200);
  assert.equal(r.json, undefined);
  assert.ok(r.text.length > 0);

  const s = await chat(userChat('a b', { stream: true }), { 'x-mock-fault': 'malformed=1' });
  const events = parseSse(s.text);
  const bad = events.filter((e) => e.raw !== '[DONE]' && e.data === undefined);
  assert.equal(bad.length, 1);
  assert.equal(events.indexOf(bad[0]), 2, 'right after the first content chunk');

  const a = await messages(userMessages('a b', { stream: true }), { 'x-mock-fault': 'malformed=1' });
  const aBad = parseSse(a.text).filter((e) => e.data === undefined);
  assert.equal(aBad.length, 1);

  const emb = await postJson('/v1/embeddings', { model: 'e', input: 'x' }, { 'x-mock-fault': 'malformed=1' });
  assert.equal(emb.status, 200);
  assert.equal(emb.json, undefined);
});

test('chunk_delay_ms: chunks are flushed one by one, spaced in time', async () => {
  const req = httpPost('/v1/chat/completions', userChat('w', { stream: true }), { 'x-mock-fault': 'chunk_delay_ms=60,words=3' });
  const t0 = Date.now();
  const { data, times } = await rawRequest(main.port, req);
  const elapsed = Date.now() - t0;
  const events = parseSse(dechunk(data.slice(data.indexOf('\r\n\r\n') + 4)));
  // role, 3 words, finish, [DONE] = 6 events, 5 gaps of 60 ms.
  assert.equal(events.length, 6);
  assert.ok(elapsed >= 250, `stream took ${elapsed} ms`);
  assert.ok(times.length >= 4, `arrived in ${times.length} reads`);
  assert.ok(times.at(-1) - times[0] >= 200, `spread ${times.at(-1) - times[0]} ms`);
});

test('words=N and error_event=1', async () => {
  const w = await chat(userChat('ignored text', { stream: false }), { 'x-mock-fault': 'words=5' });
  assert.equal(w.json.choices[0].message.content, 'lorem lorem lorem lorem lorem');
  assert.equal(w.json.usage.completion_tokens, 5);
  const a = await messages(userMessages('x'), { 'x-mock-fault': 'words=4' });
  assert.equal(a.json.content[0].text, 'lorem lorem lorem lorem');

  const o = await chat(userChat('a b c', { stream: true }), { 'x-mock-fault': 'error_event=1' });
  const oEvents = parseSse(o.text);
  assert.equal(oEvents.length, 3);
  assert.equal(oEvents[1].data.choices[0].delta.content, 'Mock');
  assert.equal(oEvents[2].data.error.type, 'server_error');
  assert.ok(!o.text.includes('[DONE]'));

  const an = await messages(userMessages('a b c', { stream: true }), { 'x-mock-fault': 'error_event=1' });
  const anEvents = parseSse(an.text);
  assert.deepEqual(anEvents.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
  assert.deepEqual(anEvents.at(-1).data, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
});

test('startup --fault with model= and count=, and --reply-words', async () => {
  const mock = await startMock(['--fault', 'status=503,model=bad-model', '--fault', 'status=429,count=1', '--reply-words', '3']);
  const first = await chat({ ...userChat('x'), model: 'good' }, {}, mock.base);
  assert.equal(first.status, 429, 'count=1 rule applies once');
  const good = await chat({ ...userChat('x'), model: 'good' }, {}, mock.base);
  assert.equal(good.status, 200);
  assert.equal(good.json.choices[0].message.content, 'lorem lorem lorem');
  const bad = await chat({ ...userChat('x'), model: 'bad-model' }, {}, mock.base);
  assert.equal(bad.status, 503);
  // DELETE keeps the --fault rules but restores their counts.
  await clearFaults(mock.base);
  assert.equal((await chat({ ...userChat('x'), model: 'good' }, {}, mock.base)).status, 429);
  assert.equal((await chat({ ...userChat('x'), model: 'bad-model' }, {}, mock.base)).status, 503);
  assert.equal(await stopMock(mock), 0);
});

test('bad --fault is rejected at start-up', async () => {
  const code = await new Promise((resolve) => {
    const proc = spawn(BIN, ['--fault', 'nonsense'], { stdio: 'ignore' });
    proc.on('exit', resolve);
  });
  assert.notEqual(code, 0);
});

// ---------------------------------------------------------------------------------------------
// Introspection and transport

test('stats: counts accepted client connections', async () => {
  const { default: net } = await import('node:net');
  await resetStats();
  const port = new URL(BASE).port;
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve, reject) => {
      const sock = net.connect(Number(port), '127.0.0.1', () => {
        sock.end('GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      sock.on('data', () => {});
      sock.on('close', resolve);
      sock.on('error', reject);
    });
  }
  assert.equal((await stats()).connections, 3);
});

test('stats: counts by path and model; DELETE resets', async () => {
  await resetStats();
  await chat(userChat('x'));
  await chat({ ...userChat('x'), model: 'other' });
  await messages(userMessages('x'));
  await fetch(`${BASE}/v1/models`);
  await fetch(`${BASE}/healthz`);
  const { connections, ...s } = await stats();
  assert.equal(typeof connections, 'number');  // fetch may reuse connections: see below
  assert.deepEqual(s, {
    requests: 4, completed: 4, cancelled: 0, in_flight: 0,
    by_path: { '/v1/chat/completions': 2, '/v1/messages': 1, '/v1/models': 1 },
    by_model: { 'mock-gpt': 1, other: 1, 'mock-claude': 1 },
  });
  await resetStats();
  const z = await stats();
  assert.equal(z.requests, 0);
  assert.deepEqual(z.by_path, {});
});

test('last_request: path, lowercased headers, raw JSON body', async () => {
  const body = { model: 'lr-model', messages: [{ role: 'user', content: 'remember me' }], temperature: 0.5 };
  await chat(body, { 'X-Custom-Header': 'Value-1' });
  await fetch(`${BASE}/_mock/stats`); // admin calls do not replace it
  const last = await (await fetch(`${BASE}/_mock/last_request`)).json();
  assert.equal(last.path, '/v1/chat/completions');
  assert.equal(last.headers['x-custom-header'], 'Value-1');
  assert.equal(last.headers['content-type'], 'application/json');
  assert.deepEqual(last.body, body);
});

test('keep-alive, pipelining and Expect: 100-continue on one socket', async () => {
  const payload = JSON.stringify(userChat('x'));
  const one = `POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`;
  const two = `GET /healthz HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n`;
  const { data } = await rawRequest(main.port, one + two);
  assert.equal((data.match(/HTTP\/1\.1 200 OK/g) || []).length, 2);
  assert.ok(data.endsWith('ok'));

  const expect = await new Promise((resolve) => {
    const sock = net.connect(main.port, '127.0.0.1');
    let got = '';
    sock.on('connect', () => sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: ${payload.length}\r\n\r\n`));
    sock.on('data', (d) => {
      got += d;
      if (got.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !sock.sentBody) {
        sock.sentBody = true;
        sock.write(payload);
      }
    });
    sock.on('close', () => resolve(got));
  });
  assert.match(expect, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
});

test('--threads 2 serves concurrent requests', async () => {
  const mock = await startMock(['--threads', '2']);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    chat(userChat(`n${i}`, { stream: i % 2 === 0 }), { 'x-mock-fault': 'latency_ms=20' }, mock.base)));
  for (const r of results) assert.equal(r.status, 200);
  const s = await stats(mock.base);
  assert.equal(s.requests, 40);
  assert.equal(s.completed, 40);
  assert.equal(await stopMock(mock), 0);
});

test('main mock exits 0 on SIGTERM', async () => {
  assert.equal(await stopMock(main), 0);
});
