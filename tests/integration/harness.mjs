// Test harness: starts the mock upstream and the gateway as real processes on 127.0.0.1
// (port 0, read back from --port-file), writes the gateway's config, and stops both.
// Used by the integration tests and the end-to-end SDK tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const MOCK_BIN = process.env.MOCK_LLM_BIN;
export const GATEWAY_BIN = process.env.SWITCHYARD_BIN;
export const MOCK_KEY = 'sk-mock-test-key';
export const ADMIN_KEY = 'sk-sy-admin-test-key-0123456789';

async function waitForFile(file, proc, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited early with code ${proc.exitCode}: ${proc.output()}`);
    try {
      const text = fs.readFileSync(file, 'utf8').trim();
      if (text) return Number(text);
    } catch { /* not yet */ }
    await sleep(20);
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms: ${proc.output()}`);
}

function launch(bin, args, env = {}) {
  const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; if (out.length > 200000) out = out.slice(-100000); });
  proc.stderr.on('data', (d) => { out += d; if (out.length > 200000) out = out.slice(-100000); });
  proc.output = () => out;
  proc.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return proc;
}

export async function startMock(args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-mock-'));
  const portFile = path.join(dir, 'port');
  const proc = launch(MOCK_BIN, ['--port', '0', '--port-file', portFile, '--require-key', MOCK_KEY, ...args]);
  const port = await waitForFile(portFile, proc, 'mock-llm');
  const base = `http://127.0.0.1:${port}`;
  return {
    proc, port, base,
    async stats() { return (await fetch(`${base}/_mock/stats`)).json(); },
    async resetStats() { await fetch(`${base}/_mock/stats`, { method: 'DELETE' }); },
    async lastRequest() { return (await fetch(`${base}/_mock/last_request`)).json(); },
    async addFault(rule) {
      const r = await fetch(`${base}/_mock/faults`, { method: 'POST', body: JSON.stringify(rule) });
      if (!r.ok) throw new Error(`mock rejected fault ${JSON.stringify(rule)}: ${await r.text()}`);
    },
    async clearFaults() { await fetch(`${base}/_mock/faults`, { method: 'DELETE' }); },
    async stop() { proc.kill('SIGTERM'); await proc.exited; },
  };
}

// The gateway config used by the tests: every provider kind served by the mock, plus a
// model whose upstream refuses connections. Upstream timeouts are short so faults are quick.
// extra.cache: the body of a `cache:` section (lines indented by two spaces).
export function testConfig(mockPort, extra = {}) {
  const up = {
    connect_timeout_ms: 1000,
    first_byte_timeout_ms: extra.first_byte_timeout_ms ?? 1500,
    between_chunks_timeout_ms: extra.between_chunks_timeout_ms ?? 1000,
    total_timeout_ms: extra.total_timeout_ms ?? 8000,
  };
  const server = {
    host: '127.0.0.1', port: 0, threads: extra.threads ?? 2,
    max_body_bytes: extra.max_body_bytes ?? 1048576,
    request_timeout_ms: extra.request_timeout_ms ?? 2000,
    idle_timeout_ms: extra.idle_timeout_ms ?? 5000,
    shutdown_grace_ms: extra.shutdown_grace_ms ?? 5000,
  };
  const base = `http://127.0.0.1:${mockPort}/v1`;
  const kv = (o) => Object.entries(o).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  const auth = {
    open_access: extra.open_access ?? true,
    admin_key_env: 'SY_TEST_ADMIN_KEY',
    refresh_interval_ms: extra.refresh_interval_ms ?? 200,
  };
  const ledger = {
    flush_interval_ms: extra.ledger_flush_interval_ms ?? 50,
    batch_rows: extra.ledger_batch_rows ?? 256,
  };
  return `server:
${kv(server)}
upstream:
${kv(up)}
logging:
  level: ${extra.log_level ?? 'warn'}
auth:
${kv(auth)}
storage:
  sqlite_path: ${JSON.stringify(extra.sqlite_path ?? path.join(extra.dir ?? os.tmpdir(), 'switchyard.db'))}
ledger:
${kv(ledger)}
${extra.budgets ? `budgets:\n${extra.budgets}\n` : ''}${extra.routing ? `routing:\n${extra.routing}\n` : ''}resilience:
${extra.resilience ?? `  retry: {max_attempts: 3, base_delay_ms: 10, max_delay_ms: 100, budget_min_per_s: 1000}
  breaker: {consecutive_failures: 0, minimum_calls: 100000}`}
  incidents_path: ${JSON.stringify(path.join(extra.dir ?? os.tmpdir(), 'incidents.jsonl'))}
rag:
  sqlite_path: ${JSON.stringify(extra.rag_path ?? path.join(extra.dir ?? os.tmpdir(), 'rag.db'))}
${extra.rag ?? ''}${extra.cache ? `cache:\n${extra.cache}\n` : ''}models:
${extra.models ? extra.models(base) : `  - name: mock-gpt
    provider: openai
    upstream_model: gpt-4-turbo-upstream
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
    context_window: 128000
    price_per_1m: {input: 30, output: 60}
  - name: mock-claude
    provider: anthropic
    upstream_model: claude-upstream
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
    default_max_tokens: 1000
  - name: mock-local
    provider: ollama
    upstream_model: llama2
    base_url: ${base}
    api_key_env: SY_TEST_MOCK_KEY
    local: true
  - name: dead-model
    provider: openai
    base_url: http://127.0.0.1:1/v1
    api_key_env: SY_TEST_MOCK_KEY
  - name: keyless-model
    provider: openai
    base_url: ${base}
    api_key_env: SY_TEST_UNSET_KEY_VARIABLE
`}`;
}

