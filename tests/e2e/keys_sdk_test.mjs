// End-to-end: both official SDKs against a gateway that requires gateway keys. A key made by
// the admin works as the SDK's apiKey; a wrong or revoked key is the SDK's AuthenticationError;
// a key over its budget or rate limit is the SDK's RateLimitError, with the gateway's message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AuthenticationError, PermissionDeniedError, RateLimitError } from 'openai';
import Anthropic, * as AnthropicErrors from '@anthropic-ai/sdk';
import { startMock, startGateway, stopStack, postJson, ADMIN_KEY } from '../integration/harness.mjs';

let mock;
let gw;

before(async () => {
  mock = await startMock();
  gw = await startGateway(mock.port, { open_access: false });
});
after(() => stopStack(gw, mock));

async function createKey(spec) {
  const r = await postJson(`${gw.base}/v1/keys`, spec, { authorization: `Bearer ${ADMIN_KEY}` });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const openai = (apiKey) => new OpenAI({ baseURL: `${gw.base}/v1`, apiKey, maxRetries: 0 });
const anthropic = (apiKey) => new Anthropic({ baseURL: gw.base, apiKey, maxRetries: 0 });
const user = [{ role: 'user', content: 'hello' }];

test('openai SDK: a gateway key works; a wrong one is AuthenticationError', async () => {
  const k = await createKey({ name: 'sdk-openai' });
  const r = await openai(k.key).chat.completions.create({ model: 'mock-gpt', messages: user, max_tokens: 20 });
  assert.match(r.choices[0].message.content, /Mock reply/);
  await assert.rejects(
    openai('sk-sy-wrong').chat.completions.create({ model: 'mock-gpt', messages: user }),
    (e) => e instanceof AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
  const limited = await createKey({ name: 'sdk-limited', models: ['mock-claude'] });
  await assert.rejects(
    openai(limited.key).chat.completions.create({ model: 'mock-gpt', messages: user }),
    (e) => e instanceof PermissionDeniedError && e.status === 403);
});

test('openai SDK: over the rate limit is RateLimitError with the gateway\'s reason', async () => {
  const k = await createKey({ name: 'sdk-rpm', rpm: 1 });
  const client = openai(k.key);
  await client.chat.completions.create({ model: 'mock-gpt', messages: user, max_tokens: 20 });
  await assert.rejects(
    client.chat.completions.create({ model: 'mock-gpt', messages: user, max_tokens: 20 }),
    (e) => e instanceof RateLimitError && /1 requests per minute/.test(e.message)
      && Number(e.headers.get('retry-after')) > 0);
});

test('anthropic SDK: a gateway key works as apiKey; a revoked one is AuthenticationError', async () => {
  const k = await createKey({ name: 'sdk-anthropic' });
  const client = anthropic(k.key);
  const m = await client.messages.create({ model: 'mock-claude', max_tokens: 20, messages: user });
  assert.equal(m.type, 'message');
  const stream = client.messages.stream({ model: 'mock-gpt', max_tokens: 20, messages: user });
  const final = await stream.finalMessage();
  assert.match(final.content[0].text, /Mock reply/);
  const del = await fetch(`${gw.base}/v1/keys/${k.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(del.status, 200);
  await assert.rejects(
    client.messages.create({ model: 'mock-claude', max_tokens: 20, messages: user }),
    (e) => e instanceof AnthropicErrors.AuthenticationError && e.status === 401);
});

test('anthropic SDK: over budget is RateLimitError naming the budget', async () => {
  const k = await createKey({ name: 'sdk-budget', budget_usd: 0.000001 });
  await assert.rejects(
    anthropic(k.key).messages.create({ model: 'mock-gpt', max_tokens: 20, messages: user }),
    (e) => e instanceof AnthropicErrors.RateLimitError && /sdk-budget/.test(e.message));
});
