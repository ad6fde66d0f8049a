// Volume specs: strict validation listing every problem, and how volumes reach an app's spec and environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkVolumes, mountProblems, parseVolumeFlag } from '../../src/domain/volumes/spec.ts';
import { parseBackupSchedule } from '../../src/domain/volumes/schedule.ts';
import { applyAppInput, instanceEnv } from '../../src/domain/apps/model.ts';
import { DEFAULT_SIZES } from '../../src/domain/sizes.ts';

const ok = (v: unknown, runtime = 'script') => checkVolumes(v, runtime);

test('a good volume list is accepted and normalised', () => {
  const r = ok([
    { name: 'data', size: '10Gi', mount: '/var/lib/app' },
    { name: 'media', size: '1Gi', mount: '/srv/media', kind: 'shared' },
    { name: 'db', size: '512Mi', mount: '/var/lib/postgresql', backup: { schedule: '6h', keep: 14 } },
  ]);
  assert.deepEqual(r.problems, []);
  assert.equal(r.volumes.length, 3);
  assert.equal(r.volumes[0].kind, 'local');
  assert.equal(r.volumes[0].sizeBytes, 10 * 1024 ** 3);
  assert.deepEqual(r.volumes[2].backup, { schedule: '6h', intervalSec: 21600, keep: 14 });
});

test('hostile names, mounts and sizes are refused with every problem listed', () => {
  const r = ok([
    { name: '../etc', size: '10Gi', mount: '/data/../../etc' },
    { name: 'a;rm -rf /', size: '-1Gi', mount: 'relative/path' },
    { name: 'x', size: '1', mount: '/proc/self' },
    { name: 'y', size: '1Ti0', mount: '/sys' },
    { name: 'z', size: '100Ti', mount: '/dev/sda' },
    { name: 'DATA', size: '1Gi', mount: "/data/it's" },
    { name: 'ok1', size: '1Gi', mount: '/' },
    { name: 'ok2', size: '1Gi', mount: '/srv/./x' },
    { name: 'ok3', size: '1Gi', mount: '/srv//x/' },
    { name: '', size: '', mount: '' },
    { name: 'weird', size: '1Gi', mount: '/data', kind: 'nfs' },
    { name: 'dup', size: '1Gi', mount: '/a' },
    { name: 'dup', size: '1Gi', mount: '/a/b' },
    { name: 'bk', size: '1Gi', mount: '/bk', backup: { schedule: '* * * * *; reboot', keep: 0 } },
    'not an object',
  ]);
  assert.deepEqual(
    r.volumes.map((v) => v.name),
    ['dup'],
    'only the first dup is fine',
  );
  const at = (i: number, field: string) => r.problems.filter((p) => p.path === `body/volumes/${i}/${field}`);
  assert.equal(at(0, 'name').length, 1);
  assert.ok(at(0, 'mount').some((p) => p.message.includes('..')));
  assert.equal(at(1, 'name').length, 1);
  assert.ok(at(1, 'size')[0].message.includes('negative'));
  assert.ok(at(1, 'mount')[0].message.includes('not absolute'));
  assert.ok(at(2, 'mount')[0].message.includes('/proc'));
  assert.ok(at(2, 'size')[0].message.includes('16Mi'));
  assert.ok(at(3, 'mount')[0].message.includes('/sys'));
  assert.equal(at(3, 'size').length, 1);
  assert.ok(at(4, 'mount')[0].message.includes('/dev'));
  assert.ok(at(4, 'size')[0].message.includes('64Ti'));
  assert.equal(at(5, 'name').length, 1);
  assert.equal(at(5, 'mount').length, 1);
  assert.ok(at(6, 'mount')[0].message.includes('replace /'));
  assert.ok(at(7, 'mount')[0].message.includes('"."'));
  assert.ok(at(8, 'mount')[0].message.includes('//'));
  assert.equal(at(9, 'name').length + at(9, 'size').length + at(9, 'mount').length, 3);
  assert.equal(at(10, 'kind').length, 1);
  assert.ok(at(12, 'name')[0].message.includes('twice'));
  assert.ok(at(12, 'mount')[0].message.includes('overlaps'));
  assert.equal(at(13, 'backup/schedule').length, 1);
  assert.equal(at(13, 'backup/keep').length, 1);
  assert.equal(r.problems.filter((p) => p.path === 'body/volumes/14').length, 1);
});

