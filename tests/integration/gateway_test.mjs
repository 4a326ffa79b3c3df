// Integration tests: the real gateway binary in front of the real mock upstream, over HTTP
// on 127.0.0.1. OpenAI, Anthropic and local (Ollama-style) upstreams, streaming and not,
// pass-through, tools, and every fault of the mock mapped to the error a client sees.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, postJson, parseSse, MOCK_KEY } from './harness.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startGateway(mock.port);
});

after(async () => {
  await gw?.stop();
  await mock?.stop();
});

const chat = (body, headers) => postJson(`${gw.base}/v1/chat/completions`, body, headers);
const messages = (body, headers) => postJson(`${gw.base}/v1/messages`, body, headers);
const user = (text) => [{ role: 'user', content: text }];

function streamText(events) {
  return events.filter((e) => e.data !== '[DONE]' && e.data.choices?.length)
    .map((e) => e.data.choices[0].delta.content ?? '').join('');
}

describe('OpenAI upstream', () => {
  test('non-streaming answer has OpenAI shape, public model name and upstream usage', async () => {
    const r = await chat({ model: 'mock-gpt', messages: user('hello there') });
    assert.equal(r.status, 200, r.text);
    const b = r.json;
    assert.match(b.id, /^chatcmpl-/);
    assert.equal(b.object, 'chat.completion');
    assert.equal(b.model, 'mock-gpt');
    assert.equal(typeof b.created, 'number');
    assert.equal(b.choices.length, 1);
    assert.equal(b.choices[0].index, 0);
    assert.equal(b.choices[0].message.role, 'assistant');
    assert.equal(b.choices[0].message.content, 'Mock reply from gpt-4-turbo-upstream: hello there');
    assert.equal(b.choices[0].finish_reason, 'stop');
    // mock usage: 2 words + 3 per message; reply words
    assert.deepEqual(b.usage, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
    assert.equal(r.headers.get('x-switchyard-model'), 'mock-gpt');
    assert.ok(r.headers.get('x-request-id'));
  });

  test('upstream receives the upstream model id, the key, and pass-through fields', async () => {
    const r = await chat({
      model: 'mock-gpt', messages: user('pass it on'), seed: 42, temperature: 0.5,
      response_format: { type: 'json_object' }, logprobs: false, frequency_penalty: 0.25,
      metadata: { team: 'search' },
    });
    assert.equal(r.status, 200, r.text);
    const last = await mock.lastRequest();
    assert.equal(last.path, '/v1/chat/completions');
    assert.equal(last.headers.authorization, `Bearer ${MOCK_KEY}`);
    assert.equal(last.body.model, 'gpt-4-turbo-upstream');
    assert.equal(last.body.seed, 42);
    assert.equal(last.body.temperature, 0.5);
    assert.deepEqual(last.body.response_format, { type: 'json_object' });
    assert.equal(last.body.logprobs, false);
    assert.equal(last.body.frequency_penalty, 0.25);
    assert.deepEqual(last.body.metadata, { team: 'search' });
  });

  test('streaming: role first, one id, chunks flushed, usage when asked, [DONE] last', async () => {
    const r = await chat({ model: 'mock-gpt', messages: user('stream me please'), stream: true,
      stream_options: { include_usage: true } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const events = parseSse(r.text);
    assert.equal(events.at(-1).data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => e.data);
    assert.ok(chunks.length >= 4);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    assert.match([...ids][0], /^chatcmpl-/);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'mock-gpt');
    }
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, []);
    assert.deepEqual(usageChunk.usage, { prompt_tokens: 6, completion_tokens: 7, total_tokens: 13 });
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finish.length, 1);
    assert.equal(finish[0].choices[0].finish_reason, 'stop');
    assert.equal(streamText(events), 'Mock reply from gpt-4-turbo-upstream: stream me please');
  });

  test('streaming without include_usage has no usage fields', async () => {
    const r = await chat({ model: 'mock-gpt', messages: user('no usage'), stream: true });
    const chunks = parseSse(r.text).slice(0, -1).map((e) => e.data);
    for (const c of chunks) assert.equal('usage' in c, false);
  });

  test('chunks reach the client as the upstream produces them (no buffering)', async () => {
    const t0 = Date.now();
    const res = await fetch(`${gw.base}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', stream: true,
        messages: user('[[mock: chunk_delay_ms=150,words=5]] slow') }),
    });
    const reader = res.body.getReader();
    const { value } = await reader.read();
    const firstAt = Date.now() - t0;
    assert.ok(new TextDecoder().decode(value).startsWith('data: '));
    let rest = '';
    for (;;) { const { done, value: v } = await reader.read(); if (done) break; rest += new TextDecoder().decode(v); }
    const total = Date.now() - t0;
    assert.ok(rest.includes('[DONE]'));
    // The answer takes >= 5 x 150 ms upstream; the first bytes must arrive well before.
    assert.ok(total >= 700, `total ${total}`);
    assert.ok(firstAt < total - 400, `first chunk at ${firstAt} ms of ${total} ms`);
  });

  test('tools: definitions forwarded, tool_calls returned; tool results answered', async () => {
    const tools = [{ type: 'function', function: { name: 'search', description: 'Search the web',
      parameters: { type: 'object', properties: { query: { type: 'string' } } }, strict: true } }];
    const r = await chat({ model: 'mock-gpt', messages: user('find cats'), tools, tool_choice: 'auto' });
    assert.equal(r.status, 200, r.text);
    const msg = r.json.choices[0].message;
    assert.equal(r.json.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.content, null);
    assert.equal(msg.tool_calls[0].function.name, 'search');
    assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { query: 'find cats' });
    const last = await mock.lastRequest();
    assert.deepEqual(last.body.tools, tools);
    assert.equal(last.body.tool_choice, 'auto');

    const r2 = await chat({ model: 'mock-gpt', tools, messages: [
      ...user('find cats'), msg,
      { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '3 cats found' }] });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.json.choices[0].message.content, 'Mock reply from gpt-4-turbo-upstream: tool result received');
  });

  test('streamed tool calls keep index, id and name, and arguments concatenate', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    const r = await chat({ model: 'mock-gpt', messages: user('weather in Oslo'), tools, stream: true });
    const chunks = parseSse(r.text).slice(0, -1).map((e) => e.data);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    assert.ok(deltas.length >= 2);
    assert.equal(deltas[0].id.length > 0, true);
    assert.equal(deltas[0].function.name, 'lookup');
    const args = deltas.map((d) => d.function.arguments).join('');
    assert.deepEqual(JSON.parse(args), { query: 'weather in Oslo' });
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason).choices[0].finish_reason, 'tool_calls');
  });
});

describe('Anthropic upstream behind the OpenAI API', () => {
  test('system prompt lifted, max_tokens defaulted, answer translated', async () => {
    const r = await chat({ model: 'mock-claude', messages: [
      { role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi claude' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(r.json.model, 'mock-claude');
    assert.equal(r.json.choices[0].message.content, 'Mock reply from claude-upstream: hi claude');
    assert.equal(r.json.choices[0].finish_reason, 'stop');
    assert.equal(r.json.usage.completion_tokens, 6);
    const last = await mock.lastRequest();
    assert.equal(last.path, '/v1/messages');
    assert.equal(last.headers['x-api-key'], MOCK_KEY);
    assert.ok(last.headers['anthropic-version']);
    assert.equal(last.body.model, 'claude-upstream');
    assert.equal(last.body.max_tokens, 1000);
    assert.ok(JSON.stringify(last.body.system).includes('Be terse.'));
    assert.ok(last.body.messages.every((m) => m.role !== 'system'));
  });

  test('streaming events become OpenAI chunks with usage', async () => {
    const r = await chat({ model: 'mock-claude', messages: user('stream from claude'), stream: true,
      stream_options: { include_usage: true } });
    assert.equal(r.status, 200, r.text);
    const events = parseSse(r.text);
    assert.equal(events.at(-1).data, '[DONE]');
    assert.equal(events[0].data.choices[0].delta.role, 'assistant');
    assert.equal(streamText(events), 'Mock reply from claude-upstream: stream from claude');
    const usage = events.at(-2).data.usage;
    assert.equal(usage.completion_tokens, 7);
    assert.ok(usage.prompt_tokens > 0);
  });

  test('tool calls translate both ways', async () => {
    const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }];
    const r = await chat({ model: 'mock-claude', messages: user('find dogs'), tools });
    assert.equal(r.status, 200, r.text);
    const msg = r.json.choices[0].message;
    assert.equal(r.json.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.tool_calls[0].function.name, 'search');
    assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { query: 'find dogs' });
    const last = await mock.lastRequest();
    assert.equal(last.body.tools[0].name, 'search');
    assert.ok(last.body.tools[0].input_schema);

    const r2 = await chat({ model: 'mock-claude', tools, messages: [...user('find dogs'), msg,
      { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: 'two dogs' }] });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.json.choices[0].message.content, 'Mock reply from claude-upstream: tool result received');
    const last2 = await mock.lastRequest();
    const toolResult = last2.body.messages.at(-1).content.find((b) => b.type === 'tool_result');
    assert.equal(toolResult.tool_use_id, msg.tool_calls[0].id);
  });
});

describe('Anthropic Messages API inbound', () => {
  test('non-streaming, to an Anthropic upstream', async () => {
    const r = await messages({ model: 'mock-claude', max_tokens: 100, system: 'You are kind.',
      messages: user('hello anthropic') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.type, 'message');
    assert.equal(r.json.role, 'assistant');
    assert.match(r.json.id, /^msg_/);
    assert.equal(r.json.model, 'mock-claude');
    assert.deepEqual(r.json.content, [{ type: 'text', text: 'Mock reply from claude-upstream: hello anthropic' }]);
    assert.equal(r.json.stop_reason, 'end_turn');
    assert.equal(r.json.usage.output_tokens, 6);
    const last = await mock.lastRequest();
    assert.equal(last.body.max_tokens, 100);
  });

  test('non-streaming, to an OpenAI upstream', async () => {
    const r = await messages({ model: 'mock-gpt', max_tokens: 50, system: 'Sys',
      messages: user('cross provider') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.content[0].text, 'Mock reply from gpt-4-turbo-upstream: cross provider');
    const last = await mock.lastRequest();
    assert.equal(last.body.messages[0].role, 'system');
    assert.equal(last.body.max_tokens, 50);
  });

  test('streaming event sequence', async () => {
    for (const model of ['mock-claude', 'mock-gpt']) {
      const r = await messages({ model, max_tokens: 100, stream: true, messages: user('stream it') });
      assert.equal(r.status, 200, r.text);
      const events = parseSse(r.text);
      const types = events.map((e) => e.event);
      assert.equal(types[0], 'message_start');
      assert.equal(types.at(-1), 'message_stop');
      assert.equal(types.at(-2), 'message_delta');
      assert.ok(types.includes('content_block_start'));
      assert.ok(types.includes('content_block_stop'));
      for (const e of events) assert.equal(e.data.type, e.event);
      const text = events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text).join('');
      assert.match(text, /^Mock reply from .*: stream it$/);
      const delta = events.at(-2).data;
      assert.equal(delta.delta.stop_reason, 'end_turn');
      assert.ok(delta.usage.output_tokens > 0);
    }
  });

  test('errors use the Anthropic shape', async () => {
    let r = await messages({ model: 'mock-claude', messages: user('no max tokens') });
    assert.equal(r.status, 400);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
    r = await messages({ model: 'nope', max_tokens: 10, messages: user('x') });
    assert.equal(r.status, 404);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'not_found_error');
    r = await messages({ model: 'mock-claude', max_tokens: 10, messages: user('[[mock: status=529]] busy') });
    assert.equal(r.status, 503);
    assert.equal(r.json.error.type, 'overloaded_error');
  });
});

describe('local OpenAI-compatible upstream', () => {
  test('serves llama-2 style models by base_url', async () => {
    const r = await chat({ model: 'mock-local', messages: user('private data') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Mock reply from llama2: private data');
  });
});

describe('other endpoints', () => {
  test('embeddings (float and base64) pass through with the public model name', async () => {
    const r = await postJson(`${gw.base}/v1/embeddings`, { model: 'mock-gpt', input: ['a', 'b'], dimensions: 8 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'list');
    assert.equal(r.json.model, 'mock-gpt');
    assert.equal(r.json.data.length, 2);
    assert.equal(r.json.data[0].embedding.length, 8);
    assert.equal(r.json.data[1].index, 1);
    assert.ok(r.json.usage.prompt_tokens > 0);
    const b = await postJson(`${gw.base}/v1/embeddings`, { model: 'mock-gpt', input: 'a', encoding_format: 'base64', dimensions: 8 });
    assert.equal(b.status, 200, b.text);
    assert.equal(Buffer.from(b.json.data[0].embedding, 'base64').length, 32);
    const bad = await postJson(`${gw.base}/v1/embeddings`, { model: 'mock-claude', input: 'a' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /no embeddings API/);
  });

  test('models list and single model', async () => {
    const r = await fetch(`${gw.base}/v1/models`);
    const b = await r.json();
    assert.equal(b.object, 'list');
    assert.deepEqual(b.data.map((m) => m.id), ['mock-gpt', 'mock-claude', 'mock-local', 'dead-model', 'keyless-model']);
    assert.equal(b.data[0].object, 'model');
    const one = await (await fetch(`${gw.base}/v1/models/mock-claude`)).json();
    assert.equal(one.id, 'mock-claude');
    assert.equal(one.owned_by, 'anthropic');
    assert.equal((await fetch(`${gw.base}/v1/models/none`)).status, 404);
  });

  test('healthz and metrics', async () => {
    const h = await fetch(`${gw.base}/healthz`);
    assert.equal(h.status, 200);
    await chat({ model: 'mock-gpt', messages: user('count me') });
    // A request is recorded just after its response is written: poll briefly.
    let m = '';
    for (let i = 0; i < 50; i++) {
      m = await (await fetch(`${gw.base}/metrics`)).text();
      if (/switchyard_requests_in_flight 1\n/.test(m) && /status="200"\} [1-9]/.test(m)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(m, /# TYPE switchyard_requests_total counter/);
    assert.match(m, /switchyard_requests_total\{endpoint="chat_completions",model="mock-gpt",provider="openai",status="200"\} [1-9]/);
    assert.match(m, /switchyard_request_duration_seconds_bucket\{endpoint="chat_completions",model="mock-gpt",provider="openai",le="\+Inf"\} [1-9]/);
    assert.match(m, /switchyard_requests_in_flight 1\n/);  // the scrape itself
    assert.match(m, /switchyard_upstream_in_flight\{model="mock-gpt",provider="openai"\} 0/);
  });
});

describe('upstream connection pool', () => {
  test('plain and streamed answers reuse pooled upstream connections', async () => {
    // One keep-alive client connection: every request lands on the same worker thread,
    // whose pool holds one connection per upstream host.
    const body = (model, stream) => JSON.stringify({ model, stream,
      messages: [{ role: 'user', content: 'pool me' }] });
    const one = (model, stream) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body(model, stream))}\r\n\r\n${body(model, stream)}`;
    // Warm the pool, then count new upstream connections over 12 requests of all kinds.
    await chat({ model: 'mock-gpt', messages: user('warm') });
    await mock.resetStats();
    const net = await import('node:net');
    const sock = net.connect(gw.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d; });
    for (const [model, stream] of [['mock-gpt', false], ['mock-gpt', true], ['mock-claude', true],
      ['mock-claude', false], ['mock-gpt', true], ['mock-claude', true]]) {
      for (let i = 0; i < 2; i++) {
        const before = (got.match(/HTTP\/1\.1 200/g) || []).length;
        sock.write(one(model, stream));
        for (let t = 0; t < 200 && (got.match(/HTTP\/1\.1 200/g) || []).length === before; t++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, 30));  // let a stream finish
      }
    }
    sock.destroy();
    const stats = await mock.stats();
    assert.equal(stats.requests, 12, JSON.stringify(stats));
    // Without pooling every request would open one; streams used to (before the fix).
    assert.ok(stats.connections <= 1, `upstream connections opened: ${stats.connections}`);
  });
});

