import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bucketStart,
  chooseResolution,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  rollup,
  rollupBuckets,
} from '../../src/domain/metrics/rollup.ts';

const T0 = Date.UTC(2025, 0, 1);

test('rollup averages and maxes the raw samples of each bucket', () => {
  const pts = [
    { ts: T0 + 1_000, value: 10 },
    { ts: T0 + 15_000, value: 20 },
    { ts: T0 + 59_999, value: 60 },
    { ts: T0 + 60_000, value: 5 },
    { ts: T0 + 61_000, value: 7 },
  ];
  assert.deepEqual(rollup(pts, MINUTE_MS), [
    { ts: T0, avg: 30, max: 60, count: 3 },
    { ts: T0 + MINUTE_MS, avg: 6, max: 7, count: 2 },
  ]);
});

test('bucketStart floors to the bucket boundary', () => {
  assert.equal(bucketStart(T0 + 14 * MINUTE_MS + 59_999, 15 * MINUTE_MS), T0);
  assert.equal(bucketStart(T0 + 15 * MINUTE_MS, 15 * MINUTE_MS), T0 + 15 * MINUTE_MS);
});

const samples = fc.array(
  fc.record({
    ts: fc.integer({ min: T0, max: T0 + 2 * HOUR_MS }),
    value: fc.double({ min: 0, max: 1e9, noNaN: true }),
  }),
  { minLength: 1, maxLength: 300 },
);

test('property: each 1m/15m rollup average equals the average of its raw samples (within rounding)', () => {
  fc.assert(
    fc.property(samples, (pts) => {
      for (const size of [MINUTE_MS, 15 * MINUTE_MS]) {
        const buckets = rollup(pts, size);
        assert.equal(
          buckets.reduce((n, b) => n + b.count, 0),
          pts.length,
        );
        for (const b of buckets) {
          const inside = pts.filter((p) => p.ts >= b.ts && p.ts < b.ts + size).map((p) => p.value);
          const mean = inside.reduce((a, v) => a + v, 0) / inside.length;
          assert.equal(b.count, inside.length);
          assert.ok(Math.abs(b.avg - mean) <= 1e-9 * Math.max(1, Math.abs(mean)), `${b.avg} vs ${mean}`);
          assert.equal(b.max, Math.max(...inside));
        }
      }
    }),
  );
});

test('property: 15m rollups built from 1m rollups equal 15m rollups built from raw', () => {
  fc.assert(
    fc.property(samples, (pts) => {
      const direct = rollup(pts, 15 * MINUTE_MS);
      const twoStep = rollupBuckets(rollup(pts, MINUTE_MS), 15 * MINUTE_MS);
      assert.equal(twoStep.length, direct.length);
      direct.forEach((d, i) => {
        assert.equal(twoStep[i].ts, d.ts);
        assert.equal(twoStep[i].count, d.count);
        assert.equal(twoStep[i].max, d.max);
        assert.ok(Math.abs(twoStep[i].avg - d.avg) <= 1e-9 * Math.max(1, d.avg));
      });
    }),
  );
});

test('chooseResolution: raw up to 6 h, 1m up to 7 d, 15m beyond, and never a resolution whose rows expired', () => {
  const now = T0 + 100 * DAY_MS;
  assert.equal(chooseResolution(now - HOUR_MS, now, now).resolution, 'raw');
  assert.equal(chooseResolution(now - 6 * HOUR_MS, now, now).resolution, 'raw');
  assert.equal(chooseResolution(now - 6 * HOUR_MS - 1, now, now).resolution, '1m');
  assert.equal(chooseResolution(now - 7 * DAY_MS, now, now).resolution, '1m');
  assert.equal(chooseResolution(now - 7 * DAY_MS - 1, now, now).resolution, '15m');
  assert.equal(chooseResolution(now - 3 * DAY_MS, now - 3 * DAY_MS + HOUR_MS, now).resolution, '1m');
  assert.equal(chooseResolution(now - 30 * DAY_MS, now - 30 * DAY_MS + HOUR_MS, now).resolution, '15m');
  assert.throws(() => chooseResolution(now, now - 1, now), /invalid range/);
});
