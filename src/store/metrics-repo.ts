/**
 * Usage metrics storage (tables from migrations/0030_metrics.ts). Portable SQL for SQLite and PostgreSQL.
 * Raw rows -> 1-minute rollups -> 15-minute rollups; retention per resolution (src/domain/metrics/rollup.ts).
 * PostgreSQL returns BIGINT/COUNT as strings, so every number read back goes through Number().
 */
import type { Db, Queryable, SqlValue } from './db.ts';
import { isMetricName, type MetricName, type SeriesKind } from '../domain/metrics/catalog.ts';
import type { SeriesRow } from '../domain/metrics/series-rows.ts';
import {
  bucketStart,
  chooseResolution,
  MINUTE_MS,
  RESOLUTIONS,
  type Resolution,
  type ResolutionPolicy,
} from '../domain/metrics/rollup.ts';

const TABLE: Record<Resolution, string> = { raw: 'metrics_raw', '1m': 'metrics_1m', '15m': 'metrics_15m' };
const KEY = 'kind, entity_id, metric, dim, ts';
/** Rows per multi-row INSERT (6 parameters each; far below SQLite's and PostgreSQL's limits). */
const INSERT_CHUNK = 400;

function policy(r: Resolution): ResolutionPolicy {
  const p = RESOLUTIONS.find((x) => x.resolution === r);
  if (!p) throw new Error(`unknown resolution ${r}`);
  return p;
}

/** Inserts (or overwrites) raw rows; non-finite values are skipped. Returns the number of rows written. */
export async function insertSamples(db: Db, rows: readonly SeriesRow[]): Promise<number> {
  const valid = rows.filter((r) => Number.isFinite(r.value) && Number.isFinite(r.ts));
  if (valid.length === 0) return 0;
  return db.transaction(async (tx) => {
    let written = 0;
    for (let i = 0; i < valid.length; i += INSERT_CHUNK) {
      const chunk = valid.slice(i, i + INSERT_CHUNK);
      const params: SqlValue[] = [];
      for (const r of chunk) params.push(r.kind, r.entityId, r.metric, r.dim, Math.trunc(r.ts), r.value);
      const res = await tx.run(
        `INSERT INTO metrics_raw (${KEY}, value) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (${KEY}) DO UPDATE SET value = excluded.value`,
        params,
      );
      written += res.changes;
    }
    return written;
  });
}

async function doneUntil(q: Queryable, r: Resolution): Promise<number | null> {
  const row = await q.get<{ done_until: unknown }>(
    'SELECT done_until FROM metrics_rollup_state WHERE resolution = ?',
    [r],
  );
  return row ? Number(row.done_until) : null;
}

async function rollLevel(
  db: Db,
  target: '1m' | '15m',
  closeBefore: number,
): Promise<{ buckets: number; doneUntil: number | null }> {
  const { bucketMs } = policy(target);
  const source = target === '1m' ? 'metrics_raw' : 'metrics_1m';
  return db.transaction(async (tx) => {
    let from = await doneUntil(tx, target);
    if (from === null) {
      const min = await tx.get<{ m: unknown }>(`SELECT MIN(ts) AS m FROM ${source}`);
      if (!min || min.m === null || min.m === undefined) return { buckets: 0, doneUntil: null };
      from = bucketStart(Number(min.m), bucketMs);
    }
    const to = bucketStart(closeBefore, bucketMs);
    if (to <= from) return { buckets: 0, doneUntil: from };
    const b = `(ts / ${bucketMs}) * ${bucketMs}`;
    const agg =
      target === '1m'
        ? 'AVG(value), MAX(value), COUNT(*)'
        : 'SUM(avg_value * n_samples) / SUM(n_samples), MAX(max_value), SUM(n_samples)';
    const res = await tx.run(
      `INSERT INTO ${TABLE[target]} (${KEY}, avg_value, max_value, n_samples)
       SELECT kind, entity_id, metric, dim, ${b}, ${agg}
       FROM ${source} WHERE ts >= ? AND ts < ?
       GROUP BY kind, entity_id, metric, dim, ${b}
       ON CONFLICT (${KEY}) DO UPDATE SET avg_value = excluded.avg_value, max_value = excluded.max_value,
         n_samples = excluded.n_samples`,
      [from, to],
    );
    await tx.run(
      `INSERT INTO metrics_rollup_state (resolution, done_until) VALUES (?, ?)
       ON CONFLICT (resolution) DO UPDATE SET done_until = excluded.done_until`,
      [target, to],
    );
    return { buckets: res.changes, doneUntil: to };
  });
}

/**
 * Rolls up every bucket that closed at least `lateMs` ago and was not rolled yet (raw -> 1m, 1m -> 15m).
 * Samples arriving more than `lateMs` after their minute ended are kept raw but miss the rollups.
 */
