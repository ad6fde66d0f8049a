/**
 * Pool health as grim watches it: a summary per pool, and the events worth telling someone about
 * when one summary follows another (state changes, growing error counts, a scrub that finished with
 * errors, capacity crossing 80 % and 90 %).
 */
import { totalErrors, unhealthyVdevs, type PoolStatus } from './pool-status.ts';
import type { PoolListRow } from './parse-lists.ts';

export interface PoolHealth {
  name: string;
  state: string;
  errors: number;
  dataErrors: number;
  capacityPercent: number;
  sizeBytes: number;
  allocatedBytes: number;
  freeBytes: number;
  scan: {
    kind: string | null;
    state: string;
    percentDone?: number;
    etaSeconds?: number;
    errors?: number;
    when?: string;
  };
  unhealthy: { path: string; state: string }[];
}

export type HealthEventKind =
  | 'state-changed'
  | 'errors-increased'
  | 'scrub-finished'
  | 'scrub-found-errors'
  | 'resilver-finished'
  | 'capacity-80'
  | 'capacity-90'
  | 'capacity-ok'
  | 'pool-missing';

export interface HealthEvent {
  pool: string;
  kind: HealthEventKind;
  severity: 'info' | 'warning' | 'critical';
  message: string;
}

export function summarize(status: PoolStatus, list: PoolListRow | undefined): PoolHealth {
  return {
    name: status.name,
    state: status.state,
    errors: totalErrors(status),
    dataErrors: status.dataErrors,
    capacityPercent: list?.capacityPercent ?? 0,
    sizeBytes: list?.sizeBytes ?? 0,
    allocatedBytes: list?.allocatedBytes ?? 0,
    freeBytes: list?.freeBytes ?? 0,
    scan: status.scan
      ? {
          kind: status.scan.kind,
          state: status.scan.state,
          ...(status.scan.percentDone !== undefined ? { percentDone: status.scan.percentDone } : {}),
          ...(status.scan.etaSeconds !== undefined ? { etaSeconds: status.scan.etaSeconds } : {}),
          ...(status.scan.errors !== undefined ? { errors: status.scan.errors } : {}),
          ...(status.scan.when !== undefined ? { when: status.scan.when } : {}),
        }
      : { kind: null, state: 'none' },
    unhealthy: unhealthyVdevs(status),
  };
}

const band = (pct: number) => (pct >= 90 ? 90 : pct >= 80 ? 80 : 0);

/** Events between two health snapshots of the same node. `before` undefined = first look (states other than ONLINE still count). */
export function healthEvents(before: PoolHealth[] | undefined, after: PoolHealth[]): HealthEvent[] {
  const events: HealthEvent[] = [];
  const prev = new Map((before ?? []).map((p) => [p.name, p]));
  for (const p of after) {
    const b = prev.get(p.name);
    const wasState = b?.state ?? 'ONLINE';
    if (p.state !== wasState || (!b && p.state !== 'ONLINE')) {
      const bad = p.unhealthy.map((u) => `${u.path} ${u.state}`).join(', ');
      events.push({
        pool: p.name,
        kind: 'state-changed',
        severity: p.state === 'ONLINE' ? 'info' : p.state === 'DEGRADED' ? 'warning' : 'critical',
        message: `pool ${p.name}: ${wasState} -> ${p.state}${bad ? ` (${bad})` : ''}`,
      });
    }
    if (b && p.errors > b.errors)
      events.push({
        pool: p.name,
        kind: 'errors-increased',
        severity: 'warning',
        message: `pool ${p.name}: read/write/checksum errors grew from ${b.errors} to ${p.errors}`,
      });
    const finishedNow =
      p.scan.state === 'finished' && (b?.scan.state !== 'finished' || b?.scan.when !== p.scan.when);
    if (b && finishedNow && p.scan.kind === 'scrub') {
      const errs = p.scan.errors ?? 0;
      events.push({
        pool: p.name,
        kind: errs > 0 || p.errors > 0 ? 'scrub-found-errors' : 'scrub-finished',
        severity: errs > 0 || p.errors > 0 ? 'warning' : 'info',
        message:
          errs > 0 || p.errors > 0
            ? `pool ${p.name}: scrub finished with ${errs} errors (${p.errors} device errors)`
            : `pool ${p.name}: scrub finished without errors`,
      });
    }
    if (b && finishedNow && p.scan.kind === 'resilver')
      events.push({
        pool: p.name,
        kind: 'resilver-finished',
        severity: 'info',
        message: `pool ${p.name}: resilver finished`,
      });
    const nowBand = band(p.capacityPercent);
    const wasBand = band(b?.capacityPercent ?? 0);
    if (nowBand > wasBand)
      events.push({
        pool: p.name,
        kind: nowBand === 90 ? 'capacity-90' : 'capacity-80',
        severity: nowBand === 90 ? 'critical' : 'warning',
        message: `pool ${p.name}: ${p.capacityPercent}% full (≥ ${nowBand} %)`,
      });
    else if (b && nowBand < wasBand && nowBand === 0)
      events.push({
        pool: p.name,
        kind: 'capacity-ok',
        severity: 'info',
        message: `pool ${p.name}: ${p.capacityPercent}% full, below 80 % again`,
      });
  }
  for (const b of before ?? [])
    if (!after.some((p) => p.name === b.name))
      events.push({
        pool: b.name,
        kind: 'pool-missing',
        severity: 'critical',
        message: `pool ${b.name} is no longer listed (exported or destroyed?)`,
      });
  return events;
}
