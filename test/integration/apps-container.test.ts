// Container apps through the API on a 2-node Debian lab: an image built here and pushed to a real local registry
// is deployed with 2 replicas (one per node), answers HTTP on node:hostPort from the host, runs inside the
// size's cgroup limits, is restarted by the node's supervisor when its process is killed, reports per-instance
// usage from its cgroup to the metrics collector, and leaves nothing behind when deleted.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execInNode } from '../../src/lab/node-control.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { getNodeRow } from '../../src/store/nodes-repo.ts';
import { connectAppsToMetrics } from '../../src/services/apps/wiring.ts';
import { MetricsCollector } from '../../src/services/metrics/collector.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, eventually, waitJob, fetchText, removeCgroupsOf } from '../helpers/apps-lab.ts';
import { grim, cliEnv } from '../helpers/grim-process.ts';
import { withLab } from '../helpers/lab.ts';
import { buildWebImage, pushImage } from '../helpers/oci-image.ts';
import { registryBinaryAvailable, startRegistry } from '../helpers/registry.ts';

const MiB = 1024 * 1024;

function skipUnless(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return false;
  console.log(`# skip: ${reason}`);
  t.skip(reason);
  return true;
}

/** The instance's limits as its cgroup holds them, read on the node (cgroup v1 or v2). */
const LIMITS = (id: string) => `if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  d=/sys/fs/cgroup/grim/${id}; cat $d/memory.max; cat $d/cpu.max; cat $d/pids.max; cat $d/cgroup.procs | wc -l
else
  cat /sys/fs/cgroup/memory/grim/${id}/memory.limit_in_bytes
  echo "$(cat /sys/fs/cgroup/cpu/grim/${id}/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/grim/${id}/cpu.cfs_period_us)"
  cat /sys/fs/cgroup/pids/grim/${id}/pids.max; cat /sys/fs/cgroup/memory/grim/${id}/cgroup.procs | wc -l
fi`;

/** Unique per run: instance cgroups live in the host's hierarchy, shared with other tests' lab nodes. */
const APP = `cw${randomBytes(3).toString('hex')}`;

/** The pid (in the node's namespace) of the container's init, from the runtime's state. */
const CONTAINER_PID = (runtime: string, id: string) =>
  `${runtime} --root /run/grim/${runtime} state ${id} | sed -n 's/^ *"pid": *\\([0-9]*\\).*/\\1/p'`;

