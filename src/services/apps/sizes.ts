/** Admin-editable T-shirt sizes, stored in the database (seeded with the defaults of src/domain/sizes.ts). */
import type { Db } from '../../store/db.ts';
import { conflict, invalid, notFound } from '../../domain/errors.ts';
import { defineSize, describeSize, type Size, type SizeDefinition } from '../../domain/sizes.ts';
import { formatBytes, formatCpu } from '../../domain/units.ts';

interface SizeRow {
  name: string;
  cpu_millis: number;
  memory_bytes: number;
  disk_bytes: number;
}

export function sizeView(s: Size) {
  return {
    name: s.name,
    cpu: formatCpu(s.cpuMillis),
    memory: formatBytes(s.memoryBytes),
    disk: formatBytes(s.diskBytes),
    cpuMillis: s.cpuMillis,
    memoryBytes: s.memoryBytes,
    diskBytes: s.diskBytes,
    description: describeSize(s),
  };
}

export class SizeService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async list(): Promise<Size[]> {
    const rows = await this.db.all<SizeRow>('SELECT * FROM sizes ORDER BY cpu_millis, memory_bytes, name');
    return rows.map((r) => ({
      name: r.name,
      cpuMillis: Number(r.cpu_millis),
      memoryBytes: Number(r.memory_bytes),
      diskBytes: Number(r.disk_bytes),
    }));
  }

  /** Create or replace a size. Apps keep the resources they resolved when they were deployed. */
  async put(def: SizeDefinition): Promise<Size> {
    const r = defineSize(def);
    if (!r.ok)
      throw invalid(
        `size ${def.name} is invalid`,
        r.problems.map((p) => ({ path: `body/${p.field}`, message: p.message })),
      );
    const s = r.size;
    const changed = await this.db.run(
      'UPDATE sizes SET cpu_millis = ?, memory_bytes = ?, disk_bytes = ?, updated_at = ? WHERE name = ?',
      [s.cpuMillis, s.memoryBytes, s.diskBytes, Date.now(), s.name],
    );
    if (!changed.changes)
      await this.db.run(
        'INSERT INTO sizes (name, cpu_millis, memory_bytes, disk_bytes, updated_at) VALUES (?, ?, ?, ?, ?)',
        [s.name, s.cpuMillis, s.memoryBytes, s.diskBytes, Date.now()],
      );
    return s;
  }

  async remove(name: string) {
    const users = await this.db.all<{ name: string; spec: string }>('SELECT name, spec FROM apps');
    const using = users.filter(
      (a) => (JSON.parse(a.spec) as { request?: { size?: string } }).request?.size === name,
    );
    if (using.length) throw conflict(`size ${name} is used by app(s) ${using.map((a) => a.name).join(', ')}`);
    const r = await this.db.run('DELETE FROM sizes WHERE name = ?', [name]);
    if (!r.changes) throw notFound(`size ${name}`);
  }
}
