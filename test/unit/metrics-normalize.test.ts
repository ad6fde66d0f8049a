import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricsParseError, parseRawSample, type RawSample } from '../../src/domain/metrics/raw-sample.ts';
import { cpuBusyPercent, normalizeSample } from '../../src/domain/metrics/normalize.ts';
import { toSeriesRows } from '../../src/domain/metrics/series-rows.ts';
import type { MetricPoint } from '../../src/domain/metrics/catalog.ts';

interface Counters {
  ts?: number;
  boot?: string;
  uptime: number;
  cpu?: number[];
  cpus?: Record<string, number[]>;
  rdSectors?: number;
  wrSectors?: number;
  ioMs?: number;
  rx?: number;
  tx?: number;
  cgNs?: number;
  cgMem?: number;
}

/** Raw JSON exactly as metrics.sh prints it. */
function rawJson(c: Counters): string {
  return JSON.stringify({
    v: 1,
    ts: c.ts ?? 1_700_000_000_000 + c.uptime * 1000,
    boot_id: c.boot ?? 'boot-a',
    uptime: c.uptime,
    cpu: c.cpu ?? [100, 0, 50, 800, 50, 0, 0, 0],
    cpus: c.cpus ?? { '0': [50, 0, 25, 400, 25, 0, 0, 0], '1': [50, 0, 25, 400, 25, 0, 0, 0] },
    load: [0.5, 0.25, 0.125],
    mem: { total_kb: 1000, available_kb: 250, free_kb: 100, buffers_kb: 10, cached_kb: 20 },
    fs: [{ mount: '/', dev: '/dev/vda', type: 'ext4', size_kb: 100, used_kb: 40, avail_kb: 55 }],
    disk: [
      {
        dev: 'vda',
        rd_ios: 1,
        rd_sectors: c.rdSectors ?? 0,
        wr_ios: 1,
        wr_sectors: c.wrSectors ?? 0,
        io_ms: c.ioMs ?? 0,
      },
    ],
    net: [{ if: 'eth0', rx_bytes: c.rx ?? 0, rx_packets: 0, tx_bytes: c.tx ?? 0, tx_packets: 0 }],
    cgroups: [
      { path: '/lxc/web', v: 1, cpu_ns: c.cgNs ?? 0, mem_bytes: c.cgMem ?? 4096 },
      { path: '/lxc/gone', error: 'not found' },
    ],
  });
}

const sample = (c: Counters): RawSample => parseRawSample(`some noise\n${rawJson(c)}\n`);
const value = (points: MetricPoint[], metric: string, dim = ''): number | undefined =>
  points.find((p) => p.metric === metric && p.dim === dim)?.value;

test('parseRawSample converts units and keeps structure', () => {
  const s = sample({ uptime: 10, cgNs: 5_000_000 });
  assert.equal(s.mem.totalBytes, 1000 * 1024);
  assert.equal(s.mem.availableBytes, 250 * 1024);
  assert.equal(s.fs[0].usedBytes, 40 * 1024);
  assert.deepEqual(s.cgroups[0], { path: '/lxc/web', found: true, cpuUsec: 5000, memBytes: 4096 });
  assert.deepEqual(s.cgroups[1], { path: '/lxc/gone', found: false, error: 'not found' });
});

test('parseRawSample falls back to free+buffers+cached without MemAvailable', () => {
  const o = JSON.parse(rawJson({ uptime: 1 }));
  o.mem.available_kb = null;
  assert.equal(parseRawSample(o).mem.availableBytes, 130 * 1024);
});

test('parseRawSample rejects malformed samples with a clear message', () => {
  assert.throws(() => parseRawSample('not json'), MetricsParseError);
  const bad = (mut: (o: Record<string, any>) => void, msg: RegExp): void => {
    const o = JSON.parse(rawJson({ uptime: 1 }));
    mut(o);
    assert.throws(() => parseRawSample(o), msg);
  };
  bad((o) => (o.v = 2), /unsupported version/);
  bad((o) => (o.boot_id = ''), /boot_id is empty/);
  bad((o) => (o.cpu = [1, 2, 3]), /cpu must have 8 fields/);
  bad((o) => (o.net[0].rx_bytes = -1), /net\[0\]\.rx_bytes must be a non-negative number/);
  bad((o) => (o.disk[0].io_ms = null), /disk\[0\]\.io_ms/);
  bad((o) => (o.cpus = { x: [0, 0, 0, 0, 0, 0, 0, 0] }), /not a core index/);
  bad((o) => (o.cgroups[0].v = 3), /v must be 1 or 2/);
});

