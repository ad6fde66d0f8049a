// The firecracker driver's whole lifecycle against the spec-validating Firecracker double: create
// (image pipeline, network, jail staging rendered into run.sh, the boot plan written on the node, the
// instance installed under grim's supervisor), start (the real vm-fc-run.sh sends the boot plan to the
// double running as the VMM process), inspect, stop (vm-fc-stop.sh: SendCtrlAltDel -> exit -> cleanup),
// destroy. The rest of the node is a recording OpCtx that answers like the vm-*.sh and app-*.sh scripts;
// every API request must be valid per the v1.16.1 spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFirecrackerDriver } from '../../src/drivers/firecracker/driver.ts';
import { FirecrackerApiClient } from '../../src/drivers/firecracker/api-client.ts';
import type { JailerHostConfig } from '../../src/drivers/firecracker/jailer.ts';
import type { InstanceSpec, OpCtx } from '../../src/drivers/driver.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { macAddressForInstance, type IpAllocation, type IpAllocator } from '../../src/domain/ipam.ts';
import { FcInstanceDir } from '../helpers/fc-node-sim.ts';
import { CONSOLE_LINE } from '../helpers/firecracker-double.ts';
import { loadSharedSpec } from '../helpers/openapi-validator.ts';
import { parseEnvFile } from '../../src/drivers/env-file.ts';
import { scriptFor } from '../../src/scripts/loader.ts';
import { registryBinaryAvailable, startRegistry } from '../helpers/registry.ts';
import { buildBusyboxImage, pushImage } from '../helpers/oci-image.ts';

const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');

const readIfThere = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

class MemoryIpam implements IpAllocator {
  held = new Map<string, IpAllocation>();
  async allocate(_pool: string, owner: string): Promise<IpAllocation> {
    const a = this.held.get(owner) ?? {
      address: `172.31.0.${this.held.size + 2}`,
      prefixLength: 24,
      gateway: '172.31.0.1',
    };
    this.held.set(owner, a);
    return a;
  }
  async release(owner: string): Promise<void> {
    this.held.delete(owner);
  }
}

/**
 * A node that answers like the vm-*.sh and app-*.sh scripts, except that the supervised VM is real: app-start
 * runs scripts/node/vm-fc-run.sh (dash) in a directory holding the boot-plan the driver uploaded, with the
 * Firecracker double as the VMM process; app-stop runs vm-fc-stop.sh, then ends the session.
 */
function fakeNode(opts: { jailUids?: number[] } = {}) {
  const calls: Array<{ name: string; env: Record<string, string> }> = [];
  const uploads = new Map<string, string>();
  const vms: FcInstanceDir[] = [];
  let vm: FcInstanceDir | undefined;
  const stopVm = async () => {
    if (vm?.exit === undefined) return;
    await vm.stop();
    const ended = await Promise.race([vm.exit, new Promise((r) => setTimeout(r, 3000, 'timeout'))]);
    if (ended === 'timeout') process.kill(-vm.run!.pid!, 'SIGTERM');
    await vm.exit;
  };
  const ctx: OpCtx = {
    node: 'n1',
    log: () => {},
    async runScript(name, env) {
      calls.push({ name, env });
      const json = await (async (): Promise<Record<string, unknown>> => {
        switch (name) {
          case 'vm-kernel-prepare':
            return {
              name: env.KERNEL_NAME,
              vmlinux: `/vm/kernels/${env.KERNEL_NAME}/vmlinux`,
              initramfs: null,
              modules: 0,
              rebuilt: false,
            };
          case 'vm-image-status':
            return { key: env.KEY, cached: false, disk: `/vm/images/${env.KEY}/disk.ext4` };
          case 'vm-image-build':
            return {
              key: env.KEY,
              disk: `/vm/images/${env.KEY}/disk.ext4`,
              cached: false,
              sizeBytes: 1,
              contentBytes: 1,
            };
          case 'vm-stage-dir':
            return { dir: `/vm/staging/${env.NAME}`, action: env.ACTION ?? 'create' };
          case 'vm-fingerprint':
            return {
              cpuKhz: 2_000_000,
              kvm: true,
              firecracker: '/usr/local/bin/firecracker',
              jailer: null,
              mkfsExt4: true,
              nft: true,
            };
          case 'vm-jail-uids':
            return { uids: opts.jailUids ?? [] };
          case 'app-start': {
            if (vm?.run !== undefined && vm.run.exitCode === null) return { started: false };
            const plan = [...uploads].find(([p]) => p.endsWith(`/instances/${env.INSTANCE_ID}/boot-plan`));
            vm = new FcInstanceDir(['dash', []], plan?.[1] ?? '');
            vms.push(vm);
            vm.start();
            return { started: true };
          }
          case 'app-stop':
            await stopVm();
            return { stopped: true };
          case 'app-inspect': {
            const up = vm?.run !== undefined && vm.run.exitCode === null;
            return { state: up ? 'running' : 'stopped', pid: null, restarts: 0, supervised: true };
          }
          case 'vm-instance-status':
            return { state: 'stopped', vmmPid: vm?.vmmPid() ?? null, restarts: 0 };
          case 'app-destroy':
            return { existed: true };
          default:
            return { ok: true };
        }
      })();
      return {
        json,
        result: {
          exitCode: 0,
          stdout: JSON.stringify(json),
          stderr: '',
          durationMs: 1,
          timedOut: false,
          json,
        },
      };
    },
    async upload(path, data) {
      uploads.set(path, Buffer.isBuffer(data) ? data.toString('utf8') : '<stream>');
      if (!Buffer.isBuffer(data)) for await (const _ of data as AsyncIterable<unknown>); // drain
    },
  };
  return {
    ctx,
    calls,
    uploads,
    vm: () => vm as FcInstanceDir,
    dispose: () => vms.forEach((v) => v.dispose()),
  };
}

