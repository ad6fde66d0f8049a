import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { place } from '../../src/domain/placement.ts';
import type {
  CpuMemory,
  NodeState,
  PlacementPlan,
  PlacementRequest,
  SnapshotNode,
} from '../../src/domain/placement.ts';

const GI = 1024 ** 3;
const RUNS = { numRuns: 300 };

const stateArb: fc.Arbitrary<NodeState> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<NodeState>('ready') },
  { weight: 1, arbitrary: fc.constantFrom<NodeState>('maintenance', 'unreachable', 'host-key-mismatch') },
);

function nodeArb(withExisting: boolean): fc.Arbitrary<Omit<SnapshotNode, 'id'>> {
  return fc
    .record({
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'node-1', 'node-10', 'node-2'),
      state: stateArb,
      cpu: fc.integer({ min: 0, max: 16_000 }),
      mem: fc.integer({ min: 0, max: 32 }),
      cpuShare: fc.double({ min: 0, max: 1.2, noNaN: true }),
      memShare: fc.double({ min: 0, max: 1.2, noNaN: true }),
      used: fc.option(fc.record({ cpuMillis: fc.nat(20_000), memoryBytes: fc.nat(40 * GI) }), {
        nil: undefined,
      }),
      appInstances: withExisting ? fc.nat(6) : fc.constant(0),
    })
    .map(({ name, state, cpu, mem, cpuShare, memShare, used, appInstances }) => ({
      name,
      state,
      allocatable: { cpuMillis: cpu, memoryBytes: mem * GI },
      requested: { cpuMillis: Math.floor(cpu * cpuShare), memoryBytes: Math.floor(mem * GI * memShare) },
      ...(used ? { used: { ...used } } : {}),
      appInstances,
    }));
}

function nodesArb(withExisting: boolean): fc.Arbitrary<SnapshotNode[]> {
  return fc
    .array(nodeArb(withExisting), { minLength: 0, maxLength: 12 })
    .map((nodes) => nodes.map((n, i) => ({ id: `n${i}`, ...n })));
}

const perArb: fc.Arbitrary<CpuMemory> = fc.record({
  cpuMillis: fc.integer({ min: 1, max: 4000 }),
  memoryBytes: fc.integer({ min: 1, max: 8 * GI }),
});

/** Desired total = existing + delta, so the request is always a scale-up (or no-op). */
const caseArb = (withExisting: boolean) =>
  fc.record({
    nodes: nodesArb(withExisting),
    delta: fc.nat(40),
    per: perArb,
    accept: fc.boolean(),
  });

function requestFor(
  nodes: readonly SnapshotNode[],
  delta: number,
  per: CpuMemory,
  accept: boolean,
): PlacementRequest {
  const existing = nodes.reduce((s, n) => s + n.appInstances, 0);
  return { app: 'app', replicas: existing + delta, resources: per, acceptOvercommit: accept };
}

function addedPerNode(p: PlacementPlan): Map<string, number> {
  return new Map(p.proposed.map((x) => [x.nodeId, x.add]));
}

/** Independent re-computation of the allocation share after placement. */
function shareAfter(n: SnapshotNode, add: number, per: CpuMemory): number {
  const part = (req: number, alloc: number) => (alloc > 0 ? req / alloc : req > 0 ? Infinity : 0);
  return Math.max(
    part(n.requested.cpuMillis + add * per.cpuMillis, n.allocatable.cpuMillis),
    part(n.requested.memoryBytes + add * per.memoryBytes, n.allocatable.memoryBytes),
  );
}

test('replicas are honoured; only ready nodes receive instances; no usable node means unavailable', () => {
  fc.assert(
    fc.property(caseArb(true), ({ nodes, delta, per, accept }) => {
      const r = place({ nodes }, requestFor(nodes, delta, per, accept));
      const ready = nodes.filter((n) => n.state === 'ready');
      if (delta > 0 && ready.length === 0) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.equal(r.code, 'unavailable');
        return;
      }
      assert.ok(r.ok);
      assert.equal(r.added, delta);
      assert.equal(
        r.proposed.reduce((s, x) => s + x.add, 0),
        delta,
      );
      const readyIds = new Set(ready.map((n) => n.id));
      for (const x of r.proposed) assert.ok(readyIds.has(x.nodeId), `${x.nodeId} is not ready`);
      assert.equal(r.skipped.length, nodes.length - ready.length);
    }),
    RUNS,
  );
});

