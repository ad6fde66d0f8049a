import { test } from 'node:test';
import assert from 'node:assert/strict';
import { place } from '../../src/domain/placement.ts';
import type {
  NodeState,
  PlacementPlan,
  PlacementRequest,
  PlacementResult,
  SnapshotNode,
} from '../../src/domain/placement.ts';

const GI = 1024 ** 3;

function node(name: string, opts: Partial<SnapshotNode> & { cpu?: number; mem?: number } = {}): SnapshotNode {
  const { cpu = 4000, mem = 8 * GI, ...rest } = opts;
  return {
    id: `id-${name}`,
    name,
    state: 'ready',
    allocatable: { cpuMillis: cpu, memoryBytes: mem },
    requested: { cpuMillis: 0, memoryBytes: 0 },
    appInstances: 0,
    ...rest,
  };
}

function request(replicas: number, extra: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    app: 'web',
    replicas,
    resources: { cpuMillis: 1000, memoryBytes: GI },
    acceptOvercommit: false,
    ...extra,
  };
}

function plan(result: PlacementResult): PlacementPlan {
  if (!result.ok) assert.fail(`expected a plan, got ${result.code}: ${result.message}`);
  return result;
}

const counts = (p: PlacementPlan) => Object.fromEntries(p.placements.map((x) => [x.nodeName, x.add]));

test('3 replicas on 3 nodes: one each', () => {
  const p = plan(place({ nodes: [node('a'), node('b'), node('c')] }, request(3)));
  assert.deepEqual(counts(p), { a: 1, b: 1, c: 1 });
  assert.equal(p.existing, 0);
  assert.equal(p.added, 3);
  assert.equal(p.held, false);
  assert.deepEqual(p.warnings, []);
});

test('4 replicas on 2 nodes: 2 + 2', () => {
  const p = plan(place({ nodes: [node('a'), node('b')] }, request(4)));
  assert.deepEqual(counts(p), { a: 2, b: 2 });
});

test('fewer replicas than nodes go to the least allocated nodes, name breaks exact ties', () => {
  const busy = node('a', { requested: { cpuMillis: 3000, memoryBytes: GI } });
  const p = plan(place({ nodes: [busy, node('c'), node('b')] }, request(2)));
  assert.deepEqual(counts(p), { b: 1, c: 1 });
  const q = plan(place({ nodes: [node('c'), node('b'), node('a')] }, request(1)));
  assert.deepEqual(counts(q), { a: 1 });
});

test('memory share counts as much as CPU share for least allocated', () => {
  const memHeavy = node('a', { requested: { cpuMillis: 0, memoryBytes: 6 * GI } });
  const cpuLight = node('b', { requested: { cpuMillis: 2000, memoryBytes: 0 } });
  // after one instance: a = max(1000/4000, 7/8) = 0.875, b = max(3000/4000, 1/8) = 0.75
  const p = plan(place({ nodes: [memHeavy, cpuLight] }, request(1)));
  assert.deepEqual(counts(p), { b: 1 });
});

test('scaling 3 -> 5 on 3 nodes adds to the least loaded nodes', () => {
  const nodes = [
    node('a', { appInstances: 1, requested: { cpuMillis: 3000, memoryBytes: 2 * GI } }),
    node('b', { appInstances: 1, requested: { cpuMillis: 1000, memoryBytes: GI } }),
    node('c', { appInstances: 1, requested: { cpuMillis: 2000, memoryBytes: GI } }),
  ];
  const p = plan(place({ nodes }, request(5)));
  assert.equal(p.existing, 3);
  assert.equal(p.added, 2);
  assert.deepEqual(p.placements, [
    { nodeId: 'id-b', nodeName: 'b', add: 1, totalAfter: 2 },
    { nodeId: 'id-c', nodeName: 'c', add: 1, totalAfter: 2 },
  ]);
});

test('existing instances count toward spread: uneven start fills the emptier nodes first', () => {
  const nodes = [node('a', { appInstances: 3 }), node('b'), node('c', { appInstances: 1 })];
  const p = plan(place({ nodes }, request(7)));
  assert.deepEqual(counts(p), { b: 2, c: 1 });
  assert.equal(place({ nodes }, request(4)).ok, true);
  const none = plan(place({ nodes }, request(4)));
  assert.deepEqual(none.placements, []);
});

