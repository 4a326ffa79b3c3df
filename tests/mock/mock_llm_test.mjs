// Tests for tools/mock-llm, the mock OpenAI/Anthropic upstream: every endpoint's wire shape,
// the deterministic answers, and every fault key. Runs the built binary (MOCK_LLM_BIN) on port 0.
// node --test, global fetch, no npm dependencies.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';

const BIN = process.env.MOCK_LLM_BIN;
assert.ok(BIN, 'set MOCK_LLM_BIN to the built mock-llm binary');

const running = [];

// Starts a mock and resolves once it printed its "listening" line.
function startMock(args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(proc);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`mock did not start: ${out} ${err}`)), 5000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^mock-llm listening on (\S+):(\d+)\n/);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({ proc, port, base: `http://127.0.0.1:${port}`, stdout: () => out });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock exited early (${code}): ${err}`));
    });
  });
}

function stopMock(mock) {
  return new Promise((resolve) => {
    if (mock.proc.exitCode !== null) return resolve(mock.proc.exitCode);
    mock.proc.once('exit', (code, signal) => resolve(code ?? signal));
    mock.proc.kill('SIGTERM');
  });
}

after(async () => {
  for (const proc of running) if (proc.exitCode === null) proc.kill('SIGKILL');
});

const main = await startMock();
const BASE = main.base;
const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

async function postJson(path, body, headers = {}, base = BASE) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { res, status: res.status, text, json };
}

const chat = (body, headers, base) => postJson('/v1/chat/completions', body, headers, base);
const messages = (body, headers = {}, base) =>
  postJson('/v1/messages', body, { ...ANTHROPIC, ...headers }, base);

function userChat(text, extra = {}) {
  return { model: 'mock-gpt', messages: [{ role: 'user', content: text }], ...extra };
}
function userMessages(text, extra = {}) {
  return { model: 'mock-claude', max_tokens: 1024, messages: [{ role: 'user', content: text }], ...extra };
}

// SSE text -> [{event, data}], data parsed as JSON when it is JSON.
function parseSse(text) {
  return text.split('\n\n').filter((b) => b.length > 0).map((block) => {
    const ev = {};
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.raw = line.slice(6);
    }
    try { ev.data = JSON.parse(ev.raw); } catch { ev.data = undefined; }
    return ev;
  });
}

// One request on a raw socket; resolves on close with everything received and any socket error.
function rawRequest(port, text, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    const times = [];
    let error = null;
    const t0 = Date.now();
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => { chunks.push(d); times.push(Date.now() - t0); });
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks).toString('utf8'), error, times });
    });
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
  });
}

function httpPost(path, body, headers = {}) {
  const payload = JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `POST ${path} HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n${extra}\r\n${payload}`;
}

// Decodes a chunked HTTP body (possibly cut short) into its text.
function dechunk(body) {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    const chunk = Buffer.from(rest.slice(eol + 2), 'utf8').subarray(0, size).toString('utf8');
    out += chunk;
    rest = rest.slice(eol + 2 + chunk.length + 2);
  }
}

const stats = async (base = BASE) => (await fetch(`${base}/_mock/stats`)).json();
const resetStats = (base = BASE) => fetch(`${base}/_mock/stats`, { method: 'DELETE' });
const clearFaults = (base = BASE) => fetch(`${base}/_mock/faults`, { method: 'DELETE' });
const addRule = (rule, base = BASE) =>
  fetch(`${base}/_mock/faults`, { method: 'POST', body: JSON.stringify(rule) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(predicate, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) return value;
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up, health, models

test('prints one listening line and writes --port-file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mock-llm-'));
  const file = path.join(dir, 'port');
  const mock = await startMock(['--port-file', file]);
  assert.equal(readFileSync(file, 'utf8').trim(), String(mock.port));
  assert.equal(mock.stdout(), `mock-llm listening on 127.0.0.1:${mock.port}\n`);
  assert.equal(await stopMock(mock), 0, 'SIGTERM exits 0');
});

test('SIGINT exits 0 even with a hanging request open', async () => {
  const mock = await startMock();
  const pending = chat(userChat('x'), { 'x-mock-fault': 'hang=1' }, mock.base)
    .catch(() => null);
  await waitFor(async () => (await stats(mock.base)).in_flight === 1);
  const code = await new Promise((resolve) => {
    mock.proc.once('exit', (c) => resolve(c));
    mock.proc.kill('SIGINT');
  });
  await pending;
  assert.equal(code, 0);
});

test('GET /healthz answers ok', async () => {
  const res = await fetch(`${BASE}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});

