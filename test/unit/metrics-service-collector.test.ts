// The collector's round logic with a scripted SSH pool (the real one is exercised on the lab in
// test/integration/metrics-lab.test.ts): rates across rounds, instance cgroups, skipped and failing
// nodes, and a remote-write endpoint that refuses connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { MetricsCollector } from '../../src/services/metrics/collector.ts';
import type { SshPool } from '../../src/ssh/index.ts';
import { freePort } from '../helpers/grim-process.ts';

async function addNode(a: TestApp, name: string, state = 'ready') {
  await a.services.db.run(
    `INSERT INTO nodes (name, environment, address, port, ssh_user, roles, labels, host_key_fingerprint, state,
       state_reason, maintenance, reserve_cpu_millis, reserve_memory_bytes, facts, facts_at, last_seen_at, created_at)
     VALUES (?, 'prod', ?, 22, 'root', '["compute"]', '{}', 'SHA256:x', ?, '', 0, 0, 0, '{"cpus":2}', 0, 0, 0)`,
    [name, `10.0.0.${name.slice(1)}`, state],
  );
}

/** A metrics.sh answer: `busy` and `idle` ticks per core (2 cores), uptime in s, cgroup usec. */
function sample(busy: number, idle: number, uptime: number, cgroupUsec: number) {
  const core = [busy, 0, 0, idle, 0, 0, 0, 0];
  return JSON.stringify({
    v: 1,
    ts: 1,
    boot_id: 'b1',
    uptime,
    cpu: core.map((x) => x * 2),
    cpus: { '0': core, '1': core },
    load: [0.1, 0.2, 0.3],
    mem: { total_kb: 1000, available_kb: 400, free_kb: 0, buffers_kb: 0, cached_kb: 0 },
    fs: [],
    disk: [],
    net: [{ if: 'eth0', rx_bytes: uptime * 1000, rx_packets: 1, tx_bytes: 0, tx_packets: 0 }],
    cgroups: [{ path: '/inst/a', v: 2, cpu_usec: cgroupUsec, mem_bytes: 77 }],
  });
}

test('collector: rates from consecutive rounds, instances, skipped and failing nodes, failing remote write', async (t) => {
  const a = await startTestApp(t);
  await a.services.inventory.createEnvironment('prod');
  await addNode(a, 'n1');
  await addNode(a, 'n2');
  await addNode(a, 'n3', 'host-key-mismatch');
  const calls: { node: string; env: Record<string, string> }[] = [];
  let round = 0;
  const pool = {
    exec: async (target: { nodeId: string }, cmd: { env?: Record<string, string> }) => {
      calls.push({ node: target.nodeId, env: cmd.env ?? {} });
      if (target.nodeId === 'n2') throw new Error('connection refused');
      // round 2: 10 s later, each core 50 busy + 50 idle ticks of 100 -> 50 %; cgroup 5 s of CPU -> 500 m
      const out = round === 0 ? sample(100, 100, 1000, 1e6) : sample(150, 150, 1001, 1.5e6);
      return { exitCode: 0, stdout: out + '\n', stderr: '', durationMs: 5, timedOut: false };
    },
  } as unknown as SshPool;
  const logs: string[] = [];
  const closed = await freePort();
  const collector = new MetricsCollector(
    {
      db: a.services.db,
      pool,
      providers: () => ({
        ...a.services.metrics.providers,
        instanceCgroups: (n: string) => new Map(n === 'n1' ? [['/inst/a', 'inst-a']] : []),
      }),
      onInstancesSeen: (n, ids) => a.services.metrics.recordInstances(n, ids),
    },
    { intervalMs: 1000, remoteWriteUrl: `http://127.0.0.1:${closed}/api/v1/write`, log: (l) => logs.push(l) },
  );

  const first = await collector.collectOnce();
  assert.deepEqual(first.skipped, [{ node: 'n3', reason: 'host key mismatch' }]);
  assert.deepEqual(
    first.failed.map((f) => f.node),
    ['n2'],
  );
  assert.ok(!calls.some((c) => c.node === 'n3'), 'nothing is run on a node whose host key changed');
  assert.equal(calls.find((c) => c.node === 'n1')?.env.INSTANCE_CGROUPS, '/inst/a');
  const metrics1 = first.collected[0].rows.map((r) => r.metric);
  assert.ok(metrics1.includes('mem_used_bytes') && !metrics1.includes('cpu_busy_pct'), 'no rate yet');

  round = 1;
  const second = await collector.collectOnce();
  const rows = second.collected[0].rows;
  const value = (m: string, kind = 'node') => rows.find((r) => r.metric === m && r.kind === kind)?.value;
  assert.equal(value('cpu_busy_pct'), 50);
  assert.equal(value('net_rx_bytes_per_s'), 1000);
  assert.equal(value('instance_cpu_millicores', 'instance'), 500);
  assert.equal(rows.find((r) => r.kind === 'instance')?.entityId, 'inst-a');
  assert.equal(a.services.metrics.instanceNodes.get('inst-a'), 'n1');
  assert.ok(second.rowsWritten > 0);
  const stored = await a.services.metrics.series({
    scope: 'instance',
    name: 'inst-a',
    metric: 'instance_mem_bytes',
  });
  assert.equal(stored.points.length, 2);

  // n2's failure is logged once, not every round; remote write failures are logged and counted.
  assert.equal(logs.filter((l) => l.includes('cannot sample n2')).length, 1, logs.join('\n'));
  for (let i = 0; i < 50 && collector.stats.remoteWrite.failed === 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok(collector.stats.remoteWrite.failed >= 1, JSON.stringify(collector.stats));
  assert.ok(
    logs.some((l) => /remote write to .* failed/.test(l)),
    logs.join('\n'),
  );
  await collector.start()(); // start and stop at once: waits for the round and the push in flight
});
