// End-to-end: the official `@anthropic-ai/sdk` npm client against the real gateway's
// Anthropic Messages API (/v1/messages), in front of the mock upstream. Both an Anthropic
// upstream (mock-claude) and, translated, an OpenAI one (mock-gpt): plain and streamed messages
// (the stream helper and raw events), tool use round trips, and errors as the SDK's classes.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic, {
  APIError, BadRequestError, InternalServerError, NotFoundError, RateLimitError,
} from '@anthropic-ai/sdk';
import { startMock, startGateway, stopStack } from '../integration/harness.mjs';

let mock;
let gw;
let client;

before(async () => {
  mock = await startMock();
  gw = await startGateway(mock.port);
  client = new Anthropic({ baseURL: gw.base, apiKey: 'anything', maxRetries: 0, timeout: 20000 });
});

after(() => stopStack(gw, mock));

const user = (text) => [{ role: 'user', content: text }];
const words = (text) => text.split(/\s+/).filter(Boolean).length;
// The mock's answer (tools/mock-llm): "Mock reply from <upstream model>: <last user text>";
// completion tokens = words of the reply.
const UPSTREAM = { 'mock-gpt': 'gpt-4-turbo-upstream', 'mock-claude': 'claude-upstream' };
const reply = (model, text) => `Mock reply from ${UPSTREAM[model]}: ${text}`;

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a place',
  input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

async function rejectsWith(promiseOrFn, ErrorClass, check = () => {}) {
  let caught;
  await assert.rejects(promiseOrFn, (err) => { caught = err; return true; });
  assert.ok(caught instanceof ErrorClass,
    `expected ${ErrorClass.name}, got ${caught?.constructor?.name}: ${caught?.message}`);
  check(caught);
  return caught;
}

async function stillServing() {
  const m = await client.messages.create({ model: 'mock-claude', max_tokens: 50, messages: user('still alive') });
  assert.equal(m.content[0].text, reply('mock-claude', 'still alive'));
}