test('non-ready nodes are skipped with the reason; their instances still count', () => {
  const states: NodeState[] = ['maintenance', 'unreachable', 'host-key-mismatch'];
  const nodes = [
    node('a'),
    ...states.map((state, i) => node(`z${i}`, { state, appInstances: i === 0 ? 1 : 0 })),
  ];
  const p = plan(place({ nodes }, request(3)));
  assert.deepEqual(counts(p), { a: 2 });
  assert.deepEqual(
    p.skipped.map((s) => [s.nodeName, s.state]),
    [
      ['z0', 'maintenance'],
      ['z1', 'unreachable'],
      ['z2', 'host-key-mismatch'],
    ],
  );
  assert.match(p.skipped[0].reason, /maintenance/);
  assert.match(p.skipped[1].reason, /unreachable/);
  assert.match(p.skipped[2].reason, /host key/);
  assert.match(
    p.warnings.join('\n'),
    /1 existing instances of app "web" are on nodes that are not ready.*z0/,
  );
});

test('no usable node is a clear unavailable error', () => {
  const r = place(
    { nodes: [node('a', { state: 'unreachable' }), node('b', { state: 'maintenance' })] },
    request(2),
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, 'unavailable');
  assert.equal(
    r.message,
    'no ready node in the group to place app "web" on: a (unreachable), b (maintenance)',
  );
  assert.equal(r.skipped.length, 2);
  const empty = place({ nodes: [] }, request(1));
  assert.equal(empty.ok, false);
  if (!empty.ok) assert.match(empty.message, /no nodes in the group/);
});

test('overcommit is held with the numbers unless accepted', () => {
  const nodes = [
    node('a', {
      cpu: 2000,
      mem: 4 * GI,
      requested: { cpuMillis: 1500, memoryBytes: 3.5 * GI },
      used: { cpuMillis: 800, memoryBytes: 2 * GI },
    }),
    node('b', { cpu: 2000, mem: 4 * GI, requested: { cpuMillis: 500, memoryBytes: GI } }),
  ];
  const held = plan(place({ nodes }, request(2)));
  assert.equal(held.held, true);
  assert.deepEqual(held.placements, [], 'nothing may be applied while held');
  assert.deepEqual(
    held.proposed.map((x) => [x.nodeName, x.add]),
    [
      ['a', 1],
      ['b', 1],
    ],
  );
  assert.deepEqual(held.overcommit, {
    held: true,
    nodes: [
      {
        nodeId: 'id-a',
        nodeName: 'a',
        exceeds: ['cpu', 'memory'],
        requestedAfter: { cpuMillis: 2500, memoryBytes: 4.5 * GI },
        allocatable: { cpuMillis: 2000, memoryBytes: 4 * GI },
        used: { cpuMillis: 800, memoryBytes: 2 * GI },
        held: true,
      },
    ],
  });
  assert.deepEqual(held.warnings, [
    'node a would be overcommitted: CPU requested 2500m of 2 allocatable (recent use 800m); ' +
      'memory requested 4608Mi of 4Gi allocatable (recent use 2Gi); held until overcommit is accepted',
  ]);

  const accepted = plan(place({ nodes }, request(2, { acceptOvercommit: true })));
  assert.equal(accepted.held, false);
  assert.deepEqual(accepted.placements, accepted.proposed);
  assert.equal(accepted.placements.length, 2);
  assert.equal(accepted.overcommit.nodes.length, 1);
  assert.equal(accepted.overcommit.nodes[0].held, false);
  assert.match(accepted.warnings[0], /node a would be overcommitted: .*overcommit accepted$/);
});

test('least allocated keeps instances off a node that would overcommit when spread allows it', () => {
  const full = node('a', { cpu: 1000, requested: { cpuMillis: 900, memoryBytes: 0 } });
  const p = plan(place({ nodes: [full, node('b'), node('c')] }, request(2)));
  assert.deepEqual(counts(p), { b: 1, c: 1 });
  assert.equal(p.held, false);
});

test('overcommit without known usage says so', () => {
  const p = plan(place({ nodes: [node('a', { cpu: 500 })] }, request(1)));
  assert.equal(p.overcommit.nodes[0].used, null);
  assert.match(p.warnings[0], /CPU requested 1 of 500m allocatable \(recent use unknown\)/);
});