test('GET /v1/models lists fixed models', async () => {
  const res = await fetch(`${BASE}/v1/models`);
  const body = await res.json();
  assert.equal(body.object, 'list');
  assert.ok(body.data.length >= 2);
  assert.deepEqual(body.data[0], { id: 'mock-gpt', object: 'model', created: body.data[0].created, owned_by: 'mock' });
  for (const m of body.data) assert.equal(typeof m.created, 'number');
});

test('unknown path is a 404 JSON error', async () => {
  const res = await fetch(`${BASE}/v1/nope`);
  assert.equal(res.status, 404);
  const body = await res.json();
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /Invalid URL \(GET \/v1\/nope\)/);
});

// ---------------------------------------------------------------------------------------------
// OpenAI chat completions

test('chat completion: exact shape, reply text and usage', async () => {
  const { res, status, json } = await chat({
    model: 'any-model-1',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: '  Hello   there  ' },
    ],
  });
  assert.equal(status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.match(res.headers.get('x-request-id'), /^req_mock_\d+$/);
  assert.match(json.id, /^chatcmpl-mock-\d+$/);
  assert.equal(typeof json.created, 'number');
  assert.ok(Math.abs(json.created - Date.now() / 1000) < 60);
  assert.deepEqual(json, {
    id: json.id,
    object: 'chat.completion',
    created: json.created,
    model: 'any-model-1',
    system_fingerprint: 'fp_mock',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: 'Mock reply from any-model-1: Hello there', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    }],
    // prompt: (3 + 3 words) + (3 + 2 words); completion: 6 words
    usage: { prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 },
  });
});

test('chat completion: text parts, last user message, 200-byte UTF-8 cut', async () => {
  const parts = await chat({
    model: 'm',
    messages: [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'an answer' },
      { role: 'user', content: [{ type: 'text', text: 'part one' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'part two' }] },
    ],
  });
  assert.equal(parts.json.choices[0].message.content, 'Mock reply from m: part one part two');
  assert.equal(parts.json.usage.prompt_tokens, 3 + 2 + 3 + 2 + 3 + 4);

  const long = 'é'.repeat(150); // 300 bytes: cut to 200 bytes = 100 characters
  const cut = await chat(userChat(long));
  assert.equal(cut.json.choices[0].message.content, `Mock reply from mock-gpt: ${'é'.repeat(100)}`);
  const odd = 'a' + 'é'.repeat(150); // the 200-byte boundary falls inside a character
  const cutOdd = await chat(userChat(odd));
  assert.equal(cutOdd.json.choices[0].message.content, `Mock reply from mock-gpt: a${'é'.repeat(99)}`);
});

test('chat completion: validation errors in OpenAI shape', async () => {
  const cases = [
    ['{not json', /could not parse the JSON body/, null],
    [JSON.stringify([1, 2]), /expected an object/, 'body'],
    [JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), /you must provide a model parameter/, null],
    [JSON.stringify({ model: 'm' }), /Missing required parameter: 'messages'/, 'messages'],
    [JSON.stringify({ model: 'm', messages: [] }), /empty array/, 'messages'],
    [JSON.stringify({ model: 'm', messages: 'hi' }), /Invalid type for 'messages'/, 'messages'],
    [JSON.stringify({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }), /Invalid value: 'wizard'/, 'messages[0].role'],
    [JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }), /max_tokens/, 'max_tokens'],
  ];
  for (const [body, message, param] of cases) {
    const { status, json } = await chat(body);
    assert.equal(status, 400, body);
    assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(json.error.type, 'invalid_request_error');
    assert.match(json.error.message, message);
    assert.equal(json.error.param, param);
  }
});

test('chat completion: max_tokens and max_completion_tokens truncate with finish_reason length', async () => {
  const a = await chat(userChat('one two three four', { max_tokens: 3 }));
  assert.equal(a.json.choices[0].message.content, 'Mock reply from');
  assert.equal(a.json.choices[0].finish_reason, 'length');
  assert.equal(a.json.usage.completion_tokens, 3);
  const b = await chat(userChat('one', { max_completion_tokens: 2, max_tokens: 50 }));
  assert.equal(b.json.choices[0].message.content, 'Mock reply');
  const c = await chat(userChat('one', { max_tokens: 50 }));
  assert.equal(c.json.choices[0].finish_reason, 'stop');
});

