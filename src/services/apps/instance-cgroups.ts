/**
 * Where the metrics collector reads an instance's usage: the cgroup its runtime put it in (CPU, memory) and,
 * for Firecracker VMs, the VMM's metrics file (network and disk).
 */
import { containerCgroupsPath } from '../../drivers/container/driver.ts';
import { vmCgroupPath } from '../../drivers/qemu/supervised.ts';
import { scriptCgroupPath } from '../../drivers/script/supervision.ts';
import type { Db } from '../../store/db.ts';
import { createdInstancesOn, instanceHandle } from '../../store/instances-repo.ts';

/** cgroup path (relative to the cgroup root, as metrics.sh takes it) -> instance id, for one node. */
export async function instanceCgroupsOn(db: Db, node: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const rows = await createdInstancesOn(db, node);
  for (const row of rows) {
    const h = instanceHandle(row);
    if (h?.driver === 'script') out.set(scriptCgroupPath(row.id), row.id); // the supervisor's cgroup (best effort)
    if (h?.driver === 'qemu-microvm') out.set(vmCgroupPath(row.id), row.id); // the VMM process (best effort)
    if (h?.driver === 'firecracker' && typeof h.data.cgroup === 'string') out.set(h.data.cgroup, row.id);
    if (h?.driver !== 'container') continue;
    const path = typeof h.data.cgroupsPath === 'string' ? h.data.cgroupsPath : containerCgroupsPath(row.id);
    out.set(path, row.id);
  }
  return out;
}

/** VMM metrics file on the node -> instance id, for one node's Firecracker instances. */
export async function instanceVmmMetricsOn(db: Db, node: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const rows = await createdInstancesOn(db, node);
  for (const row of rows) {
    const h = instanceHandle(row);
    if (h?.driver === 'firecracker' && typeof h.data.metricsFile === 'string')
      out.set(h.data.metricsFile, row.id);
  }
  return out;
}
