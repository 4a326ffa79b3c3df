// End-to-end: the official `openai` npm client against the real gateway binary in front of the
// mock upstream. What a user of the SDK sees: typed responses, streaming (raw iterator and the
// stream helper), tools, embeddings (the SDK's base64 default), models, and every error as the
// SDK's own exception class. Upstreams: OpenAI (mock-gpt), Anthropic (mock-claude), local
// Ollama-style (mock-local).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, {
  APIError, APIUserAbortError, BadRequestError, InternalServerError, NotFoundError, RateLimitError,
} from 'openai';
import { startMock, startGateway, stopStack } from '../integration/harness.mjs';

let mock;
let gw;
let client;

before(async () => {
  mock = await startMock();
  gw = await startGateway(mock.port);
  client = new OpenAI({ baseURL: `${gw.base}/v1`, apiKey: 'anything', maxRetries: 0, timeout: 20000 });
});

after(() => stopStack(gw, mock));

const user = (text) => [{ role: 'user', content: text }];
const words = (text) => text.split(/\s+/).filter(Boolean).length;
// The mock's answer and token counts (tools/mock-llm): "Mock reply from <upstream>: <text>";
// prompt = words + 3 per message; completion = words of the reply.
const UPSTREAM = { 'mock-gpt': 'gpt-4-turbo-upstream', 'mock-claude': 'claude-upstream', 'mock-local': 'llama2' };
const reply = (model, text) => `Mock reply from ${UPSTREAM[model]}: ${text}`;

const searchTool = {
  type: 'function',
  function: {
    name: 'search', description: 'Search the web',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
};

// assert.rejects with the SDK class and a check of the error's fields.
async function rejectsWith(promiseOrFn, ErrorClass, check = () => {}) {
  let caught;
  await assert.rejects(promiseOrFn, (err) => { caught = err; return true; });
  assert.ok(caught instanceof ErrorClass,
    `expected ${ErrorClass.name}, got ${caught?.constructor?.name}: ${caught?.message}`);
  check(caught);
  return caught;
}

// Waits until the mock has no request in flight (a cancelled upstream call is counted when the
// mock notices the gateway went away).
async function mockIdle(timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  let stats;
  while (Date.now() < deadline) {
    stats = await mock.stats();
    if (stats.in_flight === 0) return stats;
    await new Promise((r) => setTimeout(r, 50));
  }
  return stats;
}

async function stillServing() {
  const c = await client.chat.completions.create({ model: 'mock-gpt', messages: user('still alive') });
  assert.equal(c.choices[0].message.content, reply('mock-gpt', 'still alive'));
}

for (const model of ['mock-gpt', 'mock-claude', 'mock-local']) {
  describe(`chat completions through ${model}`, () => {
    test('non-streaming create: content, usage, model, id', async () => {
      const c = await client.chat.completions.create({ model, messages: user('hello there') });
      assert.match(c.id, /^chatcmpl-/);
      assert.equal(c.object, 'chat.completion');
      assert.equal(c.model, model);
      assert.equal(typeof c.created, 'number');
      assert.equal(c.choices.length, 1);
      assert.equal(c.choices[0].index, 0);
      assert.equal(c.choices[0].message.role, 'assistant');
      assert.equal(c.choices[0].message.content, reply(model, 'hello there'));
      assert.equal(c.choices[0].finish_reason, 'stop');
      const completion = words(reply(model, 'hello there'));
      assert.equal(c.usage.completion_tokens, completion);
      assert.ok(c.usage.prompt_tokens > 0);
      assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + completion);
      if (model !== 'mock-claude') assert.equal(c.usage.prompt_tokens, 2 + 3);
      assert.equal(typeof c._request_id, 'string', 'x-request-id header exposed as _request_id');
    });

    test('system prompt and multi-turn history', async () => {
      const c = await client.chat.completions.create({
        model, messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'first question' },
          { role: 'assistant', content: 'first answer' },
          { role: 'user', content: 'second question' },
        ],
      });
      assert.equal(c.choices[0].message.content, reply(model, 'second question'));
      assert.equal(c.choices[0].finish_reason, 'stop');
    });

    test('streaming create with include_usage: role first, stable id, same text, usage last', async () => {
      const prompt = 'stream me please';
      const plain = await client.chat.completions.create({ model, messages: user(prompt) });
      const stream = await client.chat.completions.create({
        model, messages: user(prompt), stream: true, stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);
      assert.equal(chunks[0].choices[0].delta.role, 'assistant');
      const ids = new Set(chunks.map((c) => c.id));
      assert.equal(ids.size, 1, `ids: ${[...ids]}`);
      assert.match([...ids][0], /^chatcmpl-/);
      for (const c of chunks) {
        assert.equal(c.object, 'chat.completion.chunk');
        assert.equal(c.model, model);
      }
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      assert.equal(text, plain.choices[0].message.content);
      const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
      assert.equal(finishes.length, 1);
      assert.equal(finishes[0].choices[0].finish_reason, 'stop');
      const last = chunks.at(-1);
      assert.deepEqual(last.choices, []);
      assert.deepEqual(last.usage, plain.usage);
      for (const c of chunks.slice(0, -1)) assert.ok(c.usage == null, 'usage only on the last chunk');
    });

    test('stream helper: content events and finalChatCompletion()', async () => {
      const prompt = 'helper stream';
      const stream = client.chat.completions.stream({
        model, messages: user(prompt), stream_options: { include_usage: true },
      });
      let deltas = '';
      stream.on('content', (delta) => { deltas += delta; });
      const final = await stream.finalChatCompletion();
      assert.equal(deltas, reply(model, prompt));
      assert.match(final.id, /^chatcmpl-/);
      assert.equal(final.model, model);
      assert.equal(final.choices[0].message.role, 'assistant');
      assert.equal(final.choices[0].message.content, reply(model, prompt));
      assert.equal(final.choices[0].finish_reason, 'stop');
      assert.equal(final.usage.completion_tokens, words(reply(model, prompt)));
      assert.equal(await stream.finalContent(), reply(model, prompt));
    });

    test('max_tokens cuts the answer with finish_reason length', async () => {
      const c = await client.chat.completions.create({ model, messages: user('a long answer please'), max_tokens: 3 });
      assert.equal(c.choices[0].message.content, 'Mock reply from');
      assert.equal(c.choices[0].finish_reason, 'length');
      assert.equal(c.usage.completion_tokens, 3);
    });
  });
}

