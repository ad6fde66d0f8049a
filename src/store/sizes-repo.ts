/** Admin-editable T-shirt sizes (table sizes, seeded with the defaults of src/domain/sizes.ts). */
import type { Queryable } from './db.ts';
import type { Size } from '../domain/sizes.ts';

interface SizeRow {
  name: string;
  cpu_millis: number;
  memory_bytes: number;
  disk_bytes: number;
}

export async function listSizes(q: Queryable): Promise<Size[]> {
  const rows = await q.all<SizeRow>('SELECT * FROM sizes ORDER BY cpu_millis, memory_bytes, name');
  return rows.map((r) => ({
    name: r.name,
    cpuMillis: Number(r.cpu_millis),
    memoryBytes: Number(r.memory_bytes),
    diskBytes: Number(r.disk_bytes),
  }));
}

/** Create or replace a size. */
export async function putSize(q: Queryable, s: Size) {
  const changed = await q.run(
    'UPDATE sizes SET cpu_millis = ?, memory_bytes = ?, disk_bytes = ?, updated_at = ? WHERE name = ?',
    [s.cpuMillis, s.memoryBytes, s.diskBytes, Date.now(), s.name],
  );
  if (!changed.changes)
    await q.run(
      'INSERT INTO sizes (name, cpu_millis, memory_bytes, disk_bytes, updated_at) VALUES (?, ?, ?, ?, ?)',
      [s.name, s.cpuMillis, s.memoryBytes, s.diskBytes, Date.now()],
    );
}

/** false when there was no such size. */
export async function deleteSize(q: Queryable, name: string): Promise<boolean> {
  return (await q.run('DELETE FROM sizes WHERE name = ?', [name])).changes > 0;
}

/** Apps whose spec was made from the named size. */
export async function appsUsingSize(q: Queryable, name: string): Promise<string[]> {
  const apps = await q.all<{ name: string; spec: string }>('SELECT name, spec FROM apps');
  return apps
    .filter((a) => (JSON.parse(a.spec) as { request?: { size?: string } }).request?.size === name)
    .map((a) => a.name);
}