for (const model of ['mock-claude', 'mock-gpt']) {
  describe(`messages through ${model}`, () => {
    test('create with a system prompt: text block, stop_reason, usage', async () => {
      const m = await client.messages.create({
        model, max_tokens: 100, system: 'You are kind.', messages: user('hello anthropic'),
      });
      assert.equal(m.type, 'message');
      assert.equal(m.role, 'assistant');
      assert.match(m.id, /^msg_/);
      assert.equal(m.model, model);
      assert.equal(m.content.length, 1);
      assert.equal(m.content[0].type, 'text');
      assert.equal(m.content[0].text, reply(model, 'hello anthropic'));
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.stop_sequence, null);
      assert.ok(m.usage.input_tokens > 0);
      assert.equal(m.usage.output_tokens, words(reply(model, 'hello anthropic')));
      const last = await mock.lastRequest();
      assert.ok(JSON.stringify(last.body).includes('You are kind.'), 'system prompt reached the upstream');
    });

    test('system as text blocks, multi-turn history and max_tokens stop', async () => {
      const m = await client.messages.create({
        model, max_tokens: 3,
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
          { role: 'user', content: [{ type: 'text', text: 'second turn here' }] },
        ],
      });
      assert.equal(m.content[0].text, 'Mock reply from');
      assert.equal(m.stop_reason, 'max_tokens');
      assert.equal(m.usage.output_tokens, 3);
    });

    test('messages.stream helper: text events, finalMessage() and finalText()', async () => {
      const prompt = 'stream it please';
      const plain = await client.messages.create({ model, max_tokens: 100, messages: user(prompt) });
      const stream = client.messages.stream({ model, max_tokens: 100, system: 'Sys', messages: user(prompt) });
      let text = '';
      stream.on('text', (delta) => { text += delta; });
      const final = await stream.finalMessage();
      assert.equal(text, reply(model, prompt));
      assert.match(final.id, /^msg_/);
      assert.equal(final.model, model);
      assert.equal(final.role, 'assistant');
      assert.deepEqual(final.content.map((b) => [b.type, b.text]), [['text', reply(model, prompt)]]);
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.output_tokens, plain.usage.output_tokens);
      assert.ok(final.usage.input_tokens > 0);
      assert.equal(await stream.finalText(), reply(model, prompt));
    });

    test('create({stream: true}): raw events in order', async () => {
      const stream = await client.messages.create({ model, max_tokens: 100, stream: true, messages: user('raw events') });
      const events = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type);
      assert.equal(types[0], 'message_start');
      assert.equal(types.at(-1), 'message_stop');
      assert.equal(types.at(-2), 'message_delta');
      const start = events[0].message;
      assert.match(start.id, /^msg_/);
      assert.equal(start.type, 'message');
      assert.equal(start.role, 'assistant');
      assert.equal(start.model, model);
      assert.deepEqual(start.content, []);
      // One text block: start, deltas, stop, all with index 0, between message_start and message_delta.
      const middle = types.slice(1, -2);
      assert.equal(middle[0], 'content_block_start');
      assert.equal(middle.at(-1), 'content_block_stop');
      assert.ok(middle.slice(1, -1).every((t) => t === 'content_block_delta'), types.join(' '));
      assert.ok(middle.length >= 3);
      const blockEvents = events.filter((e) => e.type.startsWith('content_block'));
      assert.ok(blockEvents.every((e) => e.index === 0));
      assert.equal(blockEvents[0].content_block.type, 'text');
      assert.equal(blockEvents[0].content_block.text, '');
      const text = blockEvents.filter((e) => e.type === 'content_block_delta')
        .map((e) => { assert.equal(e.delta.type, 'text_delta'); return e.delta.text; }).join('');
      assert.equal(text, reply(model, 'raw events'));
      const delta = events.at(-2);
      assert.equal(delta.delta.stop_reason, 'end_turn');
      assert.equal(delta.usage.output_tokens, words(reply(model, 'raw events')));
      const inputTokens = delta.usage.input_tokens ?? start.usage.input_tokens;
      assert.equal(inputTokens, 2 + 3, 'prompt tokens: 2 words + 3 per message');
      // The Messages API reports the prompt's tokens in message_start. An Anthropic upstream sends
      // them there, so they must pass through; an OpenAI upstream reports usage only at the end,
      // so there the gateway may send 0 first and the real count in message_delta.
      if (model === 'mock-claude') assert.ok(start.usage.input_tokens > 0, `message_start usage ${JSON.stringify(start.usage)}`);
      else assert.equal(typeof start.usage.input_tokens, 'number');
    });

    test('tool use round trip: tool_use block, then the tool_result is answered', async () => {
      const m = await client.messages.create({
        model, max_tokens: 200, tools: [weatherTool], messages: user('weather in Oslo'),
      });
      assert.equal(m.stop_reason, 'tool_use');
      const uses = m.content.filter((b) => b.type === 'tool_use');
      assert.equal(uses.length, 1);
      const use = uses[0];
      assert.ok(use.id.length > 0);
      assert.equal(use.name, 'get_weather');
      assert.deepEqual(use.input, { query: 'weather in Oslo' });

      const m2 = await client.messages.create({
        model, max_tokens: 200, tools: [weatherTool], messages: [
          ...user('weather in Oslo'),
          { role: 'assistant', content: m.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny, 21 C' }] },
        ],
      });
      assert.equal(m2.stop_reason, 'end_turn');
      assert.equal(m2.content[0].type, 'text');
      assert.equal(m2.content[0].text, reply(model, 'tool result received'));
    });

    test('streamed tool use: the helper accumulates the input JSON', async () => {
      const stream = client.messages.stream({ model, max_tokens: 200, tools: [weatherTool], messages: user('rain in Bergen') });
      let partial = '';
      stream.on('inputJson', (delta) => { partial += delta; });
      const final = await stream.finalMessage();
      assert.equal(final.stop_reason, 'tool_use');
      const use = final.content.find((b) => b.type === 'tool_use');
      assert.ok(use, JSON.stringify(final.content));
      assert.equal(use.name, 'get_weather');
      assert.ok(use.id.length > 0);
      assert.deepEqual(use.input, { query: 'rain in Bergen' });
      assert.deepEqual(JSON.parse(partial), { query: 'rain in Bergen' });
    });
  });
}

