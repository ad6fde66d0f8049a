/**
 * The rollout plan (pure): how to move an app's instances to a target release, as idempotent steps.
 *
 * Each unit starts one new instance and, once it is healthy, removes one old instance from the same node
 * (rolling replace). Units run `maxParallel` at a time. Removals that have no replacement (scale down, or
 * old instances on nodes that get no new one) come last, after every new instance is healthy.
 * The plan names every instance it will create up front; it is stored before anything is done on a node,
 * so after a crash the same plan is resumed and no instance can be created twice.
 */
import type { AppInstanceState } from './states.ts';
import { countsTowardReplicas } from './states.ts';

export type CurrentInstance = { id: string; node: string; release: number; state: AppInstanceState };

export type RolloutUnit = { node: string; newId: string; oldId: string | null };

/** What a failed rollout returns to: the previous release, with a stand-in for every old instance it replaces. */
export type RevertSpec = {
  target: number | null;
  /** For each unit that replaces an old instance: the instance of `target` that takes the old one's place. */
  restores: Array<{ unit: string; node: string; newId: string }>;
};

export type RolloutPlan = {
  target: number;
  units: RolloutUnit[];
  /** Instances removed once every unit is done. */
  removals: string[];
  maxParallel: number;
  /** How to undo it when it fails (plan-deploy.ts), stored with the rollout; absent on reverts and deletes. */
  revert?: RevertSpec;
};

/** Instances of the target release that stay, and the excess of them to remove (most crowded node first). */
export function keptInstances(instances: readonly CurrentInstance[], target: number, replicas: number) {
  const ofTarget = instances
    .filter((i) => i.release === target && countsTowardReplicas(i.state))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const perNode = new Map<string, CurrentInstance[]>();
  for (const i of ofTarget) perNode.set(i.node, [...(perNode.get(i.node) ?? []), i]);
  const excess: string[] = [];
  let count = ofTarget.length;
  while (count > replicas) {
    const [node, list] = [...perNode.entries()].sort(
      (a, b) => b[1].length - a[1].length || (a[0] < b[0] ? 1 : -1),
    )[0];
    excess.push((list.pop() as CurrentInstance).id);
    if (list.length === 0) perNode.delete(node);
    count--;
  }
  const excessSet = new Set(excess);
  return { kept: ofTarget.filter((i) => !excessSet.has(i.id)), excess };
}

/**
 * Pair the new instances `adds` (node -> how many, from place()) with old instances on the same node.
 * `newId(node, n)` names the n-th new instance (the caller makes them unique).
 */
export function planRollout(input: {
  target: number;
  instances: readonly CurrentInstance[];
  replicas: number;
  adds: ReadonlyArray<{ node: string; add: number }>;
  maxParallel: number;
  newId: (node: string, n: number) => string;
}): RolloutPlan {
  const { excess } = keptInstances(input.instances, input.target, input.replicas);
  const old = input.instances
    .filter((i) => i.release !== input.target && i.state !== 'stopping' && i.state !== 'orphaned')
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const oldByNode = new Map<string, string[]>();
  for (const i of old) oldByNode.set(i.node, [...(oldByNode.get(i.node) ?? []), i.id]);
  const units: RolloutUnit[] = [];
  let n = 0;
  for (const { node, add } of [...input.adds].sort((a, b) => (a.node < b.node ? -1 : 1)))
    for (let k = 0; k < add; k++) {
      const olds = oldByNode.get(node);
      units.push({ node, newId: input.newId(node, n++), oldId: olds?.shift() ?? null });
    }
  // Replacements first (each keeps capacity constant), then pure additions.
  units.sort((a, b) => Number(a.oldId === null) - Number(b.oldId === null));
  const removals = [...excess, ...[...oldByNode.values()].flat()];
  return { target: input.target, units, removals, maxParallel: input.maxParallel };
}

export type UnitPhase = 'pending' | 'started' | 'healthy' | 'done' | 'failed';

/** The batches a plan runs in: `maxParallel` units at a time, in plan order. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}
