// A qemu-microvm app through the API on a 1-node Debian lab (TCG here): an Alpine-based image pushed to a
// local registry is deployed as one microVM in nat mode, becomes healthy, answers HTTP from the host on
// node:hostPort with its env and secret, is supervised like other apps (app-list.sh sees it, its VMM is in its
// cgroup), takes its address from the embedded IPAM; deleting the app leaves no VMM, TAP, port or address.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execInNode } from '../../src/lab/node-control.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { getNodeRow } from '../../src/store/nodes-repo.ts';
import { tapNameForInstance } from '../../src/drivers/vm-image/node-layout.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { withLab } from '../helpers/lab.ts';
import { pushImage } from '../helpers/oci-image.ts';
import { startRegistry } from '../helpers/registry.ts';
import {
  ALPINE_ROOTFS,
  buildAlpineHttpImage,
  hostKernelVersion,
  labOpCtx,
  qemuAppsMissing,
} from './vm-support.ts';

const ALPINE = ALPINE_ROOTFS;
/** Unique per run: VMM cgroups live in the host's hierarchy, shared with other tests' lab nodes. */
const APP = `vm${randomBytes(3).toString('hex')}`;

const kernelVersion = hostKernelVersion;
const missing = qemuAppsMissing;

function skipIf(t: TestContext, why: string | undefined): boolean {
  if (why === undefined) return false;
  console.log(`# skip: ${why}`);
  t.skip(why);
  return true;
}

async function waitJob(a: TestApp, id: string, ms = 900_000) {
  const end = Date.now() + ms;
  for (;;) {
    const j = (await a.call('GET', `/api/jobs/${id}`, { token: a.adminToken })).json.job;
    if (j.status !== 'running') return j;
    if (Date.now() > end) throw new Error(`job ${id} still running after ${ms} ms`);
    await delay(500);
  }
}

