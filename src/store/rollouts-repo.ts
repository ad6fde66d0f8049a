/**
 * Rollouts (table app_rollouts): the stored plan, each unit's phase (so a rollout interrupted by a crash resumes
 * where it stopped) and the outcome.
 */
import type { Queryable } from './db.ts';
import type { RolloutPlan, UnitPhase } from '../domain/apps/rollout.ts';
import { insertPendingInstance } from './instances-repo.ts';

export type RolloutKind = 'deploy' | 'rollback' | 'scale' | 'revert' | 'failover' | 'delete';
export type RolloutStatus = 'running' | 'succeeded' | 'failed' | 'reverted';

export interface RolloutRow {
  id: string;
  app: string;
  job_id: string;
  kind: RolloutKind;
  target_release: number;
  previous_release: number | null;
  plan: string;
  phases: string;
  status: RolloutStatus;
  message: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export const rolloutPlan = (r: RolloutRow) => JSON.parse(r.plan) as RolloutPlan;
export const rolloutPhases = (r: RolloutRow) => JSON.parse(r.phases) as Record<string, UnitPhase>;

export const getRollout = (q: Queryable, id: string) =>
  q.get<RolloutRow>('SELECT * FROM app_rollouts WHERE id = ?', [id]);
export const runningRollout = (q: Queryable, app: string) =>
  q.get<RolloutRow>(
    "SELECT * FROM app_rollouts WHERE app = ? AND status = 'running' ORDER BY created_at DESC",
    [app],
  );
export const runningRollouts = (q: Queryable) =>
  q.all<RolloutRow>("SELECT * FROM app_rollouts WHERE status = 'running' ORDER BY created_at");
export const latestRollout = (q: Queryable, app: string) =>
  q.get<RolloutRow>('SELECT * FROM app_rollouts WHERE app = ? ORDER BY created_at DESC LIMIT 1', [app]);

/** Apps with a rollout recorded as running (in this process or another). */
export async function appsWithRunningRollout(q: Queryable): Promise<string[]> {
  return (await q.all<{ app: string }>("SELECT DISTINCT app FROM app_rollouts WHERE status = 'running'")).map(
    (r) => r.app,
  );
}

/** Record a rollout and the pending rows (with host ports) of every instance it will create. */
export async function insertRollout(
  tx: Queryable,
  r: {
    id: string;
    app: string;
    jobId: string;
    kind: RolloutKind;
    target: number;
    previous: number | null;
    plan: RolloutPlan;
    portNames: string[];
    by: string;
  },
): Promise<string> {
  const now = Date.now();
  await tx.run(
    `INSERT INTO app_rollouts (id, app, job_id, kind, target_release, previous_release, plan, phases, status, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{}', 'running', ?, ?, ?)`,
    [r.id, r.app, r.jobId, r.kind, r.target, r.previous, JSON.stringify(r.plan), r.by, now, now],
  );
  for (const u of r.plan.units)
    await insertPendingInstance(tx, {
      id: u.newId,
      app: r.app,
      release: r.target,
      node: u.node,
      portNames: r.portNames,
    });
  return r.id;
}

export async function setRolloutStatus(q: Queryable, id: string, status: RolloutStatus, message: string) {
  await q.run('UPDATE app_rollouts SET status = ?, message = ?, updated_at = ? WHERE id = ?', [
    status,
    message.slice(0, 2000),
    Date.now(),
    id,
  ]);
}

export async function setRolloutPhases(q: Queryable, id: string, phases: Record<string, UnitPhase>) {
  await q.run('UPDATE app_rollouts SET phases = ?, updated_at = ? WHERE id = ?', [
    JSON.stringify(phases),
    Date.now(),
    id,
  ]);
}

/** Running rollouts with the grim instance that owns each one's job (null: unknown). */
export const runningRolloutsWithOwner = (q: Queryable) =>
  q.all<RolloutRow & { job_owner: string | null }>(
    `SELECT app_rollouts.*, jobs.owner AS job_owner FROM app_rollouts LEFT JOIN jobs ON jobs.id = app_rollouts.job_id
     WHERE app_rollouts.status = 'running' ORDER BY app_rollouts.created_at`,
  );

/**
 * A resumed rollout reports to a new job: a compare-and-set on its current job, so two grim instances taking
 * it over at once cannot both win. false when another one did.
 */
export async function claimRollout(
  q: Queryable,
  id: string,
  fromJob: string,
  toJob: string,
): Promise<boolean> {
  const r = await q.run('UPDATE app_rollouts SET job_id = ? WHERE id = ? AND job_id = ?', [
    toJob,
    id,
    fromJob,
  ]);
  return r.changes === 1;
}
