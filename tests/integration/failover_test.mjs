// Routing and failover, end to end over HTTP against real mock upstreams: a "remote" mock
// (the cloud models) and a "local" mock (the models on our own hardware), each a separate
// process so a test can assert which one a request reached. Every seed scenario: timeout
// retried with backoff, 429 to a local model, 5xx cascaded to the next model, full outage to
// a clear 503, breaker open / fail fast / half-open / closed, failure before the first stream
// byte failing over, PII never leaving for a remote model, context length rerouted, load
// balancing across deployments, and the router endpoints.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMock, startGateway, stopStack, postJson, parseSse, ADMIN_KEY, seedCatalog, SEED_ROUTING } from './harness.mjs';

const user = (text) => [{ role: 'user', content: text }];
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

const catalog = seedCatalog;
const ROUTING = SEED_ROUTING;

const byModel = (stats, model) => stats.by_model?.[model] ?? 0;

describe('routing and failover', () => {
  let remote, local, gw;
  const chat = (body, headers) => postJson(`${gw.base}/v1/chat/completions`, body, headers);

  before(async () => {
    remote = await startMock();
    local = await startMock();
    gw = await startGateway(remote.port, {
      models: catalog(remote.base, local.base),
      routing: ROUTING,
      first_byte_timeout_ms: 600,
    });
  });
  after(async () => {
    await stopStack(gw, remote);
    await local?.stop();
  });

  test('a code prompt on model auto goes to gpt-4-turbo, with the route in the headers', async () => {
    const r = await chat({
      model: 'auto',
      messages: user('Write a Python function that parses ISO-8601 dates and add unit tests for it.'),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'gpt-4-turbo');
    assert.match(r.headers.get('x-switchyard-route'), /^auto; policy code-and-reasoning/);
    assert.equal(r.headers.get('x-switchyard-attempts'), '1');
    assert.equal(r.json.model, 'gpt-4-turbo');

    // The explain endpoint shows why, before any failure has touched the live statistics.
    const code = await postJson(`${gw.base}/v1/router/explain`, {
      model: 'auto', messages: user('Implement a thread-safe LRU cache in C++ with unit tests.'),
    });
    assert.equal(code.json.analysis.task, 'code');
    assert.equal(code.json.candidates[0].model, 'gpt-4-turbo');
    assert.ok(code.json.candidates[0].score > code.json.candidates[1].score);
    assert.equal(code.json.policy_rule, 'code-and-reasoning');
  });

  test('a short greeting goes to the fast local model; a general question to claude', async () => {
    let r = await chat({ model: 'auto', messages: user('hi there!') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'mistral');
    r = await chat({
      model: 'auto',
      messages: user('Tell me about the history of the city of Lyon: its Roman beginnings as Lugdunum, '
        + 'its food and famous bouchons, its role in the silk trade and the Canut revolts, the printing '
        + 'houses of the Renaissance, and how the city changed in the twentieth century. A few paragraphs '
        + 'for a travel guide, friendly in tone, for readers who have never been to France.'),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'claude-3-5-sonnet');
  });

  test('a prompt with PII never reaches the remote upstream', async () => {
    await remote.resetStats();
    await local.resetStats();
    const r = await chat({
      model: 'auto',
      messages: user('Draft a reply to jane.doe@example.com about her invoice; her phone is +1 415 555 0134. Write code too.'),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'llama-2');
    assert.match(r.headers.get('x-switchyard-route'), /privacy|local only/);
    assert.equal((await remote.stats()).requests, 0, 'the remote mock must receive nothing');
    assert.equal(byModel(await local.stats(), 'up-llama'), 1);

    // Even when every local model fails, the prompt does not leave: a 503, remote untouched.
    await local.addFault({ fault: 'status=500', count: 20 });
    const failed = await chat({ model: 'auto', messages: user('Mail bob@example.org the summary please') });
    await local.clearFaults();
    assert.equal(failed.status, 503, failed.text);
    assert.equal(failed.json.error.code, 'all_candidates_failed');
    assert.match(failed.json.error.message, /llama-2/);
    assert.doesNotMatch(failed.json.error.message, /gpt-4-turbo|claude/);
    assert.equal((await remote.stats()).requests, 0, 'the remote mock must still receive nothing');
  });

  test('route/private keeps even a plain prompt local', async () => {
    await remote.resetStats();
    const r = await chat({ model: 'route/private', messages: user('Explain recursion with an example in JavaScript.') });
    assert.equal(r.status, 200, r.text);
    assert.ok(['llama-2', 'mistral'].includes(r.headers.get('x-switchyard-model')));
    assert.equal((await remote.stats()).requests, 0);
  });

  test('route/cheap picks a free local model', async () => {
    const r = await chat({ model: 'route/cheap', messages: user('Summarise: the meeting moved to Tuesday.') });
    assert.equal(r.status, 200, r.text);
    assert.ok(['llama-2', 'mistral'].includes(r.headers.get('x-switchyard-model')), r.headers.get('x-switchyard-model'));
  });

  test('a first-byte timeout is retried with backoff on the same model', async () => {
    await remote.resetStats();
    await remote.addFault({ fault: 'hang=1', model: 'up-gpt', count: 1 });
    const t0 = Date.now();
    const r = await chat({ model: 'gpt-4-turbo', messages: user('x') });
    const took = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'gpt-4-turbo');
    assert.equal(r.headers.get('x-switchyard-attempts'), '2');
    assert.match(r.headers.get('x-switchyard-failures'), /gpt-4-turbo=first_byte_timeout/);
    assert.ok(took >= 550, `took ${took} ms: the first attempt waits out the 600 ms timeout`);
    await sleep(100);
    const s = await remote.stats();
    assert.equal(byModel(s, 'up-gpt'), 2);
    assert.equal(s.cancelled, 1, 'the hung call was aborted');
  });

  test('5xx on the requested model cascades to its configured fallback after retries', async () => {
    await remote.resetStats();
    await remote.addFault({ fault: 'status=500', model: 'up-gpt', count: 10 });
    const r = await chat({ model: 'gpt-4-turbo', messages: user('hello') });
    await remote.clearFaults();
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'claude-3-5-sonnet');
    assert.equal(r.json.model, 'claude-3-5-sonnet');
    assert.match(r.json.choices[0].message.content, /Mock reply from up-claude/);
    // resilience.retry.max_attempts = 3 per model, then the fallback.
    assert.equal(r.headers.get('x-switchyard-attempts'), '4');
    assert.match(r.headers.get('x-switchyard-failures'), /gpt-4-turbo=server_error \(HTTP 500\)/);
    const s = await remote.stats();
    assert.equal(byModel(s, 'up-gpt'), 3);
    assert.equal(byModel(s, 'up-claude'), 1);
  });

  test('429 from a remote model fails over to a local model first', async () => {
    await remote.resetStats();
    await local.resetStats();
    await remote.addFault({ fault: 'status=429,retry_after=20', model: 'up-gpt', count: 5 });
    const r = await chat({ model: 'gpt-4-turbo', messages: user('hello') });
    await remote.clearFaults();
    assert.equal(r.status, 200, r.text);
    // gpt-4-turbo's chain is [claude, mistral]; after the 429 the local mistral goes first.
    assert.equal(r.headers.get('x-switchyard-model'), 'mistral');
    assert.equal(r.headers.get('x-switchyard-attempts'), '2');
    assert.equal(byModel(await remote.stats(), 'up-claude'), 0);
    assert.equal(byModel(await local.stats(), 'up-mistral'), 1);
  });

  test('a 429 with no other candidate waits out a short Retry-After and retries', async () => {
    await local.addFault({ fault: 'status=429,retry_after=1', model: 'up-llama', count: 1 });
    const t0 = Date.now();
    const r = await chat({ model: 'llama-2', messages: user('hello') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-attempts'), '2');
    assert.ok(Date.now() - t0 >= 950, 'waited for Retry-After');
  });

  test('a complete outage answers 503 naming every model tried, and opens an incident', async () => {
    await remote.addFault({ fault: 'status=503', count: 100 });
    await local.addFault({ fault: 'status=502', count: 100 });
    const r = await chat({ model: 'gpt-4-turbo', messages: user('hello') });
    await remote.clearFaults();
    await local.clearFaults();
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.type, 'service_unavailable_error');
    assert.equal(r.json.error.code, 'all_candidates_failed');
    for (const m of ['gpt-4-turbo', 'claude-3-5-sonnet', 'mistral']) assert.match(r.json.error.message, new RegExp(m));
    // Six attempts in all (resilience.max_total_attempts), never more.
    assert.equal(r.headers.get('x-switchyard-attempts'), '6');

    let inc = await (await fetch(`${gw.base}/v1/incidents?open=1`, { headers: admin })).json();
    const outage = inc.data.find((i) => i.kind === 'route_outage' && i.subject === 'gpt-4-turbo');
    assert.ok(outage, JSON.stringify(inc));
    assert.equal(outage.resolved_at, null);

    // The next success on that route resolves it, with its duration.
    const ok = await chat({ model: 'gpt-4-turbo', messages: user('hello') });
    assert.equal(ok.status, 200);
    inc = await (await fetch(`${gw.base}/v1/incidents`, { headers: admin })).json();
    const resolved = inc.data.find((i) => i.id === outage.id);
    assert.ok(resolved.resolved_at, JSON.stringify(resolved));
    assert.ok(resolved.duration_ms >= 0);
    assert.ok(inc.stats.resolved >= 1);
    // ... and both lines are in the JSONL file (appended off the request path: wait, bounded).
    const read = () => fs.readFileSync(path.join(gw.dir, 'incidents.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    let lines = read();
    for (let i = 0; i < 100 && !lines.some((l) => l.id === outage.id && l.event === 'resolved'); ++i) {
      await sleep(20);
      lines = read();
    }
    assert.ok(lines.some((l) => l.id === outage.id && l.event === 'open'));
    assert.ok(lines.some((l) => l.id === outage.id && l.event === 'resolved'));
  });

  test('a request error (400) is answered as is, never retried or failed over', async () => {
    await remote.resetStats();
    await remote.addFault({ fault: 'status=400', model: 'up-gpt', count: 1 });
    const r = await chat({ model: 'gpt-4-turbo', messages: user('hello') });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.headers.get('x-switchyard-attempts'), '1');
    assert.equal((await remote.stats()).requests, 1);
  });

  test('content filtering is answered as is: no retry, no failover', async () => {
    await remote.resetStats();
    let r = await chat({ model: 'gpt-4-turbo', messages: user('[[mock: content_filter=1]] something') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].finish_reason, 'content_filter');
    assert.equal(r.headers.get('x-switchyard-attempts'), '1');
    await remote.addFault({ fault: 'status=400,code=content_filter', model: 'up-gpt', count: 1 });
    r = await chat({ model: 'gpt-4-turbo', messages: user('something') });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'content_filter');
    assert.equal(r.headers.get('x-switchyard-attempts'), '1');
    assert.equal(byModel(await remote.stats(), 'up-claude'), 0, 'not failed over');
  });

  test('upstream context_length_exceeded reroutes to a model with a larger window', async () => {
    await remote.resetStats();
    await local.resetStats();
    // The upstream enforces a 20-token window the catalog does not know about.
    await remote.addFault({ fault: 'context_window=20', model: 'up-gpt', count: 1 });
    const long = 'word '.repeat(60);
    const r = await chat({ model: 'gpt-4-turbo', messages: user(long) });
    assert.equal(r.status, 200, r.text);
    // claude (200k) is larger than gpt-4-turbo (128k); mistral (8k) is not and is skipped.
    assert.equal(r.headers.get('x-switchyard-model'), 'claude-3-5-sonnet');
    assert.match(r.headers.get('x-switchyard-failures'), /context_length/);
  });

  test('a prompt too long for the requested model is admitted on a larger fallback', async () => {
    // llama-2 has a 4,096-token window and no fallbacks: a clear 400 ...
    const long = 'antidisestablishmentarianism '.repeat(1200);
    let r = await chat({ model: 'llama-2', messages: user(long) });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'context_length_exceeded');
    // ... while on auto the router only ranks models whose window fits.
    r = await chat({ model: 'auto', messages: user(long) });
    assert.equal(r.status, 200, r.text);
    assert.ok(['gpt-4-turbo', 'claude-3-5-sonnet'].includes(r.headers.get('x-switchyard-model')));
  });

  test('a stream that fails before its first byte fails over invisibly', async () => {
    await remote.addFault({ fault: 'status=500', model: 'up-gpt', count: 3 });
    const r = await chat({ model: 'gpt-4-turbo', stream: true, messages: user('stream me') });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/event-stream/);
    assert.equal(r.headers.get('x-switchyard-model'), 'claude-3-5-sonnet');
    const events = parseSse(r.text);
    assert.equal(events.at(-1).raw, '[DONE]');
    const text = events.filter((e) => e.raw !== '[DONE]').map((e) => e.data.choices?.[0]?.delta?.content ?? '').join('');
    assert.match(text, /Mock reply from up-claude: stream me/);
    assert.ok(events.every((e) => e.raw === '[DONE]' || e.data.model === 'claude-3-5-sonnet'));
    assert.ok(!r.text.includes('"error"'));
  });

  test('a stream that breaks after its first byte ends with an error event and a partial ledger row', async () => {
    const r = await chat({ model: 'gpt-4-turbo', stream: true, messages: user('[[mock: reset_after_chunks=2]] one two three four') });
    assert.equal(r.status, 200);
    const events = parseSse(r.text);
    assert.ok(events.some((e) => e.data?.error), r.text);
    assert.equal(r.headers.get('x-switchyard-model'), 'gpt-4-turbo', 'no failover once bytes reached the client');
  });

  test('POST /v1/router/explain shows the analysis and ranked candidates without calling a model', async () => {
    await remote.resetStats();
    await local.resetStats();
    const r = await postJson(`${gw.base}/v1/router/explain`, {
      model: 'auto',
      messages: user('My card is 4111 1111 1111 1111, please fix this SQL query: SELECT * FROM t WHERE'),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.analysis.privacy, 'sensitive');
    assert.ok(r.json.analysis.pii.some((p) => p.kind === 'payment_card'), JSON.stringify(r.json.analysis.pii));
    assert.equal(r.json.local_only, true);
    assert.ok(r.json.candidates.length >= 1);
    assert.ok(r.json.candidates.every((c) => c.local));
    const rejected = r.json.rejected.map((x) => x.model).sort();
    assert.deepEqual(rejected, ['claude-3-5-sonnet', 'gpt-4-turbo']);
    assert.ok(r.json.rejected.every((x) => /remote/.test(x.reason)));
    assert.equal((await remote.stats()).requests, 0);
    assert.equal((await local.stats()).requests, 0);

  });

  test('GET /v1/router/models has live statistics; /metrics has breaker and latency gauges', async () => {
    const r = await fetch(`${gw.base}/v1/router/models`, { headers: admin });
    assert.equal(r.status, 200);
    const body = await r.json();
    const gpt = body.data.find((m) => m.id === 'gpt-4-turbo');
    assert.deepEqual(gpt.fallbacks, ['claude-3-5-sonnet', 'mistral']);
    const d = gpt.deployments[0];
    assert.ok(d.successes >= 1 && d.failures >= 1, JSON.stringify(d));
    assert.ok(d.latency_ewma_ms > 0 && d.latency_p50_ms > 0);
    assert.equal(d.breaker.state, 'closed');
    const m = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(m, /switchyard_breaker_state\{model="gpt-4-turbo",deployment="gpt-4-turbo"\} 0/);
    assert.match(m, /switchyard_deployment_latency_ewma_ms\{model="gpt-4-turbo"/);
    assert.match(m, /switchyard_failovers_total\{from="gpt-4-turbo",to="claude-3-5-sonnet",cause="server_error"\} [1-9]/);
    assert.match(m, /switchyard_upstream_attempts_total\{model="gpt-4-turbo",deployment="gpt-4-turbo",outcome="rate_limited"\} [1-9]/);
  });

  test('an unknown route is a 404 naming the models; the router endpoints need the admin key', async () => {
    const r = await chat({ model: 'route/nope', messages: user('x') });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'model_not_found');
    const anonymous = await fetch(`${gw.base}/v1/router/circuits`);
    assert.equal(anonymous.status, 401);
    const withAdmin = await fetch(`${gw.base}/v1/router/circuits`, { headers: admin });
    assert.equal(withAdmin.status, 200);
  });
});

describe('circuit breaker', () => {
  let remote, gw;
  const chat = (body) => postJson(`${gw.base}/v1/chat/completions`, body);
  const circuits = async () => (await (await fetch(`${gw.base}/v1/router/circuits`, { headers: admin })).json()).data;

  before(async () => {
    remote = await startMock();
    gw = await startGateway(remote.port, {
      models: () => `  - name: solo
    provider: openai
    upstream_model: up-solo
    base_url: ${remote.base}/v1
    api_key_env: SY_TEST_MOCK_KEY`,
      resilience: `  retry: {max_attempts: 1}
  breaker: {consecutive_failures: 3, minimum_calls: 100, open_ms: 700, open_jitter: 0, half_open_probes: 1}`,
    });
  });
  after(async () => stopStack(gw, remote));

  test('opens after N consecutive failures, fails fast, half-opens after open_ms and closes on a good probe', async () => {
    await remote.addFault({ fault: 'status=500', model: 'up-solo', count: 3 });
    for (let i = 0; i < 3; ++i) {
      const r = await chat({ model: 'solo', messages: user('x') });
      assert.equal(r.status, 502);
    }
    let c = (await circuits()).find((x) => x.deployment === 'solo');
    assert.equal(c.state, 'open');
    assert.equal(c.times_opened, 1);
    assert.ok(c.next_probe_at_ms > Date.now() - 50);

    // Open: fails fast without calling the upstream.
    await remote.resetStats();
    const t0 = Date.now();
    const fast = await chat({ model: 'solo', messages: user('x') });
    assert.equal(fast.status, 503, fast.text);
    assert.equal(fast.json.error.code, 'circuit_open');
    assert.ok(Number(fast.headers.get('retry-after')) >= 1);
    assert.ok(Date.now() - t0 < 200, 'failing fast');
    assert.equal((await remote.stats()).requests, 0);

    let inc = await (await fetch(`${gw.base}/v1/incidents?open=1`, { headers: admin })).json();
    assert.ok(inc.data.some((i) => i.kind === 'circuit_open' && i.subject === 'solo'));

    // After open_ms one probe goes; it succeeds and closes the breaker.
    await sleep(800);
    const probe = await chat({ model: 'solo', messages: user('x') });
    assert.equal(probe.status, 200, probe.text);
    c = (await circuits()).find((x) => x.deployment === 'solo');
    assert.equal(c.state, 'closed');
    inc = await (await fetch(`${gw.base}/v1/incidents`, { headers: admin })).json();
    const closed = inc.data.find((i) => i.kind === 'circuit_open' && i.subject === 'solo');
    assert.ok(closed.resolved_at);
    assert.ok(closed.duration_ms >= 700, JSON.stringify(closed));
    assert.ok(inc.stats.mttr_ms >= 700);
  });

  test('a failed half-open probe opens the breaker again', async () => {
    await remote.addFault({ fault: 'status=500', model: 'up-solo', count: 4 });
    for (let i = 0; i < 3; ++i) await chat({ model: 'solo', messages: user('x') });
    assert.equal((await circuits())[0].state, 'open');
    await sleep(800);
    const probe = await chat({ model: 'solo', messages: user('x') });
    assert.equal(probe.status, 502);
    assert.equal((await circuits())[0].state, 'open');
    const fast = await chat({ model: 'solo', messages: user('x') });
    assert.equal(fast.status, 503);
    await sleep(800);
    assert.equal((await chat({ model: 'solo', messages: user('x') })).status, 200);
  });
});

describe('load balancing across deployments', () => {
  let a, b, gw;
  before(async () => {
    a = await startMock();
    b = await startMock();
    gw = await startGateway(a.port, {
      models: () => `  - name: pooled
    provider: openai
    upstream_model: up-pooled
    api_key_env: SY_TEST_MOCK_KEY
    base_url: ${a.base}/v1
    deployments:
      - {name: pool-a, base_url: ${a.base}/v1, weight: 1}
      - {name: pool-b, base_url: ${b.base}/v1, weight: 3}
      - {name: pool-dead, base_url: http://127.0.0.1:1/v1, weight: 1}`,
      resilience: `  retry: {max_attempts: 3, base_delay_ms: 5, max_delay_ms: 20}
  breaker: {consecutive_failures: 2, minimum_calls: 100, open_ms: 60000}`,
    });
  });
  after(async () => {
    await stopStack(gw, a);
    await b?.stop();
  });

  test('weights split the traffic; a dead deployment is skipped at once and then broken out', async () => {
    let ok = 0;
    for (let i = 0; i < 60; ++i) {
      const r = await postJson(`${gw.base}/v1/chat/completions`, { model: 'pooled', messages: user(`n${i}`) });
      if (r.status === 200) ++ok;
    }
    assert.equal(ok, 60, 'the dead deployment never fails a request: another one takes the retry');
    const na = (await a.stats()).requests;
    const nb = (await b.stats()).requests;
    assert.equal(na + nb, 60);
    assert.ok(nb > na, `weight 3 gets more than weight 1 (a=${na}, b=${nb})`);
    assert.ok(na >= 5, `weight 1 still gets traffic (a=${na})`);
    const c = (await (await fetch(`${gw.base}/v1/router/circuits`, { headers: admin })).json()).data;
    assert.equal(c.find((x) => x.deployment === 'pool-dead').state, 'open');
    assert.equal(c.find((x) => x.deployment === 'pool-a').state, 'closed');
  });
});

describe('explicit_remote_pii: deny', () => {
  let remote, gw;
  before(async () => {
    remote = await startMock();
    gw = await startGateway(remote.port, {
      models: catalog(remote.base, 'http://127.0.0.1:1'),
      routing: `  explicit_remote_pii: deny\n${ROUTING}`,
    });
  });
  after(async () => stopStack(gw, remote));

  test('a prompt with PII for an explicit remote model is refused before it leaves', async () => {
    const r = await postJson(`${gw.base}/v1/chat/completions`, {
      model: 'gpt-4-turbo', messages: user('Card 4111 1111 1111 1111, expiry 12/29: is it valid?'),
    });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, 'pii_blocked');
    assert.match(r.json.error.message, /sensitive/);
    assert.doesNotMatch(r.json.error.message, /4111/, 'the error never echoes the PII');
    assert.equal((await remote.stats()).requests, 0);
    const clean = await postJson(`${gw.base}/v1/chat/completions`, { model: 'gpt-4-turbo', messages: user('hello') });
    assert.equal(clean.status, 200);
  });
});

describe('max_concurrency', () => {
  let remote, gw;
  before(async () => {
    remote = await startMock();
    gw = await startGateway(remote.port, {
      models: () => `  - name: narrow
    provider: openai
    upstream_model: up-narrow
    base_url: ${remote.base}/v1
    api_key_env: SY_TEST_MOCK_KEY
    max_concurrency: 1
    fallbacks: [wide]
  - name: single
    provider: openai
    upstream_model: up-single
    base_url: ${remote.base}/v1
    api_key_env: SY_TEST_MOCK_KEY
    max_concurrency: 1
  - name: wide
    provider: openai
    upstream_model: up-wide
    base_url: ${remote.base}/v1
    api_key_env: SY_TEST_MOCK_KEY`,
    });
  });
  after(async () => stopStack(gw, remote));
  const chat = (model, text) => postJson(`${gw.base}/v1/chat/completions`, { model, messages: user(text) });

  test('a model at its concurrency cap fails over to its fallback, or answers 429 without one', async () => {
    const slow = chat('narrow', '[[mock: latency_ms=600]] slow');
    await sleep(150);
    const second = await chat('narrow', 'second');
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('x-switchyard-model'), 'wide');
    assert.match(second.headers.get('x-switchyard-failures'), /narrow=at max concurrency/);
    assert.equal((await slow).headers.get('x-switchyard-model'), 'narrow');

    const busy = chat('single', '[[mock: latency_ms=600]] slow');
    await sleep(150);
    const refused = await chat('single', 'second');
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.error.code, 'model_at_capacity');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await busy).status, 200);
  });
});
