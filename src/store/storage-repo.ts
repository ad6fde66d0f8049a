// SQL for storage nodes: last state per node, health events, schedules.
import type { Queryable } from './db.ts';
import { newId } from '../services/ids.ts';

export interface StorageNodeRow {
  node: string;
  capabilities: string;
  disks: string;
  pools: string;
  health: string;
  datasets: string;
  error: string;
  checked_at: number;
}

export interface StorageEventRow {
  id: string;
  at: number;
  node: string;
  pool: string;
  kind: string;
  severity: string;
  message: string;
}

export interface ScheduleRow {
  id: string;
  node: string;
  target: string;
  kind: 'scrub' | 'snapshot';
  label: string;
  every_seconds: number;
  keep: number;
  last_run_at: number;
  last_result: string;
  created_at: number;
}

export async function getStorageNode(q: Queryable, node: string): Promise<StorageNodeRow | undefined> {
  return q.get<StorageNodeRow>('SELECT * FROM storage_nodes WHERE node = ?', [node]);
}

export async function listStorageNodes(q: Queryable): Promise<StorageNodeRow[]> {
  return q.all<StorageNodeRow>('SELECT * FROM storage_nodes ORDER BY node');
}

export async function saveStorageNode(
  q: Queryable,
  node: string,
  fields: Partial<Omit<StorageNodeRow, 'node' | 'checked_at'>>,
): Promise<void> {
  const now = Date.now();
  const existing = await getStorageNode(q, node);
  if (!existing) {
    await q.run(
      `INSERT INTO storage_nodes (node, capabilities, disks, pools, health, datasets, error, checked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        node,
        fields.capabilities ?? 'null',
        fields.disks ?? '[]',
        fields.pools ?? '[]',
        fields.health ?? '[]',
        fields.datasets ?? '[]',
        fields.error ?? '',
        now,
      ],
    );
    return;
  }
  const merged = { ...existing, ...fields };
  await q.run(
    `UPDATE storage_nodes SET capabilities = ?, disks = ?, pools = ?, health = ?, datasets = ?, error = ?, checked_at = ?
     WHERE node = ?`,
    [
      merged.capabilities,
      merged.disks,
      merged.pools,
      merged.health,
      merged.datasets,
      merged.error,
      now,
      node,
    ],
  );
}

export async function addStorageEvent(q: Queryable, e: Omit<StorageEventRow, 'id' | 'at'>): Promise<void> {
  await q.run(
    'INSERT INTO storage_events (id, at, node, pool, kind, severity, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [newId(), Date.now(), e.node, e.pool, e.kind, e.severity, e.message],
  );
}

export async function listStorageEvents(q: Queryable, node: string | undefined, limit: number) {
  return node
    ? q.all<StorageEventRow>('SELECT * FROM storage_events WHERE node = ? ORDER BY at DESC, id LIMIT ?', [
        node,
        limit,
      ])
    : q.all<StorageEventRow>('SELECT * FROM storage_events ORDER BY at DESC, id LIMIT ?', [limit]);
}

/** Adds or changes a schedule; `last_run_at` (optional) places its next run at last_run_at + every_seconds. */
export async function upsertSchedule(
  q: Queryable,
  s: Pick<ScheduleRow, 'node' | 'target' | 'kind' | 'label' | 'every_seconds' | 'keep'> & {
    last_run_at?: number;
  },
): Promise<void> {
  const existing = await q.get<ScheduleRow>(
    'SELECT * FROM storage_schedules WHERE node = ? AND target = ? AND kind = ? AND label = ?',
    [s.node, s.target, s.kind, s.label],
  );
  if (existing) {
    await q.run('UPDATE storage_schedules SET every_seconds = ?, keep = ?, last_run_at = ? WHERE id = ?', [
      s.every_seconds,
      s.keep,
      s.last_run_at ?? existing.last_run_at,
      existing.id,
    ]);
  } else {
    await q.run(
      `INSERT INTO storage_schedules (id, node, target, kind, label, every_seconds, keep, last_run_at, last_result, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?)`,
      [
        newId(),
        s.node,
        s.target,
        s.kind,
        s.label,
        s.every_seconds,
        s.keep,
        s.last_run_at ?? Date.now(),
        Date.now(),
      ],
    );
  }
}

export async function listSchedules(q: Queryable, node?: string): Promise<ScheduleRow[]> {
  return node
    ? q.all<ScheduleRow>('SELECT * FROM storage_schedules WHERE node = ? ORDER BY target, kind, label', [
        node,
      ])
    : q.all<ScheduleRow>('SELECT * FROM storage_schedules ORDER BY node, target, kind, label');
}

export async function markScheduleRun(q: Queryable, id: string, result: string): Promise<void> {
  await q.run('UPDATE storage_schedules SET last_run_at = ?, last_result = ? WHERE id = ?', [
    Date.now(),
    result,
    id,
  ]);
}

/** Records how a run ended (a scrub reports when it finishes) without moving the schedule. */
export async function setScheduleResult(q: Queryable, id: string, result: string): Promise<void> {
  await q.run('UPDATE storage_schedules SET last_result = ? WHERE id = ?', [result, id]);
}

export async function deleteSchedules(q: Queryable, node: string, target: string): Promise<void> {
  await q.run('DELETE FROM storage_schedules WHERE node = ? AND (target = ? OR target LIKE ?)', [
    node,
    target,
    `${target}/%`,
  ]);
}