test(
  'firecracker driver: full lifecycle, jailed, booted by the node-side supervisor scripts',
  {
    skip:
      typeof loaded === 'string'
        ? loaded
        : !registryBinaryAvailable()
          ? 'docker-registry is not installed'
          : false,
  },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'grim-fcdrv-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const client = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/grim/busybox:1`);
    const digest = await pushImage(client, ref, buildBusyboxImage(work));

    const node = fakeNode({ jailUids: [40000, 40001] }); // VMs grim created before a restart
    t.after(() => node.dispose());
    const ipam = new MemoryIpam();
    const jailer: JailerHostConfig = {
      jailerPath: '/usr/local/bin/jailer',
      firecrackerPath: '/usr/local/bin/firecracker',
      chrootBaseDir: '/srv/jailer',
      idRange: { first: 40000, count: 100 },
    };
    const driver = createFirecrackerDriver({
      registry: client,
      kernel: { name: 'fc-6.1', image: '/vm/vmlinux-6.1' },
      network: { ipam },
      jailer,
      api: (socketPath) => {
        assert.equal(socketPath, '/srv/jailer/firecracker/fc-inst-1/root/run/firecracker.socket');
        return new FirecrackerApiClient(node.vm().apiSocket);
      },
      mmds: (s) => ({ latest: { 'meta-data': { 'instance-id': s.instanceId } } }),
    });
    const instance: InstanceSpec = {
      instanceId: 'fc-inst-1',
      app: 'web',
      environment: 'prod',
      release: 3,
      resources: { cpuMillis: 1500, memoryBytes: 256 * 1024 * 1024, diskBytes: 1 << 30 },
      env: { SECRET: 'never-on-the-cmdline' },
      ports: [{ port: 80, hostPort: 8080, protocol: 'tcp' }],
      source: { kind: 'image', image: `${registry.host}/grim/busybox:1` },
    };

    const h = await driver.create(instance, node.ctx);
    assert.equal(h.data.imageDigest, digest);
    assert.equal(h.data.mac, macAddressForInstance('fc-inst-1'));
    assert.equal(h.data.ports, '8080:172.31.0.2:80');
    assert.equal(h.data.uid, 40002, 'a uid no VM on the node holds, even across grim restarts');
    assert.equal(h.data.cgroup, '/firecracker/fc-inst-1', "the jailer's cgroup, for instance metrics");
    assert.equal(h.data.metricsFile, '/srv/jailer/firecracker/fc-inst-1/root/metrics.ndjson');
    assert.equal(node.uploads.get('/var/lib/grim/vm/instances/fc-inst-1/jail-uid'), '40002\n');
    const dir = '/var/lib/grim/vm/instances/fc-inst-1';
    // run.sh and cleanup.sh are the static node scripts; what they run is data (see vm-fc-vmm.sh, lib/plan.sh).
    assert.equal(node.uploads.get('/vm/staging/meta-fc-inst-1/run.sh'), scriptFor('vm-fc-vmm').body);
    assert.equal(node.uploads.get('/vm/staging/meta-fc-inst-1/cleanup.sh'), scriptFor('vm-fc-cleanup').body);
    const vmm = (node.uploads.get(`${dir}/vmm-argv`) ?? '').split('\n');
    const run = node.uploads.get(`${dir}/run-plan`) ?? '';
    // jailer: unique uid/gid, cgroup v2 limits from the size (1500m -> cpu.max 150000), no --daemonize
    // (the node-side supervisor keeps it in the foreground), hard-linked chroot staging, TAP for the uid.
    assert.deepEqual(vmm.slice(0, 10), [
      '/usr/local/bin/jailer',
      '--id',
      'fc-inst-1',
      '--exec-file',
      '/usr/local/bin/firecracker',
      '--uid',
      '40002',
      '--gid',
      '40002',
      '--chroot-base-dir',
    ]);
    assert.match(
      vmm.join(' '),
      /--cgroup-version 2 --cgroup cpu\.max=150000 100000 --cgroup memory\.max=301989888/,
    );
    assert.ok(!vmm.includes('--daemonize'));
    assert.match(
      run,
      /^must\tln\t-f\t\/var\/lib\/grim\/vm\/instances\/fc-inst-1\/disk\.ext4\t\/srv\/jailer\/firecracker\/fc-inst-1\/root\/rootfs\.ext4$/m,
    );
    assert.match(run, /^must\tip\ttuntap\tadd\tdev\tgvt[0-9a-f]{10}\tmode\ttap\tuser\t40002$/m);
    assert.match(
      node.uploads.get(`${dir}/cleanup-plan`) ?? '',
      /^may\trmdir\t\/sys\/fs\/cgroup\/firecracker\/fc-inst-1$/m,
    );
    for (const [path, body] of node.uploads)
      assert.doesNotMatch(`${path} ${path.endsWith('meta.tar') ? '' : body}`, /never-on-the-cmdline/);
    assert.match(
      node.uploads.get('/vm/staging/meta-fc-inst-1/meta.tar') ?? '',
      new RegExp(`SECRET=${Buffer.from('never-on-the-cmdline').toString('base64')}\n`),
    );
    // Supervised like every grim app: the supervisor runs vm-fc-run.sh and stops with vm-fc-stop.sh.
    const install = node.calls.find((c) => c.name === 'app-install');
    assert.equal(install?.env.DRIVER, 'firecracker');
    assert.equal(install?.env.RUN_SCRIPT, scriptFor('vm-fc-run').body);
    assert.equal(install?.env.STOP_SCRIPT, scriptFor('vm-fc-stop').body);
    const supervisorEnv = parseEnvFile(install?.env.ENV_FILE ?? '');
    assert.equal(
      supervisorEnv.GRIM_VM_API_SOCKET,
      '/srv/jailer/firecracker/fc-inst-1/root/run/firecracker.socket',
    );
    assert.ok(!Object.values(supervisorEnv).some((v) => v.includes('never-on-the-cmdline')));

    await driver.start(h, node.ctx);
    const requests = () => node.vm().requests();
    assert.deepEqual(
      requests().flatMap((r) => r.specIssues),
      [],
      'every request is valid per the spec',
    );
    const order = requests()
      .filter((r) => r.method === 'PUT')
      .map((r) => r.path);
    assert.deepEqual(order, [
      '/metrics',
      '/machine-config',
      '/boot-source',
      '/drives/rootfs',
      '/drives/metadata',
      '/network-interfaces/eth0',
      '/mmds/config',
      '/mmds',
      '/actions',
    ]);
    const boot = requests().find((r) => r.path === '/boot-source')?.body as {
      boot_args: string;
      kernel_image_path: string;
    };
    assert.equal(boot.kernel_image_path, '/vmlinux', 'paths are inside the jail');
    assert.match(boot.boot_args, /ip=172\.31\.0\.2::172\.31\.0\.1:255\.255\.255\.0::eth0:off/);
    assert.doesNotMatch(boot.boot_args, /never-on-the-cmdline/);
    const nic = requests().find((r) => r.path === '/network-interfaces/eth0')?.body as { guest_mac: string };
    assert.equal(nic.guest_mac, macAddressForInstance('fc-inst-1'));

    const before = requests().length;
    await driver.start(h, node.ctx); // idempotent: the supervisor is up, nothing is configured again
    assert.deepEqual(
      requests()
        .slice(before)
        .filter((r) => r.method !== 'GET'),
      [],
      'a running VM gets no configuration',
    );
    // Log shipping tails the file observe() names: where the guest's console (the app's output) really lands.
    const seen = driver.observe(h);
    assert.equal(seen.logFile, `${dir}/serial.log`);
    const onHost = join(node.vm().dir, seen.logFile.slice(dir.length + 1));
    await node.vm().waitFor('the console line', () => readIfThere(onHost).includes(CONSOLE_LINE));
    assert.equal(seen.vmmMetricsFile, '/srv/jailer/firecracker/fc-inst-1/root/metrics.ndjson');
    assert.deepEqual(seen.cgroups, ['/firecracker/fc-inst-1']);

    const status = await driver.inspect(h, node.ctx);
    assert.equal(status.state, 'running');
    assert.equal(status.detail?.vmState, 'Running');

    await driver.stop(h, node.ctx, 5000);
    assert.ok(
      requests().some(
        (r) => (r.body as { action_type?: string } | undefined)?.action_type === 'SendCtrlAltDel',
      ),
      'stopped gracefully with SendCtrlAltDel',
    );
    assert.equal(node.vm().vmmPid(), null, 'the VMM exited');
    assert.equal(node.vm().cleanups(), 1, "vm-fc-run.sh ran the jail's cleanup after the VMM");
    const names = node.calls.map((c) => c.name);
    assert.ok(names.includes('vm-instance-cleanup'), 'and the driver makes sure of it');
    assert.equal((await driver.inspect(h, node.ctx)).state, 'stopped');

    await driver.destroy(h, node.ctx);
    assert.ok(node.calls.some((c) => c.name === 'app-destroy' && c.env.INSTANCE_ID === 'fc-inst-1'));
    assert.ok(node.calls.some((c) => c.name === 'vm-instance-destroy' && c.env.INSTANCE === 'fc-inst-1'));
    assert.equal(ipam.held.size, 0, 'destroy released the address');
  },
);

