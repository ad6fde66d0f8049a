import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRuntimeSpec,
  linuxResources,
  numericUser,
  type RuntimeSpecInput,
} from '../../src/drivers/container/runtime-spec.ts';
import {
  netTag,
  nftTableName,
  parsePool,
  portPairs,
  slotAddresses,
  vethName,
} from '../../src/drivers/container/network.ts';
import { extractRuntimeConfig } from '../../src/oci/image-config.ts';
import { parseLayoutSource } from '../../src/drivers/container/image-source.ts';

const MiB = 1024 * 1024;

function input(overrides: Partial<RuntimeSpecInput> = {}): RuntimeSpecInput {
  return {
    instanceId: 'web-1',
    image: extractRuntimeConfig({
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['exec httpd -f'],
        Env: ['PATH=/bin', 'GREETING=image', 'KEEP=1'],
        WorkingDir: '/srv',
        User: 'app',
      },
    }),
    appEnv: { GREETING: 'app', SECRET: 'a b=c' },
    ports: [
      { name: 'http', port: 8080, hostPort: 30080, protocol: 'tcp' },
      { name: 'admin-ui', port: 9090, hostPort: 30090, protocol: 'tcp' },
    ],
    resources: { cpuMillis: 250, memoryBytes: 128 * MiB, diskBytes: 0 },
    user: { uid: 1000, gid: 1000, additionalGids: [2000] },
    instanceDir: '/var/lib/grim/containers/web-1',
    netnsPath: '/run/netns/grim-web-1',
    cgroupsPath: '/grim/web-1',
    pidsLimit: 512,
    ...overrides,
  };
}

test('process: args are Entrypoint + Cmd, cwd from WorkingDir, the resolved user, no terminal', () => {
  const spec = buildRuntimeSpec(input());
  assert.deepEqual(spec.process.args, ['/bin/sh', '-c', 'exec httpd -f']);
  assert.equal(spec.process.cwd, '/srv');
  assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000, additionalGids: [2000] });
  assert.equal(spec.process.terminal, false);
  assert.equal(spec.process.noNewPrivileges, true);
  assert.deepEqual(buildRuntimeSpec(input({ command: ['/app'] })).process.args, ['/app']);
  const empty = input({ image: extractRuntimeConfig({ config: {} }) });
  assert.throws(() => buildRuntimeSpec(empty), /neither Entrypoint nor Cmd/);
  assert.equal(buildRuntimeSpec({ ...empty, command: ['/x'] }).process.cwd, '/');
});

test('env: image env, then HOSTNAME and PORT variables, then the app env (which wins)', () => {
  const env = buildRuntimeSpec(input()).process.env;
  assert.deepEqual(env, [
    'PATH=/bin',
    'GREETING=app',
    'KEEP=1',
    'HOSTNAME=web-1',
    'PORT=8080',
    'PORT_HTTP=8080',
    'PORT_ADMIN_UI=9090',
    'SECRET=a b=c',
  ]);
  const noPath = buildRuntimeSpec(input({ image: extractRuntimeConfig({ config: { Cmd: ['x'] } }) })).process
    .env;
  assert.ok(noPath[0].startsWith('PATH=/usr/local/sbin:'), 'a default PATH when the image has none');
  assert.throws(
    () => buildRuntimeSpec(input({ appEnv: { 'BAD-NAME': 'x' } })),
    /invalid environment variable name/,
  );
});

test('capabilities: the default set for root; a non-root user keeps only the bounding set', () => {
  const user = buildRuntimeSpec(input()).process.capabilities;
  assert.ok(user.bounding.includes('CAP_NET_BIND_SERVICE'));
  assert.deepEqual(user.effective, []);
  assert.deepEqual(user.ambient, []);
  const root = buildRuntimeSpec(input({ user: { uid: 0, gid: 0 } })).process;
  assert.deepEqual(root.capabilities.effective, root.capabilities.bounding);
  assert.equal('additionalGids' in root.user, false);
  assert.ok(!root.capabilities.bounding.includes('CAP_SYS_ADMIN'));
});

