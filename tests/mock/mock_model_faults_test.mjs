// Tests for tools/mock-llm faults that imitate what a model says, not what the network does:
// an error body's `code`, the context-length error (code=context_length_exceeded and a small
// context_window) and a content-filtered answer (content_filter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addRule,
  chat,
  clearFaults,
  messages,
  parseSse,
  startMock,
  stopMock,
  userChat,
  userMessages,
} from './mock_support.mjs';

const openAiTooLong = (window, tokens) =>
  `This model's maximum context length is ${window} tokens. However, your messages resulted in ` +
  `${tokens} tokens. Please reduce the length of the messages.`;
const anthropicTooLong = (window, tokens) => `prompt is too long: ${tokens} tokens > ${window} maximum`;

// ---------------------------------------------------------------------------------------------
// code=NAME

test('code sets the code of an injected OpenAI error, keeping its status and type', async () => {
  const quota = await chat(userChat('x'), { 'x-mock-fault': 'status=429,code=insufficient_quota' });
  assert.equal(quota.status, 429);
  assert.equal(quota.res.headers.get('retry-after'), '1');
  assert.equal(quota.json.error.code, 'insufficient_quota');
  assert.equal(quota.json.error.type, 'requests');

  const server = await chat(userChat('x [[mock: status=500, code=engine_crashed]]'));
  assert.equal(server.status, 500);
  assert.deepEqual(Object.keys(server.json.error), ['message', 'type', 'param', 'code']);
  assert.equal(server.json.error.type, 'server_error');
  assert.equal(server.json.error.code, 'engine_crashed');
  assert.equal(server.json.error.param, null);

  // Without an injected error, code changes nothing.
  const ok = await chat(userChat('hello'), { 'x-mock-fault': 'code=insufficient_quota' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.choices[0].message.content, 'Mock reply from mock-gpt: hello');

  // Anthropic error bodies have no code: the body keeps its shape.
  const anthropic = await messages(userMessages('x'), { 'x-mock-fault': 'status=529,code=whatever' });
  assert.equal(anthropic.status, 529);
  assert.deepEqual(anthropic.json, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
});

test('code=context_length_exceeded: the OpenAI error, word for word', async () => {
  // 5 words + 3 for the message; the directive does not count.
  const r = await chat(userChat('one two three four five [[mock: status=400,code=context_length_exceeded]]'));
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, {
    error: {
      message: openAiTooLong(4096, 8),
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    },
  });

  // Every message counts; context_window replaces 4096; a stream gets the same JSON error.
  const body = {
    model: 'mock-gpt',
    stream: true,
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'alpha beta gamma' },
    ],
  };
  const streamed = await chat(body, { 'x-mock-fault': 'status=400,code=context_length_exceeded,context_window=128000' });
  assert.equal(streamed.status, 400);
  assert.equal(streamed.res.headers.get('content-type'), 'application/json');
  assert.equal(streamed.json.error.message, openAiTooLong(128000, 2 + 3 + 3 + 3));
  assert.equal(streamed.json.error.code, 'context_length_exceeded');
});

test('code=context_length_exceeded: the Anthropic error', async () => {
  const h = { 'x-mock-fault': 'status=400,code=context_length_exceeded' };
  const r = await messages(userMessages('one two three'), h);
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, {
    type: 'error',
    error: { type: 'invalid_request_error', message: anthropicTooLong(4096, 6) },
  });
  // The system prompt counts too.
  const withSystem = await messages(
    userMessages('one two three', { system: 'be brief' }),
    { 'x-mock-fault': 'status=400,code=context_length_exceeded,context_window=200000' },
  );
  assert.equal(withSystem.json.error.message, anthropicTooLong(200000, 8));
});

// ---------------------------------------------------------------------------------------------
// context_window=N on its own

test('context_window alone: only a prompt longer than the window is refused', async () => {
  // A small-window model, set up the way a gateway test would: a start-up rule for one model.
  const tiny = await startMock(['--fault', 'context_window=10,model=mock-tiny']);
  try {
    const short = await chat({ ...userChat('hello there'), model: 'mock-tiny' }, {}, tiny.base);
    assert.equal(short.status, 200, 'five tokens fit');
    assert.equal(short.json.choices[0].message.content, 'Mock reply from mock-tiny: hello there');

    const exact = await chat({ ...userChat('a b c d e f g'), model: 'mock-tiny' }, {}, tiny.base);
    assert.equal(exact.status, 200, 'exactly the window fits');

    const long = await chat({ ...userChat('a b c d e f g h i j'), model: 'mock-tiny' }, {}, tiny.base);
    assert.equal(long.status, 400);
    assert.equal(long.res.headers.get('retry-after'), null);
    assert.deepEqual(long.json.error, {
      message: openAiTooLong(10, 13),
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });

    const longStream = await chat({ ...userChat('a b c d e f g h i j'), model: 'mock-tiny', stream: true }, {}, tiny.base);
    assert.equal(longStream.status, 400);
    assert.equal(longStream.json.error.code, 'context_length_exceeded');

    const anthropic = await messages({ ...userMessages('a b c d e f g h i j'), model: 'mock-tiny' }, {}, tiny.base);
    assert.equal(anthropic.status, 400);
    assert.equal(anthropic.json.error.type, 'invalid_request_error');
    assert.equal(anthropic.json.error.message, anthropicTooLong(10, 13));

    const other = await chat(userChat('a b c d e f g h i j'), {}, tiny.base);
    assert.equal(other.status, 200, 'other models have no window');
  } finally {
    await stopMock(tiny);
  }
});