test('chat stream: framing, role chunk, one chunk per word, finish, [DONE]', async () => {
  const res = await fetch(`${BASE}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(userChat('alpha beta', { stream: true })),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  const text = await res.text();
  assert.ok(text.endsWith('data: [DONE]\n\n'));
  const events = parseSse(text);
  assert.ok(events.every((e) => e.event === undefined));
  const chunks = events.slice(0, -1).map((e) => e.data);
  assert.equal(events.at(-1).raw, '[DONE]');
  const id = chunks[0].id;
  assert.match(id, /^chatcmpl-mock-\d+$/);
  for (const c of chunks) {
    assert.equal(c.id, id);
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, 'mock-gpt');
    assert.equal(c.system_fingerprint, 'fp_mock');
    assert.ok(!('usage' in c), 'no usage key without include_usage');
  }
  assert.deepEqual(chunks[0].choices, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  const words = chunks.slice(1, -1).map((c) => c.choices[0].delta.content);
  assert.deepEqual(words, ['Mock', ' reply', ' from', ' mock-gpt:', ' alpha', ' beta']);
  assert.deepEqual(chunks.at(-1).choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
});

test('chat stream: include_usage adds usage:null everywhere and a final usage chunk', async () => {
  const { text } = await chat(userChat('alpha beta', { stream: true, stream_options: { include_usage: true } }));
  const events = parseSse(text);
  assert.equal(events.at(-1).raw, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => e.data);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
  for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
});

test('chat: tool call when tools are given and the last message is from the user', async () => {
  const tools = [
    { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'other' } },
  ];
  const { json } = await chat(userChat('find "cats" now', { tools }));
  const choice = json.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.match(call.id, /^call_mock_\d+$/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'lookup');
  assert.deepEqual(JSON.parse(call.function.arguments), { query: 'find "cats" now' });

  const none = await chat(userChat('hi', { tools, tool_choice: 'none' }));
  assert.equal(none.json.choices[0].message.content, 'Mock reply from mock-gpt: hi');

  const afterTool = await chat({
    model: 'mock-gpt',
    tools,
    messages: [
      { role: 'user', content: 'find cats' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'three cats' },
    ],
  });
  assert.equal(afterTool.json.choices[0].message.content, 'Mock reply from mock-gpt: tool result received');
  assert.equal(afterTool.json.choices[0].finish_reason, 'stop');
});

test('chat stream: tool call deltas, arguments in fragments', async () => {
  const tools = [{ type: 'function', function: { name: 'lookup' } }];
  const { text } = await chat(userChat('cats and dogs', { tools, stream: true }));
  const events = parseSse(text);
  assert.equal(events.at(-1).raw, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => e.data);
  const first = chunks[0].choices[0].delta;
  assert.equal(first.role, 'assistant');
  assert.equal(first.content, null);
  assert.equal(first.tool_calls[0].index, 0);
  assert.match(first.tool_calls[0].id, /^call_mock_\d+$/);
  assert.equal(first.tool_calls[0].type, 'function');
  assert.deepEqual(first.tool_calls[0].function, { name: 'lookup', arguments: '' });
  const fragments = chunks.slice(1, -1).map((c) => c.choices[0].delta.tool_calls[0].function.arguments);
  assert.ok(fragments.length >= 2);
  assert.deepEqual(JSON.parse(fragments.join('')), { query: 'cats and dogs' });
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
});

// ---------------------------------------------------------------------------------------------
// Embeddings

function norm(v) { return Math.sqrt(v.reduce((s, x) => s + x * x, 0)); }

test('embeddings: deterministic unit vectors, dimensions, usage', async () => {
  const a = await postJson('/v1/embeddings', { model: 'mock-embed', input: ['hello world', 'other text here'] });
  assert.equal(a.status, 200);
  assert.equal(a.json.object, 'list');
  assert.equal(a.json.model, 'mock-embed');
  assert.deepEqual(a.json.usage, { prompt_tokens: 5, total_tokens: 5 });
  assert.equal(a.json.data.length, 2);
  a.json.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.equal(d.embedding.length, 16);
    assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-5);
  });
  assert.notDeepEqual(a.json.data[0].embedding, a.json.data[1].embedding);
  const again = await postJson('/v1/embeddings', { model: 'x', input: 'hello world', dimensions: 16 });
  assert.deepEqual(again.json.data[0].embedding, a.json.data[0].embedding);
  const dims = await postJson('/v1/embeddings', { model: 'x', input: 'hello world', dimensions: 64 });
  assert.equal(dims.json.data[0].embedding.length, 64);
  const tokens = await postJson('/v1/embeddings', { model: 'x', input: [[1, 2, 3], [4]] });
  assert.equal(tokens.json.data.length, 2);
  assert.equal(tokens.json.usage.prompt_tokens, 4);
  const oneTokenList = await postJson('/v1/embeddings', { model: 'x', input: [1, 2, 3] });
  assert.equal(oneTokenList.json.data.length, 1);
  const bad = await postJson('/v1/embeddings', { model: 'x' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'input');
});

test('embeddings: base64 is little-endian float32 of the same vector', async () => {
  const f = await postJson('/v1/embeddings', { model: 'x', input: 'abc', encoding_format: 'float' });
  const b = await postJson('/v1/embeddings', { model: 'x', input: 'abc', encoding_format: 'base64' });
  assert.equal(typeof b.json.data[0].embedding, 'string');
  const buf = Buffer.from(b.json.data[0].embedding, 'base64');
  const floats = Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
  assert.deepEqual(floats, f.json.data[0].embedding.map(Math.fround));
});

// ---------------------------------------------------------------------------------------------
// Anthropic messages

test('messages: exact shape, reply text, usage with system prompt', async () => {
  const { res, status, json } = await messages({
    model: 'claude-x',
    max_tokens: 100,
    system: [{ type: 'text', text: 'Be brief please' }],
    messages: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: [{ type: 'text', text: 'ok then' }] },
      { role: 'user', content: [{ type: 'text', text: 'what is' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }, { type: 'text', text: 'this?' }] },
    ],
  });
  assert.equal(status, 200);
  assert.match(res.headers.get('request-id'), /^req_mock_\d+$/);
  assert.match(json.id, /^msg_mock_\d+$/);
  assert.deepEqual(json, {
    id: json.id,
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [{ type: 'text', text: 'Mock reply from claude-x: what is this?' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    // system 3 + (3+1) + (3+2) + (3+3) ; reply 7 words
    usage: { input_tokens: 18, output_tokens: 7 },
  });
});

test('messages: validation like the real API', async () => {
  const missingMax = await messages({ model: 'c', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(missingMax.status, 400);
  assert.deepEqual(missingMax.json, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });

  const systemRole = await messages({ model: 'c', max_tokens: 5, messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'y' }] });
  assert.equal(systemRole.status, 400);
  assert.equal(systemRole.json.error.type, 'invalid_request_error');
  assert.match(systemRole.json.error.message, /system/);

  const cases = [
    [{ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, /^model: Field required/],
    [{ model: 'c', max_tokens: 'ten', messages: [{ role: 'user', content: 'x' }] }, /^max_tokens: /],
    [{ model: 'c', max_tokens: 5 }, /^messages: Field required/],
    [{ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 42 }] }, /^messages\.0\.content/],
    [{ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'bogus' }] }] }, /^messages\.0\.content\.0/],
    [{ model: 'c', max_tokens: 5, messages: [{ role: 'tool', content: 'x' }] }, /^messages\.0\.role/],
  ];
  for (const [body, message] of cases) {
    const r = await messages(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, message);
  }

  const noVersion = await postJson('/v1/messages', userMessages('x'));
  assert.equal(noVersion.status, 400);
  assert.equal(noVersion.json.type, 'error');
  assert.equal(noVersion.json.error.type, 'invalid_request_error');
  assert.match(noVersion.json.error.message, /anthropic-version/);
});

test('messages: max_tokens truncates with stop_reason max_tokens', async () => {
  const { json } = await messages(userMessages('a b c', { max_tokens: 2 }));
  assert.deepEqual(json.content, [{ type: 'text', text: 'Mock reply' }]);
  assert.equal(json.stop_reason, 'max_tokens');
  assert.equal(json.usage.output_tokens, 2);
});

test('messages stream: real event order and shapes', async () => {
  const res = await fetch(`${BASE}/v1/messages`, {
    method: 'POST',
    headers: ANTHROPIC,
    body: JSON.stringify(userMessages('hi there', { stream: true })),
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const events = parseSse(await res.text());
  const order = events.map((e) => e.event);
  assert.deepEqual(order, [
    'message_start', 'content_block_start', 'ping',
    ...Array(6).fill('content_block_delta'),
    'content_block_stop', 'message_delta', 'message_stop',
  ]);
  for (const e of events) assert.equal(e.data.type, e.event);
  const start = events[0].data.message;
  assert.match(start.id, /^msg_mock_\d+$/);
  assert.deepEqual(start, {
    id: start.id, type: 'message', role: 'assistant', model: 'mock-claude', content: [],
    stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 },
  });
  assert.deepEqual(events[1].data, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  const text = events.slice(3, 9).map((e) => {
    assert.equal(e.data.index, 0);
    assert.equal(e.data.delta.type, 'text_delta');
    return e.data.delta.text;
  }).join('');
  assert.equal(text, 'Mock reply from mock-claude: hi there');
  assert.deepEqual(events.at(-3).data, { type: 'content_block_stop', index: 0 });
  assert.deepEqual(events.at(-2).data, {
    type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 },
  });
  assert.deepEqual(events.at(-1).data, { type: 'message_stop' });
});

test('messages: tool_use, streamed tool_use, tool_result', async () => {
  const tools = [{ name: 'search', description: 'd', input_schema: { type: 'object' } }, { name: 'other', input_schema: {} }];
  const { json } = await messages(userMessages('find cats', { tools }));
  assert.equal(json.stop_reason, 'tool_use');
  assert.equal(json.content.length, 1);
  const use = json.content[0];
  assert.match(use.id, /^toolu_mock_\d+$/);
  assert.deepEqual(use, { type: 'tool_use', id: use.id, name: 'search', input: { query: 'find cats' } });

  const none = await messages(userMessages('x', { tools, tool_choice: { type: 'none' } }));
  assert.equal(none.json.content[0].type, 'text');

  const streamed = parseSse((await messages(userMessages('find cats', { tools, stream: true }))).text);
  assert.deepEqual(streamed.map((e) => e.event).slice(0, 3), ['message_start', 'content_block_start', 'ping']);
  const block = streamed[1].data.content_block;
  assert.equal(block.type, 'tool_use');
  assert.equal(block.name, 'search');
  assert.deepEqual(block.input, {});
  const deltas = streamed.filter((e) => e.event === 'content_block_delta').map((e) => {
    assert.equal(e.data.delta.type, 'input_json_delta');
    return e.data.delta.partial_json;
  });
  assert.ok(deltas.filter((d) => d.length > 0).length >= 2);
  assert.deepEqual(JSON.parse(deltas.join('')), { query: 'find cats' });
  assert.equal(streamed.at(-2).data.delta.stop_reason, 'tool_use');

  const result = await messages({
    model: 'mock-claude', max_tokens: 50, tools,
    messages: [
      { role: 'user', content: 'find cats' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: { query: 'cats' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'three cats' }] },
    ],
  });
  assert.equal(result.status, 200);
  assert.deepEqual(result.json.content, [{ type: 'text', text: 'Mock reply from mock-claude: tool result received' }]);
  assert.equal(result.json.stop_reason, 'end_turn');
});

// ---------------------------------------------------------------------------------------------
// Auth

test('--require-key: OpenAI Bearer and Anthropic x-api-key', async () => {
  const mock = await startMock(['--require-key', 'sk-test']);
  const bad = await chat(userChat('x'), { authorization: 'Bearer nope' }, mock.base);
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.json, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  const missing = await chat(userChat('x'), {}, mock.base);
  assert.equal(missing.status, 401);
  const ok = await chat(userChat('x'), { authorization: 'Bearer sk-test' }, mock.base);
  assert.equal(ok.status, 200);
  const models = await fetch(`${mock.base}/v1/models`);
  assert.equal(models.status, 401);
  const emb = await postJson('/v1/embeddings', { model: 'e', input: 'x' }, { authorization: 'Bearer sk-test' }, mock.base);
  assert.equal(emb.status, 200);

  const aBad = await messages(userMessages('x'), { 'x-api-key': 'nope' }, mock.base);
  assert.equal(aBad.status, 401);
  assert.deepEqual(aBad.json, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  const aOk = await messages(userMessages('x'), { 'x-api-key': 'sk-test' }, mock.base);
  assert.equal(aOk.status, 200);
  assert.equal(await stopMock(mock), 0);
});

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
