// A control-node restart with apps running: grim (a real `grim server` process on SQLite) runs a container app,
// a script app and a qemu-microvm app (TCG) on a 1-node lab, is killed with SIGKILL (by its PID), and a new grim
// starts on the same database. One instance's handle is blanked while grim is down, as a kill between create and
// storing the handle leaves it. The new grim finds every instance as it was: none recreated or restarted (same
// supervisor and app/VMM PIDs on the node), the blanked handle recovered from the node (driver.recover()), logs
// readable (the VM's from its serial console), the node's own restart of a killed app seen, a scale-up
// health-checked, and scale-to-0 and delete remove everything from the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execInNode } from '../../src/lab/node-control.ts';
import type { LabState } from '../../src/lab/state.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { startGrimServer, type GrimServer } from '../helpers/grim-process.ts';
import { withLab, labMustRun } from '../helpers/lab.ts';
import { eventually, fetchText, removeCgroupsOf } from '../helpers/apps-lab.ts';
import { buildWebImage, pushImage } from '../helpers/oci-image.ts';
import { startRegistry } from '../helpers/registry.ts';
import {
  ALPINE_ROOTFS,
  buildAlpineHttpImage,
  hostKernelVersion,
  labOpCtx,
  qemuAppsMissing,
} from './vm-support.ts';
import { api, loginSession, type HttpSession } from '../e2e/http-session.ts';

const ADMIN = 'restart-recover-admin-password';
const SUFFIX = randomBytes(3).toString('hex');
/** Unique per run: instance cgroups live in the host's hierarchy, shared with other tests' lab nodes. */
const CW = `rc${SUFFIX}`;
const SW = `rs${SUFFIX}`;
const VM = `rv${SUFFIX}`;
const START = `mkdir -p www
echo "script $GRIM_INSTANCE" > www/index.html
echo "serving on $PORT"
exec busybox httpd -f -p "$PORT" -h www
`;
const HEALTH = { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 30 };

/** Supervisor and app PIDs of an instance on its node ("" when a file is missing or its process is gone). */
async function pidsOf(lab: LabState, id: string): Promise<string> {
  const dir = `/var/lib/grim/apps/${id}`;
  const r = await execInNode(
    lab,
    1,
    `for f in ${dir}/supervisor.pid ${dir}/app.pid; do p=$(cat $f 2>/dev/null) && kill -0 "$p" 2>/dev/null && printf '%s ' "$p"; done`,
    { allowFailure: true },
  );
  return r.stdout.trim();
}

