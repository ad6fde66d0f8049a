/**
 * Choosing disks by role and count, so one pool request fits several nodes whose disks have different
 * by-id names: "all free disks as data and one spare", "6 data disks", "2 log disks". Pure.
 */
import type { ErrorDetail } from '../errors.ts';
import type { PlanDisk } from './pool-plan.ts';

/** How many free disks each role takes on every node. `data` 0 or absent: every free disk left over. */
export interface DiskCounts {
  data?: number;
  log?: number;
  cache?: number;
  special?: number;
  spares?: number;
}

export interface ChosenDisks {
  disks: string[];
  log: string[];
  cache: string[];
  special: string[];
  spares: string[];
}

const byPath = (a: PlanDisk, b: PlanDisk) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * One node's disks for each role, from its free disks (not in use, in path order). Log, special and
 * cache take solid-state disks first (cache also prefers block devices: zfs-fuse refuses files there);
 * data and spares take the rest, data first. Not enough free disks is a problem naming what is missing.
 */
export function chooseDisks(
  inventory: PlanDisk[],
  counts: DiskCounts,
): { ok: true; chosen: ChosenDisks } | { ok: false; problems: ErrorDetail[] } {
  let free = inventory.filter((d) => !d.inUse).sort(byPath);
  const take = (n: number, prefer: (d: PlanDisk) => number) => {
    const picked = [...free].sort((a, b) => prefer(a) - prefer(b) || byPath(a, b)).slice(0, n);
    free = free.filter((d) => !picked.includes(d));
    return picked.map((d) => d.path);
  };
  const fast = (d: PlanDisk) => (d.rotational ? 1 : 0);
  const wanted = {
    special: counts.special ?? 0,
    log: counts.log ?? 0,
    cache: counts.cache ?? 0,
    spares: counts.spares ?? 0,
    data: counts.data ?? 0,
  };
  const fixed = wanted.special + wanted.log + wanted.cache + wanted.spares + wanted.data;
  const available = free.length;
  if (fixed > available || (wanted.data === 0 && fixed >= available)) {
    const asked = Object.entries(wanted)
      .filter(([, n]) => n > 0)
      .map(([role, n]) => `${n} ${role}`);
    const data = wanted.data === 0 ? ['at least 1 data'] : [];
    return {
      ok: false,
      problems: [
        {
          path: 'take',
          message: `${available} free disk${available === 1 ? '' : 's'}, the request needs ${[...asked, ...data].join(' + ')}`,
        },
      ],
    };
  }
  const special = take(wanted.special, fast);
  const log = take(wanted.log, fast);
  const cache = take(wanted.cache, (d) => fast(d) * 2 + (d.kind === 'file' ? 1 : 0));
  const disks = take(wanted.data || free.length - wanted.spares, () => 0);
  const spares = take(wanted.spares, () => 0);
  return { ok: true, chosen: { disks, log, cache, special, spares } };
}
