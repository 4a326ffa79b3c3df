// HTTPS upstreams: certificate and host-name verification, with a private CA given by
// upstream.ca_file. nginx terminates TLS (a cert made here for "localhost") in front of
// the mock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMock, postJson, GATEWAY_BIN, MOCK_KEY } from './harness.mjs';

let mock;
let nginx;
let dir;
let tlsPort;
const gateways = [];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

async function startGatewayWith(config) {
  const file = path.join(dir, `gw-${gateways.length}.yaml`);
  const portFile = `${file}.port`;
  fs.writeFileSync(file, config);
  const proc = spawn(GATEWAY_BIN, ['serve', '--config', file, '--port-file', portFile],
    { env: { ...process.env, SY_TEST_MOCK_KEY: MOCK_KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  proc.exited = new Promise((r) => proc.on('exit', r));
  gateways.push(proc);
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(portFile)) return `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;
    if (proc.exitCode !== null) throw new Error(`gateway exited: ${out}`);
    await sleep(20);
  }
  throw new Error(`gateway did not start: ${out}`);
}

function config(caFile) {
  return `server: {port: 0, threads: 1}
upstream:
  connect_timeout_ms: 2000
  first_byte_timeout_ms: 3000
  ca_file: "${caFile}"
logging: {level: error}
auth: {open_access: true}
storage: {sqlite_path: "${path.join(dir, 'switchyard.db')}"}
resilience: {incidents_path: "${path.join(dir, 'incidents.jsonl')}"}
models:
  - name: tls-good
    provider: openai
    base_url: https://localhost:${tlsPort}/v1
    api_key_env: SY_TEST_MOCK_KEY
  - name: tls-wrong-host
    provider: openai
    base_url: https://127.0.0.1:${tlsPort}/v1
    api_key_env: SY_TEST_MOCK_KEY
`;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/CN=Switchyard Test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');

  mock = await startMock();
  tlsPort = await freePort();
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream mock { server 127.0.0.1:${mock.port}; keepalive 8; }
  server {
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`);
  nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.exited = new Promise((r) => nginx.on('exit', r));
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(tlsPort, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    await sleep(25);
  }
});

after(async () => {
  for (const g of gateways) { g.kill('SIGTERM'); await g.exited; }
  if (nginx) { nginx.kill('SIGTERM'); await nginx.exited; }
  await mock?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('HTTPS upstream with a trusted CA works, non-streaming and streaming', async () => {
  const base = await startGatewayWith(config(path.join(dir, 'ca.pem')));
  const r = await postJson(`${base}/v1/chat/completions`, { model: 'tls-good',
    messages: [{ role: 'user', content: 'over tls' }] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.choices[0].message.content, 'Mock reply from tls-good: over tls');
  const s = await postJson(`${base}/v1/chat/completions`, { model: 'tls-good', stream: true,
    messages: [{ role: 'user', content: 'stream over tls' }] });
  assert.equal(s.status, 200, s.text);
  assert.ok(s.text.endsWith('data: [DONE]\n\n'));
  // keep-alive reuse over TLS
  for (let i = 0; i < 3; i++) {
    const again = await postJson(`${base}/v1/chat/completions`, { model: 'tls-good',
      messages: [{ role: 'user', content: `again ${i}` }] });
    assert.equal(again.status, 200, again.text);
  }
});

test('a certificate for another host name is refused (502)', async () => {
  const base = await startGatewayWith(config(path.join(dir, 'ca.pem')));
  const r = await postJson(`${base}/v1/chat/completions`, { model: 'tls-wrong-host',
    messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 502, r.text);
  assert.match(r.json.error.message, /TLS handshake/);
});

test('an untrusted CA is refused (502)', async () => {
  const base = await startGatewayWith(config(''));
  const r = await postJson(`${base}/v1/chat/completions`, { model: 'tls-good',
    messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 502, r.text);
  assert.match(r.json.error.message, /TLS handshake.*certificate verify failed/);
});
