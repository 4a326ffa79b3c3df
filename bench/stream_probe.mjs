#!/usr/bin/env node
// Streaming probe for bench/gateway_overhead.sh: what a gateway adds to streamed chat
// completions, measured against the mock upstream directly.
//
//  1. Sequential: N streamed requests, alternating direct / via gateway on one keep-alive
//     connection each. Per request: time to first token (first event with non-empty
//     delta.content), and the gaps between consecutive content events. Reports medians,
//     p99 and the added TTFT / gap of the gateway.
//  2. Concurrent: K streams opened at once (one connection each) for every K in the list,
//     against each target. A stream "completed" when it got HTTP 200, the expected number of
//     events and ended with `data: [DONE]`; it "stalled" when any gap between its events
//     exceeded stall-factor x chunk delay, or it was not finished by the deadline; it
//     "failed" on an error status, a reset, or an end without [DONE].
//
// Usage:
//   node bench/stream_probe.mjs --direct http://127.0.0.1:P1 --gateway http://127.0.0.1:P2
//        [--model bench-model] [--seq 30] [--seq-delay 10] [--seq-words 20]
//        [--conc 100,500,1000,2000] [--conc-delay 50] [--conc-words 20]
//        [--conc-targets direct,gateway] [--stall-factor 5] [--deadline-ms 20000]
//        [--json FILE] [--md FILE] [--gateway-pid PID] [--mock-pid PID]
// With the pids, each concurrent run also reports the CPU share each server used.
// Everything is bounded: every request has a deadline; the process exits when done.
import fs from 'node:fs';
import http from 'node:http';
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const o = {
    direct: null, gateway: null, model: 'bench-model',
    seq: 30, seqDelay: 10, seqWords: 20,
    conc: [100, 500, 1000, 2000], concDelay: 50, concWords: 20,
    concTargets: ['direct', 'gateway'],
    stallFactor: 5, deadlineMs: 20000, json: null, md: null,
    pids: {},  // name -> pid, for CPU use during the concurrent runs (Linux /proc)
  };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    switch (k) {
      case '--direct': o.direct = v; break;
      case '--gateway': o.gateway = v; break;
      case '--model': o.model = v; break;
      case '--seq': o.seq = Number(v); break;
      case '--seq-delay': o.seqDelay = Number(v); break;
      case '--seq-words': o.seqWords = Number(v); break;
      case '--conc': o.conc = v === '' || v === 'none' ? [] : v.split(',').map(Number); break;
      case '--conc-delay': o.concDelay = Number(v); break;
      case '--conc-words': o.concWords = Number(v); break;
      case '--conc-targets': o.concTargets = v.split(','); break;
      case '--stall-factor': o.stallFactor = Number(v); break;
      case '--deadline-ms': o.deadlineMs = Number(v); break;
      case '--json': o.json = v; break;
      case '--md': o.md = v; break;
      case '--gateway-pid': o.pids.gateway = Number(v); break;
      case '--mock-pid': o.pids.mock = Number(v); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!o.direct || !o.gateway) throw new Error('--direct and --gateway are required');
  return o;
}

// ------------------------------------------------------------------ helpers

// CPU seconds (user + system) a process has used so far, or NaN.
const CLK_TCK = 100;  // USER_HZ, fixed at 100 on Linux
function cpuSeconds(pid) {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch { return NaN; }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
const sortNum = (a) => [...a].sort((x, y) => x - y);
const mean = (a) => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : NaN);
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const sign = (x, fmt = f2) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + fmt(x) : 'n/a');

function body(model, delayMs, words, tag) {
  return JSON.stringify({
    model,
    stream: true,
    messages: [{ role: 'user', content: `stream probe ${tag} [[mock: chunk_delay_ms=${delayMs},words=${words}]]` }],
  });
}

