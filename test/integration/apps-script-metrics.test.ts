// Script apps in their cgroup on a 1-node Debian lab: the supervisor runs the app in grim/<instance id> with the
// size's memory limit and CPU quota, the metrics collector stores the instance's CPU and memory series from that
// cgroup, and deleting the app removes the cgroup from every hierarchy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { execInNode } from '../../src/lab/node-control.ts';
import type { LabState } from '../../src/lab/state.ts';
import { connectAppsToMetrics } from '../../src/services/apps/wiring.ts';
import { MetricsCollector } from '../../src/services/metrics/collector.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { removeCgroupsOf, waitJob } from '../helpers/apps-lab.ts';
import { withLab } from '../helpers/lab.ts';

const MiB = 1024 * 1024;
/** Unique per run: instance cgroups live in the host's hierarchy, shared with other tests' lab nodes. */
const APP = `sm${randomBytes(3).toString('hex')}`;

// Busy enough to show CPU use, and holding some memory.
const START = `mkdir -p www && echo hi > www/index.html
busybox httpd -p "$PORT" -h www
i=0
while :; do i=$((i + 1)); if [ "$i" -ge 20000 ]; then i=0; sleep 0.05; fi; done
`;

/** The instance's cgroups in every hierarchy of the host (the lab nodes mirror the host's cgroup mounts). */
function cgroupDirsOf(id: string): string[] {
  const dirs: string[] = [];
  for (const base of ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}`)])
    try {
      if (readdirSync(`${base}/grim`).includes(id)) dirs.push(`${base}/grim/${id}`);
    } catch {
      // no grim cgroups in this hierarchy
    }
  return dirs;
}

async function addLab(a: TestApp, lab: LabState) {
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  assert.equal((await call('POST', '/api/environments', { name: 'lab' })).status, 201);
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const n of lab.nodes) {
    const r = await call('POST', '/api/nodes', {
      name: n.name,
      environment: 'lab',
      address: n.address,
      hostKeyFingerprint: n.hostKeyFingerprint,
      credential: { privateKey },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  const nodes = lab.nodes.map((n) => n.name);
  assert.equal((await call('POST', '/api/groups', { name: 'one', environment: 'lab', nodes })).status, 201);
}

/** The app's cgroup memberships and limits as the node sees them (cgroup v2, else v1). */
const CGROUP_FACTS = (dir: string, id: string) => `pid=$(cat ${dir}/app.pid)
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  d=/sys/fs/cgroup/grim/${id}
  echo "v2 $(grep -c "^0::/grim/${id}$" /proc/$pid/cgroup)"
  cat $d/memory.max; cat $d/cpu.max
else
  all=$(grep -cE "^[0-9]+:(cpu|cpuacct|cpu,cpuacct|cpuacct,cpu|memory):" /proc/$pid/cgroup)
  echo "v1 $(grep -cE "^[0-9]+:(cpu|cpuacct|cpu,cpuacct|cpuacct,cpu|memory):/grim/${id}$" /proc/$pid/cgroup) $all"
  cat /sys/fs/cgroup/memory/grim/${id}/memory.limit_in_bytes
  q=/sys/fs/cgroup/cpu/grim/${id}; [ -d $q ] || q=/sys/fs/cgroup/cpu,cpuacct/grim/${id}
  echo "$(cat $q/cpu.cfs_quota_us) $(cat $q/cpu.cfs_period_us)"
fi`;

test(
  'script apps: cgroup with the size limits, instance metrics, cgroup removed on delete',
  {
    timeout: 600_000,
  },
  async (t) => {
    if (process.getuid?.() !== 0) {
      console.log('# skip: needs root (lab nodes, cgroups)');
      t.skip('needs root (lab nodes, cgroups)');
      return;
    }
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    t.after(() => removeCgroupsOf(APP));
    const a = await startTestApp(t);
    connectAppsToMetrics(a.services.apps, a.services.metrics, a.services.db);
    await addLab(a, lab);
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });

    const created = await call('POST', '/api/apps', {
      name: APP,
      environment: 'lab',
      group: 'one',
      replicas: 1,
      cpu: '250m',
      memory: '96Mi',
      disk: '256Mi',
      runtime: 'script',
      source: { kind: 'script', start: START },
      ports: [{ name: 'http', port: 8080 }],
      health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 30 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const d1 = await call('POST', `/api/apps/${APP}/deploy`, {});
    assert.equal(d1.status, 202, JSON.stringify(d1.json));
    const j1 = await waitJob(a, d1.json.jobId);
    assert.equal(j1.status, 'succeeded', JSON.stringify(j1));
    const [inst] = (await call('GET', `/api/apps/${APP}`)).json.app.instances;
    assert.equal(inst.state, 'running', JSON.stringify(inst));
    const dir = `/var/lib/grim/apps/${inst.id}`;

    // The app's process is in grim/<id> (cpu/cpuacct and memory on v1, the one hierarchy on v2) with the limits.
    const facts = (await execInNode(lab, 1, CGROUP_FACTS(dir, inst.id))).stdout.trim().split('\n');
    const log = (await execInNode(lab, 1, `cat ${dir}/log`)).stdout;
    // v1: every cpu, cpuacct and memory hierarchy (2 or 3 of them); v2: the one hierarchy
    const [version, joined, hierarchies] = facts[0].split(' ');
    const want = version === 'v2' ? 1 : Number(hierarchies);
    assert.ok(want >= 1 && Number(joined) === want, `the app's cgroups: ${facts.join(' | ')}; log: ${log}`);
    assert.equal(Number(facts[1]), 96 * MiB, `memory limit: ${facts.join(' | ')}`);
    assert.deepEqual(facts[2].split(' ').map(Number), [25_000, 100_000], `cpu quota: ${facts.join(' | ')}`);
    assert.match(
      log,
      new RegExp(`supervisor: cgroup grim/${inst.id}: memory_bytes ${96 * MiB} cpu_millis 250`),
    );

    // The collector reads the instance from that cgroup and stores its CPU and memory series.
    assert.deepEqual(
      [...(await a.services.metrics.providers.instanceCgroups(inst.node))],
      [[`/grim/${inst.id}`, inst.id]],
    );
    const collector = new MetricsCollector({
      db: a.services.db,
      pool: a.services.pool,
      providers: () => a.services.metrics.providers,
    });
    await collector.collectOnce();
    await delay(2000); // CPU use is a rate: the next sample must come a little later
    const round = await collector.collectOnce();
    assert.deepEqual(round.failed, []);
    const stored = await a.services.db.all<{ metric: string; value: number }>(
      "SELECT metric, value FROM metrics_raw WHERE kind = 'instance' AND entity_id = ? ORDER BY ts",
      [inst.id],
    );
    const mem = stored.filter((r) => r.metric === 'instance_mem_bytes');
    const cpu = stored.filter((r) => r.metric === 'instance_cpu_millicores');
    assert.ok(mem.length && mem.every((r) => r.value > 0 && r.value <= 96 * MiB), JSON.stringify(stored));
    assert.ok(cpu.length && cpu.some((r) => r.value > 0), `cpu series: ${JSON.stringify(stored)}`);
    assert.ok(
      cpu.every((r) => r.value <= 250 * 1.5),
      `held to its 250m quota: ${JSON.stringify(cpu)}`,
    );

    // Deleting the app removes the instance's cgroup from every hierarchy.
    assert.ok(cgroupDirsOf(inst.id).length >= 1);
    const del = await call('DELETE', `/api/apps/${APP}`);
    assert.ok([200, 202].includes(del.status), JSON.stringify(del.json));
    if (del.status === 202) assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
    assert.deepEqual(cgroupDirsOf(inst.id), []);
    assert.equal((await execInNode(lab, 1, `test -e ${dir}; echo $?`)).stdout.trim(), '1');
  },
);
