/**
 * The raw sample printed by scripts/node/metrics.sh (one JSON line), validated into typed data.
 * Counters stay raw here; normalize.ts turns two consecutive samples into rates.
 */

/** user, nice, system, idle, iowait, irq, softirq, steal — USER_HZ ticks. */
export type CpuTimes = readonly [number, number, number, number, number, number, number, number];

export interface RawFilesystem {
  mount: string;
  dev: string;
  type: string;
  sizeBytes: number;
  usedBytes: number;
  availBytes: number;
}

export interface RawDisk {
  dev: string;
  readIos: number;
  readSectors: number;
  writeIos: number;
  writeSectors: number;
  ioMs: number;
}

export interface RawNetInterface {
  name: string;
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

export type RawCgroup =
  | { path: string; found: true; cpuUsec: number; memBytes: number | null }
  | { path: string; found: false; error: string };

export interface RawSample {
  /** Wall clock of the node, unix ms (second resolution on busybox). */
  ts: number;
  bootId: string;
  /** Seconds since boot (monotonic; used as the rate clock). */
  uptime: number;
  cpu: CpuTimes;
  /** Per-core times keyed by core index ("0", "1", ...). */
  cpus: Record<string, CpuTimes>;
  load: readonly [number, number, number];
  mem: { totalBytes: number; availableBytes: number };
  fs: RawFilesystem[];
  disks: RawDisk[];
  net: RawNetInterface[];
  cgroups: RawCgroup[];
  /** What VMM metrics files (Firecracker) gained since the offsets grim asked for. */
  vmm: RawVmmChunk[];
}

/** Bytes of a VMM metrics file from `from` to `size` (possibly ending in a partly written line). */
export type RawVmmChunk =
  | { path: string; found: true; size: number; from: number; text: string }
  | { path: string; found: false; error: string };

export class MetricsParseError extends Error {
  constructor(message: string) {
    super(`invalid metrics sample: ${message}`);
    this.name = 'MetricsParseError';
  }
}

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new MetricsParseError(`${where} must be an object`);
  return v as Obj;
}

function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new MetricsParseError(`${where} must be an array`);
  return v;
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new MetricsParseError(`${where} must be a non-negative number (got ${JSON.stringify(v)})`);
  }
  return v;
}

function numOrNull(v: unknown, where: string): number | null {
  return v === null || v === undefined ? null : num(v, where);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new MetricsParseError(`${where} must be a string`);
  return v;
}

function cpuTimes(v: unknown, where: string): CpuTimes {
  const a = arr(v, where);
  if (a.length !== 8) throw new MetricsParseError(`${where} must have 8 fields (got ${a.length})`);
  return a.map((x, i) => num(x, `${where}[${i}]`)) as unknown as CpuTimes;
}

const KIB = 1024;

