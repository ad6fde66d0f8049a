// Real microVM boots under QEMU microvm (TCG here) on a lab node: an Alpine-based OCI image pushed
// to a local registry, in nat and bridged mode, and a tarball app on the Alpine runtime. Checks HTTP
// from the host, the root disk cache, graceful stop (the app sees SIGTERM) and cleanup.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQemuMicrovmDriver } from '../../src/drivers/qemu/driver.ts';
import type { InstanceHandle, InstanceSpec, OpCtx, RuntimeDriver } from '../../src/drivers/driver.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { IpamStore } from '../../src/services/ipam-store.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { registryBinaryAvailable, startRegistry } from '../helpers/registry.ts';
import { pushImage } from '../helpers/oci-image.ts';
import { withLab } from '../helpers/lab.ts';
import { buildAlpineHttpImage, buildTarballApp, labOpCtx, waitForHttp } from './vm-support.ts';

const ALPINE =
  process.env.GRIM_ALPINE_ROOTFS ?? '/work/shared/fixtures/alpine/alpine-minirootfs-3.20.3-x86_64.tar.gz';

function kernelVersion(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  const v = readdirSync('/boot').find((f) => f.startsWith('vmlinuz-'));
  return v?.slice('vmlinuz-'.length);
}

function missing(): string | undefined {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed';
  if (!registryBinaryAvailable()) return 'docker-registry is not installed';
  if (!existsSync(ALPINE)) return `Alpine minirootfs not found at ${ALPINE} (set GRIM_ALPINE_ROOTFS)`;
  const k = kernelVersion();
  if (k === undefined) return 'no /boot/vmlinuz-* (apt-get install linux-image-amd64)';
  if (!existsSync(`/lib/modules/${k}/modules.dep`)) return `no /lib/modules/${k}`;
  for (const tool of ['/usr/sbin/nft', '/usr/bin/socat', '/bin/busybox'])
    if (!existsSync(tool)) return `${tool} is missing (nftables, socat, busybox-static)`;
  return undefined;
}

function spec(id: string, over: Partial<InstanceSpec>): InstanceSpec {
  return {
    instanceId: id,
    app: 'web',
    environment: 'test',
    release: 1,
    resources: { cpuMillis: 1000, memoryBytes: 128 * 1024 * 1024, diskBytes: 256 * 1024 * 1024 },
    env: { GREETING: 'hello-from-instance', SECRET: 's3cr3t-value' },
    ports: [],
    source: { kind: 'image', image: 'x' },
    ...over,
  };
}