test(
  'container apps: registry image, 2 replicas, HTTP, cgroup limits, supervisor restart, metrics, delete',
  {
    timeout: 900_000,
  },
  async (t) => {
    if (skipUnless(t, process.getuid?.() === 0, 'needs root (lab nodes, runc)')) return;
    if (
      skipUnless(
        t,
        registryBinaryAvailable(),
        'docker-registry is not installed (apt-get install docker-registry)',
      )
    )
      return;
    if (skipUnless(t, existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc'), 'runc is not installed'))
      return;
    const lab = await withLab(t, { nodes: 2, os: 'debian' });
    if (!lab) return;
    t.after(() => removeCgroupsOf(APP));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const work = mkdtempSync(join(tmpdir(), 'grim-apps-container-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const image = buildWebImage(work);
    const pusher = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/grim-test/web:1`);
    await pushImage(pusher, ref, image, '1');

    const a = await startTestApp(t);
    connectAppsToMetrics(a.services.apps, a.services.metrics, a.services.db);
    await addLab(a, lab, 'pair');
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    const nodeIndex = (name: string) => Number(name.slice(1));

    const created = await call('POST', '/api/apps', {
      name: APP,
      environment: 'lab',
      group: 'pair',
      replicas: 2,
      cpu: '250m',
      memory: '96Mi',
      disk: '256Mi',
      runtime: 'container',
      source: { kind: 'image', image: `${registry.host}/grim-test/web:1` },
      ports: [{ name: 'http', port: 8080 }],
      health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 30 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const d1 = await call('POST', `/api/apps/${APP}/deploy`, { maxParallel: 2 });
    assert.equal(d1.status, 202, JSON.stringify(d1.json));
    const j1 = await waitJob(a, d1.json.jobId);
    assert.equal(j1.status, 'succeeded', JSON.stringify(j1));
    const app = (await call('GET', `/api/apps/${APP}`)).json.app;
    assert.equal(app.runtime, 'container');
    assert.deepEqual(app.instances.map((i: any) => i.node).sort(), ['n1', 'n2']);
    assert.ok(
      app.instances.every((i: any) => i.state === 'running'),
      JSON.stringify(app.instances),
    );

    for (const i of app.instances) {
      // HTTP from the host on node:hostPort, answered by this very container (its hostname is the instance id).
      assert.equal(await fetchText(`http://${i.address}:${i.ports.http}/`), `${i.id}\n`);
      // The size's limits in the instance's cgroup, with the container's processes in it.
      const lines: string[] = (await execInNode(lab, nodeIndex(i.node), LIMITS(i.id))).stdout
        .trim()
        .split('\n');
      assert.equal(Number(lines[0]), 96 * MiB, `memory limit of ${i.id}: ${lines.join(' | ')}`);
      assert.deepEqual(lines[1].split(' ').map(Number), [25_000, 100_000], `cpu quota of ${i.id}`);
      assert.equal(lines[2], '1024', `pids limit of ${i.id}`);
      assert.ok(Number(lines[3]) >= 2, `the container's sh and httpd run in the cgroup: ${lines[3]}`);
      // Supervised like script instances: the reconciler's listing sees it.
      const listed = await a.services.apps.reconciler.listNode((await getNodeRow(a.services.db, i.node))!);
      const entry = listed.instances.find((x) => x.id === i.id);
      assert.ok(entry, `app-list on ${i.node} lists ${i.id}: ${JSON.stringify(listed)}`);
      assert.equal(entry.driver, 'container');
      assert.equal(entry.supervised, true);
      assert.equal(entry.appAlive, true);
    }

    // Per-instance usage comes from the instance's cgroup.
    const collector = new MetricsCollector({
      db: a.services.db,
      pool: a.services.pool,
      providers: () => a.services.metrics.providers,
    });
    for (const i of app.instances) {
      const cgroups = await a.services.metrics.providers.instanceCgroups(i.node);
      assert.deepEqual([...cgroups], [[`/grim/${i.id}`, i.id]]);
    }
    await collector.collectOnce();
    await delay(2000); // CPU use is a rate: the next sample must come a little later
    const round = await collector.collectOnce();
    assert.deepEqual(round.failed, []);
    for (const i of app.instances) {
      const rows = round.collected
        .flatMap((c) => c.rows)
        .filter((r) => r.kind === 'instance' && r.entityId === i.id);
      const mem = rows.find((r) => r.metric === 'instance_mem_bytes');
      assert.ok(mem && mem.value > 0 && mem.value <= 96 * MiB, `memory of ${i.id}: ${JSON.stringify(rows)}`);
      assert.ok(
        rows.some((r) => r.metric === 'instance_cpu_millicores'),
        `cpu of ${i.id}: ${JSON.stringify(rows)}`,
      );
    }

    // `grim app top` shows the same per-instance usage through the API and the typed client.
    await a.app.listen({ host: '127.0.0.1', port: 0 });
    const top = await grim(['app', 'top', APP, '--json'], {
      ...cliEnv(),
      GRIM_SERVER: `http://127.0.0.1:${(a.app.server.address() as { port: number }).port}`,
      GRIM_TOKEN: a.adminToken,
    });
    assert.equal(top.code, 0, top.stderr);
    const topRows = JSON.parse(top.stdout).instances;
    assert.equal(topRows.length, app.instances.length);
    for (const r of topRows) assert.ok(r.memoryBytes > 0 && r.memoryBytes <= 96 * MiB, JSON.stringify(r));

    // Killing the container's process: the node's supervisor starts the container again (grim is not involved).
    const victim = app.instances.find((i: any) => i.node === 'n2');
    const runtime = String(
      JSON.parse(
        (
          (await a.services.db.get<{ handle: string }>('SELECT handle FROM app_instances WHERE id = ?', [
            victim.id,
          ])) as { handle: string }
        ).handle,
      ).data.runtime,
    );
    const n2 = nodeIndex(victim.node);
    const pid1 = (await execInNode(lab, n2, CONTAINER_PID(runtime, victim.id))).stdout.trim();
    assert.match(pid1, /^\d+$/);
    await execInNode(lab, n2, `kill -9 ${pid1}`);
    await eventually('the supervisor restarted the container', async () => {
      const pid2 = (
        await execInNode(lab, n2, CONTAINER_PID(runtime, victim.id), { allowFailure: true })
      ).stdout.trim();
      return (
        /^\d+$/.test(pid2) &&
        pid2 !== pid1 &&
        (await fetchText(`http://${victim.address}:${victim.ports.http}/`)) === `${victim.id}\n`
      );
    });
    assert.equal(
      (await execInNode(lab, n2, `cat /var/lib/grim/apps/${victim.id}/restarts`)).stdout.trim(),
      '1',
    );
    // Still inside its limits after the restart.
    assert.equal(
      Number((await execInNode(lab, n2, LIMITS(victim.id))).stdout.trim().split('\n')[0]),
      96 * MiB,
    );

    // Delete: nothing is left on the nodes.
    const del = await call('DELETE', `/api/apps/${APP}`);
    assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
    assert.equal((await call('GET', `/api/apps/${APP}`)).status, 404);
    for (const i of app.instances) {
      const left = await execInNode(
        lab,
        nodeIndex(i.node),
        `ls /var/lib/grim/apps /var/lib/grim/containers /var/lib/grim/net/slots /run/grim/${runtime} 2>/dev/null
       ps -eo args | grep -e '[s]upervisor.sh' -e '[c]ontainer-run' -e '[h]ttpd'
       ip netns list; ip -o link show | grep -o 'gv[0-9a-f]*'
       nft list ruleset 2>/dev/null | grep -i grim; iptables -w -t nat -S 2>/dev/null | grep -i grim
       ls -d /sys/fs/cgroup/*/grim/${i.id} /sys/fs/cgroup/grim/${i.id} 2>/dev/null
       grep /var/lib/grim /proc/self/mounts; true`,
      );
      assert.equal(left.stdout.replace(/^\S+:$/gm, '').trim(), '', `left on ${i.node}:\n${left.stdout}`);
    }
  },
);