describe('upstream faults become clear errors', () => {
  test('429 keeps status and Retry-After', async () => {
    const r = await chat({ model: 'mock-gpt', messages: user('[[mock: status=429,retry_after=7]] x') });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal(r.json.error.type, 'rate_limit_error');
    assert.match(r.json.error.message, /mock-gpt/);
  });

  test('500 becomes 502 upstream_error, 503 stays 503', async () => {
    let r = await chat({ model: 'mock-gpt', messages: user('[[mock: status=500]] x') });
    assert.equal(r.status, 502);
    assert.equal(r.json.error.type, 'upstream_error');
    r = await chat({ model: 'mock-claude', messages: user('[[mock: status=500]] x') });
    assert.equal(r.status, 502);
    r = await chat({ model: 'mock-gpt', messages: user('[[mock: status=503]] x') });
    assert.equal(r.status, 503);
  });

  test('upstream 400 is the client\'s error and keeps the message', async () => {
    const r = await chat({ model: 'mock-gpt', messages: user('[[mock: status=400]] x') });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.type, 'invalid_request_error');
  });

  test('malformed upstream JSON becomes 502', async () => {
    const r = await chat({ model: 'mock-gpt', messages: user('[[mock: malformed=1]] x') });
    assert.equal(r.status, 502);
    assert.match(r.json.error.message, /malformed upstream/);
  });

  test('a hanging upstream hits the first-byte timeout on every retry (504), each call aborted', async () => {
    await mock.resetStats();
    const t0 = Date.now();
    const r = await chat({ model: 'mock-gpt', messages: user('[[mock: hang=1]] x') });
    const took = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.equal(r.json.error.type, 'timeout_error');
    assert.match(r.json.error.message, /first-byte timeout/);
    // resilience.retry.max_attempts is 3 in the test config: three 1.5 s timeouts.
    assert.equal(r.headers.get('x-switchyard-attempts'), '3');
    assert.ok(took >= 3 * 1400 && took < 8000, `took ${took}`);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal((await mock.stats()).cancelled, 3);
  });

  test('connection refused and missing key', async () => {
    let r = await chat({ model: 'dead-model', messages: user('x') });
    assert.equal(r.status, 502);
    assert.match(r.json.error.message, /cannot connect/);
    r = await chat({ model: 'keyless-model', messages: user('x') });
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'upstream_key_missing');
    assert.match(r.json.error.message, /SY_TEST_UNSET_KEY_VARIABLE/);
  });

  test('reset mid-stream ends the SSE stream with an error event', async () => {
    const r = await chat({ model: 'mock-gpt', stream: true, messages: user('[[mock: reset_after_chunks=2,words=10]] x') });
    assert.equal(r.status, 200);
    const events = parseSse(r.text);
    assert.notEqual(events.at(-1).data, '[DONE]');
    assert.ok(events.at(-1).data.error, r.text);
    assert.equal(events.at(-1).data.error.type, 'upstream_error');
  });

  test('a stalled stream hits the between-chunks timeout', async () => {
    const r = await chat({ model: 'mock-gpt', stream: true, messages: user('[[mock: chunk_delay_ms=1500,words=3]] x') });
    const events = parseSse(r.text);
    assert.equal(events.at(-1).data.error.type, 'timeout_error');
  });

  test('an upstream error event mid-stream is forwarded (both APIs)', async () => {
    const r = await chat({ model: 'mock-claude', stream: true, messages: user('[[mock: error_event=1]] x') });
    const last = parseSse(r.text).at(-1);
    assert.ok(last.data.error, r.text);
    const m = await messages({ model: 'mock-claude', max_tokens: 10, stream: true, messages: user('[[mock: error_event=1]] x') });
    const ev = parseSse(m.text).at(-1);
    assert.equal(ev.event, 'error');
    assert.equal(ev.data.type, 'error');
  });

  test('upstream errors are counted in metrics', async () => {
    await chat({ model: 'mock-gpt', messages: user('[[mock: status=500]] x') });
    const re = /switchyard_upstream_errors_total\{model="mock-gpt",provider="openai",kind="upstream_error"\} [1-9]/;
    let m = '';
    for (let i = 0; i < 50 && !re.test(m); i++) {
      m = await (await fetch(`${gw.base}/metrics`)).text();
      if (!re.test(m)) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(m, re);
  });
});