/** Parses and validates one sample; accepts the JSON text (last line is used) or an already-parsed value. */
export function parseRawSample(input: string | unknown): RawSample {
  let data: unknown = input;
  if (typeof input === 'string') {
    const lines = input.trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    try {
      data = JSON.parse(last);
    } catch (err) {
      throw new MetricsParseError(`not JSON (${(err as Error).message})`);
    }
  }
  const o = obj(data, 'sample');
  if (o.v !== 1) throw new MetricsParseError(`unsupported version ${JSON.stringify(o.v)}`);
  const bootId = str(o.boot_id, 'boot_id');
  if (bootId === '') throw new MetricsParseError('boot_id is empty');

  const cpusObj = obj(o.cpus, 'cpus');
  const cpus: Record<string, CpuTimes> = {};
  for (const [core, times] of Object.entries(cpusObj)) {
    if (!/^[0-9]+$/.test(core))
      throw new MetricsParseError(`cpus key ${JSON.stringify(core)} is not a core index`);
    cpus[core] = cpuTimes(times, `cpus.${core}`);
  }

  const load = arr(o.load, 'load');
  if (load.length !== 3) throw new MetricsParseError('load must have 3 fields');

  const mem = obj(o.mem, 'mem');
  const totalKb = num(mem.total_kb, 'mem.total_kb');
  const availKb = numOrNull(mem.available_kb, 'mem.available_kb');
  // Kernels before 3.14 lack MemAvailable: fall back to free + buffers + cached.
  const fallbackKb =
    (numOrNull(mem.free_kb, 'mem.free_kb') ?? 0) +
    (numOrNull(mem.buffers_kb, 'mem.buffers_kb') ?? 0) +
    (numOrNull(mem.cached_kb, 'mem.cached_kb') ?? 0);

  const fs = arr(o.fs, 'fs').flatMap((x, i): RawFilesystem[] => {
    const f = obj(x, `fs[${i}]`);
    const size = numOrNull(f.size_kb, `fs[${i}].size_kb`);
    const used = numOrNull(f.used_kb, `fs[${i}].used_kb`);
    const avail = numOrNull(f.avail_kb, `fs[${i}].avail_kb`);
    if (size === null || used === null || avail === null) return []; // df printed "-" (e.g. unreachable fs)
    return [
      {
        mount: str(f.mount, `fs[${i}].mount`),
        dev: str(f.dev, `fs[${i}].dev`),
        type: str(f.type, `fs[${i}].type`),
        sizeBytes: size * KIB,
        usedBytes: used * KIB,
        availBytes: avail * KIB,
      },
    ];
  });

  const disks = arr(o.disk, 'disk').map((x, i): RawDisk => {
    const d = obj(x, `disk[${i}]`);
    return {
      dev: str(d.dev, `disk[${i}].dev`),
      readIos: num(d.rd_ios, `disk[${i}].rd_ios`),
      readSectors: num(d.rd_sectors, `disk[${i}].rd_sectors`),
      writeIos: num(d.wr_ios, `disk[${i}].wr_ios`),
      writeSectors: num(d.wr_sectors, `disk[${i}].wr_sectors`),
      ioMs: num(d.io_ms, `disk[${i}].io_ms`),
    };
  });

  const net = arr(o.net, 'net').map((x, i): RawNetInterface => {
    const n = obj(x, `net[${i}]`);
    return {
      name: str(n.if, `net[${i}].if`),
      rxBytes: num(n.rx_bytes, `net[${i}].rx_bytes`),
      rxPackets: num(n.rx_packets, `net[${i}].rx_packets`),
      txBytes: num(n.tx_bytes, `net[${i}].tx_bytes`),
      txPackets: num(n.tx_packets, `net[${i}].tx_packets`),
    };
  });

  const cgroups = arr(o.cgroups ?? [], 'cgroups').map((x, i): RawCgroup => {
    const c = obj(x, `cgroups[${i}]`);
    const path = str(c.path, `cgroups[${i}].path`);
    if (c.error !== undefined) return { path, found: false, error: str(c.error, `cgroups[${i}].error`) };
    let cpuUsec: number;
    if (c.v === 2) cpuUsec = num(c.cpu_usec, `cgroups[${i}].cpu_usec`);
    else if (c.v === 1) cpuUsec = num(c.cpu_ns, `cgroups[${i}].cpu_ns`) / 1000;
    else throw new MetricsParseError(`cgroups[${i}].v must be 1 or 2`);
    return { path, found: true, cpuUsec, memBytes: numOrNull(c.mem_bytes, `cgroups[${i}].mem_bytes`) };
  });

  const vmm = arr(o.vmm ?? [], 'vmm').map((x, i): RawVmmChunk => {
    const v = obj(x, `vmm[${i}]`);
    const path = str(v.path, `vmm[${i}].path`);
    if (v.error !== undefined) return { path, found: false, error: str(v.error, `vmm[${i}].error`) };
    const b64 = str(v.b64, `vmm[${i}].b64`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new MetricsParseError(`vmm[${i}].b64 is not base64`);
    return {
      path,
      found: true,
      size: num(v.size, `vmm[${i}].size`),
      from: num(v.from, `vmm[${i}].from`),
      text: Buffer.from(b64, 'base64').toString('utf8'),
    };
  });

  return {
    ts: num(o.ts, 'ts'),
    bootId,
    uptime: num(o.uptime, 'uptime'),
    cpu: cpuTimes(o.cpu, 'cpu'),
    cpus,
    load: [num(load[0], 'load[0]'), num(load[1], 'load[1]'), num(load[2], 'load[2]')],
    mem: { totalBytes: totalKb * KIB, availableBytes: (availKb ?? fallbackKb) * KIB },
    fs,
    disks,
    net,
    cgroups,
    vmm,
  };
}
