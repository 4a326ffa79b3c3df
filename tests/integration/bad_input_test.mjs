// Bad input at the gateway's front door: malformed or oversized requests, invalid UTF-8,
// header floods, slow and vanishing clients. Each must get a clear OpenAI-style error or a
// clean close — and the gateway must keep serving afterwards.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMock, startGateway, postJson } from './harness.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startGateway(mock.port, { max_body_bytes: 65536, request_timeout_ms: 1000 });
});

after(async () => {
  await gw?.stop();
  await mock?.stop();
});

const chat = (body) => postJson(`${gw.base}/v1/chat/completions`, body);

// Sends raw bytes on a fresh connection; resolves with everything the server sent before
// closing (or after `waitMs`).
function raw(bytes, { waitMs = 3000, chunks = null, gapMs = 0 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(gw.port, '127.0.0.1');
    let out = '';
    let closed = false;
    const finish = () => { if (!closed) { closed = true; sock.destroy(); resolve(out); } };
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('close', finish);
    sock.on('error', finish);
    setTimeout(finish, waitMs);
    sock.on('connect', async () => {
      if (chunks) {
        for (const c of chunks) {
          if (closed) return;
          sock.write(c);
          await new Promise((r) => setTimeout(r, gapMs));
        }
      } else {
        sock.write(bytes);
      }
    });
  });
}

function statusOf(rawResponse) {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(rawResponse);
  return m ? Number(m[1]) : null;
}

function bodyOf(rawResponse) {
  const i = rawResponse.indexOf('\r\n\r\n');
  return JSON.parse(rawResponse.slice(i + 4));
}

async function stillServing() {
  const r = await chat({ model: 'mock-gpt', messages: [{ role: 'user', content: 'alive?' }] });
  assert.equal(r.status, 200, r.text);
}

