/**
 * Spread first, then least allocated.
 *
 * Each new instance goes to the usable node with the fewest instances of the app (existing ones included), so the
 * counts fill up evenly like water. Among nodes with equal counts the least allocated one wins: the node whose
 * allocation after taking the instance, max(cpu requested / cpu allocatable, memory requested / memory
 * allocatable), is lowest. Remaining ties go to the node name, then the id, compared by code unit (no locale),
 * so the result does not depend on the order of the input.
 *
 * Cost: O(n log n) to order the nodes plus O(log n) per instance, using a heap whose top is the next target.
 */
import { IndexMinHeap } from './min-heap.ts';
import type { CpuMemory, SnapshotNode } from './types.ts';

/** Orders nodes by name, then id, by code unit. */
export function compareNodes(a: SnapshotNode, b: SnapshotNode): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

function share(requested: number, allocatable: number): number {
  if (allocatable > 0) return requested / allocatable;
  return requested > 0 ? Infinity : 0;
}

/** The node's allocation after `extra` more instances of size `per`: 1 means exactly full, above 1 overcommitted. */
export function allocationAfter(node: SnapshotNode, extra: number, per: CpuMemory): number {
  return Math.max(
    share(node.requested.cpuMillis + extra * per.cpuMillis, node.allocatable.cpuMillis),
    share(node.requested.memoryBytes + extra * per.memoryBytes, node.allocatable.memoryBytes),
  );
}

/** Returns how many new instances each node gets, index-aligned with `nodes`. All nodes are taken as usable. */
export function spreadInstances(nodes: readonly SnapshotNode[], count: number, per: CpuMemory): number[] {
  const n = nodes.length;
  const added = new Array<number>(n).fill(0);
  if (count <= 0 || n === 0) return added;
  const instances = new Float64Array(n);
  const nextAllocation = new Float64Array(n);
  const rank = new Int32Array(n);
  const byName = [...nodes.keys()].sort((a, b) => compareNodes(nodes[a], nodes[b]));
  byName.forEach((nodeIndex, position) => (rank[nodeIndex] = position));
  for (let i = 0; i < n; i++) {
    instances[i] = nodes[i].appInstances;
    nextAllocation[i] = allocationAfter(nodes[i], 1, per);
  }
  const less = (a: number, b: number) =>
    instances[a] !== instances[b]
      ? instances[a] < instances[b]
      : nextAllocation[a] !== nextAllocation[b]
        ? nextAllocation[a] < nextAllocation[b]
        : rank[a] < rank[b];
  const heap = new IndexMinHeap(less, byName);
  for (let placed = 0; placed < count; placed++) {
    const target = heap.peek() as number;
    added[target]++;
    instances[target]++;
    nextAllocation[target] = allocationAfter(nodes[target], added[target] + 1, per);
    heap.topIncreased();
  }
  return added;
}
