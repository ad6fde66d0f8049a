// The metrics query API, capacity and federation over a real SQLite store (no nodes reached: node
// rows and samples are written directly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSamples } from '../../src/store/metrics-repo.ts';
import type { SeriesRow } from '../../src/domain/metrics/series-rows.ts';

const GiB = 2 ** 30;

async function addNode(a: TestApp, name: string, state = 'ready') {
  await a.services.db.run(
    `INSERT INTO nodes (name, environment, address, port, ssh_user, roles, labels, host_key_fingerprint, state,
       state_reason, maintenance, reserve_cpu_millis, reserve_memory_bytes, facts, facts_at, last_seen_at, created_at)
     VALUES (?, 'prod', ?, 22, 'root', '["compute"]', '{}', 'SHA256:x', ?, '', 0, 500, ?, ?, 0, 0, 0)`,
    [name, `10.0.0.${name.slice(1)}`, state, GiB, JSON.stringify({ cpus: 4, memoryBytes: 8 * GiB })],
  );
}

async function setup(t: Parameters<typeof startTestApp>[0]) {
  const a = await startTestApp(t);
  await a.services.inventory.createEnvironment('prod');
  for (const n of ['n1', 'n2', 'n3']) await addNode(a, n);
  await a.services.inventory.createGroup('web', 'prod', '', ['n1', 'n2']);
  const now = Date.now();
  const rows: SeriesRow[] = [];
  const row = (
    entityId: string,
    metric: SeriesRow['metric'],
    value: number,
    ts: number,
    dim = '',
  ): SeriesRow => ({
    kind: entityId.startsWith('i-') ? 'instance' : 'node',
    entityId,
    metric,
    dim,
    ts,
    value,
  });
  for (let i = 0; i < 20; i++) {
    const ts = now - 60_000 + i * 3000;
    rows.push(row('n1', 'cpu_busy_pct', 25, ts), row('n2', 'cpu_busy_pct', 75, ts));
    rows.push(row('i-1', 'instance_cpu_millicores', 100, ts), row('i-2', 'instance_cpu_millicores', 300, ts));
  }
  const last = now - 1000;
  rows.push(
    row('n1', 'mem_used_bytes', 3 * GiB, last),
    row('n1', 'mem_total_bytes', 8 * GiB, last),
    row('n2', 'mem_used_bytes', GiB, last),
    row('n1', 'load1', 0.5, last),
    row('n1', 'net_rx_bytes_per_s', 1000, last, 'eth0'),
    row('n1', 'net_rx_bytes_per_s', 24, last, 'eth1'),
    row('n1', 'fs_size_bytes', 100, last, '/'),
    row('n1', 'fs_used_bytes', 10, last, '/'),
    row('n1', 'fs_size_bytes', 100, last, '/var'),
    row('n1', 'fs_used_bytes', 90, last, '/var'),
    row('i-1', 'instance_mem_bytes', 4096, last),
  );
  await insertSamples(a.services.db, rows);
  a.services.metrics.setProviders({
    requested: (n) =>
      n === 'n1' ? { cpuMillis: 3000, memoryBytes: 4 * GiB } : { cpuMillis: 0, memoryBytes: 0 },
    appInstances: (app) => (app === 'shop' ? ['i-1', 'i-2'] : null),
    instanceApp: (id) => (id === 'i-1' ? 'shop' : undefined),
  });
  a.services.metrics.recordInstances('n1', ['i-1']);
  return { a, viewer: await a.tokenFor('viewer'), now };
}

