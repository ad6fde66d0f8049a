/**
 * Two consecutive raw samples of one node -> one normalized sample (gauges + rates).
 *
 * Rates use the node's uptime as the clock (monotonic, immune to wall-clock steps). No rate is emitted
 * for an interval when: there is no previous sample, the boot id changed (reboot), the clock did not
 * advance, or — per series — a counter went backwards (reset/wrap) or the series is new. Rates above a
 * physical plausibility limit are dropped too, so charts never show negative or absurd spikes.
 * Gauges (load, memory, filesystems, instance memory) are always emitted from the current sample.
 */
import type { MetricName, MetricPoint } from './catalog.ts';
import type { CpuTimes, RawSample } from './raw-sample.ts';

export type RateStatus = 'ok' | 'first-sample' | 'reboot' | 'clock-not-advancing';

export interface NormalizedSample {
  ts: number;
  rates: RateStatus;
  node: MetricPoint[];
  cgroups: { path: string; points: MetricPoint[] }[];
}

/** Intervals shorter than this give no rates (too noisy at USER_HZ / 10 ms uptime resolution). */
export const MIN_RATE_INTERVAL_S = 0.5;
/** 1 TB/s and 1 G packets/s: anything above is a counter glitch, not traffic. */
const MAX_BYTES_PER_S = 1e12;
const MAX_PACKETS_PER_S = 1e9;
const SECTOR_BYTES = 512;

const IDLE = 3;
const IOWAIT = 4;

/** Busy % between two cpu time vectors, or null if any field went backwards or no time passed. */
export function cpuBusyPercent(prev: CpuTimes, cur: CpuTimes): number | null {
  let total = 0;
  for (let i = 0; i < 8; i++) {
    const d = cur[i] - prev[i];
    if (d < 0) return null;
    total += d;
  }
  if (total === 0) return null;
  const idle = cur[IDLE] - prev[IDLE] + (cur[IOWAIT] - prev[IOWAIT]);
  return clamp(((total - idle) / total) * 100, 0, 100);
}

/** Per-second rate of a counter, or null on reset (went backwards) or implausible size. */
export function counterRate(prev: number, cur: number, seconds: number, max: number): number | null {
  if (!(seconds > 0)) return null;
  const d = cur - prev;
  if (d < 0) return null;
  const rate = d / seconds;
  return rate > max ? null : rate;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

export function normalizeSample(prev: RawSample | undefined, cur: RawSample): NormalizedSample {
  const node: MetricPoint[] = [];
  const push = (out: MetricPoint[], metric: MetricName, dim: string, value: number | null): void => {
    if (value !== null && Number.isFinite(value)) out.push({ metric, dim, value });
  };

  // Gauges.
  push(node, 'load1', '', cur.load[0]);
  push(node, 'load5', '', cur.load[1]);
  push(node, 'load15', '', cur.load[2]);
  const available = Math.min(cur.mem.availableBytes, cur.mem.totalBytes);
  push(node, 'mem_total_bytes', '', cur.mem.totalBytes);
  push(node, 'mem_available_bytes', '', available);
  push(node, 'mem_used_bytes', '', cur.mem.totalBytes - available);
  for (const f of cur.fs) {
    push(node, 'fs_size_bytes', f.mount, f.sizeBytes);
    push(node, 'fs_used_bytes', f.mount, f.usedBytes);
    push(node, 'fs_free_bytes', f.mount, f.availBytes);
  }

  let rates: RateStatus = 'ok';
  if (!prev) rates = 'first-sample';
  else if (prev.bootId !== cur.bootId) rates = 'reboot';
  else if (!(cur.uptime - prev.uptime >= MIN_RATE_INTERVAL_S)) rates = 'clock-not-advancing';
  const dt = prev ? cur.uptime - prev.uptime : 0;
  const withRates = rates === 'ok' && prev !== undefined;

  if (withRates) {
    push(node, 'cpu_busy_pct', '', cpuBusyPercent(prev.cpu, cur.cpu));
    for (const [core, times] of Object.entries(cur.cpus)) {
      const p = prev.cpus[core];
      if (p) push(node, 'cpu_core_busy_pct', core, cpuBusyPercent(p, times));
    }
    const prevDisks = byKey(prev.disks, (d) => d.dev);
    for (const d of cur.disks) {
      const p = prevDisks.get(d.dev);
      if (!p) continue;
      const rd = counterRate(p.readSectors * SECTOR_BYTES, d.readSectors * SECTOR_BYTES, dt, MAX_BYTES_PER_S);
      const wr = counterRate(
        p.writeSectors * SECTOR_BYTES,
        d.writeSectors * SECTOR_BYTES,
        dt,
        MAX_BYTES_PER_S,
      );
      // io_ms grows by at most 1000 per second (plus jiffy rounding): clamp to 100 %.
      const busy = counterRate(p.ioMs, d.ioMs, dt, 2000);
      push(node, 'disk_read_bytes_per_s', d.dev, rd);
      push(node, 'disk_write_bytes_per_s', d.dev, wr);
      push(node, 'disk_busy_pct', d.dev, busy === null ? null : clamp(busy / 10, 0, 100));
    }
    const prevNet = byKey(prev.net, (n) => n.name);
    for (const n of cur.net) {
      const p = prevNet.get(n.name);
      if (!p) continue;
      push(node, 'net_rx_bytes_per_s', n.name, counterRate(p.rxBytes, n.rxBytes, dt, MAX_BYTES_PER_S));
      push(node, 'net_tx_bytes_per_s', n.name, counterRate(p.txBytes, n.txBytes, dt, MAX_BYTES_PER_S));
      push(
        node,
        'net_rx_packets_per_s',
        n.name,
        counterRate(p.rxPackets, n.rxPackets, dt, MAX_PACKETS_PER_S),
      );
      push(
        node,
        'net_tx_packets_per_s',
        n.name,
        counterRate(p.txPackets, n.txPackets, dt, MAX_PACKETS_PER_S),
      );
    }
  }

  const cores = Math.max(1, Object.keys(cur.cpus).length);
  const prevCgroups = new Map((prev?.cgroups ?? []).flatMap((c) => (c.found ? [[c.path, c] as const] : [])));
  const cgroups: NormalizedSample['cgroups'] = [];
  for (const c of cur.cgroups) {
    if (!c.found) continue;
    const points: MetricPoint[] = [];
    push(points, 'instance_mem_bytes', '', c.memBytes);
    const p = prevCgroups.get(c.path);
    if (withRates && p) {
      // usec of CPU per second of wall time / 1000 = millicores; a cgroup cannot use more than all cores.
      const usecPerS = counterRate(p.cpuUsec, c.cpuUsec, dt, cores * 1e6 * 1.5);
      push(
        points,
        'instance_cpu_millicores',
        '',
        usecPerS === null ? null : Math.min(usecPerS / 1000, cores * 1000),
      );
    }
    cgroups.push({ path: c.path, points });
  }

  return { ts: cur.ts, rates, node, cgroups };
}
