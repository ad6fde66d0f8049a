/**
 * Release and instance state machines (pure). Every state change in the store goes through `moveInstance` /
 * `moveRelease`, so an impossible jump (a removed instance coming back to life) is a bug caught at once.
 */

/**
 * pending:   recorded in the store, maybe not on the node yet (the intent is written before acting)
 * starting:  created and started on its node, not yet healthy
 * running:   healthy (or no health check) and supervised on its node
 * unhealthy: its health check failed; the supervisor keeps restarting it
 * stopping:  being removed from its node; the row goes when the node confirms
 * lost:      its node is unreachable; nothing is known
 * orphaned:  lost and replaced elsewhere (failover reschedule); removed when the node comes back
 */
export const INSTANCE_STATES = [
  'pending',
  'starting',
  'running',
  'unhealthy',
  'stopping',
  'lost',
  'orphaned',
] as const;
export type AppInstanceState = (typeof INSTANCE_STATES)[number];

const INSTANCE_MOVES: Record<AppInstanceState, readonly AppInstanceState[]> = {
  pending: ['starting', 'running', 'unhealthy', 'stopping', 'lost'],
  starting: ['running', 'unhealthy', 'stopping', 'lost', 'pending'],
  running: ['unhealthy', 'stopping', 'lost', 'starting'],
  unhealthy: ['running', 'stopping', 'lost', 'starting'],
  stopping: ['lost', 'orphaned'],
  lost: ['running', 'starting', 'pending', 'orphaned', 'stopping', 'unhealthy'],
  orphaned: ['stopping'],
};

export function canMoveInstance(from: AppInstanceState, to: AppInstanceState): boolean {
  return from === to || INSTANCE_MOVES[from].includes(to);
}

export function moveInstance(from: AppInstanceState, to: AppInstanceState): AppInstanceState {
  if (!canMoveInstance(from, to)) throw new Error(`instance cannot go from ${from} to ${to}`);
  return to;
}

/** States that count toward the app's replicas (on a reachable node, or lost but not replaced). */
export function countsTowardReplicas(state: AppInstanceState): boolean {
  return state !== 'stopping' && state !== 'orphaned';
}

/** States that grim wants present and running on the node. */
export function wantedOnNode(state: AppInstanceState): boolean {
  return (
    state === 'pending' ||
    state === 'starting' ||
    state === 'running' ||
    state === 'unhealthy' ||
    state === 'lost'
  );
}

/**
 * deploying:  its rollout is under way
 * active:     the release every instance should run
 * failed:     its rollout failed a health check; the previous release was restored
 * superseded: an active release replaced by a later one (rollback can return to it)
 */
export const RELEASE_STATES = ['deploying', 'active', 'failed', 'superseded'] as const;
export type ReleaseState = (typeof RELEASE_STATES)[number];

const RELEASE_MOVES: Record<ReleaseState, readonly ReleaseState[]> = {
  deploying: ['active', 'failed'],
  active: ['superseded'],
  failed: [],
  superseded: [],
};

export function moveRelease(from: ReleaseState, to: ReleaseState): ReleaseState {
  if (from !== to && !RELEASE_MOVES[from].includes(to))
    throw new Error(`release cannot go from ${from} to ${to}`);
  return to;
}