// One streamed request. `onEvent(now, dataText)` is called per SSE event if given; the
// promise resolves with {status, events, done, error, tStart, tHeaders, tEvents[]}.
// With `light`, event payloads are not decoded (the concurrent phase: cheap client).
function streamOnce(base, payload, { agent, deadlineMs, light }) {
  return new Promise((resolve) => {
    const url = new URL('/v1/chat/completions', base);
    const r = {
      status: 0, events: 0, contentTimes: [], eventTimes: [], done: false, error: null,
      tStart: performance.now(), tHeaders: NaN,
    };
    let tail = '';
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      r.status = res.statusCode;
      r.tHeaders = performance.now();
      res.setEncoding('utf8');
      res.on('data', (text) => {
        const now = performance.now();
        tail += text;
        let idx;
        while ((idx = tail.indexOf('\n\n')) >= 0) {
          const ev = tail.slice(0, idx);
          tail = tail.slice(idx + 2);
          if (!ev.startsWith('data: ')) continue;
          r.events += 1;
          r.eventTimes.push(now);
          const data = ev.slice(6);
          if (data === '[DONE]') { r.done = true; continue; }
          if (!light) {
            try {
              const j = JSON.parse(data);
              const c = j.choices && j.choices[0] && j.choices[0].delta && j.choices[0].delta.content;
              if (c) r.contentTimes.push(now);
            } catch { r.error = r.error || 'bad JSON in event'; }
          }
        }
      });
      res.on('end', finish);
      res.on('error', (e) => { r.error = r.error || String(e.code || e.message); finish(); });
      res.on('aborted', () => { r.error = r.error || 'aborted'; });
    });
    const timer = setTimeout(() => {
      r.error = r.error || 'deadline';
      req.destroy();
      finish();
    }, deadlineMs);
    req.on('error', (e) => { r.error = r.error || String(e.code || e.message); finish(); });
    req.end(payload);
  });
}

// ------------------------------------------------------------------ sequential phase