describe('malformed request bodies', () => {
  const cases = [
    ['not JSON', '{"model": "mock-gpt", "messages": [', /not valid JSON/, null],
    ['empty body', '', /empty/, null],
    ['array body', '[1,2]', /must be a JSON object/, null],
    ['missing messages', { model: 'mock-gpt' }, /'messages' is required/, 'messages'],
    ['missing model', { messages: [{ role: 'user', content: 'x' }] }, /'model' is required/, 'model'],
    ['messages not array', { model: 'mock-gpt', messages: 'hi' }, /must be an array/, 'messages'],
    ['empty messages', { model: 'mock-gpt', messages: [] }, /at least one/, 'messages'],
    ['bad role', { model: 'mock-gpt', messages: [{ role: 'wizard', content: 'x' }] }, /role/, 'messages[0].role'],
    ['content wrong type', { model: 'mock-gpt', messages: [{ role: 'user', content: 5 }] }, /content/, 'messages[0].content'],
    ['stream not bool', { model: 'mock-gpt', stream: 'yes', messages: [{ role: 'user', content: 'x' }] }, /boolean/, 'stream'],
    ['max_tokens negative', { model: 'mock-gpt', max_tokens: -3, messages: [{ role: 'user', content: 'x' }] }, /positive integer/, 'max_tokens'],
    ['temperature string', { model: 'mock-gpt', temperature: 'hot', messages: [{ role: 'user', content: 'x' }] }, /number/, 'temperature'],
    ['tool message without id', { model: 'mock-gpt', messages: [{ role: 'tool', content: 'x' }] }, /tool_call_id/, 'messages[0].tool_call_id'],
    ['n > 1', { model: 'mock-gpt', n: 3, messages: [{ role: 'user', content: 'x' }] }, /n > 1/, 'n'],
  ];
  for (const [name, body, message, param] of cases) {
    test(name, async () => {
      const r = await chat(body);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, message);
      assert.equal(r.json.error.param, param);
    });
  }

  test('unknown model is 404 model_not_found naming the served models', async () => {
    const r = await chat({ model: 'gpt-17', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'model_not_found');
    assert.match(r.json.error.message, /gpt-17.*mock-gpt/);
  });

  test('invalid UTF-8 is rejected', async () => {
    const body = Buffer.concat([Buffer.from('{"model":"mock-gpt","messages":[{"role":"user","content":"'),
      Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]);
    const res = await fetch(`${gw.base}/v1/chat/completions`, { method: 'POST', body,
      headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /UTF-8/);
  });

  test('deeply nested JSON is rejected, not a crash', async () => {
    const r = await chat('{"model":"mock-gpt","messages":' + '['.repeat(5000) + ']'.repeat(5000) + '}');
    assert.equal(r.status, 400);
    await stillServing();
  });
});

describe('HTTP-level abuse', () => {
  test('body over the limit is 413 (declared length)', async () => {
    const big = 'x'.repeat(70000);
    const r = await chat({ model: 'mock-gpt', messages: [{ role: 'user', content: big }] });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'request_too_large');
    await stillServing();
  });

  test('chunked body over the limit is 413', async () => {
    const chunk = 'a'.repeat(40000);
    const req = 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
      `${chunk.length.toString(16)}\r\n${chunk}\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
    const out = await raw(req);
    assert.equal(statusOf(out), 413, out.slice(0, 200));
  });

  test('header flood is 431', async () => {
    let req = 'GET /healthz HTTP/1.1\r\nHost: x\r\n';
    for (let i = 0; i < 2000; i++) req += `X-Flood-${i}: ${'y'.repeat(20)}\r\n`;
    const out = await raw(req + '\r\n');
    assert.equal(statusOf(out), 431, out.slice(0, 200));
    assert.equal(bodyOf(out).error.type, 'invalid_request_error');
  });

  test('garbage instead of HTTP is 400 and closed', async () => {
    const out = await raw('\x16\x03\x01 this is not http\r\n\r\n');
    assert.equal(statusOf(out), 400, out);
  });

  test('unknown path is 404 JSON, wrong method is 405', async () => {
    let r = await fetch(`${gw.base}/v2/nothing`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.type, 'not_found_error');
    r = await fetch(`${gw.base}/v1/chat/completions`);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
  });

  test('a client that sends too slowly gets 408 and is closed', async () => {
    const body = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'slow' }] });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const t0 = Date.now();
    // Drip the body one byte every 100 ms: it would take seconds; the limit is 1 s.
    const out = await raw(null, { chunks: [head, ...body.split('')], gapMs: 100, waitMs: 5000 });
    assert.equal(statusOf(out), 408, out);
    assert.ok(Date.now() - t0 < 4000);
    await stillServing();
  });

  test('a client that vanishes mid-stream aborts the upstream request', async () => {
    await mock.resetStats();
    const ctrl = new AbortController();
    const res = await fetch(`${gw.base}/v1/chat/completions`, {
      method: 'POST', signal: ctrl.signal, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', stream: true,
        messages: [{ role: 'user', content: '[[mock: chunk_delay_ms=200,words=50]] long answer' }] }),
    });
    const reader = res.body.getReader();
    await reader.read();
    ctrl.abort();
    // The mock notices its client (the gateway) went away well before the 10 s answer ends.
    let stats;
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await mock.stats();
      if (stats.cancelled >= 1) break;
    }
    assert.equal(stats.cancelled, 1, JSON.stringify(stats));
    await stillServing();
  });

  test('a client that vanishes while waiting aborts the upstream request', async () => {
    await mock.resetStats();
    const body = JSON.stringify({ model: 'mock-claude', messages: [{ role: 'user', content: '[[mock: latency_ms=5000]] wait' }] });
    const req = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    await raw(req, { waitMs: 300 });  // sends, waits 300 ms, closes
    let stats;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await mock.stats();
      if (stats.cancelled >= 1) break;
    }
    assert.equal(stats.cancelled, 1, JSON.stringify(stats));
  });

  test('keep-alive: many requests on one connection, pipelined too', async () => {
    const body = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'ka' }] });
    const one = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const out = await raw(one + one + one, { waitMs: 1500 });
    assert.equal(out.match(/HTTP\/1\.1 200 OK/g)?.length, 3, out);
  });
});
