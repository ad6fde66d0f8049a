/**
 * Time buckets, rollups and the resolution/retention policy shared by the store and the API.
 */

export type Resolution = 'raw' | '1m' | '15m';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export interface ResolutionPolicy {
  resolution: Resolution;
  /** Bucket width; raw samples are not bucketed (0). */
  bucketMs: number;
  /** Rows older than now - retentionMs are deleted. */
  retentionMs: number;
  /** The largest query range served from this resolution. */
  maxRangeMs: number;
}

export const RESOLUTIONS: readonly ResolutionPolicy[] = [
  { resolution: 'raw', bucketMs: 0, retentionMs: DAY_MS, maxRangeMs: 6 * HOUR_MS },
  { resolution: '1m', bucketMs: MINUTE_MS, retentionMs: 7 * DAY_MS, maxRangeMs: 7 * DAY_MS },
  { resolution: '15m', bucketMs: 15 * MINUTE_MS, retentionMs: 90 * DAY_MS, maxRangeMs: Infinity },
];

/**
 * The finest resolution whose range limit fits [from, to] and whose retention still covers `from`
 * (a 1 h window three days ago is served from 1-minute rollups, raw rows being gone by then).
 */
export function chooseResolution(from: number, to: number, now: number): ResolutionPolicy {
  if (!(to >= from)) throw new RangeError(`invalid range: from ${from} is after to ${to}`);
  const range = to - from;
  for (const p of RESOLUTIONS) {
    if (range <= p.maxRangeMs && from >= now - p.retentionMs) return p;
  }
  return RESOLUTIONS[RESOLUTIONS.length - 1];
}

export function bucketStart(ts: number, bucketMs: number): number {
  return Math.floor(ts / bucketMs) * bucketMs;
}

export interface TimedValue {
  ts: number;
  value: number;
}

export interface Bucket {
  /** Bucket start (inclusive), unix ms. */
  ts: number;
  avg: number;
  max: number;
  count: number;
}

/** Average and max of the values falling in each bucket, ordered by bucket start. */
export function rollup(points: readonly TimedValue[], bucketMs: number): Bucket[] {
  const acc = new Map<number, { sum: number; max: number; count: number }>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const b = bucketStart(p.ts, bucketMs);
    const a = acc.get(b);
    if (a) {
      a.sum += p.value;
      a.max = Math.max(a.max, p.value);
      a.count++;
    } else acc.set(b, { sum: p.value, max: p.value, count: 1 });
  }
  return [...acc.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([ts, a]) => ({ ts, avg: a.sum / a.count, max: a.max, count: a.count }));
}

/** Coarser buckets from finer ones, weighting each average by its sample count (exact, not avg-of-avg). */
export function rollupBuckets(buckets: readonly Bucket[], bucketMs: number): Bucket[] {
  const acc = new Map<number, { sum: number; max: number; count: number }>();
  for (const b of buckets) {
    const k = bucketStart(b.ts, bucketMs);
    const a = acc.get(k) ?? { sum: 0, max: -Infinity, count: 0 };
    a.sum += b.avg * b.count;
    a.max = Math.max(a.max, b.max);
    a.count += b.count;
    acc.set(k, a);
  }
  return [...acc.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([ts, a]) => ({ ts, avg: a.sum / a.count, max: a.max, count: a.count }));
}