test('context_window alone by header, admin rule, and next to other faults', async () => {
  const h = { 'x-mock-fault': 'context_window=5' };
  assert.equal((await chat(userChat('a b'), h)).status, 200);
  const over = await chat(userChat('a b c'), h);
  assert.equal(over.status, 400);
  assert.equal(over.json.error.message, openAiTooLong(5, 6));

  // An explicit status wins; the window only shapes a context_length_exceeded body.
  const busy = await chat(userChat('a b c'), { 'x-mock-fault': 'context_window=5,status=503' });
  assert.equal(busy.status, 503);
  assert.equal(busy.json.error.code, 'overloaded');

  // A fail_first request that is let through is still checked against the window.
  const ff = { 'x-mock-fault': 'fail_first=1,key=cw,context_window=5' };
  assert.equal((await chat(userChat('a b c'), ff)).status, 500);
  assert.equal((await chat(userChat('a b c'), ff)).status, 400);
  assert.equal((await chat(userChat('a'), ff)).status, 200);

  await clearFaults();
  const added = await addRule({ fault: 'context_window=4', model: 'mock-small' });
  assert.equal(added.status, 200);
  assert.deepEqual((await added.json()).rules, [{ fault: 'context_window=4', model: 'mock-small', count: null }]);
  assert.equal((await chat({ ...userChat('x'), model: 'mock-small' })).status, 200);
  assert.equal((await chat({ ...userChat('x y'), model: 'mock-small' })).status, 400);
  assert.equal((await chat(userChat('x y'))).status, 200);
  await clearFaults();
});

// ---------------------------------------------------------------------------------------------
// content_filter=1

test('content_filter: OpenAI answer with finish_reason content_filter and empty content', async () => {
  const r = await chat(userChat('tell me something [[mock: content_filter=1]]'));
  assert.equal(r.status, 200);
  const choice = r.json.choices[0];
  assert.equal(choice.finish_reason, 'content_filter');
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.message.content, '');
  assert.equal(choice.message.tool_calls, undefined);
  assert.equal(r.json.usage.completion_tokens, 0);
  assert.equal(r.json.usage.prompt_tokens, 3 + 3);

  // Even when a tool call was due.
  const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];
  const withTools = await chat(userChat('find cats', { tools }), { 'x-mock-fault': 'content_filter=1' });
  assert.equal(withTools.json.choices[0].finish_reason, 'content_filter');
  assert.equal(withTools.json.choices[0].message.content, '');
  assert.equal(withTools.json.choices[0].message.tool_calls, undefined);

  // content_filter=0 from a later source turns it off.
  await addRule({ fault: 'content_filter=1' });
  assert.equal((await chat(userChat('x'))).json.choices[0].finish_reason, 'content_filter');
  const off = await chat(userChat('x'), { 'x-mock-fault': 'content_filter=0' });
  assert.equal(off.json.choices[0].finish_reason, 'stop');
  await clearFaults();
});

test('content_filter: OpenAI stream is the role chunk, then the finish chunk', async () => {
  const r = await chat(
    userChat('alpha beta', { stream: true, stream_options: { include_usage: true } }),
    { 'x-mock-fault': 'content_filter=1' },
  );
  assert.equal(r.status, 200);
  const events = parseSse(r.text);
  assert.equal(events.at(-1).raw, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => e.data);
  assert.equal(chunks.length, 3);
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  assert.equal(chunks[0].choices[0].finish_reason, null);
  assert.deepEqual(chunks[1].choices[0].delta, {});
  assert.equal(chunks[1].choices[0].finish_reason, 'content_filter');
  assert.deepEqual(chunks[2].choices, []);
  assert.equal(chunks[2].usage.completion_tokens, 0);
  assert.ok(chunks.every((c) => c.id === chunks[0].id));
});

test('content_filter: Anthropic refusal with empty content, JSON and stream', async () => {
  const h = { 'x-mock-fault': 'content_filter=1' };
  const r = await messages(userMessages('hello there'), h);
  assert.equal(r.status, 200);
  assert.equal(r.json.type, 'message');
  assert.equal(r.json.stop_reason, 'refusal');
  assert.deepEqual(r.json.content, []);
  assert.equal(r.json.usage.output_tokens, 0);
  assert.equal(r.json.usage.input_tokens, 2 + 3);

  const streamed = await messages(userMessages('hello there', { stream: true }), h);
  assert.equal(streamed.status, 200);
  const events = parseSse(streamed.text);
  assert.deepEqual(events.map((e) => e.event), ['message_start', 'ping', 'message_delta', 'message_stop']);
  assert.deepEqual(events[0].data.message.content, []);
  assert.equal(events[2].data.delta.stop_reason, 'refusal');
  assert.equal(events[2].data.usage.output_tokens, 0);
});

// ---------------------------------------------------------------------------------------------
// Parsing

test('the new keys are listed back and bad values are refused', async () => {
  await clearFaults();
  const added = await addRule({ fault: 'status=400, code=context_length_exceeded, context_window=8192, content_filter=1' });
  assert.equal(added.status, 200);
  assert.deepEqual((await added.json()).rules, [
    { fault: 'status=400,code=context_length_exceeded,context_window=8192,content_filter=1', model: null, count: null },
  ]);
  await clearFaults();

  for (const [spec, key] of [['code=', 'code'], ['code=a b', 'code'], ['context_window=0', 'context_window'],
    ['context_window=x', 'context_window'], ['content_filter=2', 'content_filter']]) {
    const r = await chat(userChat('x'), { 'x-mock-fault': spec });
    assert.equal(r.status, 400, spec);
    assert.match(r.json.error.message, new RegExp(`'${key}'`), spec);
  }
});