async function sequential(o) {
  const targets = { direct: o.direct, gateway: o.gateway };
  const agents = {
    direct: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    gateway: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  const acc = { direct: { ttft: [], gapsMean: [], gaps: [], ttfb: [] }, gateway: { ttft: [], gapsMean: [], gaps: [], ttfb: [] } };
  const warmup = 3;
  let failures = 0;
  for (let i = 0; i < o.seq + warmup; ++i) {
    for (const name of ['direct', 'gateway']) {
      const r = await streamOnce(targets[name], body(o.model, o.seqDelay, o.seqWords, `seq-${i}`), {
        agent: agents[name], deadlineMs: 10000 + o.seqDelay * (o.seqWords + 3) * 5, light: false,
      });
      const ok = r.status === 200 && r.done && !r.error && r.contentTimes.length === o.seqWords;
      if (!ok) { failures += 1; continue; }
      if (i < warmup) continue;
      const a = acc[name];
      a.ttft.push(r.contentTimes[0] - r.tStart);
      a.ttfb.push(r.tHeaders - r.tStart);
      const gaps = [];
      for (let k = 1; k < r.contentTimes.length; ++k) gaps.push(r.contentTimes[k] - r.contentTimes[k - 1]);
      a.gaps.push(...gaps);
      a.gapsMean.push(mean(gaps));
    }
  }
  for (const a of Object.values(agents)) a.destroy();
  const summarize = (a) => {
    const ttft = sortNum(a.ttft);
    const gaps = sortNum(a.gaps);
    return {
      n: a.ttft.length,
      ttfb_p50_ms: quantile(sortNum(a.ttfb), 0.5),
      ttft_p50_ms: quantile(ttft, 0.5),
      ttft_p99_ms: quantile(ttft, 0.99),
      ttft_mean_ms: mean(ttft),
      gap_mean_ms: mean(gaps),
      gap_p50_ms: quantile(gaps, 0.5),
      gap_p99_ms: quantile(gaps, 0.99),
      gap_max_ms: gaps.length ? gaps[gaps.length - 1] : NaN,
    };
  };
  const d = summarize(acc.direct);
  const g = summarize(acc.gateway);
  return {
    requests: o.seq, chunk_delay_ms: o.seqDelay, words: o.seqWords, failures,
    direct: d, gateway: g,
    added: {
      ttft_p50_ms: g.ttft_p50_ms - d.ttft_p50_ms,
      ttft_mean_ms: g.ttft_mean_ms - d.ttft_mean_ms,
      gap_mean_ms: g.gap_mean_ms - d.gap_mean_ms,
      gap_max_ms: g.gap_max_ms - d.gap_max_ms,
    },
  };
}

// ------------------------------------------------------------------ concurrent phase

async function concurrent(o, base, k) {
  const stallMs = o.stallFactor * o.concDelay;
  const expectedEvents = o.concWords + 3;  // role, words, finish, [DONE]
  const deadlineMs = o.deadlineMs;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = Object.fromEntries(Object.entries(o.pids).map(([n, p]) => [n, cpuSeconds(p)]));
  const t0 = performance.now();
  const jobs = [];
  for (let i = 0; i < k; ++i) {
    jobs.push(streamOnce(base, body(o.model, o.concDelay, o.concWords, `conc-${k}-${i}`), {
      agent: false, deadlineMs, light: true,
    }));
  }
  const results = await Promise.all(jobs);
  const wallMs = performance.now() - t0;
  loop.disable();
  // Share of one CPU each server process used during the run (100% = one core busy).
  const cpuPct = Object.fromEntries(Object.entries(o.pids).map(([n, p]) =>
    [n, (100 * (cpuSeconds(p) - cpu0[n])) / (wallMs / 1000)]));
  let completed = 0;
  let stalled = 0;
  let failed = 0;
  let unfinished = 0;
  const firstEvent = [];
  const maxGaps = [];
  const errors = {};
  for (const r of results) {
    let maxGap = 0;
    for (let i = 1; i < r.eventTimes.length; ++i) maxGap = Math.max(maxGap, r.eventTimes[i] - r.eventTimes[i - 1]);
    if (r.eventTimes.length) firstEvent.push(r.eventTimes[0] - r.tStart);
    maxGaps.push(maxGap);
    const correct = r.status === 200 && r.done && r.events === expectedEvents && !r.error;
    const late = r.error === 'deadline';
    if (late) unfinished += 1;
    if (correct) completed += 1;
    else if (!late) {
      failed += 1;
      const why = r.error || (r.status !== 200 ? `HTTP ${r.status}` : (r.done ? `events ${r.events}` : 'no [DONE]'));
      errors[why] = (errors[why] || 0) + 1;
    }
    if (late || maxGap > stallMs) stalled += 1;
  }
  const fe = sortNum(firstEvent);
  const mg = sortNum(maxGaps);
  return {
    k, completed, stalled, failed, unfinished, errors,
    stall_threshold_ms: stallMs,
    first_event_p50_ms: quantile(fe, 0.5),
    first_event_p99_ms: quantile(fe, 0.99),
    max_gap_p50_ms: quantile(mg, 0.5),
    max_gap_p99_ms: quantile(mg, 0.99),
    max_gap_max_ms: mg.length ? mg[mg.length - 1] : NaN,
    wall_ms: wallMs,
    client_loop_delay_max_ms: loop.max / 1e6,
    cpu_pct: cpuPct,
  };
}

// ------------------------------------------------------------------ report

function markdown(o, seq, conc) {
  const L = [];
  L.push(`Streaming, sequential: ${seq.requests} requests per path (after 3 warm-up), ` +
    `mock chunk_delay_ms=${seq.chunk_delay_ms}, words=${seq.words}; times in ms` +
    (seq.failures ? ` (${seq.failures} failed requests excluded)` : '') + '.');
  L.push('');
  L.push('| metric (ms) | direct (mock) | via Switchyard | added by Switchyard |');
  L.push('|---|---:|---:|---:|');
  const row = (name, key, addKey) => {
    const add = addKey ? sign(seq.added[addKey], f3) : sign(seq.gateway[key] - seq.direct[key], f3);
    L.push(`| ${name} | ${f3(seq.direct[key])} | ${f3(seq.gateway[key])} | ${add} |`);
  };
  row('time to first byte (headers), p50', 'ttfb_p50_ms');
  row('time to first token, p50', 'ttft_p50_ms', 'ttft_p50_ms');
  row('time to first token, mean', 'ttft_mean_ms', 'ttft_mean_ms');
  row('time to first token, p99', 'ttft_p99_ms');
  row('gap between chunks, mean', 'gap_mean_ms', 'gap_mean_ms');
  row('gap between chunks, p99', 'gap_p99_ms');
  row('gap between chunks, max', 'gap_max_ms', 'gap_max_ms');
  if (conc.length) {
    L.push('');
    L.push(`Streaming, concurrent: K streams opened at once (one connection each), mock ` +
      `chunk_delay_ms=${o.concDelay}, words=${o.concWords} (${o.concWords + 3} events, ` +
      `~${((o.concWords + 2) * o.concDelay / 1000).toFixed(1)} s per stream); stalled = a gap ` +
      `> ${o.stallFactor * o.concDelay} ms or not finished within ${o.deadlineMs / 1000} s.`);
    L.push('');
    const cpuNames = Object.keys(o.pids);
    const cpuHead = cpuNames.map((n) => ` ${n} CPU % |`).join('');
    L.push('| K | path | completed | stalled | failed | first event p50 / p99 (ms) | worst gap p99 / max (ms) | wall (s) | client loop lag max (ms) |' + cpuHead);
    L.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|' + cpuNames.map(() => '---:|').join(''));
    for (const c of conc) {
      const errs = Object.keys(c.errors).length ? ` (${Object.entries(c.errors).map(([k, v]) => `${k}: ${v}`).join(', ')})` : '';
      L.push(`| ${c.k} | ${c.path} | ${c.completed}/${c.k} | ${c.stalled} | ${c.failed}${errs} | ` +
        `${f2(c.first_event_p50_ms)} / ${f2(c.first_event_p99_ms)} | ${f2(c.max_gap_p99_ms)} / ${f2(c.max_gap_max_ms)} | ` +
        `${(c.wall_ms / 1000).toFixed(2)} | ${f2(c.client_loop_delay_max_ms)} |` +
        cpuNames.map((n) => ` ${Number.isFinite(c.cpu_pct[n]) ? c.cpu_pct[n].toFixed(0) : 'n/a'} |`).join(''));
    }
  }
  return L.join('\n') + '\n';
}

async function main() {
  const o = parseArgs(process.argv);
  const hardStop = setTimeout(() => {
    console.error('stream_probe: overall time limit reached');
    process.exit(3);
  }, 240000 + o.conc.length * o.concTargets.length * o.deadlineMs);
  hardStop.unref();

  const seq = await sequential(o);
  console.log(`sequential: direct TTFT p50 ${f3(seq.direct.ttft_p50_ms)} ms, gateway ${f3(seq.gateway.ttft_p50_ms)} ms; ` +
    `gap mean ${f3(seq.direct.gap_mean_ms)} / ${f3(seq.gateway.gap_mean_ms)} ms`);
  const conc = [];
  for (const k of o.conc) {
    for (const name of o.concTargets) {
      const base = name === 'direct' ? o.direct : o.gateway;
      const c = await concurrent(o, base, k);
      c.path = name === 'direct' ? 'direct (mock)' : 'via Switchyard';
      conc.push(c);
      console.log(`concurrent K=${k} ${name}: completed ${c.completed}, stalled ${c.stalled}, failed ${c.failed}` +
        `, unfinished ${c.unfinished}, worst gap ${f2(c.max_gap_max_ms)} ms, wall ${(c.wall_ms / 1000).toFixed(2)} s` +
        `, client lag max ${f2(c.client_loop_delay_max_ms)} ms, CPU ${JSON.stringify(Object.fromEntries(Object.entries(c.cpu_pct).map(([n, v]) => [n, Math.round(v)])))}` +
        (Object.keys(c.errors).length ? `, errors ${JSON.stringify(c.errors)}` : ''));
      // Let closed connections settle before the next round.
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const md = markdown(o, seq, conc);
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ sequential: seq, concurrent: conc }, null, 2));
  if (o.md) fs.writeFileSync(o.md, md);
  process.stdout.write('\n' + md);
}

main().then(() => process.exit(0), (e) => {
  console.error(`stream_probe: ${e.stack || e}`);
  process.exit(1);
});
