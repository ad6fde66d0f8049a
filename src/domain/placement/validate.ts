/** Input checks for place(): every problem is collected, none stops the others. */
import { NODE_STATES } from './types.ts';
import type { CpuMemory, PlacementRequest, PlacementSnapshot, SnapshotNode } from './types.ts';

/** Upper bound on replicas, so a typo cannot make the planner run for minutes. */
export const MAX_REPLICAS = 1_000_000;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkCpuMemory(label: string, value: CpuMemory | undefined, problems: string[], positive = false) {
  if (typeof value !== 'object' || value === null) {
    problems.push(`${label} is missing`);
    return;
  }
  for (const field of ['cpuMillis', 'memoryBytes'] as const) {
    const v = value[field];
    if (!isCount(v) || (positive && v === 0))
      problems.push(
        `${label}.${field} must be a ${positive ? 'positive' : 'non-negative'} whole number, got ${v}`,
      );
  }
}

function checkNode(node: SnapshotNode, index: number, problems: string[]) {
  if (typeof node !== 'object' || node === null) {
    problems.push(`nodes[${index}] is not a node`);
    return;
  }
  const label = typeof node.id === 'string' && node.id !== '' ? `node "${node.id}"` : `nodes[${index}]`;
  if (typeof node.id !== 'string' || node.id === '') problems.push(`${label}: id must be a non-empty string`);
  if (typeof node.name !== 'string' || node.name === '')
    problems.push(`${label}: name must be a non-empty string`);
  if (!NODE_STATES.includes(node.state))
    problems.push(`${label}: state ${JSON.stringify(node.state)} is not one of ${NODE_STATES.join(', ')}`);
  checkCpuMemory(`${label}: allocatable`, node.allocatable, problems);
  checkCpuMemory(`${label}: requested`, node.requested, problems);
  if (node.used !== undefined) checkCpuMemory(`${label}: used`, node.used, problems);
  if (!isCount(node.appInstances))
    problems.push(`${label}: appInstances must be a non-negative whole number, got ${node.appInstances}`);
}

export function checkPlacementInput(snapshot: PlacementSnapshot, request: PlacementRequest): string[] {
  const problems: string[] = [];
  if (typeof request.app !== 'string' || request.app === '') problems.push('app must be a non-empty string');
  if (!isCount(request.replicas) || request.replicas > MAX_REPLICAS)
    problems.push(`replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${request.replicas}`);
  checkCpuMemory('resources', request.resources, problems, true);
  if (typeof request.acceptOvercommit !== 'boolean') problems.push('acceptOvercommit must be true or false');
  if (!Array.isArray(snapshot?.nodes)) {
    problems.push('snapshot.nodes must be a list');
    return problems;
  }
  const ids = new Set<string>();
  snapshot.nodes.forEach((node, index) => {
    checkNode(node, index, problems);
    if (typeof node !== 'object' || node === null) return;
    if (ids.has(node.id)) problems.push(`node "${node.id}" appears more than once`);
    ids.add(node.id);
  });
  return problems;
}
