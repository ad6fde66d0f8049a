/** Overcommit detection: which planned nodes end up with more requested than allocatable, with the numbers. */
import { formatBytes, formatCpu } from '../units.ts';
import type { CpuMemory, OvercommittedNode, Placement, SnapshotNode } from './types.ts';

export function findOvercommit(
  placements: readonly Placement[],
  nodesById: ReadonlyMap<string, SnapshotNode>,
  per: CpuMemory,
  held: boolean,
): OvercommittedNode[] {
  const found: OvercommittedNode[] = [];
  for (const placement of placements) {
    const node = nodesById.get(placement.nodeId) as SnapshotNode;
    const requestedAfter = {
      cpuMillis: node.requested.cpuMillis + placement.add * per.cpuMillis,
      memoryBytes: node.requested.memoryBytes + placement.add * per.memoryBytes,
    };
    const exceeds: OvercommittedNode['exceeds'] = [];
    if (requestedAfter.cpuMillis > node.allocatable.cpuMillis) exceeds.push('cpu');
    if (requestedAfter.memoryBytes > node.allocatable.memoryBytes) exceeds.push('memory');
    if (exceeds.length === 0) continue;
    found.push({
      nodeId: node.id,
      nodeName: node.name,
      exceeds,
      requestedAfter,
      allocatable: { ...node.allocatable },
      used: node.used ? { ...node.used } : null,
      held,
    });
  }
  return found;
}

/** "node-a: CPU requested 2500m of 2 allocatable (recent use 1200m); ... (held until overcommit is accepted)" */
export function describeOvercommit(o: OvercommittedNode): string {
  const parts = o.exceeds.map((resource) =>
    resource === 'cpu'
      ? `CPU requested ${formatCpu(o.requestedAfter.cpuMillis)} of ${formatCpu(o.allocatable.cpuMillis)} allocatable` +
        (o.used ? ` (recent use ${formatCpu(o.used.cpuMillis)})` : ' (recent use unknown)')
      : `memory requested ${formatBytes(o.requestedAfter.memoryBytes)} of ${formatBytes(o.allocatable.memoryBytes)} allocatable` +
        (o.used ? ` (recent use ${formatBytes(o.used.memoryBytes)})` : ' (recent use unknown)'),
  );
  const outcome = o.held ? 'held until overcommit is accepted' : 'overcommit accepted';
  return `node ${o.nodeName} would be overcommitted: ${parts.join('; ')}; ${outcome}`;
}
