// Property tests of volume pinning in place(): an instance with a volume never moves without its data, at most one
// instance per node, new data only where it fits, refusals list every node with numbers, and apps without volumes
// place exactly as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { place } from '../../src/domain/placement.ts';
import type { NodeState, PlacementRequest, SnapshotNode } from '../../src/domain/placement.ts';

const GI = 1024 ** 3;
const RUNS = { numRuns: 400 };

const stateArb: fc.Arbitrary<NodeState> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<NodeState>('ready') },
  { weight: 1, arbitrary: fc.constantFrom<NodeState>('maintenance', 'unreachable', 'host-key-mismatch') },
);

const nodesArb: fc.Arbitrary<SnapshotNode[]> = fc
  .array(
    fc.record({
      state: stateArb,
      holder: fc.boolean(),
      running: fc.boolean(),
      free: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
      cpu: fc.integer({ min: 1000, max: 8000 }),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    { maxLength: 10 },
  )
  .map((rows) =>
    rows.map((r, i) => ({
      id: `n${i}`,
      name: `node-${(i * 7) % 10}${i}`,
      state: r.state,
      allocatable: { cpuMillis: r.cpu, memoryBytes: 16 * GI },
      requested: { cpuMillis: Math.floor(r.cpu * r.share), memoryBytes: Math.floor(16 * GI * r.share) },
      // An instance runs only where its data is (a holder); it can be counted on a node that is not ready.
      appInstances: r.holder && r.running ? 1 : 0,
      volumeHolder: r.holder,
      ...(r.free !== undefined ? { volumeFreeBytes: r.free * GI } : {}),
    })),
  );

const caseArb = fc.record({
  nodes: nodesArb,
  delta: fc.nat(6),
  need: fc.integer({ min: 1, max: 30 }),
  abandonSome: fc.boolean(),
});

function request(nodes: SnapshotNode[], delta: number, need: number, abandon: string[]): PlacementRequest {
  const existing = nodes.reduce((s, n) => s + n.appInstances, 0);
  return {
    app: 'db',
    replicas: existing + delta,
    resources: { cpuMillis: 100, memoryBytes: 64 * 1024 * 1024 },
    acceptOvercommit: true,
    volumes: { bytesPerInstance: need * GI, ...(abandon.length ? { abandon } : {}) },
  };
}

const abandonOf = (nodes: SnapshotNode[], some: boolean) =>
  some ? nodes.filter((n) => n.volumeHolder && n.state !== 'ready').map((n) => n.id) : [];

test('an instance with a volume never moves without its data', () => {
  fc.assert(
    fc.property(caseArb, ({ nodes, delta, need, abandonSome }) => {
      const abandon = abandonOf(nodes, abandonSome);
      const r = place({ nodes }, request(nodes, delta, need, abandon));
      if (!r.ok) return;
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const placedOn = new Set(r.placements.map((p) => p.nodeId));
      const freshPlacements = r.placements.filter((p) => !byId.get(p.nodeId)!.volumeHolder);
      if (freshPlacements.length === 0) return;
      // New data is only made when every (not abandoned) holder already has its instance back.
      for (const n of nodes)
        if (n.volumeHolder && !abandon.includes(n.id))
          assert.ok(
            n.appInstances > 0 || placedOn.has(n.id),
            `${n.id} holds data but got no instance while ${freshPlacements.map((p) => p.nodeId)} got new volumes`,
          );
    }),
    RUNS,
  );
});

test('one instance per node, only on ready nodes, new volumes only where they fit', () => {
  fc.assert(
    fc.property(caseArb, ({ nodes, delta, need, abandonSome }) => {
      const r = place({ nodes }, request(nodes, delta, need, abandonOf(nodes, abandonSome)));
      if (!r.ok) return;
      assert.equal(r.added, delta);
      assert.equal(
        r.placements.reduce((s, p) => s + p.add, 0),
        delta,
      );
      for (const p of r.placements) {
        const n = nodes.find((x) => x.id === p.nodeId)!;
        assert.equal(p.add, 1);
        assert.equal(n.appInstances, 0, `${n.id} already runs one`);
        assert.equal(n.state, 'ready');
        if (!n.volumeHolder) assert.ok((n.volumeFreeBytes ?? -1) >= need * GI, `${n.id} has no room`);
      }
    }),
    RUNS,
  );
});

test('a refusal is justified and lists every node with its numbers', () => {
  fc.assert(
    fc.property(caseArb, ({ nodes, delta, need, abandonSome }) => {
      const abandon = abandonOf(nodes, abandonSome);
      const r = place({ nodes }, request(nodes, delta, need, abandon));
      if (r.ok || r.code === 'invalid') return;
      const returning = nodes.filter(
        (n) => n.volumeHolder && !abandon.includes(n.id) && n.state === 'ready' && n.appInstances === 0,
      ).length;
      const fits = nodes.filter(
        (n) =>
          !(n.volumeHolder && !abandon.includes(n.id)) &&
          n.state === 'ready' &&
          n.appInstances === 0 &&
          (n.volumeFreeBytes ?? -1) >= need * GI,
      ).length;
      const stranded = nodes.filter(
        (n) => n.volumeHolder && !abandon.includes(n.id) && n.state !== 'ready' && n.appInstances === 0,
      );
      if (r.code === 'pinned') {
        assert.ok(delta > returning && stranded.length > 0);
        for (const s of stranded) assert.ok(r.message.includes(s.name));
      } else {
        assert.equal(r.code, 'no-space');
        assert.ok(delta > returning + fits, `${delta} > ${returning} + ${fits}`);
        assert.equal(r.volumeNodes?.length, nodes.length, 'every node has a verdict');
        for (const n of nodes.filter(
          (x) => x.state === 'ready' && x.volumeFreeBytes !== undefined && !x.volumeHolder,
        ))
          if (n.appInstances === 0 && n.volumeFreeBytes! < need * GI)
            assert.match(r.problems.join('\n'), new RegExp(`${n.name}: needs \\d+Gi for new volumes, has`));
      }
    }),
    RUNS,
  );
});

test('the result does not depend on node order', () => {
  fc.assert(
    fc.property(caseArb, fc.nat(), ({ nodes, delta, need }, seed) => {
      const shuffled = [...nodes].sort(
        (a, b) => ((a.id.length * 31 + seed) % 7) - ((b.id.length * 17 + seed) % 5),
      );
      const a = place({ nodes }, request(nodes, delta, need, []));
      const b = place({ nodes: shuffled }, request(shuffled, delta, need, []));
      assert.deepEqual(a.ok ? a.placements : a.code, b.ok ? b.placements : b.code);
    }),
    RUNS,
  );
});

test('without volumes in the request, volume facts on nodes change nothing (a pure extension)', () => {
  fc.assert(
    fc.property(caseArb, ({ nodes, delta }) => {
      const plain = nodes.map(({ volumeHolder: _h, volumeFreeBytes: _f, ...n }) => n);
      const req = { ...request(nodes, delta, 1, []), volumes: undefined };
      assert.deepEqual(place({ nodes }, req), place({ nodes: plain }, req));
    }),
    RUNS,
  );
});

test('a deploy whose volume fits nowhere is refused with per-node numbers', () => {
  const nodes: SnapshotNode[] = ['n1', 'n2', 'n3'].map((name, i) => ({
    id: name,
    name,
    state: i === 2 ? 'unreachable' : 'ready',
    allocatable: { cpuMillis: 2000, memoryBytes: 4 * GI },
    requested: { cpuMillis: 0, memoryBytes: 0 },
    appInstances: 0,
    volumeFreeBytes: (i + 1) * GI,
  }));
  const r = place({ nodes }, request(nodes, 1, 5, []));
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, 'no-space');
  assert.deepEqual(r.problems, [
    'n1: needs 5Gi for new volumes, has 1Gi free',
    'n2: needs 5Gi for new volumes, has 2Gi free',
    'n3: is unreachable',
  ]);
});

test('a lost holder pins its instance; abandoning its data lets it go elsewhere', () => {
  const mk = (name: string, state: NodeState, holder: boolean): SnapshotNode => ({
    id: name,
    name,
    state,
    allocatable: { cpuMillis: 2000, memoryBytes: 4 * GI },
    requested: { cpuMillis: 0, memoryBytes: 0 },
    appInstances: 0,
    volumeHolder: holder,
    volumeFreeBytes: 10 * GI,
  });
  const nodes = [mk('n1', 'unreachable', true), mk('n2', 'ready', false)];
  const r = place({ nodes }, request(nodes, 1, 1, []));
  assert.equal(r.ok ? 'ok' : r.code, 'pinned');
  assert.match(r.ok ? '' : r.message, /n1 \(unreachable\).*grim volume restore/);
  const moved = place({ nodes }, request(nodes, 1, 1, ['n1']));
  assert.ok(moved.ok);
  assert.deepEqual(
    moved.placements.map((p) => p.nodeId),
    ['n2'],
  );
});
