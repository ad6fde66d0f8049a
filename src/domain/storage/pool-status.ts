/**
 * The pool status model every parser produces (OpenZFS 2.x text, `zpool status -j`, zfs-fuse 0.7
 * and the legacy Solaris-era text), and what grim stores, shows and alerts on.
 */

export type VdevClass = 'data' | 'logs' | 'cache' | 'spares' | 'special' | 'dedup';

export interface Vdev {
  name: string;
  /** mirror, raidz1, raidz2, raidz3, draid, replacing, spare, disk, file, dspare (dRAID distributed spare), root */
  type: string;
  /** ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED; AVAIL / INUSE for spares; '' when not shown */
  state: string;
  readErrors: number;
  writeErrors: number;
  checksumErrors: number;
  /** Free text after the counters: "(resilvering)", "cannot open", "58.5K resilvered", "was /dev/..." */
  note: string;
  /** For a missing device shown as its GUID: the path it had ("was /path"). */
  wasPath?: string;
  children: Vdev[];
}

export type ScanKind = 'scrub' | 'resilver';
export type ScanState = 'none' | 'in-progress' | 'finished' | 'canceled';

export interface ScanStatus {
  kind: ScanKind | null;
  state: ScanState;
  percentDone?: number;
  /** Seconds left, as zpool estimates it. */
  etaSeconds?: number;
  /** Errors found by a finished scan. */
  errors?: number;
  /** Bytes repaired (scrub) or resilvered. */
  repairedBytes?: number;
  /** The date text zpool printed ("Sun Dec  6 09:21:22 2026"), when finished or started. */
  when?: string;
  raw: string;
}

export interface PoolStatus {
  name: string;
  /** Only in `zpool import` listings. */
  id?: string;
  state: string;
  status: string;
  action: string;
  see: string;
  scan: ScanStatus | null;
  /** The pool's root vdev; its children are the top-level data vdevs. */
  root: Vdev;
  logs: Vdev[];
  cache: Vdev[];
  spares: Vdev[];
  special: Vdev[];
  dedup: Vdev[];
  /** "No known data errors", "3 data errors, use '-v' for a list", ... */
  errors: string;
  dataErrors: number;
}

export function vdevType(name: string): string {
  if (/^mirror(-[0-9]+)?$/.test(name)) return 'mirror';
  const raidz = /^raidz([123])?(-[0-9]+)?$/.exec(name);
  if (raidz) return `raidz${raidz[1] ?? '1'}`;
  if (/^draid[123]:/.test(name)) return 'draid';
  if (/^draid[123]-[0-9]+-[0-9]+$/.test(name)) return 'dspare';
  if (/^replacing(-[0-9]+)?$/.test(name)) return 'replacing';
  if (/^spare(-[0-9]+)?$/.test(name)) return 'spare';
  if (name.startsWith('/') && !name.startsWith('/dev/')) return 'file';
  return 'disk';
}

/** Every leaf device of a pool (every class), depth first. */
export function leaves(pool: PoolStatus): Vdev[] {
  const out: Vdev[] = [];
  const walk = (v: Vdev) => {
    if (v.children.length === 0) out.push(v);
    else v.children.forEach(walk);
  };
  pool.root.children.forEach(walk);
  for (const cls of [pool.logs, pool.cache, pool.spares, pool.special, pool.dedup]) cls.forEach(walk);
  return out;
}

/** Sum of read+write+checksum errors over every vdev (leaves and interior). */
export function totalErrors(pool: PoolStatus): number {
  let sum = 0;
  const walk = (v: Vdev) => {
    sum += v.readErrors + v.writeErrors + v.checksumErrors;
    v.children.forEach(walk);
  };
  walk(pool.root);
  for (const cls of [pool.logs, pool.cache, pool.spares, pool.special, pool.dedup]) cls.forEach(walk);
  return sum;
}

/** Vdevs not ONLINE (and spares not AVAIL/INUSE), with their path in the tree. */
export function unhealthyVdevs(pool: PoolStatus): { path: string; state: string }[] {
  const out: { path: string; state: string }[] = [];
  const walk = (v: Vdev, prefix: string) => {
    const path = prefix ? `${prefix}/${v.name}` : v.name;
    if (v.state && !['ONLINE', 'AVAIL', 'INUSE'].includes(v.state)) out.push({ path, state: v.state });
    v.children.forEach((c) => walk(c, path));
  };
  pool.root.children.forEach((c) => walk(c, ''));
  for (const cls of [pool.logs, pool.cache, pool.spares, pool.special, pool.dedup])
    cls.forEach((c) => walk(c, ''));
  return out;
}