test(
  'grim killed and restarted: running container, script and microVM instances are recovered, not recreated',
  {
    timeout: 300_000,
  },
  async (t) => {
    const missing =
      qemuAppsMissing() ??
      (!existsSync('/usr/sbin/runc') && !existsSync('/usr/bin/runc') ? 'runc is not installed' : undefined);
    if (missing) {
      if (labMustRun(process.env)) throw new Error(`CI must run this test: ${missing}`);
      return t.skip(missing);
    }
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    t.after(() => Promise.all([CW, SW, VM].map(removeCgroupsOf)));
    const n1 = lab.nodes[0];
    // Lab nodes see /proc/sys/net read-only (src/lab node-boot.sh); forwarding is enabled from the host.
    execFileSync('ip', ['netns', 'exec', n1.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const k = hostKernelVersion() as string;
    const kernelPath = `/var/lib/grim/vm/boot/vmlinuz-${k}`;
    await labOpCtx(lab, n1).upload(kernelPath, createReadStream(`/boot/vmlinuz-${k}`), 0o644);
    const work = mkdtempSync(join(tmpdir(), 'grim-restart-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const image = `${registry.host}/grim-test/web:1`;
    const vmImage = `${registry.host}/grim-test/alpine-http:1`;
    await Promise.all([
      pushImage(new RegistryClient(), parseImageReference(image), buildWebImage(work), '1'),
      pushImage(
        new RegistryClient(),
        parseImageReference(vmImage),
        buildAlpineHttpImage(work, ALPINE_ROOTFS),
      ),
    ]);

    const dataDir = join(work, 'data');
    // The reconciler runs only when asked (POST /api/apps/reconcile), so each of its reports is this test's.
    const env = {
      GRIM_ADMIN_PASSWORD: ADMIN,
      GRIM_RECONCILE_MS: '3600000',
      GRIM_VM_KERNEL: kernelPath,
      GRIM_VM_KERNEL_MODULES: `/lib/modules/${k}`,
      GRIM_VM_ACCEL: 'tcg',
    };
    let srv: GrimServer = await startGrimServer(env, { dataDir });
    t.after(() => srv.stop('SIGKILL'));
    let s: HttpSession = await loginSession(srv.url, 'admin', ADMIN);
    const call = <T = any>(method: string, path: string, body?: unknown) => api<T>(s, method, path, body);
    const waitJob = (id: string) =>
      eventually(`job ${id}`, async () => {
        const j = (await call('GET', `/api/jobs/${id}`)).job;
        return j.status !== 'running' && j;
      });

    await call('POST', '/api/environments', { name: 'lab' });
    await call('POST', '/api/nodes', {
      name: n1.name,
      environment: 'lab',
      address: n1.address,
      hostKeyFingerprint: n1.hostKeyFingerprint,
      credential: { privateKey: readFileSync(lab.clientKeyPath, 'utf8') },
    });
    await call('POST', '/api/groups', { name: 'g', environment: 'lab', nodes: [n1.name] });
    const common = {
      environment: 'lab',
      group: 'g',
      replicas: 1,
      cpu: '100m',
      memory: '64Mi',
      disk: '100Mi',
    };
    await call('POST', '/api/apps', {
      ...common,
      name: CW,
      runtime: 'container',
      source: { kind: 'image', image },
      ports: [{ name: 'http', port: 8080 }],
      health: HEALTH,
    });
    await call('POST', '/api/apps', {
      ...common,
      name: SW,
      runtime: 'script',
      source: { kind: 'script', start: START },
      ports: [{ name: 'http', port: 8080 }],
      health: HEALTH,
    });
    await call('POST', '/api/apps', {
      ...common,
      name: VM,
      cpu: '1',
      memory: '128Mi',
      disk: '256Mi',
      runtime: 'qemu-microvm',
      source: { kind: 'image', image: vmImage },
      ports: [{ name: 'http', port: 80 }],
      env: { GREETING: 'vm' },
      health: { ...HEALTH, retries: 120 },
    });
    const deploys = await Promise.all([CW, SW, VM].map((a) => call('POST', `/api/apps/${a}/deploy`, {})));
    for (const d of deploys) assert.equal((await waitJob(d.jobId)).status, 'succeeded');
    const instanceOf = async (app: string) => (await call('GET', `/api/apps/${app}`)).app.instances[0];
    const [c0, s0, v0] = [await instanceOf(CW), await instanceOf(SW), await instanceOf(VM)];
    const url = (i: any) => `http://${i.address}:${i.ports.http}/`;
    assert.equal(await fetchText(url(c0)), `${c0.id}\n`);
    assert.equal(await fetchText(url(s0)), `script ${s0.id}\n`);
    assert.match(await fetchText(url(v0)), new RegExp(`^vm from ${v0.id}`));
    const pids = async () => ({
      c: await pidsOf(lab, c0.id),
      s: await pidsOf(lab, s0.id),
      v: await pidsOf(lab, v0.id),
    });
    const before = await pids();
    assert.match(before.c, /^\d+ \d+$/, 'the container has a supervisor and a running app');
    assert.match(before.s, /^\d+ \d+$/, 'the script app has a supervisor and a running app');
    assert.match(before.v, /^\d+ \d+$/, 'the VM has a supervisor and a running VMM');

    // SIGKILL: no shutdown code runs. Then the container's row loses its handle (a kill between create and the write).
    await srv.stop('SIGKILL');
    const db = openSqlite(join(dataDir, 'grim.db'));
    const stored = (await db.get<{ handle: string }>('SELECT handle FROM app_instances WHERE id = ?', [
      c0.id,
    ]))!;
    assert.notEqual(stored.handle, '');
    await db.run("UPDATE app_instances SET handle = '' WHERE id = ?", [c0.id]);
    await db.close();

    const t0 = Date.now();
    srv = await startGrimServer(env, { dataDir });
    s = await loginSession(srv.url, 'admin', ADMIN);
    const report = await call('POST', '/api/apps/reconcile');
    console.log(`# new grim answered and reconciled ${Date.now() - t0} ms after its start`);
    assert.deepEqual(
      [report.errors, report.recreated, report.restarted, report.removed, report.lost],
      [[], [], [], [], []],
      JSON.stringify(report),
    );
    assert.deepEqual(await pids(), before, 'the same supervisor and app processes run');
    const dbAfter = openSqlite(join(dataDir, 'grim.db'));
    const recovered = (await dbAfter.get<{ handle: string }>(
      'SELECT handle FROM app_instances WHERE id = ?',
      [c0.id],
    ))!;
    await dbAfter.close();
    assert.deepEqual(
      JSON.parse(recovered.handle),
      JSON.parse(stored.handle),
      "the node's handle.json, stored again",
    );
    assert.equal((await instanceOf(CW)).state, 'running');
    assert.equal(await fetchText(url(c0)), `${c0.id}\n`);
    assert.match(await fetchText(url(v0)), new RegExp(`^vm from ${v0.id}`));
    const logs = async (app: string) =>
      (await call('GET', `/api/apps/${app}/logs?source=nodes`)).logs[0].text;
    assert.match(await logs(SW), /serving on \d+/);
    assert.match(await logs(VM), /grim-(init|test):/, "the VM's serial console");

    // Still watched: the node restarts a killed app, and the new grim sees it (restarts 1, running again).
    await execInNode(lab, 1, `kill -9 $(cat /var/lib/grim/apps/${s0.id}/app.pid)`);
    await eventually('the restart seen by the new grim', async () => {
      await call('POST', '/api/apps/reconcile');
      const i = await instanceOf(SW);
      return i.restarts === 1 && i.state === 'running' && (await fetchText(url(s0))) === `script ${s0.id}\n`;
    });
    // A scale-up rolls out and health-checks a new instance next to the untouched one.
    const up = await call('POST', `/api/apps/${SW}/scale`, { replicas: 2 });
    assert.equal((await waitJob(up.jobId)).status, 'succeeded');
    const two = (await call('GET', `/api/apps/${SW}`)).app.instances;
    assert.equal(two.length, 2);
    assert.ok(two.some((i: any) => i.id === s0.id));
    for (const i of two) assert.equal(await fetchText(url(i)), `script ${i.id}\n`);

    // Stop (scale to 0) and delete work on what was recovered; nothing is left on the node.
    const down = await call('POST', `/api/apps/${SW}/scale`, { replicas: 0 });
    assert.equal((await waitJob(down.jobId)).status, 'succeeded');
    for (const a of [CW, SW, VM])
      assert.equal((await waitJob((await call('DELETE', `/api/apps/${a}`)).jobId)).status, 'succeeded');
    const left = await execInNode(
      lab,
      1,
      `ls /var/lib/grim/apps /var/lib/grim/containers /var/lib/grim/vm/instances 2>/dev/null
       ps -eo args | grep -e '[s]upervisor.sh' -e '[h]ttpd' -e '[q]emu-system'; true`,
    );
    assert.equal(left.stdout.replace(/^\S+:$/gm, '').trim(), '', `left on the node:\n${left.stdout}`);
  },
);
