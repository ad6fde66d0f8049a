// Pool capacity maths (property-tested per layout and checked against real zfs-fuse pools), ZFS
// naming rules, and the wizard's plan: command, warnings, every problem listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { smartFrom } from '../../src/domain/storage/inventory.ts';
import {
  deflateRatio,
  deviceAsize,
  estimateCapacity,
  type TopVdevKind,
} from '../../src/domain/storage/capacity.ts';
import {
  datasetNameProblems,
  diskPathProblems,
  fullSnapshotNameProblems,
  poolNameProblems,
} from '../../src/domain/storage/names.ts';
import { planPool, type PlanDisk, type ZfsCapabilities } from '../../src/domain/storage/pool-plan.ts';
import { zfsFuseCaps } from '../helpers/zfs-caps.ts';
import {
  planDataset,
  snapshotsToPrune,
  policySnapshotName,
  parseInterval,
  parseNextRun,
} from '../../src/domain/storage/datasets.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const v23 = { metaslabs: 'v23' as const, ashift: 12 };
const RUNS = { numRuns: 300 };

test('capacity matches pools zfs-fuse really created (shared/fixtures/zfs-fuse and the lab)', () => {
  const d = (n: number, size = 256 * MiB) => Array(n).fill(size);
  const cases: [string, { kind: TopVdevKind; disks: number[] }[], number, number][] = [
    // name, vdevs, zpool list SIZE, zfs USED+AVAIL of the root (recorded)
    ['mirror 2x256M', [{ kind: 'mirror', disks: d(2) }], 250 * MiB, 218.35 * MiB],
    ['raidz1 3x256M', [{ kind: 'raidz1', disks: d(3) }], 752 * MiB, 468.5 * MiB],
    ['raidz2 4x256M', [{ kind: 'raidz2', disks: d(4) }], 1000 * MiB, 452.5 * MiB],
    ['raidz3 5x256M', [{ kind: 'raidz3', disks: d(5) }], 1.23 * GiB, 468.6 * MiB],
    [
      '2 mirrors 2x256M',
      [
        { kind: 'mirror', disks: d(2) },
        { kind: 'mirror', disks: d(2) },
      ],
      500 * MiB,
      468.4 * MiB,
    ],
    ['raidz2 6x1G (lab)', [{ kind: 'raidz2', disks: d(6, GiB) }], 5.97 * GiB, 4201731072],
  ];
  for (const [name, vdevs, raw, usable] of cases) {
    const e = estimateCapacity(vdevs, v23);
    assert.ok(Math.abs(e.rawBytes - raw) / raw < 0.005, `${name} raw ${e.rawBytes} vs ${raw}`);
    assert.ok(
      Math.abs(e.usableBytes - usable) / usable < 0.01,
      `${name} usable ${e.usableBytes} vs ${usable}`,
    );
  }
});

const sizeArb = fc.integer({ min: 64, max: 16 * 1024 }).map((m) => m * MiB);
const layoutArb = fc.constantFrom<TopVdevKind>('disk', 'mirror', 'raidz1', 'raidz2', 'raidz3');
const modelArb = fc.constantFrom(v23, { metaslabs: 'openzfs2' as const, ashift: 12 });

function vdevArb(kind: TopVdevKind) {
  const min = kind === 'disk' ? 1 : kind === 'mirror' ? 2 : Number(kind.slice(-1)) + 1;
  const max = kind === 'disk' ? 1 : 12;
  return fc.array(sizeArb, { minLength: min, maxLength: max }).map((disks) => ({ kind, disks }));
}

