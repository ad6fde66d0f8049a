/**
 * Builds the placement snapshot of an app's group from the store, runs place() on it and turns the result
 * into a rollout plan. Held (overcommit) and impossible placements come back as DomainErrors with numbers.
 */
import { DomainError } from '../../domain/errors.ts';
import { place, type CpuMemory, type SnapshotNode } from '../../domain/placement.ts';
import {
  keptInstances,
  planRollout,
  type CurrentInstance,
  type RolloutPlan,
} from '../../domain/apps/rollout.ts';
import { countsTowardReplicas } from '../../domain/apps/states.ts';
import type { AppSpec } from '../../domain/apps/model.ts';
import { formatBytes, formatCpu } from '../../domain/units.ts';
import type { Queryable } from '../../store/db.ts';
import { listNodeRows, type NodeRow } from '../../store/nodes-repo.ts';
import { volumeRefusal } from '../volumes/placement-errors.ts';
import type { PlacementFacts } from '../volumes/volume-service.ts';
import { nodeView } from '../nodes.ts';
import { releaseSpecs } from '../../store/apps-repo.ts';
import { instancePlacements, type InstanceRow } from '../../store/instances-repo.ts';

/** Recent actual use per node, when a metrics service can tell (undefined when it cannot). */
export type UsageSource = (nodes: string[]) => Promise<Map<string, CpuMemory> | undefined>;

export async function requestedPerNode(q: Queryable, exceptApp: string) {
  const rows = (await instancePlacements(q, exceptApp)).filter((r) => countsTowardReplicas(r.state));
  const specs = await releaseSpecs(q, rows);
  const out = new Map<string, CpuMemory>();
  for (const r of rows) {
    const spec = specs.get(`${r.app}/${r.release}`);
    if (!spec) continue;
    const cur = out.get(r.node) ?? { cpuMillis: 0, memoryBytes: 0 };
    out.set(r.node, {
      cpuMillis: cur.cpuMillis + spec.resources.cpuMillis,
      memoryBytes: cur.memoryBytes + spec.resources.memoryBytes,
    });
  }
  return out;
}

export type PlanInput = {
  app: string;
  group: string;
  spec: AppSpec;
  target: number;
  replicas: number;
  instances: InstanceRow[];
  acceptOvercommit: boolean;
  newId: (node: string, n: number) => string;
  usage?: UsageSource;
  /** Nodes just found unreachable (by the reconciler) whose stored state may still say ready: skipped. */
  unreachable?: ReadonlySet<string>;
  /** Apps with local volumes: where their data is and how much room the other nodes have. */
  volumeFacts?: (nodes: NodeRow[]) => Promise<PlacementFacts | undefined>;
};

export async function planFor(
  q: Queryable,
  p: PlanInput,
): Promise<{ plan: RolloutPlan; warnings: string[] }> {
  const nodes = await listNodeRows(q, { group: p.group });
  const current: CurrentInstance[] = p.instances.map((i) => ({
    id: i.id,
    node: i.node,
    release: i.release,
    state: i.state,
  }));
  const { kept } = keptInstances(current, p.target, p.replicas);
  const keptPerNode = new Map<string, number>();
  for (const k of kept) keptPerNode.set(k.node, (keptPerNode.get(k.node) ?? 0) + 1);
  const others = await requestedPerNode(q, p.app);
  const used = await p.usage?.(nodes.map((n) => n.name)).catch(() => undefined);
  const per = p.spec.resources;
  const vf = await p.volumeFacts?.(nodes);
  const snapshot: SnapshotNode[] = nodes.map((n) => {
    const count = keptPerNode.get(n.name) ?? 0;
    const base = others.get(n.name) ?? { cpuMillis: 0, memoryBytes: 0 };
    const u = used?.get(n.name);
    return {
      id: n.name,
      name: n.name,
      state: p.unreachable?.has(n.name) ? 'unreachable' : n.state,
      allocatable: nodeView(n, []).allocatable,
      requested: {
        cpuMillis: base.cpuMillis + count * per.cpuMillis,
        memoryBytes: base.memoryBytes + count * per.memoryBytes,
      },
      ...(u ? { used: u } : {}),
      appInstances: count,
      ...(vf
        ? {
            volumeHolder: vf.nodes.get(n.name)?.holder ?? false,
            volumeFreeBytes: vf.nodes.get(n.name)?.freeBytes,
          }
        : {}),
    };
  });
  // Kept instances on nodes that left the group still count toward the replicas.
  const outside = kept.filter((k) => !nodes.some((n) => n.name === k.node)).length;
  const result = place(
    { nodes: snapshot },
    {
      app: p.app,
      replicas: Math.max(p.replicas - outside, 0),
      resources: { cpuMillis: per.cpuMillis, memoryBytes: per.memoryBytes },
      acceptOvercommit: p.acceptOvercommit,
      ...(vf ? { volumes: { bytesPerInstance: vf.bytesPerInstance } } : {}),
    },
  );
  if (!result.ok && (result.code === 'pinned' || result.code === 'no-space'))
    throw volumeRefusal(p.app, result);
  if (!result.ok) {
    throw new DomainError(
      result.code === 'invalid' ? 'invalid' : 'unavailable',
      result.message,
      result.problems.map((m) => ({ path: 'placement', message: m })),
    );
  }
  if (result.held) {
    throw new DomainError(
      'held',
      `deploying ${p.app} would overcommit ${result.overcommit.nodes.length} node(s); ` +
        'it is held until you accept the overcommit (--accept-overcommit, or acceptOvercommit: true)',
      result.overcommit.nodes.map((o) => ({
        path: `nodes/${o.nodeName}`,
        message:
          `requested after placement: CPU ${formatCpu(o.requestedAfter.cpuMillis)}, memory ${formatBytes(o.requestedAfter.memoryBytes)}; ` +
          `allocatable: CPU ${formatCpu(o.allocatable.cpuMillis)}, memory ${formatBytes(o.allocatable.memoryBytes)}; ` +
          `recent use: ${o.used ? `CPU ${formatCpu(o.used.cpuMillis)}, memory ${formatBytes(o.used.memoryBytes)}` : 'unknown'}; ` +
          `exceeds: ${o.exceeds.join(', ')}`,
      })),
    );
  }
  const plan = planRollout({
    target: p.target,
    instances: current,
    replicas: p.replicas,
    adds: result.placements.map((pl) => ({ node: pl.nodeName, add: pl.add })),
    maxParallel: p.spec.maxParallel,
    newId: p.newId,
  });
  return { plan, warnings: result.warnings };
}