test('first sample yields gauges only', () => {
  const n = normalizeSample(undefined, sample({ uptime: 10 }));
  assert.equal(n.rates, 'first-sample');
  assert.equal(value(n.node, 'load1'), 0.5);
  assert.equal(value(n.node, 'mem_used_bytes'), 750 * 1024);
  assert.equal(value(n.node, 'mem_available_bytes'), 250 * 1024);
  assert.equal(value(n.node, 'fs_used_bytes', '/'), 40 * 1024);
  assert.equal(value(n.node, 'fs_free_bytes', '/'), 55 * 1024);
  assert.equal(value(n.node, 'cpu_busy_pct'), undefined);
  assert.equal(value(n.node, 'net_rx_bytes_per_s', 'eth0'), undefined);
  assert.deepEqual(n.cgroups, [
    { path: '/lxc/web', points: [{ metric: 'instance_mem_bytes', dim: '', value: 4096 }] },
  ]);
});

test('two samples give correct rates over the uptime clock', () => {
  const prev = sample({ uptime: 100, rdSectors: 0, wrSectors: 0, ioMs: 0, rx: 1000, tx: 0, cgNs: 0 });
  const cur = sample({
    uptime: 110, // 10 s later
    // all: +100 user, +100 system, +700 idle, +100 iowait => busy 200/1000
    cpu: [200, 0, 150, 1500, 150, 0, 0, 0],
    cpus: { '0': [150, 0, 125, 450, 25, 0, 0, 0], '1': [50, 0, 25, 1000, 125, 0, 0, 0] },
    rdSectors: 2000, // 1 MB in 10 s
    wrSectors: 200,
    ioMs: 2500, // 25 % busy
    rx: 11_000,
    tx: 500,
    cgNs: 5e9, // 5 CPU-seconds in 10 s = 500 millicores
  });
  const n = normalizeSample(prev, cur);
  assert.equal(n.rates, 'ok');
  assert.equal(value(n.node, 'cpu_busy_pct'), 20);
  assert.equal(value(n.node, 'cpu_core_busy_pct', '0'), 80);
  assert.equal(value(n.node, 'cpu_core_busy_pct', '1'), 0);
  assert.equal(value(n.node, 'disk_read_bytes_per_s', 'vda'), 102_400);
  assert.equal(value(n.node, 'disk_write_bytes_per_s', 'vda'), 10_240);
  assert.equal(value(n.node, 'disk_busy_pct', 'vda'), 25);
  assert.equal(value(n.node, 'net_rx_bytes_per_s', 'eth0'), 1000);
  assert.equal(value(n.node, 'net_tx_bytes_per_s', 'eth0'), 50);
  const web = n.cgroups.find((c) => c.path === '/lxc/web')!;
  assert.equal(value(web.points, 'instance_cpu_millicores'), 500);
  assert.equal(value(web.points, 'instance_mem_bytes'), 4096);
});

test('a reboot (new boot id) yields no rates even though counters look plausible', () => {
  const prev = sample({ uptime: 1000, rx: 10 });
  const cur = sample({ uptime: 1010, rx: 1e9, boot: 'boot-b' });
  const n = normalizeSample(prev, cur);
  assert.equal(n.rates, 'reboot');
  assert.equal(n.node.filter((p) => p.metric.endsWith('_per_s') || p.metric.endsWith('busy_pct')).length, 0);
  assert.equal(value(n.node, 'load1'), 0.5, 'gauges still reported');
});