export async function rollUp(
  db: Db,
  now: number = Date.now(),
  opts: { lateMs?: number } = {},
): Promise<{ '1m': number; '15m': number }> {
  const lateMs = opts.lateMs ?? MINUTE_MS;
  const one = await rollLevel(db, '1m', now - lateMs);
  if (one.doneUntil === null) return { '1m': one.buckets, '15m': 0 };
  const fifteen = await rollLevel(db, '15m', Math.min(now - lateMs, one.doneUntil));
  return { '1m': one.buckets, '15m': fifteen.buckets };
}

/** Deletes rows older than each resolution's retention. Returns deleted row counts. */
export async function enforceRetention(
  db: Db,
  now: number = Date.now(),
): Promise<{ raw: number; '1m': number; '15m': number }> {
  const out = { raw: 0, '1m': 0, '15m': 0 };
  for (const p of RESOLUTIONS) {
    const res = await db.run(`DELETE FROM ${TABLE[p.resolution]} WHERE ts < ?`, [now - p.retentionMs]);
    out[p.resolution] = res.changes;
  }
  return out;
}

export interface SeriesQuery {
  kind: SeriesKind;
  entityId: string;
  metric: MetricName;
  /** Core/mountpoint/device/interface; '' (default) for undimensioned metrics. */
  dim?: string;
  from: number;
  to: number;
}

export interface SeriesPoint {
  ts: number;
  value: number;
  /** Bucket maximum (rollups only). */
  max?: number;
}

export interface SeriesResult {
  resolution: Resolution;
  /** Bucket width in ms; 0 for raw. */
  stepMs: number;
  points: SeriesPoint[];
}

interface EntityBucket {
  entityId: string;
  ts: number;
  value: number;
  max: number;
}

function assertMetric(metric: string): void {
  if (!isMetricName(metric)) throw new Error(`unknown metric ${JSON.stringify(metric)}`);
}

/**
 * Bucketed values per entity: rolled-up rows before the rollup watermark, and the not-yet-rolled tail
 * computed on the fly from raw rows (so the newest minutes are never missing from charts).
 */
async function entityBuckets(
  q: Queryable,
  resolution: '1m' | '15m',
  kind: SeriesKind,
  entityIds: readonly string[],
  metric: string,
  dim: string,
  from: number,
  to: number,
): Promise<EntityBucket[]> {
  if (entityIds.length === 0) return [];
  const { bucketMs } = policy(resolution);
  const lo = bucketStart(from, bucketMs);
  const done = (await doneUntil(q, resolution)) ?? lo;
  const ids = entityIds.map(() => '?').join(', ');
  const base: SqlValue[] = [kind, metric, dim, ...entityIds];
  const rolled = await q.all<Record<string, unknown>>(
    `SELECT entity_id, ts, avg_value, max_value FROM ${TABLE[resolution]}
     WHERE kind = ? AND metric = ? AND dim = ? AND entity_id IN (${ids}) AND ts >= ? AND ts <= ? AND ts < ?
     ORDER BY ts`,
    [...base, lo, to, done],
  );
  const b = `(ts / ${bucketMs}) * ${bucketMs}`;
  const tail = await q.all<Record<string, unknown>>(
    `SELECT entity_id, ${b} AS bucket, AVG(value) AS avg_value, MAX(value) AS max_value FROM metrics_raw
     WHERE kind = ? AND metric = ? AND dim = ? AND entity_id IN (${ids}) AND ts >= ? AND ts <= ?
     GROUP BY entity_id, ${b} ORDER BY bucket`,
    [...base, Math.max(lo, done), to],
  );
  const toBucket =
    (tsCol: string) =>
    (r: Record<string, unknown>): EntityBucket => ({
      entityId: String(r.entity_id),
      ts: Number(r[tsCol]),
      value: Number(r.avg_value),
      max: Number(r.max_value),
    });
  return [...rolled.map(toBucket('ts')), ...tail.map(toBucket('bucket'))];
}

/** One series over [from, to]; the resolution is chosen from the range (raw <= 6 h, 1m <= 7 d, else 15m). */
export async function querySeries(
  q: Queryable,
  s: SeriesQuery,
  now: number = Date.now(),
): Promise<SeriesResult> {
  assertMetric(s.metric);
  const p = chooseResolution(s.from, s.to, now);
  const dim = s.dim ?? '';
  if (p.resolution === 'raw') {
    const rows = await q.all<Record<string, unknown>>(
      `SELECT ts, value FROM metrics_raw
       WHERE kind = ? AND entity_id = ? AND metric = ? AND dim = ? AND ts >= ? AND ts <= ? ORDER BY ts`,
      [s.kind, s.entityId, s.metric, dim, s.from, s.to],
    );
    return {
      resolution: 'raw',
      stepMs: 0,
      points: rows.map((r) => ({ ts: Number(r.ts), value: Number(r.value) })),
    };
  }
  const buckets = await entityBuckets(q, p.resolution, s.kind, [s.entityId], s.metric, dim, s.from, s.to);
  return {
    resolution: p.resolution,
    stepMs: p.bucketMs,
    points: buckets.map((b) => ({ ts: b.ts, value: b.value, max: b.max })),
  };
}

