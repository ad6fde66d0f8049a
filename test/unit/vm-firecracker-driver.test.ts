// The firecracker driver's whole lifecycle against the spec-validating Firecracker double: create
// (image pipeline, network, jail staging rendered into the supervised run script), start (boot plan
// over the API), inspect, stop (SendCtrlAltDel -> exit -> cleanup), destroy. The node is a recording
// OpCtx that answers like the vm-*.sh scripts; every API request must be valid per the v1.16.1 spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFirecrackerDriver } from '../../src/drivers/firecracker/driver.ts';
import { FirecrackerApiClient } from '../../src/drivers/firecracker/api-client.ts';
import type { JailerHostConfig } from '../../src/drivers/firecracker/jailer.ts';
import type { InstanceSpec, OpCtx } from '../../src/drivers/driver.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { macAddressForInstance, type IpAllocation, type IpAllocator } from '../../src/domain/ipam.ts';
import { FirecrackerDouble } from '../helpers/firecracker-double.ts';
import { loadSharedSpec, type OpenApiDocument } from '../helpers/openapi-validator.ts';
import { registryBinaryAvailable, startRegistry } from '../helpers/registry.ts';
import { buildBusyboxImage, pushImage } from '../helpers/oci-image.ts';

const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');

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

/** A node that answers like the vm-*.sh scripts; the VMM "process" is the double. */
function fakeNode(double: () => FirecrackerDouble | undefined) {
  const calls: Array<{ name: string; env: Record<string, string> }> = [];
  const uploads = new Map<string, string>();
  let supervised = false;
  const ctx: OpCtx = {
    node: 'n1',
    log: () => {},
    async runScript(name, env) {
      calls.push({ name, env });
      const d = double();
      const alive = supervised && d !== undefined && !d.exited;
      const json: Record<string, unknown> = ((): Record<string, unknown> => {
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
              mkfsExt4: true,
              nft: true,
            };
          case 'vm-instance-start':
            supervised = true;
            return { started: true, supervisorPid: 1 };
          case 'vm-instance-status':
            return { state: alive ? 'running' : 'stopped', qemuPid: alive ? 4242 : null, restarts: 0 };
          case 'vm-instance-stop':
            if (env.MARK_ONLY !== '1') void d?.kill();
            return { wasRunning: alive, graceful: false, forced: 'none' };
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
  return { ctx, calls, uploads };
}

test(
  'firecracker driver: full lifecycle against the spec-validating double, jailed',
  {
    skip:
      typeof loaded === 'string'
        ? loaded
        : !registryBinaryAvailable()
          ? 'docker-registry is not installed'
          : false,
  },
  async (t) => {
    const spec = loaded as OpenApiDocument;
    const work = mkdtempSync(join(tmpdir(), 'grim-fcdrv-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const client = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/grim/busybox:1`);
    const digest = await pushImage(client, ref, buildBusyboxImage(work));

    let double: FirecrackerDouble | undefined = undefined;
    const node = fakeNode(() => double);
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
        return new FirecrackerApiClient((double as FirecrackerDouble).socketPath);
      },
      gracePeriodMs: 2000,
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
    const run = node.uploads.get('/vm/staging/meta-fc-inst-1/run.sh') ?? '';
    // jailer: unique uid/gid, cgroup v2 limits from the size (1500m -> cpu.max 150000), no --daemonize
    // (the node-side supervisor keeps it in the foreground), hard-linked chroot staging, TAP for the uid.
    assert.match(
      run,
      /exec '\/usr\/local\/bin\/jailer' '--id' 'fc-inst-1' '--exec-file' '\/usr\/local\/bin\/firecracker' '--uid' '40000' '--gid' '40000'/,
    );
    assert.match(
      run,
      /'--cgroup-version' '2' '--cgroup' 'cpu\.max=150000 100000' '--cgroup' 'memory\.max=301989888'/,
    );
    assert.doesNotMatch(run, /--daemonize/);
    assert.match(
      run,
      /'ln' '-f' '\/var\/lib\/grim\/vm\/instances\/fc-inst-1\/disk\.ext4' '\/srv\/jailer\/firecracker\/fc-inst-1\/root\/rootfs\.ext4' \|\| exit 1/,
    );
    assert.match(run, /'ip' 'tuntap' 'add' 'dev' 'gvt[0-9a-f]{10}' 'mode' 'tap' 'user' '40000'/);
    assert.match(
      node.uploads.get('/vm/staging/meta-fc-inst-1/cleanup.sh') ?? '',
      /'rmdir' '\/sys\/fs\/cgroup\/firecracker\/fc-inst-1' 2>\/dev\/null \|\| true/,
    );
    for (const [path, body] of node.uploads)
      assert.doesNotMatch(`${path} ${path.endsWith('meta.tar') ? '' : body}`, /never-on-the-cmdline/);
    assert.match(
      node.uploads.get('/vm/staging/meta-fc-inst-1/meta.tar') ?? '',
      /export 'SECRET=never-on-the-cmdline'/,
    );

    double = await FirecrackerDouble.start(spec, { instanceId: 'fc-inst-1' });
    t.after(() => double?.close());
    await driver.start(h, node.ctx);
    assert.equal(double.state, 'Running');
    assert.deepEqual(double.invalidRequests(), [], 'every request is valid per the Firecracker spec');
    const order = double.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
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
    const boot = double.requests.find((r) => r.path === '/boot-source')?.body as {
      boot_args: string;
      kernel_image_path: string;
    };
    assert.equal(boot.kernel_image_path, '/vmlinux', 'paths are inside the jail');
    assert.match(boot.boot_args, /ip=172\.31\.0\.2::172\.31\.0\.1:255\.255\.255\.0::eth0:off/);
    assert.doesNotMatch(boot.boot_args, /never-on-the-cmdline/);
    const nic = double.requests.find((r) => r.path === '/network-interfaces/eth0')?.body as {
      guest_mac: string;
    };
    assert.equal(nic.guest_mac, macAddressForInstance('fc-inst-1'));

    const before = double.requests.length;
    await driver.start(h, node.ctx); // idempotent: measures, sends nothing but GET /
    assert.deepEqual(
      double.requests.slice(before).filter((r) => r.method !== 'GET'),
      [],
      'a running VM gets no configuration',
    );
    const status = await driver.inspect(h, node.ctx);
    assert.equal(status.state, 'running');
    assert.equal(status.detail?.vmState, 'Running');

    await driver.stop(h, node.ctx, 5000);
    assert.ok(double.exited, 'SendCtrlAltDel made the VM exit (graceful)');
    assert.ok(
      double.requests.some(
        (r) => (r.body as { action_type?: string } | undefined)?.action_type === 'SendCtrlAltDel',
      ),
    );
    const names = node.calls.map((c) => c.name);
    assert.ok(names.includes('vm-instance-cleanup'), 'the jail cleanup ran after the exit');
    const mark = node.calls.find((c) => c.name === 'vm-instance-stop');
    assert.equal(mark?.env.MARK_ONLY, '1', 'the supervisor is told not to restart before Ctrl-Alt-Del');
    assert.equal((await driver.inspect(h, node.ctx)).state, 'stopped');

    await driver.destroy(h, node.ctx);
    assert.ok(node.calls.some((c) => c.name === 'vm-instance-destroy' && c.env.INSTANCE === 'fc-inst-1'));
    assert.equal(ipam.held.size, 0, 'destroy released the address');
    assert.deepEqual(double.invalidRequests(), []);
  },
);

test(
  'firecracker driver: a guest that ignores Ctrl-Alt-Del is killed after the grace period',
  { skip: typeof loaded === 'string' ? loaded : false },
  async (t) => {
    const spec = loaded as OpenApiDocument;
    const double = await FirecrackerDouble.start(spec, { ctrlAltDelExits: false });
    t.after(() => double.close());
    const node = fakeNode(() => double);
    const driver = createFirecrackerDriver({
      registry: new RegistryClient(),
      kernel: { name: 'k', image: '/k' },
      network: { ipam: new MemoryIpam() },
      api: () => new FirecrackerApiClient(double.socketPath),
    });
    const h = {
      driver: 'firecracker' as const,
      instanceId: 'fc-2',
      node: 'n1',
      data: {
        apiSocket: '/vm/instances/fc-2/api.sock',
        boot: {
          instanceId: 'fc-2',
          size: { cpu: 1, memoryMib: 128 },
          kernel: { path: '/vmlinux' },
          rootfs: { path: '/r.ext4' },
        },
      },
    };
    await driver.start(h, node.ctx);
    assert.equal(double.state, 'Running');
    await driver.stop(h, node.ctx, 300);
    assert.ok(double.exited, 'SIGKILL ended it');
    const kills = node.calls.filter((c) => c.name === 'vm-instance-stop' && c.env.MARK_ONLY !== '1');
    assert.ok(kills.length >= 1, 'the forced stop went through vm-instance-stop (TERM/KILL)');
  },
);