test('capacity properties per layout: bounded by raw space, parity and slop; monotone in disks', () => {
  fc.assert(
    fc.property(
      layoutArb.chain((k) => fc.tuple(fc.constant(k), fc.array(vdevArb(k), { minLength: 1, maxLength: 4 }))),
      modelArb,
      ([kind, vdevs], model) => {
        const e = estimateCapacity(vdevs, model);
        const total = vdevs.flatMap((v) => v.disks).reduce((a, b) => a + b, 0);
        assert.ok(e.rawBytes <= total, 'raw never exceeds the disks');
        assert.ok(e.usableBytes <= e.rawBytes, 'usable never exceeds raw');
        assert.ok(e.usableBytes >= 0);
        // data share: a mirror stores one copy, raidzP at most (n-P)/n
        for (const v of vdevs) {
          const ratio = deflateRatio(v, model.ashift);
          if (kind === 'disk' || kind === 'mirror') assert.equal(ratio, 1);
          else assert.ok(ratio <= (v.disks.length - Number(kind.slice(-1))) / v.disks.length + 1e-9);
        }
        if (kind === 'mirror') {
          const smallest = (v: { disks: number[] }) => Math.min(...v.disks);
          assert.ok(
            e.rawBytes <= vdevs.reduce((s, v) => s + smallest(v), 0),
            'a mirror holds its smallest disk',
          );
        }
        // one more vdev never loses space
        const more = estimateCapacity([...vdevs, vdevs[0]], model);
        assert.ok(more.rawBytes >= e.rawBytes && more.usableBytes >= e.usableBytes);
      },
    ),
    RUNS,
  );
});

test('mixed sizes: the waste is what larger disks have beyond the smallest of their vdev', () => {
  fc.assert(
    fc.property(fc.array(sizeArb, { minLength: 2, maxLength: 6 }), (disks) => {
      const e = estimateCapacity([{ kind: 'mirror', disks }], v23);
      const smallest = Math.min(...disks.map(deviceAsize));
      assert.equal(
        e.wastedBytes,
        disks.reduce((s, d) => s + deviceAsize(d) - smallest, 0),
      );
    }),
    RUNS,
  );
});

test('ZFS naming rules: good names pass, hostile ones list every problem', () => {
  for (const ok of ['tank', 'Tank_2', 'data.pool:1', 'a-b']) assert.deepEqual(poolNameProblems(ok), [], ok);
  assert.deepEqual(datasetNameProblems('tank/a/b-c_d.e:f'), []);
  assert.deepEqual(fullSnapshotNameProblems('tank/a@daily-1'), []);
  assert.deepEqual(diskPathProblems('/dev/disk/by-id/ata-WDC_WD40EFZX-68AWUN0_WD-WX12'), []);
  const p = poolNameProblems('mirror; rm -rf /');
  assert.ok(
    p.some((m) => /begin with "mirror"/.test(m)) &&
      p.some((m) => /";", space/.test(m)) &&
      p.some((m) => /"\/"/.test(m)),
    p.join('\n'),
  );
  assert.ok(poolNameProblems('1pool').some((m) => /begin with a letter/.test(m)));
  assert.ok(poolNameProblems('c0t0d0').some((m) => /disk name/.test(m)));
  assert.ok(poolNameProblems('log').some((m) => /reserved/.test(m)));
  assert.equal(datasetNameProblems('tank//x/../y/').length >= 3, true);
  assert.ok(datasetNameProblems('tank/$(id)').some((m) => /"\$", "\(", "\)"/.test(m)));
  assert.ok(fullSnapshotNameProblems('tank/a@b@c').length > 0);
  assert.ok(fullSnapshotNameProblems('tank/a').length > 0);
  const d = diskPathProblems('/dev/../etc/-x;y');
  assert.ok(
    d.some((m) => /"\." or "\.\."/.test(m)) &&
      d.some((m) => /";"/.test(m)) &&
      d.some((m) => /starting with "-"/.test(m)),
  );
  // property: any name with a character outside ZFS's set is refused
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 20 }), (s) => {
      if (/[^A-Za-z0-9_.:-]/.test(s)) assert.ok(poolNameProblems(`p${s}`).length > 0);
    }),
    RUNS,
  );
});