test('invalid input collects every problem', () => {
  const bad = node('a', { allocatable: { cpuMillis: -1, memoryBytes: 1.5 } });
  const r = place(
    { nodes: [bad, node('a'), { ...node('b'), state: 'gone' as NodeState }] },
    {
      app: '',
      replicas: -1,
      resources: { cpuMillis: 0, memoryBytes: GI },
      acceptOvercommit: false,
    },
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, 'invalid');
  assert.deepEqual(r.problems, [
    'app must be a non-empty string',
    'replicas must be a whole number from 0 to 1000000, got -1',
    'resources.cpuMillis must be a positive whole number, got 0',
    'node "id-a": allocatable.cpuMillis must be a non-negative whole number, got -1',
    'node "id-a": allocatable.memoryBytes must be a non-negative whole number, got 1.5',
    'node "id-a" appears more than once',
    'node "id-b": state "gone" is not one of ready, unreachable, maintenance, host-key-mismatch',
  ]);
});

test('scaling down is refused: it is not a placement', () => {
  const r = place({ nodes: [node('a', { appInstances: 3 })] }, request(2));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /already has 3 instances, more than the 2 replicas/);
});

/** Deterministic pseudo-random numbers (mulberry32) so the large cases are reproducible. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function largeGroup(count: number, rand: () => number, existing: () => number): SnapshotNode[] {
  return Array.from({ length: count }, (_, i) =>
    node(`node-${String(i).padStart(5, '0')}`, {
      cpu: 64_000,
      mem: 256 * GI,
      requested: { cpuMillis: Math.floor(rand() * 32_000), memoryBytes: Math.floor(rand() * 128 * GI) },
      appInstances: existing(),
    }),
  );
}

test('10 000 nodes x 100 000 instances: exactly 10 each, within capacity', () => {
  const nodes = largeGroup(10_000, random(1), () => 0);
  const p = plan(
    place({ nodes }, request(100_000, { resources: { cpuMillis: 100, memoryBytes: 128 * 1024 ** 2 } })),
  );
  assert.equal(p.placements.length, 10_000);
  assert.ok(p.placements.every((x) => x.add === 10 && x.totalAfter === 10));
  assert.equal(p.held, false);
  assert.deepEqual(p.overcommit.nodes, []);
});

test('10 000 nodes, scaling by 100 000 from an uneven start: water-filled and least allocated first', () => {
  const rand = random(7);
  const nodes = largeGroup(10_000, rand, () => Math.floor(rand() * 20));
  const existing = nodes.reduce((s, n) => s + n.appInstances, 0);
  const per = { cpuMillis: 100, memoryBytes: 64 * 1024 ** 2 };
  const p = plan(place({ nodes: [...nodes].reverse() }, request(existing + 100_000, { resources: per })));
  assert.equal(
    p.placements.reduce((s, x) => s + x.add, 0),
    100_000,
  );
  const added = new Map(p.placements.map((x) => [x.nodeId, x.add]));
  const finals = nodes.map((n) => n.appInstances + (added.get(n.id) ?? 0));
  const lowest = Math.min(...finals);
  nodes.forEach((n, i) => {
    if (added.has(n.id)) assert.ok(finals[i] <= lowest + 1, `${n.name} over-filled`);
    else assert.ok(n.appInstances >= lowest, `${n.name} was left below the level`);
  });
  // Among nodes ending on the top level after receiving, those at lowest + 1 must be no more loaded than
  // those left at `lowest` that also received instances (least allocated breaks spread ties).
  const load = (n: SnapshotNode, add: number) =>
    Math.max(
      (n.requested.cpuMillis + add * per.cpuMillis) / n.allocatable.cpuMillis,
      (n.requested.memoryBytes + add * per.memoryBytes) / n.allocatable.memoryBytes,
    );
  let worstTop = -Infinity;
  let bestLow = Infinity;
  nodes.forEach((n, i) => {
    const add = added.get(n.id) ?? 0;
    if (add === 0) return;
    if (finals[i] === lowest + 1) worstTop = Math.max(worstTop, load(n, add));
    else bestLow = Math.min(bestLow, load(n, add + 1));
  });
  assert.ok(worstTop <= bestLow, `tie-break by least allocated violated: ${worstTop} > ${bestLow}`);
});
