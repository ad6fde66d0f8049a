import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  pushRemoteWrite,
  RemoteWriteError,
  toTimeSeries,
} from '../../src/integrations/prometheus/remote-write.ts';
import type { LabelledPoints } from '../../src/integrations/prometheus/names.ts';

const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitReady(base: string, proc: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null)
      throw new Error(`prometheus exited ${proc.exitCode}: ${readFileSync(log, 'utf8')}`);
    const ok = await fetch(`${base}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus not ready after 30 s: ${readFileSync(log, 'utf8')}`);
}

interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, promql: string, atMs: number): Promise<VectorResult[]> {
  const url = `${base}/api/v1/query?query=${encodeURIComponent(promql)}&time=${atMs / 1000}`;
  const body = (await (await fetch(url)).json()) as { status: string; data: { result: VectorResult[] } };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

test('a real Prometheus accepts grim remote writes and returns the values and labels', async (t) => {
  if (!hasPrometheus) return t.skip('prometheus binary not installed (apt-get install prometheus)');
  const dir = mkdtempSync(join(tmpdir(), 'grim-prom-'));
  const log = join(dir, 'prometheus.log');
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n'); // no scrape targets
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const out = openSync(log, 'a');
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  t.after(async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await waitReady(base, proc, log);

  const now = Date.now();
  const group = 'web "edge" \\ 1';
  const entities: LabelledPoints[] = [
    {
      kind: 'node',
      labels: { env: 'prod', group, node: 'n1' },
      points: [
        { metric: 'load1', dim: '', value: 0.75 },
        { metric: 'fs_used_bytes', dim: '/var/lib data', value: 123456789 },
      ],
    },
    {
      kind: 'node',
      labels: { env: 'prod', group, node: 'n2' },
      points: [{ metric: 'load1', dim: '', value: 2.5 }],
    },
    {
      kind: 'instance',
      labels: { env: 'prod', group, node: 'n1', app: 'shop', instance: 'shop-1' },
      points: [{ metric: 'instance_cpu_millicores', dim: '', value: 333.25 }],
    },
  ];
  const first = await pushRemoteWrite(`${base}/api/v1/write`, toTimeSeries(entities, now - 5000));
  assert.equal(first.attempts, 1);

  const load = await query(base, 'grim_node_load1', now);
  assert.deepEqual(
    load.map((r) => [r.metric, r.value[1]]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    [
      [{ __name__: 'grim_node_load1', env: 'prod', group, node: 'n1' }, '0.75'],
      [{ __name__: 'grim_node_load1', env: 'prod', group, node: 'n2' }, '2.5'],
    ],
  );
  const fs = await query(base, 'grim_node_filesystem_used_bytes{mountpoint="/var/lib data"}', now);
  assert.equal(fs.length, 1);
  assert.equal(fs[0].value[1], '123456789');
  const inst = await query(base, 'grim_instance_cpu_millicores{app="shop"}', now);
  assert.deepEqual(inst[0].metric, {
    __name__: 'grim_instance_cpu_millicores',
    app: 'shop',
    env: 'prod',
    group,
    instance: 'shop-1',
    node: 'n1',
  });
  assert.equal(inst[0].value[1], '333.25');

  // A later sample of the same series becomes the current value.
  entities[0].points = [{ metric: 'load1', dim: '', value: 1.5 }];
  await pushRemoteWrite(`${base}/api/v1/write`, toTimeSeries([entities[0]], now - 1000));
  const later = await query(base, 'grim_node_load1{node="n1"}', now);
  assert.equal(later[0].value[1], '1.5');

  // An out-of-order sample is rejected with a 4xx by Prometheus: reported once, not retried.
  await assert.rejects(
    pushRemoteWrite(`${base}/api/v1/write`, toTimeSeries([entities[0]], now - 60_000), {
      sleep: async () => undefined,
    }),
    (err: unknown) => err instanceof RemoteWriteError && err.status === 400 && err.attempts === 1,
  );
});
