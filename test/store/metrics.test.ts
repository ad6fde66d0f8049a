import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, storeCases } from '../helpers/stores.ts';
import {
  aggregateGroup,
  enforceRetention,
  insertSamples,
  latestPoints,
  querySeries,
  rollUp,
} from '../../src/store/metrics-repo.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, rollup } from '../../src/domain/metrics/rollup.ts';
import type { SeriesRow } from '../../src/domain/metrics/series-rows.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const STEP = 10_000;

/** Two nodes, 3 h of 10 s samples of cpu_busy_pct (deterministic, non-trivial values). */
function rows(): SeriesRow[] {
  const out: SeriesRow[] = [];
  for (let ts = NOW - 3 * HOUR_MS; ts < NOW; ts += STEP) {
    const i = (ts - NOW) / STEP;
    out.push({
      kind: 'node',
      entityId: 'n1',
      metric: 'cpu_busy_pct',
      dim: '',
      ts,
      value: 50 + 40 * Math.sin(i / 7),
    });
    out.push({
      kind: 'node',
      entityId: 'n2',
      metric: 'cpu_busy_pct',
      dim: '',
      ts: ts + 3000,
      value: (i * 37) % 100,
    });
  }
  out.push({
    kind: 'node',
    entityId: 'n1',
    metric: 'fs_used_bytes',
    dim: '/var',
    ts: NOW - 5000,
    value: 1e12,
  });
  out.push({
    kind: 'instance',
    entityId: 'i1',
    metric: 'instance_mem_bytes',
    dim: '',
    ts: NOW - 4000,
    value: 4096,
  });
  return out;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

for (const c of storeCases) {
  test(`metrics repo on ${c.name}: insert, roll up, query, aggregate, retain`, async (t) => {
    const skip = await skipReason(c);
    if (skip) return t.skip(skip);
    const { db, cleanup } = await c.open();
    t.after(cleanup);
    const data = rows();
    const n1 = data.filter((r) => r.entityId === 'n1' && r.metric === 'cpu_busy_pct');

    assert.equal(await insertSamples(db, data), data.length);
    // Re-inserting a key overwrites instead of failing or duplicating.
    await insertSamples(db, [{ ...n1[0], value: 7 }]);
    n1[0].value = 7; // same object in `data`
    assert.equal(await insertSamples(db, [{ ...n1[1], value: NaN }]), 0, 'non-finite values skipped');

    // Raw query (<= 6 h).
    const raw = await querySeries(
      db,
      { kind: 'node', entityId: 'n1', metric: 'cpu_busy_pct', from: NOW - HOUR_MS, to: NOW },
      NOW,
    );
    assert.equal(raw.resolution, 'raw');
    const expectRaw = n1.filter((r) => r.ts >= NOW - HOUR_MS);
    assert.deepEqual(
      raw.points.map((p) => p.ts),
      expectRaw.map((r) => r.ts),
    );
    assert.ok(raw.points.every((p, i) => close(p.value, expectRaw[i].value)));

    // Roll up: 1m buckets equal the domain rollup of the same raw samples.
    const rolled = await rollUp(db, NOW);
    assert.ok(rolled['1m'] > 0 && rolled['15m'] > 0, JSON.stringify(rolled));
    assert.deepEqual(await rollUp(db, NOW), { '1m': 0, '15m': 0 }, 'closed buckets are rolled once');
    const oneMin = await querySeries(
      db,
      { kind: 'node', entityId: 'n1', metric: 'cpu_busy_pct', from: NOW - 2 * DAY_MS, to: NOW },
      NOW,
    );
    assert.equal(oneMin.resolution, '1m');
    assert.equal(oneMin.stepMs, MINUTE_MS);
    const expect1m = rollup(n1, MINUTE_MS);
    assert.equal(
      oneMin.points.length,
      expect1m.length,
      'rolled buckets + on-the-fly tail cover every minute',
    );
    oneMin.points.forEach((p, i) => {
      assert.equal(p.ts, expect1m[i].ts);
      assert.ok(close(p.value, expect1m[i].avg), `1m avg ${p.value} vs ${expect1m[i].avg}`);
      assert.ok(close(p.max!, expect1m[i].max));
    });

    const fifteen = await querySeries(
      db,
      { kind: 'node', entityId: 'n1', metric: 'cpu_busy_pct', from: NOW - 30 * DAY_MS, to: NOW },
      NOW,
    );
    assert.equal(fifteen.resolution, '15m');
    const expect15 = rollup(n1, 15 * MINUTE_MS);
    assert.equal(fifteen.points.length, expect15.length);
    fifteen.points.forEach((p, i) => {
      assert.equal(p.ts, expect15[i].ts);
      assert.ok(close(p.value, expect15[i].avg), `15m avg ${p.value} vs ${expect15[i].avg}`);
    });

    // Group aggregate over both nodes, aligned to minutes.
    const from = NOW - HOUR_MS;
    for (const fn of ['sum', 'avg'] as const) {
      const g = await aggregateGroup(
        db,
        { kind: 'node', entityIds: ['n1', 'n2'], metric: 'cpu_busy_pct', from, to: NOW, fn },
        NOW,
      );
      assert.equal(g.resolution, '1m');
      const per = (id: string): Map<number, number> => {
        const own = data.filter((r) => r.entityId === id && r.metric === 'cpu_busy_pct' && r.ts >= from);
        return new Map(rollup(own, MINUTE_MS).map((b) => [b.ts, b.avg]));
      };
      const a = per('n1');
      const b = per('n2');
      assert.equal(g.points.length, a.size);
      for (const p of g.points) {
        const both = a.get(p.ts)! + b.get(p.ts)!;
        assert.equal(p.entities, 2);
        assert.ok(close(p.value, fn === 'sum' ? both : both / 2), `${fn} ${p.value}`);
      }
    }
    assert.deepEqual(
      (
        await aggregateGroup(
          db,
          { kind: 'node', entityIds: [], metric: 'cpu_busy_pct', from, to: NOW, fn: 'sum' },
          NOW,
        )
      ).points,
      [],
    );

    // Latest values for exposition.
    const latest = await latestPoints(db, 'node', NOW - 10 * MINUTE_MS);
    assert.deepEqual(
      latest.map((l) => [l.entityId, l.metric, l.dim, l.ts]),
      [
        ['n1', 'cpu_busy_pct', '', NOW - STEP],
        ['n1', 'fs_used_bytes', '/var', NOW - 5000],
        ['n2', 'cpu_busy_pct', '', NOW - STEP + 3000],
      ],
    );
    assert.equal(latest[1].value, 1e12);
    assert.deepEqual(
      (await latestPoints(db, 'instance', 0)).map((l) => l.value),
      [4096],
    );

    // Retention: two days later raw rows are gone, rollups stay; 100 days later everything is gone.
    const later = await enforceRetention(db, NOW + 2 * DAY_MS);
    assert.equal(later.raw, data.length);
    assert.equal(later['1m'], 0);
    const afterRaw = await querySeries(
      db,
      { kind: 'node', entityId: 'n1', metric: 'cpu_busy_pct', from: NOW - 2 * HOUR_MS, to: NOW - HOUR_MS },
      NOW + 2 * DAY_MS,
    );
    assert.equal(afterRaw.resolution, '1m', 'expired raw range served from 1m rollups');
    assert.equal(afterRaw.points.length, 61);
    const gone = await enforceRetention(db, NOW + 100 * DAY_MS);
    assert.ok(gone['1m'] > 0 && gone['15m'] > 0);
    assert.deepEqual(await rollUp(db, NOW + 100 * DAY_MS), { '1m': 0, '15m': 0 });
  });
}
