/**
 * Timing of place() at scale. Run: npx node bench/placement.ts
 * Prints milliseconds per scenario (median of several runs, after a warm-up).
 */
import { place } from '../src/domain/placement.ts';
import type { PlacementRequest, SnapshotNode } from '../src/domain/placement.ts';

const GI = 1024 ** 3;

function group(count: number, existing: (i: number) => number): SnapshotNode[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `id-${i}`,
    name: `node-${String(i).padStart(5, '0')}`,
    state: i % 100 === 99 ? 'maintenance' : 'ready',
    allocatable: { cpuMillis: 64_000, memoryBytes: 256 * GI },
    requested: { cpuMillis: (i * 7919) % 32_000, memoryBytes: ((i * 104_729) % 128) * GI },
    appInstances: existing(i),
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(label: string, nodes: SnapshotNode[], request: PlacementRequest, runs = 7): void {
  place({ nodes }, request);
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const result = place({ nodes }, request);
    samples.push(performance.now() - start);
    if (!result.ok) throw new Error(`${label}: ${result.message}`);
  }
  console.log(`${label}: ${median(samples).toFixed(1)} ms (median of ${runs})`);
}

const per = { cpuMillis: 100, memoryBytes: 128 * 1024 ** 2 };
const base = { app: 'bench', resources: per, acceptOvercommit: false };

time(
  '10 000 nodes, 100 000 new instances',
  group(10_000, () => 0),
  { ...base, replicas: 100_000 },
);
const uneven = group(10_000, (i) => (i * 31) % 20);
const existing = uneven.reduce((s, n) => s + n.appInstances, 0);
time('10 000 nodes, +100 000 instances on an uneven start', uneven, {
  ...base,
  replicas: existing + 100_000,
});
time(
  '10 000 nodes, 1 000 000 new instances',
  group(10_000, () => 0),
  { ...base, replicas: 1_000_000 },
  3,
);
time(
  '3 nodes, 5 instances',
  group(3, () => 0),
  { ...base, replicas: 5 },
);
