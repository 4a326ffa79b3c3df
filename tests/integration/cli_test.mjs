// The switchyard command: version, help, config check, and refusing an invalid config
// with file, line and key (exit code 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_BIN } from './harness.mjs';

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