for (const model of ['mock-gpt', 'mock-claude']) {
  describe(`tool calls through ${model}`, () => {
    test('non-streaming: tool_calls returned, then the tool result is answered', async () => {
      const c = await client.chat.completions.create({
        model, messages: user('find cats'), tools: [searchTool], tool_choice: 'auto',
      });
      const choice = c.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.role, 'assistant');
      assert.ok(choice.message.content == null || choice.message.content === '');
      assert.equal(choice.message.tool_calls.length, 1);
      const call = choice.message.tool_calls[0];
      assert.equal(call.type, 'function');
      assert.ok(call.id.length > 0);
      assert.equal(call.function.name, 'search');
      assert.deepEqual(JSON.parse(call.function.arguments), { query: 'find cats' });

      const c2 = await client.chat.completions.create({
        model, tools: [searchTool], messages: [
          ...user('find cats'), choice.message,
          { role: 'tool', tool_call_id: call.id, content: '3 cats found' },
        ],
      });
      assert.equal(c2.choices[0].finish_reason, 'stop');
      assert.equal(c2.choices[0].message.content, reply(model, 'tool result received'));
    });

    test('streamed: raw deltas and the helper accumulate one complete tool call', async () => {
      const stream = await client.chat.completions.create({
        model, messages: user('weather in Oslo'), tools: [searchTool], stream: true,
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
      assert.ok(deltas.length >= 1);
      assert.equal(deltas[0].index, 0);
      assert.ok(deltas[0].id?.length > 0);
      assert.equal(deltas[0].type, 'function');
      assert.equal(deltas[0].function.name, 'search');
      assert.deepEqual(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { query: 'weather in Oslo' });

      const helper = client.chat.completions.stream({ model, messages: user('weather in Oslo'), tools: [searchTool] });
      const done = [];
      helper.on('tool_calls.function.arguments.done', (e) => done.push(e));
      const final = await helper.finalChatCompletion();
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      const calls = final.choices[0].message.tool_calls;
      assert.equal(calls.length, 1);
      assert.equal(calls[0].type, 'function');
      assert.equal(calls[0].function.name, 'search');
      assert.deepEqual(JSON.parse(calls[0].function.arguments), { query: 'weather in Oslo' });
      assert.equal(done.length, 1);
      assert.equal(done[0].name, 'search');
    });
  });
}

describe('embeddings', () => {
  const norm = (v) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

  test('default request: the SDK asks for base64 and decodes unit vectors', async () => {
    const r = await client.embeddings.create({ model: 'mock-gpt', input: ['alpha', 'beta'], dimensions: 12 });
    const last = await mock.lastRequest();
    assert.equal(last.path, '/v1/embeddings');
    assert.equal(r.object, 'list');
    assert.equal(r.model, 'mock-gpt');
    assert.equal(r.data.length, 2);
    for (const [i, d] of r.data.entries()) {
      assert.equal(d.object, 'embedding');
      assert.equal(d.index, i);
      assert.equal(d.embedding.length, 12);
      assert.ok(Array.from(d.embedding).every(Number.isFinite));
      assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-4, `norm ${norm(d.embedding)}`);
    }
    assert.notDeepEqual(Array.from(r.data[0].embedding), Array.from(r.data[1].embedding));
    assert.ok(r.usage.prompt_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
  });

  test("encoding_format 'float' returns the same vectors as plain numbers", async () => {
    const f = await client.embeddings.create({ model: 'mock-gpt', input: 'alpha', dimensions: 12, encoding_format: 'float' });
    assert.equal(f.data.length, 1);
    assert.ok(Array.isArray(f.data[0].embedding));
    assert.equal(f.data[0].embedding.length, 12);
    assert.ok(Math.abs(norm(f.data[0].embedding) - 1) < 1e-4);
    const b = await client.embeddings.create({ model: 'mock-gpt', input: 'alpha', dimensions: 12 });
    const decoded = Array.from(b.data[0].embedding);
    f.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - decoded[i]) < 1e-6, `component ${i}: ${x} vs ${decoded[i]}`));
  });

  test('a model without an embeddings API is a BadRequestError', async () => {
    await rejectsWith(client.embeddings.create({ model: 'mock-claude', input: 'x' }), BadRequestError, (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.type, 'invalid_request_error');
    });
  });
});

