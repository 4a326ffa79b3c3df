// Tests for tools/mock-llm, the mock OpenAI/Anthropic upstream: start-up, every endpoint's
// wire shape (OpenAI chat/embeddings/models, Anthropic messages), deterministic answers, auth.
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
