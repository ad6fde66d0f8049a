import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiSocketPath,
  chrootStagingPlan,
  jailCleanupPlan,
  jailerArgv,
  jailIdFor,
  maxJailIdLength,
  pickJailId,
  SUN_PATH_MAX,
  tapNameFor,
  type JailerHostConfig,
} from '../../src/drivers/firecracker/jailer.ts';

const host: JailerHostConfig = {
  jailerPath: '/usr/local/bin/jailer',
  firecrackerPath: '/usr/local/bin/firecracker',
  idRange: { first: 900_000, count: 100 },
};

/** Values of every occurrence of a flag that takes one argument (before the "--" separator). */
function flagValues(argv: string[], flag: string): string[] {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  return head.flatMap((a, i) => (a === flag ? [head[i + 1]] : []));
}

test('jailer argv carries the flags of jailer.md with per-VM values', () => {
  const argv = jailerArgv(host, {
    jailId: 'vm-1',
    uid: 900_003,
    cpu: '250m',
    memoryMib: 256,
    netns: 'grim-vm-1',
  });
  assert.equal(argv[0], '/usr/local/bin/jailer');
  assert.deepEqual(flagValues(argv, '--id'), ['vm-1']);
  assert.deepEqual(flagValues(argv, '--exec-file'), ['/usr/local/bin/firecracker']);
  assert.deepEqual(flagValues(argv, '--uid'), ['900003']);
  assert.deepEqual(flagValues(argv, '--gid'), ['900003']);
  assert.deepEqual(flagValues(argv, '--chroot-base-dir'), ['/srv/jailer']);
  assert.deepEqual(flagValues(argv, '--cgroup-version'), ['2']);
  assert.deepEqual(flagValues(argv, '--cgroup'), [
    'cpu.max=25000 100000',
    `memory.max=${(256 + 32) * 1024 * 1024}`,
  ]);
  assert.deepEqual(flagValues(argv, '--netns'), ['/var/run/netns/grim-vm-1']);
  assert.ok(argv.indexOf('--daemonize') > 0 && argv.indexOf('--daemonize') < argv.indexOf('--'));
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), ['--api-sock', '/run/firecracker.socket']);
  // Every flag the builder emits is one jailer.md documents.
  const documented = new Set([
    '--id',
    '--exec-file',
    '--uid',
    '--gid',
    '--cgroup-version',
    '--cgroup',
    '--parent-cgroup',
    '--chroot-base-dir',
    '--netns',
    '--resource-limit',
    '--daemonize',
    '--new-pid-ns',
  ]);
  const flags = argv.slice(1, argv.indexOf('--')).filter((a) => a.startsWith('--'));
  assert.deepEqual(
    flags.filter((f) => !documented.has(f)),
    [],
  );
});

test('jailer argv options: no netns, no daemonize, extra firecracker args, bad uid', () => {
  const argv = jailerArgv(
    { ...host, daemonize: false },
    { jailId: 'vm-2', uid: 900_000, cpu: 2, memoryMib: 128, firecrackerArgs: ['--level', 'Info'] },
  );
  assert.equal(argv.includes('--netns'), false);
  assert.equal(argv.includes('--daemonize'), false);
  assert.deepEqual(flagValues(argv, '--cgroup')[0], 'cpu.max=200000 100000');
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), [
    '--api-sock',
    '/run/firecracker.socket',
    '--level',
    'Info',
  ]);
  assert.throws(
    () => jailerArgv(host, { jailId: 'vm-2', uid: 1000, cpu: 1, memoryMib: 128 }),
    /outside the jail id range/,
  );
  assert.throws(
    () => jailerArgv(host, { jailId: 'vm_2', uid: 900_000, cpu: 1, memoryMib: 128 }),
    /letters, digits or hyphens/,
  );
  assert.throws(
    () => jailerArgv(host, { jailId: 'vm-2', uid: 900_000, cpu: 1, memoryMib: 128, netns: '../x y' }),
    /unsafe/,
  );
});