describe('models', () => {
  test('list (iterating the page) and retrieve', async () => {
    const ids = [];
    for await (const m of client.models.list()) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      assert.equal(typeof m.owned_by, 'string');
      ids.push(m.id);
    }
    assert.deepEqual(ids, ['mock-gpt', 'mock-claude', 'mock-local', 'dead-model', 'keyless-model']);
    const page = await client.models.list();
    assert.equal(page.data.length, 5);
    assert.equal(page.hasNextPage(), false);

    const one = await client.models.retrieve('mock-claude');
    assert.equal(one.id, 'mock-claude');
    assert.equal(one.object, 'model');
    assert.equal(one.owned_by, 'anthropic');
    await rejectsWith(client.models.retrieve('no-such-model'), NotFoundError, (e) => assert.equal(e.status, 404));
  });
});

describe('errors are the SDK exception classes', () => {
  test('unknown model: NotFoundError with code model_not_found', async () => {
    await rejectsWith(client.chat.completions.create({ model: 'no-such-model', messages: user('x') }), NotFoundError, (e) => {
      assert.equal(e.status, 404);
      assert.equal(e.code, 'model_not_found');
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, 'model');
      assert.match(e.message, /no-such-model/);
    });
    await rejectsWith(client.chat.completions.create({ model: 'no-such-model', messages: user('x'), stream: true }),
      NotFoundError, (e) => assert.equal(e.code, 'model_not_found'));
  });

  test('upstream 429: RateLimitError with Retry-After visible on the error', async () => {
    await mock.resetStats();
    await rejectsWith(client.chat.completions.create({ model: 'mock-gpt', messages: user('[[mock: status=429,retry_after=1]] x') }),
      RateLimitError, (e) => {
        assert.equal(e.status, 429);
        assert.equal(e.headers.get('retry-after'), '1');
        assert.equal(e.type, 'rate_limit_error');
      });
    // maxRetries 0: the SDK does not retry, but the gateway waits out the short Retry-After
    // itself (resilience.retry.max_attempts = 3 in the test config) before passing the 429 on.
    assert.equal((await mock.stats()).requests, 3);
  });

  test('the SDK honours Retry-After and its retry succeeds', async () => {
    const retrying = new OpenAI({ baseURL: `${gw.base}/v1`, apiKey: 'anything', maxRetries: 1 });
    const t0 = Date.now();
    const c = await retrying.chat.completions.create({
      model: 'mock-gpt', messages: user('[[mock: status=429,retry_after=1,fail_first=1,key=e2e-openai-retry]] retried'),
    });
    assert.equal(c.choices[0].message.content, reply('mock-gpt', 'retried'));
    assert.ok(Date.now() - t0 >= 900, `retried after ${Date.now() - t0} ms, Retry-After was 1 s`);
  });

  test('invalid input: BadRequestError naming the parameter', async () => {
    await rejectsWith(client.chat.completions.create({ model: 'mock-gpt', messages: [] }), BadRequestError, (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, 'messages');
    });
    await rejectsWith(client.chat.completions.create({ model: 'mock-gpt', messages: user('x'), temperature: 'hot' }),
      BadRequestError, (e) => assert.equal(e.param, 'temperature'));
  });

  test('upstream 5xx: InternalServerError with status 502', async () => {
    for (const model of ['mock-gpt', 'mock-claude']) {
      await rejectsWith(client.chat.completions.create({ model, messages: user('[[mock: status=500]] x') }),
        InternalServerError, (e) => {
          assert.equal(e.status, 502);
          assert.ok(e instanceof APIError);
          assert.equal(e.type, 'upstream_error');
        });
    }
  });

  test('upstream reset mid-stream: APIError thrown while iterating', async () => {
    for (const model of ['mock-gpt', 'mock-claude']) {
      const stream = await client.chat.completions.create({
        model, stream: true, messages: user('[[mock: reset_after_chunks=2,words=10]] x'),
      });
      const got = [];
      await rejectsWith(async () => { for await (const chunk of stream) got.push(chunk); }, APIError, (e) => {
        assert.equal(e.status, undefined);
        assert.ok(e.message.length > 0);
      });
      assert.ok(got.length >= 1, 'chunks before the reset were delivered');
      assert.ok(got.length < 10, `stream should not have completed (${got.length} chunks)`);
    }
    await stillServing();
  });

  test('upstream error event mid-stream: the stream helper rejects', async () => {
    const stream = client.chat.completions.stream({ model: 'mock-claude', messages: user('[[mock: error_event=1]] x') });
    await rejectsWith(stream.finalChatCompletion(), APIError);
    await stillServing();
  });
});