/** Sets environment variables for the duration of the test (the VM drivers read them at service start). */
function withEnv(t: TestContext, vars: Record<string, string>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  t.after(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
}

test(
  'qemu-microvm app through the API: deploy (nat, TCG), healthy, HTTP from the host, supervised, delete cleans up',
  { timeout: 1_200_000 },
  async (t) => {
    if (skipIf(t, missing())) return;
    const work = mkdtempSync(join(tmpdir(), 'grim-apps-vm-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const ref = parseImageReference(`${registry.host}/grim-test/alpine-http:1`);
    await pushImage(new RegistryClient(), ref, buildAlpineHttpImage(work, ALPINE));

    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    const node = lab.nodes[0];
    // Lab nodes see /proc/sys/net read-only (src/lab node-boot.sh); forwarding is enabled from the host.
    execFileSync('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // The guest kernel: Debian's bzImage in the node's kernel directory; its modules are the node's own.
    const k = kernelVersion() as string;
    const kernelPath = `/var/lib/grim/vm/boot/vmlinuz-${k}`;
    await labOpCtx(lab, node).upload(kernelPath, createReadStream(`/boot/vmlinuz-${k}`), 0o644);
    withEnv(t, {
      GRIM_VM_KERNEL: kernelPath,
      GRIM_VM_KERNEL_MODULES: `/lib/modules/${k}`,
      GRIM_VM_ACCEL: 'tcg',
    });

    const a = await startTestApp(t);
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    assert.equal((await call('POST', '/api/environments', { name: 'lab' })).status, 201);
    const added = await call('POST', '/api/nodes', {
      name: node.name,
      environment: 'lab',
      address: node.address,
      hostKeyFingerprint: node.hostKeyFingerprint,
      credential: { privateKey: readFileSync(lab.clientKeyPath, 'utf8') },
    });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    assert.equal(
      (await call('POST', '/api/groups', { name: 'solo', environment: 'lab', nodes: [node.name] })).status,
      201,
    );

    // IPAM pools are an admin route; an operator may not create one.
    const poolBody = { cidr: '10.77.0.0/24', gateway: '10.77.0.1', scope: { kind: 'group', id: 'solo' } };
    const op = await a.tokenFor('operator');
    assert.equal((await a.call('PUT', '/api/ip-pools/lan-solo', { token: op, body: poolBody })).status, 403);
    assert.equal((await call('PUT', '/api/ip-pools/lan-solo', poolBody)).status, 200);
    const bad = await call('PUT', '/api/ip-pools/lan-bad', {
      ...poolBody,
      cidr: '10.77.0.128/25',
      gateway: '10.77.0.129',
    });
    assert.equal(bad.status, 400, 'an overlapping pool is refused');
    // A network mode on a non-VM runtime is refused.
    const wrong = await call('POST', '/api/apps', {
      name: `${APP}x`,
      environment: 'lab',
      group: 'solo',
      runtime: 'container',
      network: 'nat',
      source: { kind: 'image', image: 'x' },
    });
    assert.equal(wrong.status, 400, JSON.stringify(wrong.json));

    // Firecracker cannot run here (no firecracker binary in the lab): the node's recorded facts say so, and the
    // deploy is refused before anything is recorded or run, naming the node and the reason.
    const fc = await call('POST', '/api/apps', {
      name: `${APP}f`,
      environment: 'lab',
      group: 'solo',
      runtime: 'firecracker',
      cpu: '1',
      memory: '128Mi',
      disk: '256Mi',
      source: { kind: 'image', image: `${registry.host}/grim-test/alpine-http:1` },
    });
    assert.equal(fc.status, 201, JSON.stringify(fc.json));
    const refused = await call('POST', `/api/apps/${APP}f/deploy`, {});
    assert.equal(refused.status, 409, JSON.stringify(refused.json));
    assert.equal(refused.json.error.code, 'conflict');
    assert.match(refused.json.error.message, /no node in the group can run app/);
    assert.deepEqual(
      refused.json.error.details.map((d: { path: string }) => d.path),
      [`nodes/${node.name}`],
    );
    assert.match(refused.json.error.details[0].message, /firecracker: firecracker is not installed/);
    assert.equal((await call('GET', `/api/apps/${APP}f`)).json.app.releases.length, 0, 'no release recorded');
    assert.equal(
      (await waitJob(a, (await call('DELETE', `/api/apps/${APP}f`)).json.jobId)).status,
      'succeeded',
    );

    const created = await call('POST', '/api/apps', {
      name: APP,
      environment: 'lab',
      group: 'solo',
      replicas: 1,
      cpu: '1',
      memory: '128Mi',
      disk: '256Mi',
      runtime: 'qemu-microvm',
      network: 'nat',
      source: { kind: 'image', image: `${registry.host}/grim-test/alpine-http:1` },
      ports: [{ name: 'http', port: 80 }],
      env: { GREETING: 'hello-from-instance' },
      secrets: { SECRET: 's3cr3t-value' },
      health: { type: 'http', path: '/', intervalSec: 2, timeoutSec: 2, retries: 200 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.app.network, 'nat');
    const dep = await call('POST', `/api/apps/${APP}/deploy`, {});
    assert.equal(dep.status, 202, JSON.stringify(dep.json));
    const job = await waitJob(a, dep.json.jobId);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));

    const app = (await call('GET', `/api/apps/${APP}`)).json.app;
    assert.equal(app.runtime, 'qemu-microvm');
    assert.equal(app.instances.length, 1);
    const inst = app.instances[0];
    assert.equal(inst.state, 'running', JSON.stringify(inst));
    // HTTP from the host on node:hostPort reaches the app in the VM (env and secret came on the metadata drive).
    const res = await fetch(`http://${node.address}:${inst.ports.http}/`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(`^hello-from-instance from ${inst.id} secret-ok`));

    // Supervised like every app: the reconciler's one-round-trip listing sees the VM with its VMM alive.
    const listed = await a.services.apps.reconciler.listNode((await getNodeRow(a.services.db, node.name))!);
    const entry = listed.instances.find((x) => x.id === inst.id);
    assert.ok(entry, `app-list lists ${inst.id}: ${JSON.stringify(listed)}`);
    assert.equal(entry.driver, 'qemu-microvm');
    assert.equal(entry.appAlive, true);
    const vmDir = `/var/lib/grim/vm/instances/${inst.id}`;
    const qemuPid = (await execInNode(lab, 1, `cat ${vmDir}/qemu.pid`)).stdout.trim();
    assert.match(qemuPid, /^\d+$/);
    assert.equal(String(entry.pid), qemuPid, 'the supervised process is the VMM itself');
    // Instance metrics: the VMM runs in the instance's cgroup.
    const inCgroup = await execInNode(
      lab,
      1,
      `cat /sys/fs/cgroup/memory/grim/${inst.id}/cgroup.procs /sys/fs/cgroup/grim/${inst.id}/cgroup.procs 2>/dev/null; true`,
    );
    assert.ok(inCgroup.stdout.split('\n').includes(qemuPid), `VMM ${qemuPid} in cgroup: ${inCgroup.stdout}`);
    // The address came from the embedded IPAM (the node's nat pool, created on first use).
    const pools = (await call('GET', '/api/ip-pools')).json.pools;
    const nat = pools.find((p: any) => p.id === `nat-${node.name}`);
    assert.deepEqual(
      nat?.used.map((u: any) => u.owner),
      [inst.id],
      JSON.stringify(pools),
    );

    // Delete: no VMM, supervisor, TAP, published port, cgroup, instance directory or address is left.
    const del = await call('DELETE', `/api/apps/${APP}`);
    assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
    assert.equal((await call('GET', `/api/apps/${APP}`)).status, 404);
    const left = await execInNode(
      lab,
      1,
      `kill -0 ${qemuPid} 2>/dev/null && echo "qemu ${qemuPid} alive"
       ls /var/lib/grim/apps /var/lib/grim/vm/instances 2>/dev/null
       ps -eo args | grep -e '[s]upervisor.sh' -e '[q]emu-system'
       ip -o link show | grep -o '${tapNameForInstance(inst.id)}'
       nft list map ip grim_vm_nat ports 2>/dev/null | grep -o '${inst.ports.http} :'
       ls -d /sys/fs/cgroup/*/grim/${inst.id} /sys/fs/cgroup/grim/${inst.id} 2>/dev/null; true`,
    );
    assert.equal(left.stdout.replace(/^\S+:$/gm, '').trim(), '', `left on the node:\n${left.stdout}`);
    const after = (await call('GET', '/api/ip-pools')).json.pools;
    assert.deepEqual(after.find((p: any) => p.id === `nat-${node.name}`)?.used, []);
  },
);
