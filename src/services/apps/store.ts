/** Rows of the apps tables and the small queries the app services share. */
import type { Queryable } from '../../store/db.ts';
import type { AppSpec } from '../../domain/apps/model.ts';
import { moveInstance, type AppInstanceState, type ReleaseState } from '../../domain/apps/states.ts';
import type { RolloutPlan, UnitPhase } from '../../domain/apps/rollout.ts';
import type { InstanceHandle } from '../../drivers/driver.ts';

export interface AppRow {
  name: string;
  environment: string;
  group_name: string;
  spec: string;
  secrets: string;
  current_release: number | null;
  deleting: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}
export interface ReleaseRow {
  app: string;
  number: number;
  kind: string;
  spec: string;
  secrets: string;
  rollback_of: number | null;
  status: ReleaseState;
  created_by: string;
  created_at: number;
}
export interface InstanceRow {
  id: string;
  app: string;
  release: number;
  node: string;
  state: AppInstanceState;
  ports: string;
  handle: string;
  restarts: number;
  message: string;
  created_at: number;
  updated_at: number;
}
export interface RolloutRow {
  id: string;
  app: string;
  job_id: string;
  kind: string;
  target_release: number;
  previous_release: number | null;
  plan: string;
  phases: string;
  status: 'running' | 'succeeded' | 'failed' | 'reverted';
  message: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export const PORT_RANGE = { first: 20000, last: 29999 } as const;

export const appSpec = (r: { spec: string }) => JSON.parse(r.spec) as AppSpec;
export const instancePorts = (r: InstanceRow) => JSON.parse(r.ports || '{}') as Record<string, number>;
export const instanceHandle = (r: InstanceRow) =>
  r.handle ? (JSON.parse(r.handle) as InstanceHandle) : null;
export const rolloutPlan = (r: RolloutRow) => JSON.parse(r.plan) as RolloutPlan;
export const rolloutPhases = (r: RolloutRow) => JSON.parse(r.phases) as Record<string, UnitPhase>;

export const getApp = (q: Queryable, name: string) =>
  q.get<AppRow>('SELECT * FROM apps WHERE name = ?', [name]);
export const listApps = (q: Queryable) => q.all<AppRow>('SELECT * FROM apps ORDER BY name');
export const getRelease = (q: Queryable, app: string, n: number) =>
  q.get<ReleaseRow>('SELECT * FROM app_releases WHERE app = ? AND number = ?', [app, n]);
export const listReleases = (q: Queryable, app: string) =>
  q.all<ReleaseRow>('SELECT * FROM app_releases WHERE app = ? ORDER BY number DESC', [app]);
export const appInstances = (q: Queryable, app: string) =>
  q.all<InstanceRow>('SELECT * FROM app_instances WHERE app = ? ORDER BY id', [app]);
export const getInstance = (q: Queryable, id: string) =>
  q.get<InstanceRow>('SELECT * FROM app_instances WHERE id = ?', [id]);
export const runningRollout = (q: Queryable, app: string) =>
  q.get<RolloutRow>(
    "SELECT * FROM app_rollouts WHERE app = ? AND status = 'running' ORDER BY created_at DESC",
    [app],
  );

/** Move an instance to a new state (checked against the state machine); false when the row is gone. */
export async function setInstanceState(q: Queryable, id: string, state: AppInstanceState, message = '') {
  const row = await getInstance(q, id);
  if (!row) return false;
  moveInstance(row.state, state);
  await q.run('UPDATE app_instances SET state = ?, message = ?, updated_at = ? WHERE id = ?', [
    state,
    message.slice(0, 1000),
    Date.now(),
    id,
  ]);
  return true;
}

/** Lowest free host ports on a node, one per name, recorded for the instance (inside the caller's transaction). */
export async function takePorts(q: Queryable, node: string, instanceId: string, names: string[]) {
  const used = new Set(
    (await q.all<{ port: number }>('SELECT port FROM app_ports WHERE node = ?', [node])).map((r) =>
      Number(r.port),
    ),
  );
  const out: Record<string, number> = {};
  let p: number = PORT_RANGE.first;
  for (const name of names) {
    while (used.has(p)) p++;
    if (p > PORT_RANGE.last)
      throw new Error(`no free host port left on ${node} in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
    used.add(p);
    out[name] = p;
    await q.run('INSERT INTO app_ports (node, port, instance_id) VALUES (?, ?, ?)', [node, p, instanceId]);
  }
  return out;
}

/** Forget an instance: its row and its ports (only after the node confirmed it is gone). */
export async function dropInstance(q: Queryable, id: string) {
  await q.run('DELETE FROM app_ports WHERE instance_id = ?', [id]);
  await q.run('DELETE FROM app_instances WHERE id = ?', [id]);
}