test('a counter reset drops only that series for the interval', () => {
  const prev = sample({ uptime: 100, rx: 5_000_000, tx: 100, cgNs: 9e9 });
  const cur = sample({ uptime: 110, rx: 1000, tx: 1100, cgNs: 1e9 });
  const n = normalizeSample(prev, cur);
  assert.equal(value(n.node, 'net_rx_bytes_per_s', 'eth0'), undefined);
  assert.equal(value(n.node, 'net_tx_bytes_per_s', 'eth0'), 100);
  assert.equal(value(n.cgroups[0].points, 'instance_cpu_millicores'), undefined);
});

test('a non-advancing clock yields no rates', () => {
  assert.equal(
    normalizeSample(sample({ uptime: 100 }), sample({ uptime: 100 })).rates,
    'clock-not-advancing',
  );
  assert.equal(normalizeSample(sample({ uptime: 100 }), sample({ uptime: 90 })).rates, 'clock-not-advancing');
});

test('cpuBusyPercent returns null when a field went backwards or no ticks passed', () => {
  const a = [10, 0, 10, 80, 0, 0, 0, 0] as const;
  assert.equal(cpuBusyPercent(a, a), null);
  assert.equal(cpuBusyPercent(a, [5, 0, 20, 90, 0, 0, 0, 0]), null);
  assert.equal(cpuBusyPercent(a, [20, 0, 10, 90, 0, 0, 0, 0]), 50);
});

test('property: rates are never negative or absurd, whatever the counters do', () => {
  const counter = fc.oneof(fc.nat({ max: 2 ** 40 }), fc.constant(0), fc.constant(2 ** 32 - 1));
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          step: fc.double({ min: -5, max: 120, noNaN: true }),
          rx: counter,
          tx: counter,
          rd: counter,
          io: counter,
          cg: counter,
          reboot: fc.boolean(),
          cpu: fc.array(fc.nat({ max: 1e7 }), { minLength: 8, maxLength: 8 }),
        }),
        { minLength: 2, maxLength: 8 },
      ),
      (steps) => {
        let uptime = 1000;
        let boot = 0;
        let prev: RawSample | undefined;
        for (const s of steps) {
          uptime = Math.max(0, uptime + s.step);
          if (s.reboot) boot++;
          const cur = sample({
            uptime,
            boot: `b${boot}`,
            rx: s.rx,
            tx: s.tx,
            rdSectors: s.rd,
            ioMs: s.io,
            cgNs: s.cg,
            cpu: s.cpu,
          });
          const n = normalizeSample(prev, cur);
          for (const p of [...n.node, ...n.cgroups.flatMap((c) => c.points)]) {
            assert.ok(Number.isFinite(p.value) && p.value >= 0, `${p.metric} = ${p.value}`);
            if (p.metric.endsWith('_pct')) assert.ok(p.value <= 100, `${p.metric} = ${p.value}`);
            if (p.metric.endsWith('bytes_per_s')) assert.ok(p.value <= 1e12, `${p.metric} = ${p.value}`);
            if (p.metric === 'instance_cpu_millicores') assert.ok(p.value <= 2000, `${p.value}`);
          }
          if (prev && prev.bootId !== cur.bootId) assert.equal(n.rates, 'reboot');
          prev = cur;
        }
      },
    ),
  );
});

test('toSeriesRows maps cgroups to instance ids and drops unknown ones', () => {
  const n = normalizeSample(
    sample({ uptime: 1, cgNs: 0 }),
    sample({ uptime: 11, cgNs: 1e9, ts: 1_700_000_011_000 }),
  );
  const rows = toSeriesRows(n, 'node-1', new Map([['/lxc/web', 'inst-7']]));
  assert.ok(rows.every((r) => r.ts === 1_700_000_011_000));
  assert.deepEqual(
    rows.filter((r) => r.kind === 'instance').map((r) => [r.entityId, r.metric, r.value]),
    [
      ['inst-7', 'instance_mem_bytes', 4096],
      ['inst-7', 'instance_cpu_millicores', 100],
    ],
  );
  assert.ok(rows.some((r) => r.kind === 'node' && r.entityId === 'node-1' && r.metric === 'load15'));
  assert.equal(toSeriesRows(n, 'node-1').filter((r) => r.kind === 'instance').length, 0);
});