test('root, hostname, mounts and namespaces: network joins the instance netns', () => {
  const spec = buildRuntimeSpec(input());
  assert.deepEqual(spec.root, { path: '/var/lib/grim/containers/web-1/rootfs', readonly: false });
  assert.equal(spec.hostname, 'web-1');
  assert.deepEqual(spec.linux.namespaces.map((n) => n.type).sort(), [
    'cgroup',
    'ipc',
    'mount',
    'network',
    'pid',
    'uts',
  ]);
  assert.deepEqual(
    spec.linux.namespaces.find((n) => n.type === 'network'),
    {
      type: 'network',
      path: '/run/netns/grim-web-1',
    },
  );
  assert.equal(spec.linux.cgroupsPath, '/grim/web-1');
  const dests = spec.mounts.map((m) => m.destination);
  for (const d of [
    '/proc',
    '/dev',
    '/dev/pts',
    '/dev/shm',
    '/sys',
    '/sys/fs/cgroup',
    '/etc/hosts',
    '/etc/resolv.conf',
    '/etc/hostname',
  ]) {
    assert.ok(dests.includes(d), `mount ${d}`);
  }
  const hosts = spec.mounts.find((m) => m.destination === '/etc/hosts');
  assert.equal(hosts?.source, '/var/lib/grim/containers/web-1/etc/hosts');
  assert.ok(hosts?.options?.includes('ro'));
  assert.ok(spec.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  assert.ok(!dests.includes('/tmp'));
  const ro = buildRuntimeSpec(input({ readonlyRootfs: true }));
  assert.equal(ro.root.readonly, true);
  assert.ok(ro.mounts.some((m) => m.destination === '/tmp' && m.type === 'tmpfs'));
  assert.ok(spec.linux.maskedPaths.includes('/proc/kcore'));
  assert.ok(spec.linux.readonlyPaths.includes('/proc/sys'));
});

test('resources from the size: memory without swap, CFS quota from millicores, shares, pids', () => {
  const r = buildRuntimeSpec(input()).linux.resources;
  assert.deepEqual(r.memory, { limit: 128 * MiB, swap: 128 * MiB });
  assert.deepEqual(r.cpu, { shares: 256, quota: 25_000, period: 100_000 });
  assert.deepEqual(r.pids, { limit: 512 });
  assert.deepEqual(r.devices, [{ allow: false, access: 'rwm' }]);
  assert.equal(
    linuxResources({ cpuMillis: 1500, memoryBytes: 1024 * MiB, diskBytes: 0 }, 1).cpu.quota,
    150_000,
  );
  assert.equal(
    linuxResources({ cpuMillis: 1, memoryBytes: 64 * MiB, diskBytes: 0 }, 1).cpu.quota,
    1000,
    'kernel minimum',
  );
  assert.equal(linuxResources({ cpuMillis: 1, memoryBytes: 64 * MiB, diskBytes: 0 }, 1).cpu.shares, 2);
  assert.throws(() => linuxResources({ cpuMillis: 0, memoryBytes: 64 * MiB, diskBytes: 0 }, 1), /cpuMillis/);
  assert.throws(() => linuxResources({ cpuMillis: 100, memoryBytes: 1000, diskBytes: 0 }, 1), /memoryBytes/);
  assert.throws(
    () => linuxResources({ cpuMillis: 100, memoryBytes: 64 * MiB, diskBytes: 0 }, 0),
    /pidsLimit/,
  );
});

test('numericUser: root and uid:gid need no lookup; names and a bare uid do', () => {
  assert.deepEqual(numericUser(''), { uid: 0, gid: 0 });
  assert.deepEqual(numericUser('root'), { uid: 0, gid: 0 });
  assert.deepEqual(numericUser('1000:100'), { uid: 1000, gid: 100 });
  assert.equal(numericUser('1000'), undefined);
  assert.equal(numericUser('nginx'), undefined);
  assert.equal(numericUser('app:web'), undefined);
});

test('address pool: /30 slots, addresses, validation', () => {
  const pool = parsePool('10.253.0.0/16');
  assert.equal(pool.slots, 16384);
  assert.deepEqual(slotAddresses(pool, 0), { host: '10.253.0.1', container: '10.253.0.2' });
  assert.deepEqual(slotAddresses(pool, 65), { host: '10.253.1.5', container: '10.253.1.6' });
  assert.equal(parsePool('192.168.7.0/24').slots, 64);
  assert.throws(() => slotAddresses(pool, 16384), /outside/);
  assert.throws(() => parsePool('10.253.0.1/16'), /network address/);
  assert.throws(() => parsePool('10.253.0.0/31'), /CIDR/);
  assert.throws(() => parsePool('300.1.1.0/24'), /invalid IPv4/);
});

test('names: veth within IFNAMSIZ, deterministic tags, nft table from the id', () => {
  const id = 'a-very-long-instance-id-that-goes-on-and-on-0123456789';
  assert.ok(vethName(id).length <= 15);
  assert.match(netTag(id), /^[0-9a-f]{10}$/);
  assert.equal(netTag(id), netTag(id));
  assert.notEqual(netTag('web-1'), netTag('web-2'));
  assert.equal(nftTableName('web-1-x'), 'grim_web_1_x');
});

test('ports: tcp only, valid numbers, distinct host ports', () => {
  assert.equal(
    portPairs([
      { port: 80, hostPort: 8080, protocol: 'tcp' },
      { port: 443, hostPort: 8443, protocol: 'tcp' },
    ]),
    '8080:80 8443:443',
  );
  assert.equal(portPairs([]), '');
  assert.throws(() => portPairs([{ port: 0, hostPort: 1, protocol: 'tcp' }]), /port must be/);
  assert.throws(() => portPairs([{ port: 1, hostPort: 70000, protocol: 'tcp' }]), /hostPort must be/);
  assert.throws(() => portPairs([{ port: 1, hostPort: 9, protocol: 'udp' as 'tcp' }]), /only tcp/);
  assert.throws(
    () =>
      portPairs([
        { port: 1, hostPort: 9, protocol: 'tcp' },
        { port: 2, hostPort: 9, protocol: 'tcp' },
      ]),
    /published twice/,
  );
});

test('OCI layout sources: oci:<dir> and oci:<dir>:<name>', () => {
  assert.deepEqual(parseLayoutSource('oci:/srv/layout'), { dir: '/srv/layout' });
  assert.deepEqual(parseLayoutSource('oci:/srv/layout:v1'), { dir: '/srv/layout', name: 'v1' });
  assert.equal(parseLayoutSource('127.0.0.1:5000/web:1'), undefined);
});