test('firecracker driver: jailed by default where the node has the jailer, unless the node opts out', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'grim-fcauto-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'alpine.tar'), 'runtime');
  writeFileSync(join(work, 'app.tgz'), 'app');
  const layouts: Record<string, unknown>[] = [];
  for (const fp of [
    { jailer: '/usr/bin/jailer', firecracker: '/usr/bin/firecracker', jailerOff: false },
    { jailer: '/usr/bin/jailer', firecracker: '/usr/bin/firecracker', jailerOff: true },
    { jailer: null, firecracker: '/usr/bin/firecracker', jailerOff: false },
  ]) {
    const node = fakeNode();
    const inner = node.ctx.runScript;
    node.ctx.runScript = async (name, env, o) =>
      name === 'vm-fingerprint'
        ? {
            json: { ...fp, cpuKhz: 0 },
            result: { exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false },
          }
        : inner(name, env, o);
    const driver = createFirecrackerDriver({
      registry: new RegistryClient(),
      kernel: { name: 'k', image: '/k' },
      network: { ipam: new MemoryIpam() },
      runtimes: { alpine: { name: 'alpine', version: '3.20', tarball: join(work, 'alpine.tar') } },
    });
    const h = await driver.create(
      {
        instanceId: 'fc-auto',
        app: 'a',
        environment: 'prod',
        release: 1,
        resources: { cpuMillis: 250, memoryBytes: 128 << 20, diskBytes: 1 << 30 },
        env: {},
        ports: [],
        source: { kind: 'tarball', tarball: join(work, 'app.tgz'), runtime: 'alpine', command: ['./serve'] },
      },
      node.ctx,
    );
    const install = node.calls.find((c) => c.name === 'app-install')?.env;
    layouts.push({
      limits: `${install?.CPU_LIMIT_MILLIS}m ${Number(install?.MEMORY_LIMIT_BYTES) / 2 ** 20}Mi`,
      jailId: h.data.jailId,
      run: /^\/usr\/bin\/(jailer|firecracker)$/m.exec(
        node.uploads.get('/var/lib/grim/vm/instances/fc-auto/vmm-argv') ?? '',
      )?.[1],
      cgroup: h.data.cgroup,
    });
  }
  // Unjailed, the supervisor's cgroup carries the size's limits (guest memory + VMM overhead); jailed, the jailer does.
  assert.deepEqual(layouts, [
    { limits: '0m 0Mi', jailId: 'fc-auto', run: 'jailer', cgroup: '/firecracker/fc-auto' },
    { limits: '250m 160Mi', jailId: undefined, run: 'firecracker', cgroup: '/grim/fc-auto' },
    { limits: '250m 160Mi', jailId: undefined, run: 'firecracker', cgroup: '/grim/fc-auto' },
  ]);
});