// The seed's four models served by two mocks, "remote" (the cloud models) and "local"
// (models on our own hardware), so routing and failover tests can tell which one a request
// reached. Upstream model names are unique so a mock fault rule can target one model.
// Pass as startGateway(..., {models: seedCatalog(remote.base, local.base), routing: SEED_ROUTING}).
export const seedCatalog = (remote, local, extra = '') => () => `  - name: gpt-4-turbo
    provider: openai
    upstream_model: up-gpt
    base_url: ${remote}/v1
    api_key_env: SY_TEST_MOCK_KEY
    context_window: 128000
    capabilities: [chat, code, reasoning, tools, json]
    price_per_1m: {input: 30, output: 60}
    quality: {code: 0.95, reasoning: 0.95}
    fallbacks: [claude-3-5-sonnet, mistral]
  - name: claude-3-5-sonnet
    provider: anthropic
    upstream_model: up-claude
    base_url: ${remote}/v1
    api_key_env: SY_TEST_MOCK_KEY
    context_window: 200000
    capabilities: [chat, code, reasoning, tools]
    price_per_1m: {input: 3, output: 15}
    fallbacks: [mistral]
  - name: llama-2
    provider: ollama
    upstream_model: up-llama
    base_url: ${local}/v1
    api_key_env: SY_TEST_MOCK_KEY
    tokenizer: llama2
    context_window: 4096
    capabilities: [chat, private]
    local: true
  - name: mistral
    provider: ollama
    upstream_model: up-mistral
    base_url: ${local}/v1
    api_key_env: SY_TEST_MOCK_KEY
    tokenizer: mistral
    context_window: 8192
    capabilities: [chat, fast, private]
    local: true
${extra}`;

// The seed's policy (as in examples/switchyard.yaml, with a smaller "short" threshold) and
// two route aliases.
export const SEED_ROUTING = `  local_only_at: personal
  policy:
    - {name: privacy, min_privacy: personal, prefer: [llama-2], local_only: true}
    - {name: code-and-reasoning, tasks: [code, reasoning], prefer: [gpt-4-turbo, claude-3-5-sonnet]}
    - {name: short-and-fast, max_prompt_tokens: 64, max_complexity: low, prefer: [mistral]}
    - {name: general, prefer: [claude-3-5-sonnet]}
  routes:
    - {name: route/private, local_only: true}
    - {name: route/cheap, use_policy: false, weights: {cost: 3.0}}`;

export async function startGateway(mockPort, extra = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-gw-'));
  const configFile = path.join(dir, 'switchyard.yaml');
  fs.writeFileSync(configFile, testConfig(mockPort, { dir, ...extra }));
  const portFile = path.join(dir, 'port');
  const proc = launch(GATEWAY_BIN, ['serve', '--config', configFile, '--port-file', portFile],
    { SY_TEST_MOCK_KEY: MOCK_KEY, SY_TEST_ADMIN_KEY: ADMIN_KEY });
  const port = await waitForFile(portFile, proc, 'switchyard');
  const base = `http://127.0.0.1:${port}`;
  return {
    proc, port, base, dir, configFile, dbPath: path.join(dir, 'switchyard.db'),
    async stop(signal = 'SIGTERM') { if (proc.exitCode === null) proc.kill(signal); return proc.exited; },
  };
}

// Stops the gateway and the mock. A gateway that died mid-run fails every later test with a
// connection error, so its output is printed to show why.
export async function stopStack(gw, mock) {
  if (gw && (gw.proc.exitCode !== null || gw.proc.signalCode !== null)) {
    console.error(`switchyard exited during the tests (${gw.proc.exitCode ?? gw.proc.signalCode}):\n${gw.proc.output()}`);
  }
  await gw?.stop();
  await mock?.stop();
}

export async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// Parses an SSE body into [{event, data}] (data parsed as JSON unless [DONE]).
export function parseSse(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    let event = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    const raw = data.join('\n');
    let parsed = raw;
    if (raw !== '[DONE]') { try { parsed = JSON.parse(raw); } catch { parsed = raw; } }
    events.push({ event, data: parsed, raw });
  }
  return events;
}