export interface GroupQuery {
  kind: SeriesKind;
  entityIds: readonly string[];
  metric: MetricName;
  dim?: string;
  from: number;
  to: number;
  fn: 'sum' | 'avg';
}

export interface GroupPoint {
  ts: number;
  value: number;
  /** How many entities contributed to this bucket. */
  entities: number;
}

interface GroupBucket {
  ts: number;
  sum: number;
  n: number;
}

/**
 * Per bucket the sum and count of the entities' bucket averages, aggregated in SQL (a 30-day graph of
 * 50 nodes would otherwise ship ~144k rows to JS). Same split as entityBuckets: rolled-up rows before
 * the watermark, plus the raw tail averaged per entity and bucket in a subquery. Both halves go through
 * one outer GROUP BY, so a bucket present in both would still be summed once per row, as before.
 */
async function groupBuckets(
  q: Queryable,
  resolution: '1m' | '15m',
  kind: SeriesKind,
  entityIds: readonly string[],
  metric: string,
  dim: string,
  from: number,
  to: number,
): Promise<GroupBucket[]> {
  if (entityIds.length === 0) return [];
  const { bucketMs } = policy(resolution);
  const lo = bucketStart(from, bucketMs);
  const done = (await doneUntil(q, resolution)) ?? lo;
  const ids = entityIds.map(() => '?').join(', ');
  const base: SqlValue[] = [kind, metric, dim, ...entityIds];
  const where = `kind = ? AND metric = ? AND dim = ? AND entity_id IN (${ids}) AND ts >= ? AND ts <= ?`;
  const b = `(ts / ${bucketMs}) * ${bucketMs}`;
  const rows = await q.all<Record<string, unknown>>(
    `SELECT bucket, SUM(v) AS total, COUNT(*) AS n FROM (
       SELECT ts AS bucket, avg_value AS v FROM ${TABLE[resolution]} WHERE ${where} AND ts < ?
       UNION ALL
       SELECT ${b} AS bucket, AVG(value) AS v FROM metrics_raw WHERE ${where}
       GROUP BY entity_id, ${b}
     ) per_entity
     GROUP BY bucket ORDER BY bucket`,
    [...base, lo, to, done, ...base, Math.max(lo, done), to],
  );
  return rows.map((r) => ({ ts: Number(r.bucket), sum: Number(r.total), n: Number(r.n) }));
}

/**
 * A group's series: per entity the bucket average, then sum or average across entities per bucket.
 * Raw-range queries are aligned to 1-minute buckets (entities sample at different instants).
 */
export async function aggregateGroup(
  q: Queryable,
  g: GroupQuery,
  now: number = Date.now(),
): Promise<{ resolution: '1m' | '15m'; stepMs: number; points: GroupPoint[] }> {
  assertMetric(g.metric);
  const chosen = chooseResolution(g.from, g.to, now).resolution;
  const resolution = chosen === 'raw' ? '1m' : chosen;
  const buckets = await groupBuckets(q, resolution, g.kind, g.entityIds, g.metric, g.dim ?? '', g.from, g.to);
  const points = buckets.map((b) => ({
    ts: b.ts,
    value: g.fn === 'sum' ? b.sum : b.sum / b.n,
    entities: b.n,
  }));
  return { resolution, stepMs: policy(resolution).bucketMs, points };
}

export interface LatestPoint {
  entityId: string;
  metric: MetricName;
  dim: string;
  ts: number;
  value: number;
}

/** The newest raw value of every series of `kind` seen since `since` (for /metrics exposition). */
export async function latestPoints(q: Queryable, kind: SeriesKind, since: number): Promise<LatestPoint[]> {
  const rows = await q.all<Record<string, unknown>>(
    `SELECT r.entity_id, r.metric, r.dim, r.ts, r.value FROM metrics_raw r
     JOIN (SELECT entity_id, metric, dim, MAX(ts) AS ts FROM metrics_raw WHERE kind = ? AND ts >= ?
           GROUP BY entity_id, metric, dim) l
       ON r.entity_id = l.entity_id AND r.metric = l.metric AND r.dim = l.dim AND r.ts = l.ts
     WHERE r.kind = ? ORDER BY r.entity_id, r.metric, r.dim`,
    [kind, since, kind],
  );
  return rows.flatMap((r) => {
    const metric = String(r.metric);
    if (!isMetricName(metric)) return [];
    return [
      { entityId: String(r.entity_id), metric, dim: String(r.dim), ts: Number(r.ts), value: Number(r.value) },
    ];
  });
}