const fuseCaps = zfsFuseCaps;
const openCaps: ZfsCapabilities = {
  ...fuseCaps,
  implementation: 'openzfs',
  poolVersion: 5000,
  draid: true,
  compression: [...fuseCaps.compression, 'lz4', 'zstd'],
  xattrSa: true,
  cacheNeedsBlockDevice: false,
};
const disk = (i: number, size = 4 * GiB, extra: Partial<PlanDisk> = {}): PlanDisk => ({
  path: `/dev/disk/by-id/ata-D${i}`,
  sizeBytes: size,
  rotational: true,
  inUse: null,
  kind: 'block',
  ...extra,
});
const inv = [1, 2, 3, 4, 5, 6]
  .map((i) => disk(i))
  .concat([disk(7, 8 * GiB), disk(8, 4 * GiB, { inUse: 'ext4 filesystem' }), disk(9, 32 * MiB)]);
const paths = (...n: number[]) => n.map((i) => `/dev/disk/by-id/ata-D${i}`);

test('plan: the exact zpool create command, adapted to what the node supports', () => {
  const fuse = planPool({ name: 'tank', layout: 'raidz1', disks: paths(1, 2, 3) }, inv, fuseCaps);
  assert.ok(fuse.ok);
  assert.equal(
    fuse.plan.commandLine,
    'zpool create -o ashift=12 -O compression=on -O atime=off tank raidz /dev/disk/by-id/ata-D1 /dev/disk/by-id/ata-D2 /dev/disk/by-id/ata-D3',
  );
  const open = planPool(
    { name: 'tank', layout: 'striped-mirrors', disks: paths(1, 2, 3, 4), log: paths(5, 6) },
    inv,
    openCaps,
  );
  assert.ok(open.ok);
  assert.equal(
    open.plan.argv.join(' '),
    'zpool create -o ashift=12 -O compression=lz4 -O atime=off -O xattr=sa tank mirror /dev/disk/by-id/ata-D1 /dev/disk/by-id/ata-D2 mirror /dev/disk/by-id/ata-D3 /dev/disk/by-id/ata-D4 log mirror /dev/disk/by-id/ata-D5 /dev/disk/by-id/ata-D6',
  );
  assert.match(open.plan.faultTolerance.description, /1 disk in each mirror.*up to 2/);
  assert.ok(open.plan.warnings.some((w) => /log device .* rotational/.test(w)));
  const stripe = planPool({ name: 'fast', layout: 'stripe', disks: paths(1, 7) }, inv, openCaps);
  assert.ok(
    stripe.ok &&
      stripe.plan.warnings.some((w) => /no redundancy/.test(w)) &&
      stripe.plan.faultTolerance.guaranteed === 0,
  );
  const mixed = planPool({ name: 'm', layout: 'mirror', disks: paths(1, 7) }, inv, openCaps);
  assert.ok(mixed.ok && mixed.plan.warnings.some((w) => /mixed disk sizes/.test(w)));
  const z2 = planPool({ name: 'z', layout: 'raidz2', disks: paths(1, 2, 3, 4, 5) }, inv, openCaps);
  assert.ok(z2.ok && z2.plan.warnings.some((w) => /not a power of two/.test(w)));
});

