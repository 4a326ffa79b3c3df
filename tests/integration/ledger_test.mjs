// The usage ledger's durability (graceful shutdown flushes everything; kill -9 loses at most
// one batch) and the global budget's alert webhook.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { startMock, startGateway, stopStack, postJson, GATEWAY_BIN } from './harness.mjs';

let mock;
const gateways = [];
after(async () => {
  for (const g of gateways) await g.stop('SIGKILL');
  await mock?.stop();
});

const chat = (gw, text) => postJson(`${gw.base}/v1/chat/completions`, {
  model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: text }],
});

// Rows in the ledger, read with the CLI (the gateway may be dead).
function ledgerRows(dbPath) {
  const csv = execFileSync(GATEWAY_BIN, ['usage', 'report', '--db', dbPath, '--group-by', 'none', '--format', 'csv'], { encoding: 'utf8' });
  const lines = csv.trim().split('\n');
  return lines.length < 2 ? 0 : Number(lines[1].split(',')[1]);
}

test('graceful shutdown commits every row', async () => {
  mock ??= await startMock();
  const gw = await startGateway(mock.port, { ledger_flush_interval_ms: 60000, ledger_batch_rows: 1000 });
  gateways.push(gw);
  for (let i = 0; i < 30; ++i) assert.equal((await chat(gw, `graceful ${i}`)).status, 200);
  const { code } = await gw.stop('SIGTERM');
  assert.equal(code, 0);
  assert.equal(ledgerRows(gw.dbPath), 30);
});

test('kill -9 loses at most the last un-flushed batch', async () => {
  mock ??= await startMock();
  const batch = 8;
  const gw = await startGateway(mock.port, { ledger_flush_interval_ms: 60000, ledger_batch_rows: batch });
  gateways.push(gw);
  const sent = 50;
  for (let i = 0; i < sent; ++i) assert.equal((await chat(gw, `crash ${i}`)).status, 200);
  await gw.stop('SIGKILL');
  const rows = ledgerRows(gw.dbPath);
  assert.ok(rows <= sent, `${rows} rows for ${sent} responses`);
  assert.ok(rows >= sent - batch, `${rows} rows: more than one batch (${batch}) lost of ${sent}`);
  assert.ok(rows < sent, 'with a 60 s interval the last partial batch is really lost: the test would not see a regression otherwise');
});

test('crossing a budget threshold logs, counts and POSTs the alert to the webhook', async () => {
  mock ??= await startMock();
  const alerts = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { alerts.push({ path: req.url, body: JSON.parse(body) }); res.end('ok'); });
  });
  await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${hook.address().port}/alerts`;
    // Each request costs about $0.0012 at mock-gpt's $30/$60 per 1M: $0.005 is crossed at 25 % and 50 %
    // after about two requests.
    const gw = await startGateway(mock.port, {
      budgets: `  global: {usd: 0.005, period: month}\n  alert_thresholds: [0.25, 0.5]\n  webhook_url: ${url}`,
    });
    gateways.push(gw);
    let refused;
    for (let i = 0; i < 20 && !refused; ++i) {
      const r = await chat(gw, `spend ${i}`);
      if (r.status === 429) refused = r;
    }
    assert.ok(refused, 'the global budget runs out');
    assert.equal(refused.json.error.code, 'budget_exceeded');
    assert.match(refused.json.error.message, /global budget/);
    const deadline = Date.now() + 5000;
    while (alerts.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(alerts.map((a) => a.body.threshold), [0.25, 0.5]);
    assert.equal(alerts[0].path, '/alerts');
    assert.equal(alerts[0].body.type, 'budget_alert');
    assert.equal(alerts[0].body.limit_usd, 0.005);
    const metrics = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(metrics, /switchyard_budget_alerts_total\{budget="the gateway's global budget",threshold="25"\} 1/);
  } finally {
    hook.close();
  }
});
