#!/usr/bin/env node
// Failover overhead: what a failover adds to a request, measured against the same request
// sent straight to the fallback model, on one gateway and the project's mock upstream.
//
//   breaker  model-a (on the mock, its one deployment's circuit breaker forced open) with
//            `fallbacks: [model-b]`, versus model-b directly. Target: < 1 ms added.
//   refused  model-d (base_url http://127.0.0.1:1/v1: connection refused) with
//            `fallbacks: [model-b]`, versus model-b directly, breaker disabled so every
//            request really tries the dead port. Target: < 5 ms added. Run twice:
//            retry.max_attempts 1 (one refused connect, then failover) and the default
//            retry (max_attempts 3, base_delay_ms 100).
//
// The resilience settings are global in the config, so each phase starts its own gateway
// (the mock is shared). Requests are sequential on one keep-alive socket (http.Agent,
// maxSockets 1), the two cases of a phase interleaved (failover, direct, failover, ...) so
// both see the same machine state, after a warm-up. Every measured response is checked:
// 200, answered by model-b, and the expected x-switchyard-attempts.
//
// Usage:
//   SWITCHYARD_BIN=build/switchyard MOCK_LLM_BIN=build/tools/mock-llm/mock-llm \
//     node bench/failover_overhead.mjs [--n 2000] [--warmup 200] [--threads 1]
//          [--phase-seconds 30] [--phases breaker,refused1,refused3] [--json FILE]
// Bounded: each phase stops measuring after --phase-seconds (and says how many pairs it
// got); every request has a 10 s deadline; everything started is stopped at the end.
// 127.0.0.1 only.
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMock, startGateway, ADMIN_KEY } from '../tests/integration/harness.mjs';

function parseArgs(argv) {
  const o = {
    n: 2000, warmup: 200, threads: 1, phaseSeconds: 30, json: null,
    phases: ['breaker', 'refused1', 'refused3'],
  };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    switch (k) {
      case '--n': o.n = Number(v); break;
      case '--warmup': o.warmup = Number(v); break;
      case '--threads': o.threads = Number(v); break;
      case '--phase-seconds': o.phaseSeconds = Number(v); break;
      case '--phases': o.phases = v.split(','); break;
      case '--json': o.json = v; break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!process.env.SWITCHYARD_BIN || !process.env.MOCK_LLM_BIN) {
    throw new Error('set SWITCHYARD_BIN and MOCK_LLM_BIN');
  }
  return o;
}

const models = (base) => `  - name: model-b
    provider: openai
    upstream_model: up-b
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
  - name: model-a
    provider: openai
    upstream_model: up-a
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
    fallbacks: [model-b]
  - name: model-d
    provider: openai
    upstream_model: up-d
    base_url: http://127.0.0.1:1/v1
    api_key_env: SY_TEST_MOCK_KEY
    fallbacks: [model-b]
`;

const BREAKER_OFF = '  breaker: {consecutive_failures: 0, minimum_calls: 1000000}';
const PHASES = {
  breaker: {
    title: 'breaker open: model-a -> model-b vs model-b',
    model: 'model-a', attempts: 1, target_ms: 1,
    resilience: `  retry: {max_attempts: 1}
  breaker: {consecutive_failures: 3, minimum_calls: 1000000, open_ms: 3600000, open_jitter: 0}`,
  },
  refused1: {
    title: 'refused, max_attempts 1: model-d -> model-b vs model-b',
    model: 'model-d', attempts: 2, target_ms: 5,
    resilience: `  retry: {max_attempts: 1}\n${BREAKER_OFF}`,
  },
  refused3: {
    title: 'refused, max_attempts 3, base_delay_ms 100: model-d -> model-b vs model-b',
    model: 'model-d', attempts: null, target_ms: 5,
    resilience: `  retry: {max_attempts: 3, base_delay_ms: 100}\n${BREAKER_OFF}`,
  },
};

const body = (model) => JSON.stringify({
  model,
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Say hello to the benchmark in five words.' },
  ],
  max_tokens: 32, temperature: 0.2,
});

// One POST on the shared keep-alive agent; resolves with status, headers, body, ms.
function post(agent, port, path, payload) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({
      host: '127.0.0.1', port, path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      timeout: 10000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers,
        text: Buffer.concat(chunks).toString(), ms: performance.now() - t0,
      }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out (10 s)')));
    req.on('error', reject);
    req.end(payload);
  });
}

function quantile(sorted, q) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99),
    mean, max: s[s.length - 1] };
}