test('plan: every problem at once, nothing planned', () => {
  const r = planPool(
    {
      name: 'raidz-x',
      layout: 'draid2',
      disks: [...paths(1, 1, 8, 9), '/dev/sdz', '/etc/shadow'],
      cache: paths(2),
      special: paths(3),
      compression: 'lz4',
    },
    inv.map((d) => (d.path.endsWith('D2') ? { ...d, kind: 'file' as const } : d)),
    fuseCaps,
  );
  assert.ok(!r.ok);
  const text = r.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  for (const re of [
    /name: .*reserved/,
    /disks\/1: .* already used/,
    /disks\/2: .*in use \(ext4/,
    /disks\/3: .*smaller than ZFS's minimum/,
    /disks\/4: .*not a disk of this node/,
    /disks\/5: .*under \/dev\//,
    /cache\/0: .*needs a block device/,
    /layout: draid2 needs OpenZFS/,
    /special: special vdevs need OpenZFS 0\.8/,
    /compression: .*lz4/,
  ])
    assert.match(text, re);
});

test('datasets: exact byte properties, refused values listed; retention keeps the newest N', () => {
  const ok = planDataset(
    { name: 'tank/data', quota: '10Gi', reservation: '1G', compression: 'on', recordsize: '128Ki' },
    fuseCaps,
  );
  assert.ok(ok.ok);
  assert.equal(
    ok.plan.commandLine,
    'zfs create -p -o quota=10737418240 -o reservation=1000000000 -o compression=on -o recordsize=131072 tank/data',
  );
  const bad = planDataset(
    { name: 'tank/../x y', quota: '-5', compression: 'lz4', recordsize: '3000' },
    fuseCaps,
  );
  assert.ok(!bad.ok);
  assert.deepEqual([...new Set(bad.problems.map((p) => p.path))].sort(), [
    'compression',
    'name',
    'quota',
    'recordsize',
  ]);
  const snaps = [
    'tank/d@grim-daily-20261201-000000',
    'tank/d@grim-daily-20261203-000000',
    'tank/d@grim-daily-20261202-000000',
    'tank/d@manual',
    'tank/d@grim-hourly-20261203-010000',
  ];
  assert.deepEqual(snapshotsToPrune(snaps, 'tank/d', 'daily', 2), ['tank/d@grim-daily-20261201-000000']);
  assert.equal(
    policySnapshotName('tank/d', 'daily', new Date('2026-12-06T10:15:00Z')),
    'tank/d@grim-daily-20261206-101500',
  );
  fc.assert(
    fc.property(
      fc.array(fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }), {
        maxLength: 30,
      }),
      fc.integer({ min: 1, max: 10 }),
      (dates, keep) => {
        const names = [...new Set(dates.map((d) => policySnapshotName('t/d', 'hourly', d)))];
        const prune = snapshotsToPrune(names, 't/d', 'hourly', keep);
        assert.equal(prune.length, Math.max(0, names.length - keep));
        const kept = names.filter((n) => !prune.includes(n)).sort();
        assert.ok(
          prune.every((p) => kept.every((k) => p < k)),
          'only older ones go',
        );
      },
    ),
    RUNS,
  );
});

test('SMART from smartctl -j: this machine (no SMART device) and the fields smartctl documents', (t) => {
  const real = spawnSync('smartctl', ['-j', '-H', '-i', '/dev/vda'], { encoding: 'utf8' });
  if (real.error) t.diagnostic('smartctl not installed: only the documented shape is checked');
  else if (real.stdout.trim()) assert.deepEqual(smartFrom(real.stdout.replace(/\n/g, '')), { passed: null });
  const doc = {
    model_name: 'WDC WD40EFZX-68AWUN0',
    smart_status: { passed: false },
    temperature: { current: 41 },
    power_on_time: { hours: 31337 },
  };
  assert.deepEqual(smartFrom(JSON.stringify(doc)), {
    passed: false,
    temperatureC: 41,
    powerOnHours: 31337,
    model: 'WDC WD40EFZX-68AWUN0',
  });
  assert.equal(smartFrom(''), null);
  assert.equal(smartFrom('not json'), null);
});

test('schedules: intervals and the next run an admin sets', () => {
  assert.deepEqual(parseInterval('30d'), { ok: true, seconds: 30 * 86400 });
  assert.equal(parseInterval('30s').ok, false);
  assert.equal(parseInterval('1d; reboot').ok, false);
  const now = Date.parse('2026-12-06T12:00:00Z');
  assert.deepEqual(parseNextRun('now', now), { ok: true, at: now });
  assert.deepEqual(parseNextRun('2027-01-01T03:00Z', now), { ok: true, at: Date.parse('2027-01-01T03:00Z') });
  assert.deepEqual(parseNextRun('2026-12-07T03:00:00+01:00', now), {
    ok: true,
    at: Date.parse('2026-12-07T02:00:00Z'),
  });
  for (const bad of [
    '2026-12-01T00:00Z',
    '2029-01-01T00:00Z',
    'tomorrow',
    '2027-01-01',
    '2027-02-30T00:00Z; x',
  ])
    assert.equal(parseNextRun(bad, now).ok, false, bad);
});