test('series for a node, a group, an app and an instance, with the step the server picks', async (t) => {
  const { a, viewer, now } = await setup(t);
  const get = (q: string) =>
    a.call('GET', `/api/metrics/series?${q}&from=${now - 3_600_000}`, { token: viewer });

  const node = await get('scope=node&name=n1&metric=cpu_busy_pct');
  assert.equal(node.status, 200, JSON.stringify(node.json));
  assert.equal(node.json.resolution, 'raw');
  assert.equal(node.json.unit, 'percent');
  assert.equal(node.json.points.length, 20);
  assert.ok(node.json.points.every((p: { value: number }) => p.value === 25));

  const group = await get('scope=group&name=web&metric=cpu_busy_pct');
  assert.equal(group.json.fn, 'avg', 'percent metrics average across the group');
  assert.equal(group.json.stepMs, 60_000);
  for (const p of group.json.points) assert.equal(p.value, 50);
  const groupSum = await get('scope=group&name=web&metric=cpu_busy_pct&fn=sum');
  for (const p of groupSum.json.points) assert.equal(p.value, 100);

  const app = await get('scope=app&name=shop&metric=instance_cpu_millicores');
  assert.equal(app.json.fn, 'sum');
  for (const p of app.json.points) assert.deepEqual([p.value, p.entities], [400, 2]);
  const inst = await get('scope=instance&name=i-2&metric=instance_cpu_millicores');
  assert.equal(inst.json.points.length, 20);

  const month = await a.call(
    'GET',
    `/api/metrics/series?scope=node&name=n1&metric=cpu_busy_pct&from=${now - 30 * 86_400_000}`,
    { token: viewer },
  );
  assert.equal(month.json.resolution, '15m');

  assert.equal((await get('scope=group&name=nope&metric=cpu_busy_pct')).status, 404);
  assert.equal((await get('scope=app&name=nope&metric=instance_cpu_millicores')).status, 404);
  assert.equal((await get('scope=node&name=zz&metric=cpu_busy_pct')).status, 404);
  const wrongKind = await get('scope=node&name=n1&metric=instance_mem_bytes');
  assert.equal(wrongKind.status, 400);
  assert.match(wrongKind.json.error.message, /instance metric/);
  assert.equal((await get('scope=node&name=n1&metric=nope')).status, 400);
  assert.equal((await a.call('GET', '/api/metrics/series?scope=node&name=n1&metric=load1')).status, 401);
});

test('capacity: requested vs allocatable vs used, per node and per group', async (t) => {
  const { a, viewer } = await setup(t);
  const r = await a.call('GET', '/api/metrics/capacity?group=web', { token: viewer });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const n1 = r.json.nodes.find((n: { node: string }) => n.node === 'n1');
  assert.deepEqual(n1.allocatable, { cpuMillis: 3500, memoryBytes: 7 * GiB }); // 4 cores, 8 GiB minus reserve
  assert.deepEqual(n1.requested, { cpuMillis: 3000, memoryBytes: 4 * GiB });
  assert.equal(n1.used.cpuMillis, 1000); // 25 % of 4 cores
  assert.equal(n1.used.memoryBytes, 3 * GiB);
  assert.deepEqual(
    r.json.groups.map((g: { group: string }) => g.group),
    ['web'],
  );
  const web = r.json.groups[0];
  assert.deepEqual(web.allocatable, { cpuMillis: 7000, memoryBytes: 14 * GiB });
  assert.deepEqual(web.requested, { cpuMillis: 3000, memoryBytes: 4 * GiB });
  assert.deepEqual(web.used, { cpuMillis: 1000 + 3000, memoryBytes: 4 * GiB, nodesWithUsage: 2 });
  // n3 has no samples: its usage is unknown, not zero.
  const n3 = (await a.services.metrics.capacity({ node: 'n3' })).nodes[0];
  assert.deepEqual(n3.used, { cpuMillis: null, memoryBytes: null, at: null });
});

test('node top and federation text', async (t) => {
  const { a, viewer } = await setup(t);
  const top = (await a.call('GET', '/api/metrics/top/nodes', { token: viewer })).json.nodes;
  const n1 = top.find((n: { node: string }) => n.node === 'n1');
  assert.equal(n1.cpuBusyPct, 25);
  assert.equal(n1.netRxBytesPerS, 1024, 'interfaces are summed');
  assert.equal(n1.fsUsedPct, 90, 'the fullest filesystem');
  assert.equal(top.find((n: { node: string }) => n.node === 'n3').at, null);

  const fed = await a.call('GET', '/metrics/federate', { token: viewer });
  assert.equal(fed.status, 200);
  assert.match(String(fed.headers['content-type']), /text\/plain; version=0\.0\.4/);
  const text = String(fed.json);
  assert.match(text, /^grim_node_cpu_busy_percent\{env="prod",group="web",node="n1"\} 25$/m);
  assert.doesNotMatch(
    text
      .split('\n')
      .filter((l) => !/^grim_node_(up|host_key_mismatch)\{/.test(l))
      .join('\n'),
    /node="n3"/,
    'a node without recent samples has no usage series (only its up/host-key state)',
  );
  assert.match(
    text,
    /^grim_instance_memory_bytes\{env="prod",group="web",node="n1",app="shop",instance="i-1"\} 4096$/m,
  );
  assert.match(
    text,
    /^grim_instance_cpu_millicores\{instance="i-2"\} 300$/m,
    'unknown node and app: left out',
  );
  assert.equal((await a.call('GET', '/metrics/federate')).status, 401);
});