describe('client-side abort', () => {
  test('AbortController ends the stream; the upstream call is cancelled; the gateway keeps serving', async () => {
    await mock.resetStats();
    const ac = new AbortController();
    const stream = await client.chat.completions.create({
      model: 'mock-gpt', stream: true, messages: user('[[mock: chunk_delay_ms=200,words=30]] slow'),
    }, { signal: ac.signal });
    let n = 0;
    const t0 = Date.now();
    try {
      for await (const chunk of stream) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        if (++n === 2) ac.abort();
      }
    } catch (e) {
      // The SDK ends its iterator quietly on abort; an abort error is acceptable too.
      assert.ok(e instanceof APIUserAbortError || e.name === 'AbortError', `unexpected ${e}`);
    }
    assert.equal(n, 2);
    assert.ok(Date.now() - t0 < 3000, 'the stream ended at once, not after the upstream finished');
    const stats = await mockIdle();
    assert.equal(stats.in_flight, 0, 'the gateway stopped the upstream call');
    assert.equal(stats.cancelled, 1);
    await stillServing();
  });

  test('breaking out of the iterator also releases the upstream', async () => {
    await mock.resetStats();
    const stream = await client.chat.completions.create({
      model: 'mock-claude', stream: true, messages: user('[[mock: chunk_delay_ms=200,words=30]] slow'),
    });
    for await (const chunk of stream) { assert.ok(chunk.id); break; }
    const stats = await mockIdle();
    assert.equal(stats.in_flight, 0);
    assert.equal(stats.cancelled, 1);
    await stillServing();
  });
});