async function runPhase(name, opt, mock) {
  const ph = PHASES[name];
  const gw = await startGateway(mock.port, {
    models, resilience: ph.resilience, threads: opt.threads, log_level: 'warn',
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const path = '/v1/chat/completions';
  const failPayload = body(ph.model);
  const directPayload = body('model-b');
  try {
    if (name === 'breaker') {
      // Open model-a's breaker: three 500s in a row from its upstream model (the requests
      // themselves fail over to model-b and succeed), then no more faults.
      await mock.addFault({ fault: 'status=500', model: 'up-a', count: 3 });
      for (let i = 0; i < 3; ++i) await post(agent, gw.port, path, failPayload);
      await mock.clearFaults();
      const c = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: gw.port, path: '/v1/router/circuits', agent,
          headers: { authorization: `Bearer ${ADMIN_KEY}` } }, (res) => {
          let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t));
        }).on('error', reject);
      });
      if (!/"open"/.test(c)) throw new Error(`model-a's breaker did not open: ${c}`);
    }
    for (let i = 0; i < opt.warmup; ++i) {
      await post(agent, gw.port, path, failPayload);
      await post(agent, gw.port, path, directPayload);
    }
    await mock.resetStats();
    const fail = [];
    const direct = [];
    const attempts = {};
    const deadline = performance.now() + opt.phaseSeconds * 1000;
    const t0 = performance.now();
    for (let i = 0; i < opt.n && performance.now() < deadline; ++i) {
      const f = await post(agent, gw.port, path, failPayload);
      const d = await post(agent, gw.port, path, directPayload);
      for (const [r, what, want] of [[f, ph.model, ph.attempts], [d, 'model-b', 1]]) {
        if (r.status !== 200 || r.headers['x-switchyard-model'] !== 'model-b'
            || (want !== null && r.headers['x-switchyard-attempts'] !== String(want))) {
          throw new Error(`${what}: unexpected answer ${r.status} model=${r.headers['x-switchyard-model']} `
            + `attempts=${r.headers['x-switchyard-attempts']} failures=${r.headers['x-switchyard-failures']}: `
            + r.text.slice(0, 300));
        }
      }
      const a = f.headers['x-switchyard-attempts'];
      attempts[a] = (attempts[a] ?? 0) + 1;
      fail.push(f.ms);
      direct.push(d.ms);
    }
    const wall_s = (performance.now() - t0) / 1000;
    const stats = await mock.stats();
    const sf = summary(fail);
    const sd = summary(direct);
    const added = {};
    const ratio = {};
    for (const k of ['p50', 'p90', 'p99', 'mean']) {
      added[k] = sf[k] - sd[k];
      ratio[k] = sf[k] / sd[k];
    }
    return {
      phase: name, title: ph.title, failover_model: ph.model, pairs: fail.length,
      complete: fail.length === opt.n, wall_s, target_ms: ph.target_ms,
      met_p50: added.p50 < ph.target_ms, met_p99: added.p99 < ph.target_ms,
      failover: sf, direct: sd, added_ms: added, ratio,
      failover_attempts: attempts,
      mock_requests: stats.requests, mock_by_model: stats.by_model,
    };
  } finally {
    agent.destroy();
    await gw.stop();
  }
}

const f3 = (x) => x.toFixed(3);
function table(results) {
  const lines = [
    '| case | n pairs | path | p50 ms | p90 ms | p99 ms | mean ms | max ms |',
    '|---|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    for (const [label, s] of [[`${r.failover_model} -> model-b`, r.failover], ['model-b direct', r.direct]]) {
      lines.push(`| ${r.phase} | ${r.pairs} | ${label} | ${f3(s.p50)} | ${f3(s.p90)} | ${f3(s.p99)} | ${f3(s.mean)} | ${f3(s.max)} |`);
    }
    const a = r.added_ms;
    const q = r.ratio;
    lines.push(`| ${r.phase} | | **added** | **${f3(a.p50)}** | ${f3(a.p90)} | **${f3(a.p99)}** | ${f3(a.mean)} | |`);
    lines.push(`| ${r.phase} | | ratio | ${q.p50.toFixed(2)} | ${q.p90.toFixed(2)} | ${q.p99.toFixed(2)} | ${q.mean.toFixed(2)} | |`);
  }
  lines.push('');
  for (const r of results) {
    lines.push(`${r.phase}: target < ${r.target_ms} ms added: p50 ${r.met_p50 ? 'met' : 'MISSED'}, `
      + `p99 ${r.met_p99 ? 'met' : 'MISSED'}; failover attempts ${JSON.stringify(r.failover_attempts)}; `
      + `mock saw ${r.mock_requests} requests ${JSON.stringify(r.mock_by_model)}; `
      + `${r.wall_s.toFixed(1)} s${r.complete ? '' : ' (stopped at --phase-seconds)'}`);
  }
  return lines.join('\n');
}

async function main() {
  const opt = parseArgs(process.argv);
  const watchdog = setTimeout(() => { console.error('failover_overhead: overall timeout'); process.exit(3); },
    (opt.phases.length * (opt.phaseSeconds + 30) + 30) * 1000);
  watchdog.unref();
  const mock = await startMock(['--threads', '1']);
  const results = [];
  try {
    for (const name of opt.phases) {
      if (!PHASES[name]) throw new Error(`unknown phase ${name}`);
      results.push(await runPhase(name, opt, mock));
      await sleep(200);
    }
  } finally {
    await mock.stop();
  }
  const out = { when: new Date().toISOString(), n: opt.n, warmup: opt.warmup,
    gateway_threads: opt.threads, results };
  console.log(table(results));
  console.log('\nJSON ' + JSON.stringify(out));
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => { console.error(e.stack ?? String(e)); process.exit(1); });
