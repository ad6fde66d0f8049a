/**
 * Where the metrics collector reads an instance's usage, as each instance's driver says (observe()): the cgroups
 * its runtime put it in (CPU, memory) and, for Firecracker VMs, the VMM's metrics file (network and disk).
 */
import type { DriverSet } from '../../drivers/driver-set.ts';
import type { InstanceObservation } from '../../drivers/driver.ts';
import type { Db } from '../../store/db.ts';
import { createdInstancesOn, instanceHandle } from '../../store/instances-repo.ts';

async function observedOn(db: Db, drivers: DriverSet, node: string) {
  const out: Array<{ id: string; seen: InstanceObservation }> = [];
  for (const row of await createdInstancesOn(db, node)) {
    const h = instanceHandle(row);
    if (h && drivers.has(h.driver)) out.push({ id: row.id, seen: drivers.get(h.driver).observe(h) });
  }
  return out;
}

/** cgroup path (relative to the cgroup root, as metrics.sh takes it) -> instance id, for one node. */
export async function instanceCgroupsOn(
  db: Db,
  drivers: DriverSet,
  node: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { id, seen } of await observedOn(db, drivers, node))
    for (const c of seen.cgroups) out.set(c, id);
  return out;
}

/** VMM metrics file on the node -> instance id, for one node's Firecracker instances. */
export async function instanceVmmMetricsOn(
  db: Db,
  drivers: DriverSet,
  node: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { id, seen } of await observedOn(db, drivers, node))
    if (seen.vmmMetricsFile) out.set(seen.vmmMetricsFile, id);
  return out;
}
