/**
 * Planning a deploy (pure): from one snapshot of the app's group (loaded once by the caller: the group's nodes
 * with their facts, what everything else already requests there, recent usage of those nodes only, and the
 * app's instances) to a rollout plan, or to a refusal that names every node and why.
 *
 * The plan also carries its revert: for every unit that replaces an old instance, the instance of the previous
 * release that would take its place again. When the rollout fails, revertPlan() turns it into the plan of the
 * revert rollout from the phases reached, without planning (or loading anything) again.
 */
import {
  place,
  type CpuMemory,
  type PlacementFailure,
  type SnapshotNode,
  type VolumePlacement,
} from '../placement.ts';
import type { NodeState } from '../nodes.ts';
import { runtimeSupport, type Runtime, type RuntimeFacts } from '../runtimes.ts';
import { formatBytes, formatCpu } from '../units.ts';
import {
  keptInstances,
  planRollout,
  type CurrentInstance,
  type RolloutPlan,
  type RolloutUnit,
  type UnitPhase,
} from './rollout.ts';

export type { RevertSpec } from './rollout.ts';

export type PlanningNode = {
  name: string;
  state: NodeState;
  allocatable: CpuMemory;
  /** What the instances of every other app on the node request. */
  requestedByOthers: CpuMemory;
  /** Recent actual usage, when metrics know it. */
  used?: CpuMemory;
  facts?: RuntimeFacts;
  /** Apps with local volumes: the node holds this app's data / has this much room for new volumes. */
  volumeHolder?: boolean;
  volumeFreeBytes?: number;
};

export type PlanningSnapshot = {
  /** The nodes of the app's group. */
  nodes: readonly PlanningNode[];
  /** The app's instances (on any node, in or out of the group). */
  instances: readonly CurrentInstance[];
  /** Present when the app has local volumes: its instances are pinned to their data. */
  volumes?: VolumePlacement;
};

export type DeployRequest = {
  app: string;
  runtime: Runtime;
  resources: CpuMemory;
  /** The release the rollout moves to, and the one to return to when it fails (null: none). */
  target: number;
  previous: number | null;
  replicas: number;
  maxParallel: number;
  acceptOvercommit: boolean;
  /** Nodes just found unreachable whose stored state may still say ready. */
  unreachable?: ReadonlySet<string>;
  /** Names the n-th new instance of `release` (the caller makes them unique). */
  newId: (release: number, n: number) => string;
};

export type Problem = { path: string; message: string };

export type DeployPlanResult =
  | { ok: true; plan: RolloutPlan; warnings: string[] }
  | {
      ok: false;
      /**
       * held: would overcommit (the caller may accept it); invalid: the request itself is wrong; conflict: the
       * request is fine but the group cannot take it now (no node, none ready, none able to run the runtime, no
       * space, pinned volumes). The API answers 409 for both held and conflict, never a 5xx: grim is healthy.
       */
      code: 'held' | 'invalid' | 'conflict';
      message: string;
      problems: Problem[];
      /** place()'s own refusal, with the volume verdicts of a stateful app. */
      placement?: PlacementFailure;
    };

const cpuMem = (c: CpuMemory) => `CPU ${formatCpu(c.cpuMillis)}, memory ${formatBytes(c.memoryBytes)}`;

