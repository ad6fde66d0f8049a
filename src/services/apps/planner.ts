/**
 * Loads the planning snapshot of an app's group once (its nodes with their facts, what other apps request on
 * them, recent usage of those nodes only, the app's instances) and runs the pure planDeploy() on it. Held
 * (overcommit) and impossible placements come back as DomainErrors naming each node and why.
 */
import { DomainError } from '../../domain/errors.ts';
import type { CpuMemory } from '../../domain/placement.ts';
import { planDeploy, type PlanningSnapshot } from '../../domain/apps/plan-deploy.ts';
import type { RolloutPlan } from '../../domain/apps/rollout.ts';
import type { AppSpec } from '../../domain/apps/model.ts';
import type { RuntimeFacts } from '../../domain/runtimes.ts';
import type { Queryable } from '../../store/db.ts';
import { listNodeRows, type NodeRow } from '../../store/nodes-repo.ts';
import { appInstances, requestedPerNode } from '../../store/instances-repo.ts';
import { volumeRefusal } from '../volumes/placement-errors.ts';
import type { PlacementFacts } from '../volumes/volume-service.ts';
import { nodeView } from '../nodes.ts';

/** Recent actual use of the given nodes, when a metrics service can tell (undefined when it cannot). */
export type UsageSource = (nodes: string[]) => Promise<Map<string, CpuMemory> | undefined>;

export async function loadPlanningSnapshot(
  q: Queryable,
  group: string,
  app: string,
  usage?: UsageSource,
  volumeFacts?: (nodes: NodeRow[]) => Promise<PlacementFacts | undefined>,
): Promise<PlanningSnapshot> {
  const rows = await listNodeRows(q, { group });
  const names = rows.map((n) => n.name);
  const [others, used, instances, vf] = await Promise.all([
    requestedPerNode(q, { exceptApp: app, nodes: names }),
    usage?.(names).catch(() => undefined),
    appInstances(q, app),
    volumeFacts?.(rows),
  ]);
  return {
    ...(vf ? { volumes: { bytesPerInstance: vf.bytesPerInstance } } : {}),
    nodes: rows.map((n) => {
      const view = nodeView(n, []);
      const u = used?.get(n.name);
      return {
        name: n.name,
        state: n.state,
        allocatable: view.allocatable,
        requestedByOthers: others.get(n.name) ?? { cpuMillis: 0, memoryBytes: 0 },
        ...(u ? { used: u } : {}),
        facts: view.facts as RuntimeFacts,
        ...(vf
          ? {
              volumeHolder: vf.nodes.get(n.name)?.holder ?? false,
              volumeFreeBytes: vf.nodes.get(n.name)?.freeBytes,
            }
          : {}),
      };
    }),
    instances: instances.map((i) => ({
      id: i.id,
      node: i.node,
      release: Number(i.release),
      state: i.state,
    })),
  };
}

export type PlanInput = {
  app: string;
  group: string;
  spec: AppSpec;
  target: number;
  /** The release to return to when the rollout fails (null: none, only remove what it started). */
  previous: number | null;
  replicas: number;
  acceptOvercommit: boolean;
  newId: (release: number) => string;
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
  const snapshot = await loadPlanningSnapshot(q, p.group, p.app, p.usage, p.volumeFacts);
  const r = planDeploy(snapshot, {
    app: p.app,
    runtime: p.spec.runtime,
    resources: { cpuMillis: p.spec.resources.cpuMillis, memoryBytes: p.spec.resources.memoryBytes },
    target: p.target,
    previous: p.previous,
    replicas: p.replicas,
    maxParallel: p.spec.maxParallel,
    acceptOvercommit: p.acceptOvercommit,
    unreachable: p.unreachable,
    newId: (release) => p.newId(release),
  });
  if (!r.ok && r.placement && (r.placement.code === 'pinned' || r.placement.code === 'no-space'))
    throw volumeRefusal(p.app, r.placement);
  if (!r.ok) throw new DomainError(r.code, r.message, r.problems);
  return { plan: r.plan, warnings: r.warnings };
}
