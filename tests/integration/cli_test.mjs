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
