// Firecracker VMM metrics reach grim's usage metrics: the VMM (the spec-checking double, started by the
// real vm-fc-run.sh) writes its metrics file on FlushMetrics; the collector runs the real metrics.sh
// (locally, as sh -s with its parameters, like over SSH) with the file and the offset it has read to, and
// stores network and disk rates for the instance. Each round reads only what was written since.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { FcInstanceDir } from '../helpers/fc-node-sim.ts';
import { loadSharedSpec } from '../helpers/openapi-validator.ts';
import { MetricsCollector } from '../../src/services/metrics/collector.ts';
import { FirecrackerApiClient } from '../../src/drivers/firecracker/api-client.ts';
import { bootPlan } from '../../src/drivers/firecracker/boot-plan.ts';
import { bootPlanFile } from '../../src/drivers/firecracker/boot-file.ts';
import { actionRequest } from '../../src/drivers/firecracker/requests.ts';
import type { ScriptCommand } from '../../src/ssh/command.ts';
import type { SshPool } from '../../src/ssh/index.ts';

const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');

async function addNode(a: TestApp, name: string) {
  await a.services.db.run(
    `INSERT INTO nodes (name, environment, address, port, ssh_user, roles, labels, host_key_fingerprint, state,
       state_reason, maintenance, reserve_cpu_millis, reserve_memory_bytes, facts, facts_at, last_seen_at, created_at)
     VALUES (?, 'prod', '10.0.0.1', 22, 'root', '["compute"]', '{}', 'SHA256:x', 'ready', '', 0, 0, 0,
       '{"cpus":2}', 0, 0, 0)`,
    [name],
  );
}

/** An SshPool whose exec runs the script here, as `sh -s` with the parameters in its environment. */
function localPool(calls: Record<string, string>[]): SshPool {
  return {
    exec: (_target: unknown, cmd: ScriptCommand) =>
      new Promise((resolve) => {
        calls.push(cmd.env ?? {});
        const child = spawn('sh', ['-s'], { env: { PATH: process.env.PATH, ...cmd.env } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.on('close', (code) =>
          resolve({ exitCode: code ?? 1, stdout, stderr, durationMs: 1, timedOut: false }),
        );
        child.stdin.end(cmd.script);
      }),
  } as unknown as SshPool;
}

test(
  'collector: Firecracker metrics file -> metrics.sh -> instance network and disk rates',
  { skip: typeof loaded === 'string' ? loaded : false },
  async (t) => {
    const a = await startTestApp(t);
    await a.services.inventory.createEnvironment('prod');
    await addNode(a, 'n1');
    const vm = new FcInstanceDir(['dash', []], (dir) =>
      bootPlanFile(
        bootPlan({
          instanceId: 'fc-m1',
          size: { cpu: 1, memoryMib: 128 },
          kernel: { path: '/vmlinux' },
          rootfs: { path: '/rootfs.ext4' },
          metadataDrive: { path: '/meta.tar' },
          network: { hostDevName: 'gvt0000000001' },
          metricsPath: path.join(dir, 'metrics.ndjson'),
        }),
      ),
    );
    t.after(() => vm.dispose());
    const metricsFile = path.join(vm.dir, 'metrics.ndjson');
    writeFileSync(metricsFile, ''); // as run.sh does: Firecracker does not create it
    vm.start();
    await vm.waitFor('boot', () => vm.requests().some((r) => r.path === '/actions'));
    const api = new FirecrackerApiClient(vm.apiSocket);
    const flush = async () => {
      await new Promise((r) => setTimeout(r, 20)); // distinct line timestamps
      await api.send(actionRequest('FlushMetrics'));
    };
    const lineTs = () =>
      readFileSync(metricsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { utc_timestamp_ms: number }).utc_timestamp_ms);

    const calls: Record<string, string>[] = [];
    const collector = new MetricsCollector(
      {
        db: a.services.db,
        pool: localPool(calls),
        providers: () => ({
          ...a.services.metrics.providers,
          instanceVmmMetrics: (n: string) => new Map(n === 'n1' ? [[metricsFile, 'fc-m1']] : []),
        }),
      },
      { intervalMs: 1000, log: () => {} },
    );
    const rate = (rows: { metric: string; entityId: string; value: number }[], metric: string) =>
      rows.find((r) => r.metric === metric && r.entityId === 'fc-m1')?.value;

    await flush();
    await flush();
    const first = await collector.collectOnce();
    assert.deepEqual(first.failed, []);
    assert.equal(calls[0].VMM_METRICS, `0 ${metricsFile}`);
    let [t1, t2] = lineTs();
    // One disk (rootfs) + the metadata drive: 2 x 4096 bytes read per flush; one NIC: 1500 bytes received.
    assert.equal(rate(first.collected[0].rows, 'instance_net_rx_bytes_per_s'), 1500 / ((t2 - t1) / 1000));
    assert.equal(rate(first.collected[0].rows, 'instance_net_tx_bytes_per_s'), 900 / ((t2 - t1) / 1000));
    assert.equal(rate(first.collected[0].rows, 'instance_disk_read_bytes_per_s'), 8192 / ((t2 - t1) / 1000));
    assert.equal(rate(first.collected[0].rows, 'instance_disk_write_bytes_per_s'), 1024 / ((t2 - t1) / 1000));

    const size = readFileSync(metricsFile).length;
    await flush();
    const second = await collector.collectOnce();
    assert.equal(calls[1].VMM_METRICS, `${size} ${metricsFile}`, 'only what was written since');
    [, t1, t2] = lineTs();
    assert.equal(rate(second.collected[0].rows, 'instance_net_rx_bytes_per_s'), 1500 / ((t2 - t1) / 1000));

    const third = await collector.collectOnce(); // nothing new: no rate rather than a zero
    assert.equal(rate(third.collected[0].rows, 'instance_net_rx_bytes_per_s'), undefined);

    const stored = await a.services.metrics.series({
      scope: 'instance',
      name: 'fc-m1',
      metric: 'instance_disk_read_bytes_per_s',
    });
    assert.equal(stored.points.length, 2);
  },
);
