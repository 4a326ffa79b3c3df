// End-to-end: routing and failover as a user of the official SDKs sees them. Two mock
// upstreams, "remote" (the cloud models) and "local" (models on our own hardware), so a test
// can tell which one a request reached. The SDKs' own retries are off (maxRetries: 0): every
// retry and failover here is the gateway's. The HTTP-level tests of the same features are in
// tests/integration/failover_test.mjs.
import { test, before, after, afterEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIError } from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMock, startGateway, stopStack, seedCatalog, SEED_ROUTING } from '../integration/harness.mjs';

const user = (text) => [{ role: 'user', content: text }];
const T = { timeout: 20000 };

const catalog = seedCatalog;
const ROUTING = SEED_ROUTING;

// Three attempts per model, quick backoff, breaker off: failover is deterministic.
const RESILIENCE = `  retry: {max_attempts: 3, base_delay_ms: 10, max_delay_ms: 50}
  breaker: {consecutive_failures: 0, minimum_calls: 100000}`;

const CODE_PROMPT = 'Write a Python function that parses ISO-8601 dates and add unit tests for it.';

let remote, local, gw, openai, anthropic;

// A fresh stack per suite: the router ranks by live error rates, so the failures injected in
// one suite must not steer model auto in the next.
function withStack() {
  before(async () => {
    remote = await startMock();
    local = await startMock();
    gw = await startGateway(remote.port, {
      models: catalog(remote.base, local.base), routing: ROUTING, resilience: RESILIENCE,
    });
    openai = new OpenAI({ baseURL: `${gw.base}/v1`, apiKey: 'anything', maxRetries: 0, timeout: 15000 });
    anthropic = new Anthropic({ baseURL: gw.base, apiKey: 'anything', maxRetries: 0, timeout: 15000 });
  });
  // No fault rule outlives its test, even a failed one.
  afterEach(async () => {
    await remote?.clearFaults();
    await local?.clearFaults();
  });
  after(async () => {
    await stopStack(gw, remote);
    await local?.stop();
  });
}

describe('routing and failover through the openai SDK', () => {
  withStack();

  test('model auto sends a code prompt to gpt-4-turbo and says so in the headers', T, async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'auto', messages: user(CODE_PROMPT) }).withResponse();
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4-turbo');
    assert.match(response.headers.get('x-switchyard-route') ?? '', /^auto; policy code-and-reasoning/);
    assert.equal(response.headers.get('x-switchyard-attempts'), '1');
    assert.equal(data.model, 'gpt-4-turbo');
    assert.equal(data.choices[0].message.content, `Mock reply from up-gpt: ${CODE_PROMPT}`);
    assert.equal(data.choices[0].finish_reason, 'stop');
  });

  test('500s on the requested model: the SDK gets a normal completion from the fallback', T, async () => {
    await remote.resetStats();
    await remote.addFault({ fault: 'status=500', model: 'up-gpt', count: 10 });
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4-turbo', messages: user('hello failover') }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.model, 'claude-3-5-sonnet');
    assert.equal(data.choices[0].message.content, 'Mock reply from up-claude: hello failover');
    assert.equal(response.headers.get('x-switchyard-model'), 'claude-3-5-sonnet');
    assert.ok(Number(response.headers.get('x-switchyard-attempts')) > 1,
      `attempts: ${response.headers.get('x-switchyard-attempts')}`);
    const s = await remote.stats();
    assert.equal(s.by_model['up-gpt'], 3, 'three tries of gpt-4-turbo before failing over');
    assert.equal(s.by_model['up-claude'], 1);
  });

  test('a stream whose first model fails before the first byte completes from the fallback', T, async () => {
    await remote.addFault({ fault: 'status=500', model: 'up-gpt', count: 3 });
    const { data: stream, response } = await openai.chat.completions.create({
      model: 'gpt-4-turbo', stream: true, stream_options: { include_usage: true },
      messages: user('stream me through failover'),
    }).withResponse();
    assert.equal(response.headers.get('x-switchyard-model'), 'claude-3-5-sonnet');
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk); // throws on an error event
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'Mock reply from up-claude: stream me through failover');
    assert.ok(chunks.every((c) => c.model === 'claude-3-5-sonnet'), [...new Set(chunks.map((c) => c.model))].join());
    assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'), 'the stream has a finish reason');
    assert.ok(chunks.at(-1).usage?.completion_tokens > 0, 'usage arrives at the end');
  });

  test('a prompt with an e-mail address on auto is answered locally; the remote sees nothing', T, async () => {
    await remote.resetStats();
    await local.resetStats();
    const prompt = 'Draft a reply to jane.doe@example.com about her overdue invoice, politely.';
    const { data, response } = await openai.chat.completions
      .create({ model: 'auto', messages: user(prompt) }).withResponse();
    assert.equal(response.headers.get('x-switchyard-model'), 'llama-2');
    assert.equal(data.choices[0].message.content, `Mock reply from up-llama: ${prompt}`);
    assert.equal((await remote.stats()).requests, 0, 'the remote mock must receive nothing');
    assert.equal((await local.stats()).by_model['up-llama'], 1);
  });

  test('a complete outage throws an APIError 503 with code all_candidates_failed', T, async () => {
    await remote.addFault({ fault: 'status=503', count: 100 });
    await local.addFault({ fault: 'status=502', count: 100 });
    let caught;
    await assert.rejects(
      openai.chat.completions.create({ model: 'gpt-4-turbo', messages: user('anyone there?') }),
      (err) => { caught = err; return true; });
    assert.ok(caught instanceof APIError, `${caught?.constructor?.name}: ${caught?.message}`);
    assert.equal(caught.status, 503);
    assert.equal(caught.code ?? caught.error?.code, 'all_candidates_failed');
    assert.match(caught.message, /gpt-4-turbo/);
    assert.equal(caught.headers?.get('x-switchyard-attempts'), '6');

    // The outage is over once the faults go: the same SDK call works again.
    await remote.clearFaults();
    await local.clearFaults();
    const ok = await openai.chat.completions.create({ model: 'gpt-4-turbo', messages: user('back?') });
    assert.equal(ok.choices[0].message.content, 'Mock reply from up-gpt: back?');
  });

  test('the route/private alias keeps a plain prompt on a local model', T, async () => {
    await remote.resetStats();
    const prompt = 'Explain recursion with an example in JavaScript.';
    const { data, response } = await openai.chat.completions
      .create({ model: 'route/private', messages: user(prompt) }).withResponse();
    const model = response.headers.get('x-switchyard-model');
    assert.ok(['llama-2', 'mistral'].includes(model), model);
    assert.equal(data.model, model);
    assert.match(data.choices[0].message.content, /^Mock reply from up-(llama|mistral): Explain recursion/);
    assert.equal((await remote.stats()).requests, 0);
  });
});