export function planDeploy(snapshot: PlanningSnapshot, req: DeployRequest): DeployPlanResult {
  const { kept } = keptInstances(snapshot.instances, req.target, req.replicas);
  const keptPerNode = new Map<string, number>();
  for (const k of kept) keptPerNode.set(k.node, (keptPerNode.get(k.node) ?? 0) + 1);
  const per = req.resources;
  const nodes: SnapshotNode[] = snapshot.nodes.map((n) => {
    const count = keptPerNode.get(n.name) ?? 0;
    const support = runtimeSupport(req.runtime, n.facts);
    return {
      id: n.name,
      name: n.name,
      state: req.unreachable?.has(n.name) ? 'unreachable' : n.state,
      allocatable: n.allocatable,
      requested: {
        cpuMillis: n.requestedByOthers.cpuMillis + count * per.cpuMillis,
        memoryBytes: n.requestedByOthers.memoryBytes + count * per.memoryBytes,
      },
      ...(n.used ? { used: n.used } : {}),
      appInstances: count,
      ...(support.ok ? {} : { cannotRun: `${req.runtime}: ${support.reason}` }),
      ...(n.volumeHolder !== undefined ? { volumeHolder: n.volumeHolder } : {}),
      ...(n.volumeFreeBytes !== undefined ? { volumeFreeBytes: n.volumeFreeBytes } : {}),
    };
  });
  // Kept instances on nodes that left the group still count toward the replicas.
  const outside = kept.filter((k) => !snapshot.nodes.some((n) => n.name === k.node)).length;
  const result = place(
    { nodes },
    {
      app: req.app,
      replicas: Math.max(req.replicas - outside, 0),
      resources: { cpuMillis: per.cpuMillis, memoryBytes: per.memoryBytes },
      acceptOvercommit: req.acceptOvercommit,
      ...(snapshot.volumes ? { volumes: snapshot.volumes } : {}),
    },
  );
  const excludedProblems = (r: { excluded: Array<{ nodeName: string; reason: string }> }) =>
    r.excluded.map((e) => ({ path: `nodes/${e.nodeName}`, message: `cannot run the app: ${e.reason}` }));
  if (!result.ok) {
    const problems =
      result.excluded.length > 0
        ? [
            ...result.skipped.map((s) => ({ path: `nodes/${s.nodeName}`, message: s.reason })),
            ...excludedProblems(result),
          ]
        : result.problems.map((m) => ({ path: 'placement', message: m }));
    return {
      ok: false,
      code: result.code === 'invalid' ? 'invalid' : 'conflict',
      message: result.message,
      problems,
      placement: result,
    };
  }
  if (result.held)
    return {
      ok: false,
      code: 'held',
      message:
        `deploying ${req.app} would overcommit ${result.overcommit.nodes.length} node(s); ` +
        'it is held until you accept the overcommit (--accept-overcommit, or acceptOvercommit: true)',
      problems: [
        ...result.overcommit.nodes.map((o) => ({
          path: `nodes/${o.nodeName}`,
          message:
            `requested after placement: ${cpuMem(o.requestedAfter)}; allocatable: ${cpuMem(o.allocatable)}; ` +
            `recent use: ${o.used ? cpuMem(o.used) : 'unknown'}; exceeds: ${o.exceeds.join(', ')}`,
        })),
        ...excludedProblems(result),
      ],
    };
  const plan = planRollout({
    target: req.target,
    instances: snapshot.instances,
    replicas: req.replicas,
    adds: result.placements.map((pl) => ({ node: pl.nodeName, add: pl.add })),
    maxParallel: req.maxParallel,
    newId: (_node, n) => req.newId(req.target, n),
  });
  return { ok: true, plan: withRevert(plan, req.previous, req.newId), warnings: result.warnings };
}

/** The plan with its revert attached (stored with the rollout, before anything runs). */
export function withRevert(
  plan: RolloutPlan,
  previous: number | null,
  newId: (release: number, n: number) => string,
): RolloutPlan {
  if (previous === null) return { ...plan, revert: { target: null, restores: [] } };
  let n = 0;
  const restores = plan.units
    .filter((u): u is RolloutUnit & { oldId: string } => u.oldId !== null)
    .map((u) => ({ unit: u.newId, node: u.node, newId: newId(previous, n++) }));
  return { ...plan, revert: { target: previous, restores } };
}

/**
 * The revert rollout of a failed one, from its stored revert and the phases its units reached. With a release to
 * return to, every instance the roll started goes, and where a unit already removed the old instance it
 * replaced, that node gets an instance of the previous release again. With none (a first deploy, a scale, a
 * failover), the instances that did not finish go and the healthy ones stay. `target` is the release the
 * revert ends on (the rollout's own when there is none to return to).
 */
export function revertPlan(
  plan: RolloutPlan,
  phases: Readonly<Record<string, UnitPhase>>,
  failedRelease: number,
): { target: number; plan: RolloutPlan } {
  const revert = plan.revert ?? { target: null, restores: [] };
  const byUnit = new Map(revert.restores.map((r) => [r.unit, r]));
  const units: RolloutUnit[] = [];
  const removals: string[] = [];
  for (const u of plan.units) {
    const done = phases[u.newId] === 'done';
    const restore = byUnit.get(u.newId);
    if (revert.target === null) {
      // Nothing to return to (a first deploy, a scale, a failover): what finished stays, the rest goes.
      if (!done) removals.push(u.newId);
    } else if (done && restore) units.push({ node: restore.node, newId: restore.newId, oldId: u.newId });
    else removals.push(u.newId);
  }
  const target = revert.target ?? failedRelease;
  return { target, plan: { target, units, removals, maxParallel: 1 } };
}
