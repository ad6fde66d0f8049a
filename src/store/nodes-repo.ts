import type { Queryable } from './db.ts';
import type { NodeState } from '../domain/nodes.ts';

export interface NodeRow {
  name: string;
  environment: string;
  address: string;
  port: number;
  ssh_user: string;
  roles: string;
  labels: string;
  host_key_fingerprint: string;
  state: NodeState;
  state_reason: string;
  maintenance: number;
  reserve_cpu_millis: number;
  reserve_memory_bytes: number;
  facts: string;
  facts_at: number | null;
  last_seen_at: number | null;
  created_at: number;
}

export async function nodeGroups(q: Queryable): Promise<Map<string, string[]>> {
  const rows = await q.all<{ node_name: string; group_name: string }>(
    'SELECT node_name, group_name FROM group_members ORDER BY group_name',
  );
  const m = new Map<string, string[]>();
  for (const r of rows) m.set(r.node_name, [...(m.get(r.node_name) ?? []), r.group_name]);
  return m;
}

export async function getNodeRow(q: Queryable, name: string): Promise<NodeRow | undefined> {
  return q.get<NodeRow>('SELECT * FROM nodes WHERE name = ?', [name]);
}

export async function listNodeRows(
  q: Queryable,
  f: { environment?: string; group?: string } = {},
): Promise<NodeRow[]> {
  const where: string[] = [];
  const params: string[] = [];
  if (f.environment) {
    where.push('n.environment = ?');
    params.push(f.environment);
  }
  if (f.group) {
    where.push('n.name IN (SELECT node_name FROM group_members WHERE group_name = ?)');
    params.push(f.group);
  }
  return q.all<NodeRow>(
    `SELECT n.* FROM nodes n ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY n.name`,
    params,
  );
}

export async function setNodeState(
  q: Queryable,
  name: string,
  state: NodeState,
  reason: string,
  seen: boolean,
) {
  await q.run(
    `UPDATE nodes SET state = ?, state_reason = ?${seen ? ', last_seen_at = ?' : ''} WHERE name = ?`,
    seen ? [state, reason, Date.now(), name] : [state, reason, name],
  );
}

export async function environmentExists(q: Queryable, name: string): Promise<boolean> {
  return !!(await q.get('SELECT name FROM environments WHERE name = ?', [name]));
}

/** The environment a node group belongs to, or undefined when there is no such group. */
export async function groupEnvironment(q: Queryable, group: string): Promise<string | undefined> {
  return (await q.get<{ environment: string }>('SELECT environment FROM node_groups WHERE name = ?', [group]))
    ?.environment;
}