describe('errors are the SDK exception classes', () => {
  test('unknown model: NotFoundError', async () => {
    await rejectsWith(client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: user('x') }),
      NotFoundError, (e) => {
        assert.equal(e.status, 404);
        assert.equal(e.type, 'not_found_error');
        assert.equal(e.error.type, 'error');
        assert.match(e.message, /no-such-model/);
      });
    await rejectsWith(client.messages.stream({ model: 'no-such-model', max_tokens: 10, messages: user('x') }).finalMessage(),
      NotFoundError);
  });

  test('missing max_tokens: BadRequestError', async () => {
    await rejectsWith(client.messages.create({ model: 'mock-claude', messages: user('no max tokens') }),
      BadRequestError, (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.type, 'invalid_request_error');
        assert.match(e.message, /max_tokens/);
      });
  });

  test('other invalid input: BadRequestError', async () => {
    await rejectsWith(client.messages.create({ model: 'mock-claude', max_tokens: 10, messages: [] }), BadRequestError,
      (e) => assert.equal(e.type, 'invalid_request_error'));
    await rejectsWith(client.messages.create({ model: 'mock-claude', max_tokens: 'ten', messages: user('x') }), BadRequestError,
      (e) => assert.match(e.message, /max_tokens/));
  });

  test('upstream 429: RateLimitError with Retry-After', async () => {
    for (const model of ['mock-claude', 'mock-gpt']) {
      await rejectsWith(client.messages.create({ model, max_tokens: 10, messages: user('[[mock: status=429,retry_after=2]] x') }),
        RateLimitError, (e) => {
          assert.equal(e.status, 429);
          assert.equal(e.type, 'rate_limit_error');
          assert.equal(e.headers.get('retry-after'), '2');
        });
    }
    await rejectsWith(client.messages.create({ model: 'mock-claude', max_tokens: 10, messages: user('[[mock: status=429]] x') }),
      RateLimitError);
  });

  test('upstream 5xx: InternalServerError', async () => {
    await rejectsWith(client.messages.create({ model: 'mock-claude', max_tokens: 10, messages: user('[[mock: status=500]] x') }),
      InternalServerError, (e) => {
        assert.ok(e.status >= 500);
        assert.equal(e.type, 'api_error');
      });
    await rejectsWith(client.messages.create({ model: 'mock-claude', max_tokens: 10, messages: user('[[mock: status=529]] busy') }),
      InternalServerError, (e) => assert.equal(e.type, 'overloaded_error'));
  });

  test('error event mid-stream: raw iteration throws APIError', async () => {
    for (const model of ['mock-claude', 'mock-gpt']) {
      const stream = await client.messages.create({
        model, max_tokens: 100, stream: true, messages: user('[[mock: error_event=1]] x'),
      });
      const seen = [];
      await rejectsWith(async () => { for await (const event of stream) seen.push(event.type); }, APIError, (e) => {
        assert.equal(e.status, undefined);
        assert.equal(e.error?.type, 'error');
        assert.equal(typeof e.type, 'string');
      });
      assert.equal(seen[0], 'message_start', `${model}: ${seen.join(' ')}`);
      assert.ok(!seen.includes('message_stop'), `${model}: ${seen.join(' ')}`);
    }
  });

  test('error event mid-stream: the stream helper rejects finalMessage()', async () => {
    const stream = client.messages.stream({ model: 'mock-claude', max_tokens: 100, messages: user('[[mock: error_event=1]] x') });
    await rejectsWith(stream.finalMessage(), APIError, (e) => assert.equal(typeof e.type, 'string'));
    await stillServing();
  });

  test('upstream reset mid-stream surfaces as an exception, and the gateway keeps serving', async () => {
    for (const model of ['mock-claude', 'mock-gpt']) {
      const stream = client.messages.stream({
        model, max_tokens: 100, messages: user('[[mock: reset_after_chunks=2,words=10]] x'),
      });
      await rejectsWith(stream.finalMessage(), APIError);
    }
    await stillServing();
  });
});

describe('client-side abort', () => {
  test('aborting a stream releases the upstream and the gateway keeps serving', async () => {
    await mock.resetStats();
    const stream = client.messages.stream({
      model: 'mock-claude', max_tokens: 100, messages: user('[[mock: chunk_delay_ms=200,words=30]] slow'),
    });
    let deltas = 0;
    stream.on('text', () => { if (++deltas === 2) stream.abort(); });
    await assert.rejects(stream.finalMessage(), (e) => e.name === 'APIUserAbortError' || e instanceof APIError);
    assert.ok(deltas >= 2 && deltas < 30, `${deltas} text deltas`);
    const deadline = Date.now() + 3000;
    let stats = await mock.stats();
    while (stats.in_flight !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      stats = await mock.stats();
    }
    assert.equal(stats.in_flight, 0, 'the gateway stopped the upstream call');
    assert.equal(stats.cancelled, 1);
    await stillServing();
  });
});