test('a shared volume in a microVM is refused with the reason', () => {
  for (const runtime of ['firecracker', 'qemu-microvm']) {
    const r = ok([{ name: 'media', size: '1Gi', mount: '/srv/media', kind: 'shared' }], runtime);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0].message, /virtio-fs/);
  }
  assert.deepEqual(
    ok([{ name: 'media', size: '1Gi', mount: '/srv/media', kind: 'shared' }], 'container').problems,
    [],
  );
  assert.match(
    ok([{ name: 's', size: '1Gi', mount: '/s', kind: 'shared', backup: { schedule: '1d', keep: 3 } }])
      .problems[0].message,
    /local volumes/,
  );
});

test('mount checks cover the reserved trees but allow paths below /etc or /var', () => {
  assert.deepEqual(mountProblems('/etc/app'), []);
  assert.deepEqual(mountProblems('/var/lib/app'), []);
  assert.equal(mountProblems('/etc').length, 1);
  assert.equal(mountProblems('/run/x').length, 1);
  assert.equal(mountProblems('/grim').length, 1);
  assert.ok(mountProblems('/a\nb').length > 0);
});

test('schedules are intervals from 5m to 90d', () => {
  assert.deepEqual(parseBackupSchedule('30m'), { ok: true, value: 1800 });
  assert.deepEqual(parseBackupSchedule('1w'), { ok: true, value: 604800 });
  for (const bad of ['1m', '0h', '100d', '6 h', '', 6, '@daily'])
    assert.equal(parseBackupSchedule(bad).ok, false);
});

test('the --volume flag form', () => {
  assert.deepEqual(parseVolumeFlag('data:10Gi:/var/lib/app'), {
    name: 'data',
    size: '10Gi',
    mount: '/var/lib/app',
  });
  assert.deepEqual(parseVolumeFlag('m:1Gi:/m:shared'), {
    name: 'm',
    size: '1Gi',
    mount: '/m',
    kind: 'shared',
  });
});

test('volumes are part of the app spec, kept across changes, and named in the environment', () => {
  const base = {
    size: 'xs',
    runtime: 'script',
    source: { kind: 'script' as const, start: 'sleep 1000' },
    volumes: [{ name: 'data', size: '1Gi', mount: '/data' }],
  };
  const r = applyAppInput(base, DEFAULT_SIZES);
  assert.ok(r.ok);
  const again = applyAppInput({ replicas: 2 }, DEFAULT_SIZES, { spec: r.spec, secrets: {} });
  assert.ok(again.ok);
  assert.deepEqual(again.spec.volumes, r.spec.volumes);
  const env = instanceEnv(
    r.spec,
    {},
    { app: 'web', environment: 'lab', release: 1, instanceId: 'i', listenPorts: {} },
  );
  assert.equal(env.GRIM_VOLUME_DATA, '/var/lib/grim/volumes/web/data');
  const bad = applyAppInput(
    { ...base, volumes: [{ name: 'x', size: '1Gi', mount: '/proc' }] },
    DEFAULT_SIZES,
  );
  assert.equal(bad.ok, false);
  const vm = applyAppInput(
    {
      size: 'xs',
      runtime: 'qemu-microvm',
      source: { kind: 'image', image: 'x' },
      volumes: [{ name: 'd', size: '1Gi', mount: '/d' }],
    },
    DEFAULT_SIZES,
  );
  assert.ok(vm.ok);
  assert.equal(
    instanceEnv(vm.spec, {}, { app: 'a', environment: 'e', release: 1, instanceId: 'i', listenPorts: {} })
      .GRIM_VOLUME_D,
    '/d',
  );
});