test('spread holds: starting empty, per-node counts among ready nodes differ by at most one', () => {
  fc.assert(
    fc.property(caseArb(false), ({ nodes, delta, per, accept }) => {
      const r = place({ nodes }, requestFor(nodes, delta, per, accept));
      if (!r.ok) return;
      const added = addedPerNode(r);
      const counts = nodes.filter((n) => n.state === 'ready').map((n) => added.get(n.id) ?? 0);
      if (counts.length === 0) return;
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `uneven spread ${counts}`);
    }),
    RUNS,
  );
});

test('spread holds with existing instances: a node that gets more ends at most one above the emptiest', () => {
  fc.assert(
    fc.property(caseArb(true), ({ nodes, delta, per, accept }) => {
      const r = place({ nodes }, requestFor(nodes, delta, per, accept));
      if (!r.ok) return;
      const added = addedPerNode(r);
      const ready = nodes.filter((n) => n.state === 'ready');
      const finals = ready.map((n) => n.appInstances + (added.get(n.id) ?? 0));
      const lowest = Math.min(...finals);
      for (const n of ready) {
        const add = added.get(n.id) ?? 0;
        if (add > 0) assert.ok(n.appInstances + add <= lowest + 1, `${n.id} over-filled`);
      }
    }),
    RUNS,
  );
});

test('least allocated: with fewer new instances than ready empty nodes, chosen nodes are no more loaded', () => {
  fc.assert(
    fc.property(caseArb(false), ({ nodes, delta, per, accept }) => {
      const ready = nodes.filter((n) => n.state === 'ready');
      if (delta >= ready.length) return;
      const r = place({ nodes }, requestFor(nodes, delta, per, accept));
      assert.ok(r.ok);
      const added = addedPerNode(r);
      const chosen = ready.filter((n) => added.has(n.id)).map((n) => shareAfter(n, 1, per));
      const others = ready.filter((n) => !added.has(n.id)).map((n) => shareAfter(n, 1, per));
      if (chosen.length && others.length) assert.ok(Math.max(...chosen) <= Math.min(...others));
    }),
    RUNS,
  );
});

test('no silent overcommit: every overcommitted node is reported with its numbers, and held unless accepted', () => {
  fc.assert(
    fc.property(caseArb(true), ({ nodes, delta, per, accept }) => {
      const r = place({ nodes }, requestFor(nodes, delta, per, accept));
      if (!r.ok) return;
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const expected = r.proposed
        .map((x) => {
          const n = byId.get(x.nodeId) as SnapshotNode;
          const after = {
            cpuMillis: n.requested.cpuMillis + x.add * per.cpuMillis,
            memoryBytes: n.requested.memoryBytes + x.add * per.memoryBytes,
          };
          return { n, after };
        })
        .filter(
          ({ n, after }) =>
            after.cpuMillis > n.allocatable.cpuMillis || after.memoryBytes > n.allocatable.memoryBytes,
        );
      assert.deepEqual(
        r.overcommit.nodes.map((o) => [o.nodeId, o.requestedAfter, o.allocatable, o.used, o.held]),
        expected.map(({ n, after }) => [n.id, after, n.allocatable, n.used ?? null, !accept]),
      );
      assert.equal(r.warnings.filter((w) => w.includes('would be overcommitted')).length, expected.length);
      if (!accept) {
        for (const x of r.placements) {
          const n = byId.get(x.nodeId) as SnapshotNode;
          assert.ok(n.requested.cpuMillis + x.add * per.cpuMillis <= n.allocatable.cpuMillis);
          assert.ok(n.requested.memoryBytes + x.add * per.memoryBytes <= n.allocatable.memoryBytes);
        }
        assert.equal(r.held, expected.length > 0);
      } else {
        assert.equal(r.held, false);
        assert.deepEqual(r.placements, r.proposed);
      }
    }),
    RUNS,
  );
});

test('deterministic and independent of node order', () => {
  const shuffled = caseArb(true).chain((c) =>
    fc.record({
      c: fc.constant(c),
      order: fc.shuffledSubarray(c.nodes, { minLength: c.nodes.length, maxLength: c.nodes.length }),
    }),
  );
  fc.assert(
    fc.property(shuffled, ({ c, order }) => {
      const req = requestFor(c.nodes, c.delta, c.per, c.accept);
      const first = place({ nodes: c.nodes }, req);
      assert.deepEqual(place({ nodes: c.nodes }, req), first);
      assert.deepEqual(place({ nodes: order }, req), first);
    }),
    RUNS,
  );
});