test(
  'qemu-microvm: OCI image (nat + bridged) and tarball app boot, answer HTTP, stop gracefully, clean up',
  { timeout: 900_000 },
  async (t) => {
    const why = missing();
    if (why) {
      console.log(`# skip: ${why}`);
      return t.skip(why);
    }
    const work = mkdtempSync(join(tmpdir(), 'grim-vmtest-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const client = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/grim/alpine-http:1`);
    const image = buildAlpineHttpImage(work, ALPINE);
    const digest = await pushImage(client, ref, image);

    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (lab === undefined) return;
    const node = lab.nodes[0];
    // Lab nodes see /proc/sys/net read-only (src/lab node-boot.sh); forwarding is enabled from the host.
    execFileSync('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const ctx: OpCtx = labOpCtx(lab, node, (l) => console.log(`# ${l}`));

    const db = openSqlite(join(work, 'grim.db'));
    t.after(() => db.close());
    await migrate(db);
    const ipam = new IpamStore(db);
    await ipam.savePool({
      id: 'nat-n1',
      cidr: '172.31.0.0/24',
      gateway: '172.31.0.1',
      scope: { kind: 'node', id: 'n1' },
    });
    const lanPrefix = lab.subnet.split('.').slice(0, 3).join('.');
    await ipam.savePool({
      id: 'lan',
      cidr: lab.subnet,
      gateway: lab.gateway,
      excluded: [`${lanPrefix}.2-${lanPrefix}.199`],
      scope: { kind: 'environment', id: 'test' },
    });

    // The node's kernel: Debian's bzImage, uploaded into the node's catalog; modules are the node's own.
    const k = kernelVersion() as string;
    const kernelPath = `/var/lib/grim/vm/boot/vmlinuz-${k}`;
    await ctx.upload(kernelPath, createReadStream(`/boot/vmlinuz-${k}`), 0o644);

    const driver: RuntimeDriver = createQemuMicrovmDriver({
      registry: client,
      kernel: { name: k, image: kernelPath, modulesDir: `/lib/modules/${k}` },
      network: {
        ipam,
        modeFor: (s) => (s.app === 'lan-web' ? 'bridged' : 'nat'),
        bridged: { poolId: () => 'lan' },
      },
      runtimes: { alpine: { name: 'alpine', version: '3.20', tarball: ALPINE } },
      accel: 'tcg',
      headroomMb: 32,
    });
    const fp = await driver.fingerprint(ctx);
    assert.equal(fp.available, true, fp.reason);

    const handles: InstanceHandle[] = [];
    t.after(async () => {
      for (const h of handles)
        await driver
          .destroy(h, ctx)
          .catch((e: Error) => console.log(`# destroy ${h.instanceId}: ${e.message}`));
    });
    const dead = (h: InstanceHandle) => async () => {
      const s = await driver.inspect(h, ctx);
      return s.state === 'running' || s.state === 'starting'
        ? undefined
        : `${s.state}\n${await driver.logs!(h, ctx, 40)}`;
    };

    // 1. nat: the image's app answers on the node's address through the published port.
    const natSpec = spec('vm-nat-1', {
      source: { kind: 'image', image: `${registry.host}/grim/alpine-http:1` },
      ports: [{ port: 80, hostPort: 18080, protocol: 'tcp' }],
    });
    const nat = await driver.create(natSpec, ctx);
    handles.push(nat);
    assert.equal(nat.data.rootCached, false, 'the first deploy builds the root disk');
    assert.equal(nat.data.imageDigest, digest);
    await driver.start(nat, ctx);
    await driver.start(nat, ctx); // idempotent
    const natBody = await waitForHttp(`http://${node.address}:18080/`, 180_000, dead(nat));
    assert.match(
      natBody,
      /^hello-from-instance from vm-nat-1 secret-ok/,
      'instance env (with the secret from the metadata drive) reached the app',
    );
    const natStatus = await driver.inspect(nat, ctx);
    assert.equal(natStatus.state, 'running');
    assert.match(String(natStatus.detail?.ip), /^172\.31\.0\.\d+$/);

    // 2. bridged: same digest -> cached root disk; the VM has a LAN address the host reaches directly.
    const lanSpec = spec('vm-lan-1', {
      app: 'lan-web',
      source: { kind: 'image', image: `${registry.host}/grim/alpine-http:1` },
    });
    const lan = await driver.create(lanSpec, ctx);
    handles.push(lan);
    assert.equal(
      lan.data.rootCached,
      true,
      'the second deploy of the same digest reuses the cached root disk',
    );
    assert.equal(lan.data.rootKey, nat.data.rootKey);
    await driver.start(lan, ctx);
    const lanIp = String(lan.data.address);
    assert.ok(lanIp.startsWith(`${lanPrefix}.`), `bridged address ${lanIp} is on the lab LAN`);
    const lanBody = await waitForHttp(`http://${lanIp}/`, 180_000, dead(lan));
    assert.match(lanBody, /^hello-from-instance from vm-lan-1 secret-ok/);

    // 3. tarball app on the Alpine runtime, nat.
    const tarball = buildTarballApp(work);
    const tarSpec = spec('vm-tar-1', {
      source: { kind: 'tarball', tarball, runtime: 'alpine', command: ['/bin/sh', '/app/serve.sh'] },
      ports: [{ port: 80, hostPort: 18081, protocol: 'tcp' }],
    });
    const tar = await driver.create(tarSpec, ctx);
    handles.push(tar);
    await driver.start(tar, ctx);
    const tarBody = await waitForHttp(`http://${node.address}:18081/`, 180_000, dead(tar));
    assert.match(tarBody, /^hello-from-instance from vm-tar-1 secret-ok/);

    // 4. graceful stop: the app gets SIGTERM (its trap prints to the serial console); the supervisor
    //    does not restart it; the published port is gone.
    await driver.stop(nat, ctx, 30_000);
    const natLog = await driver.logs!(nat, ctx, 200);
    assert.match(natLog, /grim-test: app got SIGTERM/);
    assert.match(natLog, /grim-init: rebooting/);
    assert.equal((await driver.inspect(nat, ctx)).state, 'stopped');
    await driver.stop(nat, ctx, 30_000); // idempotent
    await assert.rejects(fetch(`http://${node.address}:18080/`, { signal: AbortSignal.timeout(2000) }));
    // The secret never appears on the kernel command line.
    const cmdline = await ctx.runScript('vm-instance-logs', { INSTANCE: 'vm-nat-1', LINES: '400' });
    assert.doesNotMatch(
      Buffer.from((cmdline.json as { base64: string }).base64, 'base64').toString(),
      /s3cr3t-value/,
    );

    // 5. destroy returns addresses and removes the instance.
    for (const h of handles.splice(0)) await driver.destroy(h, ctx);
    assert.deepEqual(await ipam.allocations('nat-n1'), []);
    assert.deepEqual(await ipam.allocations('lan'), []);
    assert.equal((await driver.inspect(nat, ctx)).state, 'missing');
  },
);
