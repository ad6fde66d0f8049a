// The lease state machine: at any moment at most one holder's fence admits writes, tokens only grow, and
// a holder that lost the lease (expired, taken over) can never write again with its old token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideLease, fenceAdmits, releaseAdmits, type LeaseRecord } from '../../src/domain/lease.ts';

const TTL = 100;

test('a fresh lease starts at token 1; the holder renews with the same token', () => {
  const a = decideLease(undefined, 'a', 1000, TTL);
  assert.deepEqual(a, { kind: 'acquire', token: 1, expiresAt: 1100 });
  const rec: LeaseRecord = { holder: 'a', token: 1, expiresAt: 1100 };
  assert.deepEqual(decideLease(rec, 'a', 1050, TTL), { kind: 'renew', token: 1, expiresAt: 1150 });
  assert.deepEqual(decideLease(rec, 'b', 1050, TTL), { kind: 'held', holder: 'a', expiresAt: 1100 });
  assert.deepEqual(decideLease(rec, 'b', 1100, TTL), {
    kind: 'takeover',
    token: 2,
    expiresAt: 1200,
    from: 'a',
  });
  // Even the old holder gets a new token after expiry: what ran under token 1 is fenced off.
  assert.deepEqual(decideLease(rec, 'a', 1200, TTL), {
    kind: 'takeover',
    token: 2,
    expiresAt: 1300,
    from: 'a',
  });
  assert.throws(() => decideLease(undefined, 'a', 0, 0), RangeError);
});

test('fences and releases admit only the current holder and token', () => {
  const rec: LeaseRecord = { holder: 'a', token: 3, expiresAt: 500 };
  assert.equal(fenceAdmits(rec, 'a', 3, 499), true);
  assert.equal(fenceAdmits(rec, 'a', 3, 500), false, 'expired');
  assert.equal(fenceAdmits(rec, 'a', 2, 400), false, 'old token');
  assert.equal(fenceAdmits(rec, 'b', 3, 400), false, 'other holder');
  assert.equal(fenceAdmits(undefined, 'a', 1, 0), false);
  assert.equal(releaseAdmits(rec, 'a', 3), true);
  assert.equal(releaseAdmits(rec, 'a', 2), false);
});

type Op = { who: string; dt: number; kind: 'ask' | 'release' | 'write' };

test('property: whatever the interleaving, one writer at a time and tokens never go back', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          who: fc.constantFrom('a', 'b', 'c'),
          dt: fc.integer({ min: 0, max: 150 }),
          kind: fc.constantFrom<Op['kind']>('ask', 'release', 'write'),
        }),
        { maxLength: 80 },
      ),
      (ops) => {
        let now = 0;
        let rec: LeaseRecord | undefined;
        /** The token each instance believes it holds. */
        const believed = new Map<string, number>();
        let maxToken = 0;
        for (const op of ops) {
          now += op.dt;
          if (op.kind === 'ask') {
            const d = decideLease(rec, op.who, now, TTL);
            if (d.kind === 'held') continue;
            assert.ok(d.token >= maxToken, 'tokens never go back');
            if (d.kind === 'takeover') assert.ok(d.token > (rec?.token ?? 0));
            maxToken = d.token;
            rec = { holder: op.who, token: d.token, expiresAt: d.expiresAt };
            believed.set(op.who, d.token);
          } else if (op.kind === 'release') {
            const t = believed.get(op.who);
            if (t !== undefined && releaseAdmits(rec, op.who, t)) rec = { ...rec!, expiresAt: 0 };
            believed.delete(op.who);
          } else {
            // Everyone who believes they hold the lease tries to write: at most one is admitted,
            // and only with the newest token.
            const admitted = [...believed].filter(([who, t]) => fenceAdmits(rec, who, t, now));
            assert.ok(admitted.length <= 1, `two writers: ${JSON.stringify(admitted)}`);
            for (const [, t] of admitted) assert.equal(t, maxToken);
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});
