// grim's traces survive its shutdown: a real `grim server` process exports to an OTLP/HTTP receiver that is a
// PROTOCOL DOUBLE (test/helpers/otlp-trace-double.ts decodes every export with the official opentelemetry-proto
// files). An OS update runs against a node on loopback whose port is closed: it fails at once, its span ends,
// and the SIGTERM follows well inside the exporter's 1 s batching. The trace must reach the receiver before the
// process exits. (Spans still open at shutdown are ended as interrupted: test/unit/otlp-traces-protocol-double.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, startGrimServer } from '../helpers/grim-process.ts';
import { otlpProtoMissing, spanTree, startTraceDouble } from '../helpers/otlp-trace-double.ts';
import { seedNodes } from '../helpers/fake-engine.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { migrate } from '../../src/store/migrate.ts';

const PASSWORD = 'trace-shutdown-password';

test('a span ended just before SIGTERM reaches the OTLP receiver before grim exits', async (t) => {
  const missing = otlpProtoMissing();
  if (missing) return t.skip(missing);
  const rx = await startTraceDouble();
  t.after(() => rx.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'grim-trace-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const db = openSqlite(join(dataDir, 'grim.db'));
  await migrate(db);
  await seedNodes(db, 1);
  await db.run("UPDATE nodes SET address = '127.0.0.1', port = ? WHERE name = 'n1'", [await freePort()]);
  await db.close();

  const srv = await startGrimServer(
    { GRIM_OTLP_ENDPOINT: rx.url, GRIM_ADMIN_PASSWORD: PASSWORD },
    { dataDir },
  );
  t.after(() => srv.stop('SIGKILL'));
  const login = await fetch(`${srv.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const headers = {
    cookie: String(login.headers.get('set-cookie')).split(';')[0],
    'x-csrf-token': csrfToken,
    'content-type': 'application/json',
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${srv.url}${path}`, { method, headers, body: body ? JSON.stringify(body) : null });
    return { status: r.status, json: (await r.json()) as any };
  };

  const started = await call('POST', '/api/updates', { target: { nodes: ['n1'] }, reboot: false });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const jobId = started.json.job.id as string;
  for (let i = 0; (await call('GET', `/api/jobs/${jobId}`)).json.job.status !== 'failed'; i++) {
    assert.ok(i < 400, "n1's update did not fail");
    await delay(20);
  }
  assert.equal(rx.spans.length, 0, 'nothing exported yet: spans wait up to 1 s for a batch');
  const stopping = Date.now();
  await srv.stop('SIGTERM');
  assert.equal(srv.proc.exitCode, 0, srv.output());
  console.log(`# SIGTERM to exit: ${Date.now() - stopping} ms`);

  assert.deepEqual(rx.violations, []);
  const root = rx.spans.find((s) => s.name === 'os update' && !s.parentSpanId);
  assert.ok(root, 'the span ended just before the SIGTERM arrived');
  assert.deepEqual(root.status, { code: 2, message: 'stopped: n1 failed' });
  assert.equal(root.attributes['grim.job.id'], jobId);
  assert.deepEqual(spanTree(rx.spans, 'os update'), [
    'os update [error]',
    '  update n1 [error]',
    '    os-update.sh [error]',
  ]);
});
