// The switchyard command: version, help, config check, refusing an invalid config with file,
// line and key (exit code 2), tokens, and cache invalidate|stats against a running gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_BIN, ADMIN_KEY, startMock, startGateway, stopStack, postJson } from './harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = (...args) => spawnSync(GATEWAY_BIN, args, { encoding: 'utf8', timeout: 10000 });

test('version and help', () => {
  const v = run('version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^switchyard \d+\.\d+\.\d+/);
  for (const args of [['--help'], ['serve', '--help'], ['config', 'check', '--help']]) {
    const h = run(...args);
    assert.equal(h.status, 0, args.join(' '));
    assert.match(h.stdout, /Usage/);
  }
});

test('config check accepts the example and the embedded default', () => {
  const r = run('config', 'check', path.join(root, 'examples/switchyard.yaml'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /OK \(4 models\)/);
  const d = run('config', 'default');
  assert.equal(d.stdout, fs.readFileSync(path.join(root, 'examples/switchyard.yaml'), 'utf8'));
});

test('an invalid config names file, line and key, and exits 2 (check and serve)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-cli-'));
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, 'server:\n  port: 8080\n  treads: 4\nmodels: []\n');
  for (const args of [['config', 'check', file], ['serve', '--config', file]]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: server\\.treads: unknown key`));
  }
  const missing = run('config', 'check', path.join(dir, 'nope.yaml'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot open file/);
});

test('an unusable listen address is a clear error, not a crash', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-cli-'));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, 'server: {host: 300.1.1.1}\nmodels: []\n');
  let r = run('serve', '--config', file);
  assert.equal(r.status, 1);
  assert.match(r.stdout + r.stderr, /invalid server.host/);

  const blocker = net.createServer();
  await new Promise((res) => blocker.listen(0, '127.0.0.1', res));
  fs.writeFileSync(file, `server: {port: ${blocker.address().port}}\nmodels: []\n`);
  r = run('serve', '--config', file);
  blocker.close();
  assert.equal(r.status, 1);
  assert.match(r.stdout + r.stderr, /cannot listen on 127.0.0.1:\d+/);
});

test('tokens count and encode: catalog models, name fallback, files and stdin, bad arguments', () => {
  const count = (args, input) => spawnSync(GATEWAY_BIN, ['tokens', 'count', ...args],
    { encoding: 'utf8', input, timeout: 10000 });
  // A catalog model: its vocabulary and its input price ($30 per 1M for gpt-4-turbo).
  const g = count(['--model', 'gpt-4-turbo'], 'hello world');
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stdout, /tokens: 2\nvocabulary: cl100k_base/);
  assert.match(g.stdout, /cost as input: \$0\.000060/);
  // Not in the catalog: chosen by name, or the documented fallback, and no price.
  assert.match(count(['--model', 'gpt-4o-mini'], 'hello world').stdout, /vocabulary: o200k_base/);
  const unknown = count(['--model', 'totally-new-model'], 'hello world');
  assert.equal(unknown.status, 0);
  assert.match(unknown.stdout, /vocabulary: cl100k_base/);
  assert.match(unknown.stdout, /cost: unknown/);
  // A file argument, and invalid UTF-8 counted without failing.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-tok-'));
  const file = path.join(dir, 'bytes.bin');
  fs.writeFileSync(file, Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x20, 0xc3]));
  const bytes = run('tokens', 'count', '--vocab', 'llama2', file);
  assert.equal(bytes.status, 0, bytes.stderr);
  assert.match(bytes.stdout, /tokens: [1-9]/);
  const ids = run('tokens', 'encode', '--vocab', 'cl100k_base', path.join(root, 'tests/data/tokens/bl_prose.txt'));
  assert.equal(ids.status, 0, ids.stderr);
  assert.match(ids.stdout, /^\d+( \d+)+\n$/);
  // Bad arguments.
  assert.equal(run('tokens', 'count', path.join(dir, 'missing.txt'), '--vocab', 'claude').status, 1);
  assert.equal(count(['--model', 'gpt-4', '--vocab', 'claude'], 'x').status, 2);
  const badVocab = count(['--vocab', 'gpt2'], 'x');
  assert.equal(badVocab.status, 1);
  assert.match(badVocab.stderr, /unknown vocabulary 'gpt2'/);
});

// Async, so the gateway (a child of this process) keeps being served while the CLI runs.
function runAsync(args, env) {
  return new Promise((resolve) => {
    const p = spawn(GATEWAY_BIN, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 15000);
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

test('cache invalidate and stats call a running gateway with the admin key', async () => {
  const mock = await startMock();
  const gw = await startGateway(mock.port, { open_access: false });
  try {
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    const ask = (text) => postJson(`${gw.base}/v1/chat/completions`,
      { model: 'mock-gpt', temperature: 0, messages: [{ role: 'user', content: text }] }, admin);
    for (const text of ['the invoice total', 'the weather today']) {
      assert.equal((await ask(text)).headers.get('x-switchyard-cache'), 'miss');
      assert.equal((await ask(text)).headers.get('x-switchyard-cache'), 'hit');
    }
    const cli = (...args) => runAsync(['cache', ...args, '--config', gw.configFile],
      { SY_TEST_ADMIN_KEY: ADMIN_KEY });
    const url = ['--url', `http://127.0.0.1:${gw.port}/v1`];

    let r = await cli('invalidate', '--prompt-regex', 'invoice', ...url);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).removed, 1);
    assert.equal((await ask('the invoice total')).headers.get('x-switchyard-cache'), 'miss');
    assert.equal((await ask('the weather today')).headers.get('x-switchyard-cache'), 'hit');

    r = await cli('stats', ...url);
    assert.equal(r.status, 0, r.stderr);
    const stats = JSON.parse(r.stdout);
    assert.ok(stats.lookups.hits >= 3 && stats.entries === 2, r.stdout);

    r = await cli('invalidate', '--all', ...url);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).removed, 2);

    // Bad arguments and a missing key are exit code 2 with a message; a wrong key is the
    // gateway's 401, exit code 1.
    r = await cli('invalidate', ...url);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /name what to invalidate/);
    r = await cli('invalidate', '--older-than', '5 weeks', ...url);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--older-than must be a duration/);
    r = await runAsync(['cache', 'stats', '--config', gw.configFile, ...url], { SY_TEST_ADMIN_KEY: '' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /SY_TEST_ADMIN_KEY is not set/);
    r = await runAsync(['cache', 'stats', '--config', gw.configFile, ...url],
      { SY_TEST_ADMIN_KEY: 'sk-sy-not-the-admin-key-000000' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /answered 401/);
  } finally {
    await stopStack(gw, mock);
  }
  // Nothing listening: a clear error, exit code 1.
  const r = await runAsync(['cache', 'stats', '--url', `http://127.0.0.1:${gw.port}`],
    { SWITCHYARD_ADMIN_KEY: 'sk-sy-whatever-000000000000' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot reach the gateway/);
});