describe('routing and failover through the anthropic SDK', () => {
  withStack();

  test('model auto on /v1/messages routes a code prompt to gpt-4-turbo', T, async () => {
    const { data: m, response } = await anthropic.messages
      .create({ model: 'auto', max_tokens: 200, messages: user(CODE_PROMPT) }).withResponse();
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4-turbo', response.headers.get('x-switchyard-route'));
    assert.match(response.headers.get('x-switchyard-route') ?? '', /^auto; policy code-and-reasoning/);
    assert.equal(m.type, 'message');
    assert.equal(m.model, 'gpt-4-turbo');
    assert.equal(m.content[0].type, 'text');
    assert.equal(m.content[0].text, `Mock reply from up-gpt: ${CODE_PROMPT}`);
    assert.equal(m.stop_reason, 'end_turn');
  });

  test('a failing first model is invisible: a normal message from the fallback', T, async () => {
    await remote.resetStats();
    await remote.addFault({ fault: 'status=500', model: 'up-claude', count: 10 });
    const { data: m, response } = await anthropic.messages.create({
      model: 'claude-3-5-sonnet', max_tokens: 200, messages: user('hello from anthropic'),
    }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-model'), 'mistral');
    assert.ok(Number(response.headers.get('x-switchyard-attempts')) > 1);
    assert.equal(m.model, 'mistral');
    assert.equal(m.content[0].text, 'Mock reply from up-mistral: hello from anthropic');
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal((await remote.stats()).by_model['up-claude'], 3);
  });

  test('a failing first model in a stream is invisible too', T, async () => {
    await remote.addFault({ fault: 'status=529', model: 'up-claude', count: 10 });
    const stream = anthropic.messages.stream({
      model: 'claude-3-5-sonnet', max_tokens: 200, messages: user('stream over anthropic'),
    });
    const final = await stream.finalMessage();
    assert.equal(final.model, 'mistral');
    assert.equal(final.content[0].text, 'Mock reply from up-mistral: stream over anthropic');
    assert.equal(final.stop_reason, 'end_turn');
  });
});
