// Support for the mock-llm tests: starts the built binary (MOCK_LLM_BIN) on port 0 and
// stops it after; HTTP, SSE and raw-socket helpers. Each test file that imports this gets
// its own mock process (`main`). node --test, global fetch, no npm dependencies.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';

export const BIN = process.env.MOCK_LLM_BIN;
assert.ok(BIN, 'set MOCK_LLM_BIN to the built mock-llm binary');

const running = [];

// Starts a mock and resolves once it printed its "listening" line.
export function startMock(args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(proc);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`mock did not start: ${out} ${err}`)), 5000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^mock-llm listening on (\S+):(\d+)\n/);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({ proc, port, base: `http://127.0.0.1:${port}`, stdout: () => out });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock exited early (${code}): ${err}`));
    });
  });
}

export function stopMock(mock) {
  return new Promise((resolve) => {
    if (mock.proc.exitCode !== null) return resolve(mock.proc.exitCode);
    mock.proc.once('exit', (code, signal) => resolve(code ?? signal));
    mock.proc.kill('SIGTERM');
  });
}

after(async () => {
  for (const proc of running) if (proc.exitCode === null) proc.kill('SIGKILL');
});

export const main = await startMock();
export const BASE = main.base;
export const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

export async function postJson(path, body, headers = {}, base = BASE) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { res, status: res.status, text, json };
}

export const chat = (body, headers, base) => postJson('/v1/chat/completions', body, headers, base);
export const messages = (body, headers = {}, base) =>
  postJson('/v1/messages', body, { ...ANTHROPIC, ...headers }, base);

export function userChat(text, extra = {}) {
  return { model: 'mock-gpt', messages: [{ role: 'user', content: text }], ...extra };
}
export function userMessages(text, extra = {}) {
  return { model: 'mock-claude', max_tokens: 1024, messages: [{ role: 'user', content: text }], ...extra };
}

// SSE text -> [{event, data}], data parsed as JSON when it is JSON.
export function parseSse(text) {
  return text.split('\n\n').filter((b) => b.length > 0).map((block) => {
    const ev = {};
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.raw = line.slice(6);
    }
    try { ev.data = JSON.parse(ev.raw); } catch { ev.data = undefined; }
    return ev;
  });
}

// One request on a raw socket; resolves on close with everything received and any socket error.
export function rawRequest(port, text, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    const times = [];
    let error = null;
    const t0 = Date.now();
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => { chunks.push(d); times.push(Date.now() - t0); });
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks).toString('utf8'), error, times });
    });
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
  });
}

export function httpPost(path, body, headers = {}) {
  const payload = JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `POST ${path} HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n${extra}\r\n${payload}`;
}

// Decodes a chunked HTTP body (possibly cut short) into its text.
export function dechunk(body) {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    const chunk = Buffer.from(rest.slice(eol + 2), 'utf8').subarray(0, size).toString('utf8');
    out += chunk;
    rest = rest.slice(eol + 2 + chunk.length + 2);
  }
}

export const stats = async (base = BASE) => (await fetch(`${base}/_mock/stats`)).json();
export const resetStats = (base = BASE) => fetch(`${base}/_mock/stats`, { method: 'DELETE' });
export const clearFaults = (base = BASE) => fetch(`${base}/_mock/faults`, { method: 'DELETE' });
export const addRule = (rule, base = BASE) =>
  fetch(`${base}/_mock/faults`, { method: 'POST', body: JSON.stringify(rule) });
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(predicate, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) return value;
    await sleep(20);
  }
}
