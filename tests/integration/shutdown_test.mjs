// Graceful shutdown: on SIGTERM the gateway stops accepting, lets in-flight requests
// (plain and streamed) finish, and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, postJson } from './harness.mjs';

test('SIGTERM lets in-flight requests finish, refuses new ones, exits 0', async () => {
  const mock = await startMock();
  const gw = await startGateway(mock.port, { shutdown_grace_ms: 5000 });
  try {
    const slow = postJson(`${gw.base}/v1/chat/completions`, { model: 'mock-gpt',
      messages: [{ role: 'user', content: '[[mock: latency_ms=800]] slow one' }] });
    const streamed = postJson(`${gw.base}/v1/chat/completions`, { model: 'mock-gpt', stream: true,
      messages: [{ role: 'user', content: '[[mock: chunk_delay_ms=100,words=8]] streamed' }] });
    await new Promise((r) => setTimeout(r, 250));
    gw.proc.kill('SIGTERM');
    const [a, b] = await Promise.all([slow, streamed]);
    assert.equal(a.status, 200, a.text);
    assert.match(a.json.choices[0].message.content, /slow one/);
    assert.equal(b.status, 200);
    assert.ok(b.text.endsWith('data: [DONE]\n\n'), b.text);
    const { code } = await gw.proc.exited;
    assert.equal(code, 0, gw.proc.output());
    await assert.rejects(fetch(`${gw.base}/healthz`));
  } finally {
    await gw.stop();
    await mock.stop();
  }
});

test('the grace period bounds shutdown when a request hangs', async () => {
  const mock = await startMock();
  const gw = await startGateway(mock.port, { shutdown_grace_ms: 500, first_byte_timeout_ms: 20000, total_timeout_ms: 30000 });
  try {
    const hung = postJson(`${gw.base}/v1/chat/completions`, { model: 'mock-gpt',
      messages: [{ role: 'user', content: '[[mock: hang=1]] forever' }] }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    gw.proc.kill('SIGTERM');
    const { code } = await gw.proc.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 3000);
    await hung;
  } finally {
    await gw.stop();
    await mock.stop();
  }
});
