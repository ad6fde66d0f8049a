/** App instances on nodes and the host ports they hold (tables app_instances, app_ports). */
import type { Queryable } from './db.ts';
import { countsTowardReplicas, moveInstance, type AppInstanceState } from '../domain/apps/states.ts';
import type { AppSpec } from '../domain/apps/model.ts';
import type { InstanceHandle } from '../drivers/driver.ts';

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

export const PORT_RANGE = { first: 20000, last: 29999 } as const;

export const instancePorts = (r: InstanceRow) => JSON.parse(r.ports || '{}') as Record<string, number>;
export const instanceHandle = (r: InstanceRow) =>
  r.handle ? (JSON.parse(r.handle) as InstanceHandle) : null;

export const appInstances = (q: Queryable, app: string) =>
  q.all<InstanceRow>('SELECT * FROM app_instances WHERE app = ? ORDER BY id', [app]);
export const allInstances = (q: Queryable) => q.all<InstanceRow>('SELECT * FROM app_instances ORDER BY id');
export const getInstance = (q: Queryable, id: string) =>
  q.get<InstanceRow>('SELECT * FROM app_instances WHERE id = ?', [id]);
/** Instances on a node that a driver has created (they have a handle). */
export const createdInstancesOn = (q: Queryable, node: string) =>
  q.all<InstanceRow>("SELECT * FROM app_instances WHERE node = ? AND handle <> '' ORDER BY id", [node]);

export async function instanceApp(q: Queryable, id: string): Promise<string | undefined> {
  return (await q.get<{ app: string }>('SELECT app FROM app_instances WHERE id = ?', [id]))?.app;
}

export async function instanceIdsOf(q: Queryable, app: string): Promise<string[]> {
  return (await q.all<{ id: string }>('SELECT id FROM app_instances WHERE app = ?', [app])).map((r) => r.id);
}

/** Apps with at least one instance in `state`. */
export async function appsWithInstancesIn(q: Queryable, state: AppInstanceState): Promise<string[]> {
  return (
    await q.all<{ app: string }>('SELECT DISTINCT app FROM app_instances WHERE state = ?', [state])
  ).map((r) => r.app);
}

/**
 * CPU and memory requested per node by the instances that count there (every app but `exceptApp`), in one
 * query; only `nodes` when given.
 */
export async function requestedPerNode(
  q: Queryable,
  f: { exceptApp?: string; nodes?: readonly string[] } = {},
): Promise<Map<string, { cpuMillis: number; memoryBytes: number }>> {
  const where: string[] = [];
  const params: string[] = [];
  if (f.exceptApp !== undefined) {
    where.push('i.app <> ?');
    params.push(f.exceptApp);
  }
  if (f.nodes) {
    if (f.nodes.length === 0) return new Map();
    where.push(`i.node IN (${f.nodes.map(() => '?').join(', ')})`);
    params.push(...f.nodes);
  }
  const rows = await q.all<{ node: string; state: AppInstanceState; spec: string }>(
    `SELECT i.node, i.state, r.spec FROM app_instances i
     JOIN app_releases r ON r.app = i.app AND r.number = i.release
     ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`,
    params,
  );
  const specs = new Map<string, AppSpec['resources']>();
  const out = new Map<string, { cpuMillis: number; memoryBytes: number }>();
  for (const r of rows) {
    if (!countsTowardReplicas(r.state)) continue;
    let res = specs.get(r.spec);
    if (!res) specs.set(r.spec, (res = (JSON.parse(r.spec) as AppSpec).resources));
    const cur = out.get(r.node) ?? { cpuMillis: 0, memoryBytes: 0 };
    out.set(r.node, {
      cpuMillis: cur.cpuMillis + res.cpuMillis,
      memoryBytes: cur.memoryBytes + res.memoryBytes,
    });
  }
  return out;
}

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

export async function setInstanceHandle(q: Queryable, id: string, handle: InstanceHandle) {
  await q.run('UPDATE app_instances SET handle = ?, updated_at = ? WHERE id = ?', [
    JSON.stringify(handle),
    Date.now(),
    id,
  ]);
}

export async function setInstanceRestarts(q: Queryable, id: string, restarts: number) {
  await q.run('UPDATE app_instances SET restarts = ? WHERE id = ?', [restarts, id]);
}

/** Record a pending instance and take its host ports (inside the caller's transaction). */
export async function insertPendingInstance(
  q: Queryable,
  i: { id: string; app: string; release: number; node: string; portNames: string[] },
) {
  const now = Date.now();
  await q.run(
    `INSERT INTO app_instances (id, app, release, node, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
    [i.id, i.app, i.release, i.node, now, now],
  );
  const ports = await takePorts(q, i.node, i.id, i.portNames);
  await q.run('UPDATE app_instances SET ports = ? WHERE id = ?', [JSON.stringify(ports), i.id]);
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

/** Host ports held on a node, lowest first. */
export async function portsOn(q: Queryable, node: string): Promise<number[]> {
  return (
    await q.all<{ port: number }>('SELECT port FROM app_ports WHERE node = ? ORDER BY port', [node])
  ).map((r) => Number(r.port));
}

/** Forget an instance: its row and its ports (only after the node confirmed it is gone). */
export async function dropInstance(q: Queryable, id: string) {
  await q.run('DELETE FROM app_ports WHERE instance_id = ?', [id]);
  await q.run('DELETE FROM app_instances WHERE id = ?', [id]);
}