test('jail ids fit both the 64-char limit and the socket path', () => {
  assert.equal(maxJailIdLength(host), 55); // the default layout already allows less than 64
  assert.equal(jailIdFor(host, 'web-7'), 'web-7');
  assert.equal(apiSocketPath(host, 'web-7'), '/srv/jailer/firecracker/web-7/root/run/firecracker.socket');
  const uuidish = 'app_billing.worker-551e7604-e35c-42b3-b825-416853441234-and-more-text-here';
  const id = jailIdFor(host, uuidish);
  assert.match(id, /^[A-Za-z0-9-]+$/);
  assert.ok(id.length <= 64);
  assert.equal(jailIdFor(host, uuidish), id, 'deterministic');
  assert.notEqual(jailIdFor(host, 'a_b'), jailIdFor(host, 'a.b'), 'sanitising must not merge distinct ids');

  const deep: JailerHostConfig = { ...host, chrootBaseDir: '/var/lib/grim/microvm-jails/node-a' };
  const max = maxJailIdLength(deep);
  assert.ok(max < 64);
  const shortened = jailIdFor(deep, uuidish);
  assert.ok(shortened.length <= max);
  assert.ok(Buffer.byteLength(apiSocketPath(deep, shortened)) <= SUN_PATH_MAX);
  const tooDeep: JailerHostConfig = { ...host, chrootBaseDir: `/${'x'.repeat(70)}` };
  assert.throws(() => jailIdFor(tooDeep, 'vm'), /too long.*chrootBaseDir/);
});

test('uids come from the range, one per VM, and run out loudly', () => {
  assert.equal(pickJailId(host, []), 900_000);
  assert.equal(pickJailId(host, [900_000, 900_001, 900_003]), 900_002);
  const all = Array.from({ length: 100 }, (_, i) => 900_000 + i);
  assert.throws(() => pickJailId(host, all), /all 100 jail uids/);
});

test('staging plan hard-links images, chowns only per-VM files, creates the TAP', () => {
  const tap = tapNameFor('vm-1');
  assert.ok(tap.length <= 15);
  const { commands, jailPaths } = chrootStagingPlan(host, {
    jailId: 'vm-1',
    uid: 900_001,
    kernelPath: '/var/lib/grim/kernels/vmlinux-6.1',
    rootfsPath: '/var/lib/grim/disks/vm-1/rootfs.ext4',
    dataDrivePath: '/var/lib/grim/disks/vm-1/data.ext4',
    tap: { name: tap, netns: 'grim-vm-1' },
  });
  const root = '/srv/jailer/firecracker/vm-1/root';
  const argvs = commands.map((c) => c.argv);
  assert.deepEqual(argvs[0], ['mkdir', '-p', root]);
  assert.ok(
    argvs.some(
      (a) =>
        a[0] === 'ln' && a.at(-2) === '/var/lib/grim/kernels/vmlinux-6.1' && a.at(-1) === `${root}/vmlinux`,
    ),
  );
  assert.ok(argvs.some((a) => a[0] === 'ln' && a.at(-1) === `${root}/rootfs.ext4`));
  const chowned = argvs.filter((a) => a[0] === 'chown').map((a) => [a[1], a[2]]);
  assert.deepEqual(chowned, [
    ['900001:900001', `${root}/rootfs.ext4`],
    ['900001:900001', `${root}/data.ext4`],
    ['900001:900001', `${root}/metrics.ndjson`],
  ]);
  assert.ok(!chowned.some(([, p]) => p.endsWith('vmlinux')), 'the shared kernel must not change owner');
  const tuntap = argvs.find((a) => a.includes('tuntap'));
  assert.deepEqual(tuntap?.slice(0, 3), ['ip', '-n', 'grim-vm-1']);
  assert.equal(tuntap?.[tuntap.indexOf('user') + 1], '900001');
  assert.deepEqual(jailPaths, {
    kernel: '/vmlinux',
    rootfs: '/rootfs.ext4',
    data: '/data.ext4',
    metrics: '/metrics.ndjson',
    hostApiSocket: `${root}/run/firecracker.socket`,
    hostPidFile: `${root}/firecracker.pid`,
  });
});

test('cleanup plan removes TAP, cgroup and jail directory, tolerating absence', () => {
  const commands = jailCleanupPlan(
    { ...host, firecrackerPath: '/opt/fc/firecracker-v1.16.1' },
    { jailId: 'vm-1', tap: { name: 'fcabc' } },
  );
  assert.deepEqual(
    commands.map((c) => c.argv),
    [
      ['ip', 'link', 'del', 'fcabc'],
      ['rmdir', '/sys/fs/cgroup/firecracker-v1.16.1/vm-1'],
      ['rm', '-rf', '--', '/srv/jailer/firecracker-v1.16.1/vm-1'],
    ],
  );
  assert.equal(commands[0].ignoreFailure, true);
  assert.equal(commands[1].ignoreFailure, true);
});
