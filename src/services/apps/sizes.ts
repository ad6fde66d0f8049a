/** Admin-editable T-shirt sizes, stored in the database (seeded with the defaults of src/domain/sizes.ts). */
import type { Db } from '../../store/db.ts';
import { appsUsingSize, deleteSize, listSizes, putSize } from '../../store/sizes-repo.ts';
import { conflict, invalid, notFound } from '../../domain/errors.ts';
import { defineSize, describeSize, type Size, type SizeDefinition } from '../../domain/sizes.ts';
import { formatBytes, formatCpu } from '../../domain/units.ts';

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

  list(): Promise<Size[]> {
    return listSizes(this.db);
  }

  /** Create or replace a size. Apps keep the resources they resolved when they were deployed. */
  async put(def: SizeDefinition): Promise<Size> {
    const r = defineSize(def);
    if (!r.ok)
      throw invalid(
        `size ${def.name} is invalid`,
        r.problems.map((p) => ({ path: `body/${p.field}`, message: p.message })),
      );
    await putSize(this.db, r.size);
    return r.size;
  }

  async remove(name: string) {
    const using = await appsUsingSize(this.db, name);
    if (using.length) throw conflict(`size ${name} is used by app(s) ${using.join(', ')}`);
    if (!(await deleteSize(this.db, name))) throw notFound(`size ${name}`);
  }
}
