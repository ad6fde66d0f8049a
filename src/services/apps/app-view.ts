/** What the API shows of an app (spec, releases, instances, last rollout), and the tail of its instances' output. */
import { formatBytes, formatCpu } from '../../domain/units.ts';
import type { Db } from '../../store/db.ts';
import { appSpec, getRelease, listReleases, type AppRow } from '../../store/apps-repo.ts';
import { appInstances, instancePorts } from '../../store/instances-repo.ts';
import { getNodeRow, listNodeRows } from '../../store/nodes-repo.ts';
import { latestRollout } from '../../store/rollouts-repo.ts';
import type { AppRuntime } from './context.ts';
import { handleFor } from './instances.ts';

export async function appView(db: Db, a: AppRow) {
  const name = a.name;
  const spec = appSpec(a);
  const nodes = new Map((await listNodeRows(db)).map((n) => [n.name, n]));
  const latest = await latestRollout(db, name);
  return {
    name: a.name,
    environment: a.environment,
    group: a.group_name,
    runtime: spec.runtime,
    replicas: spec.replicas,
    size: spec.size,
    resources: {
      cpu: formatCpu(spec.resources.cpuMillis),
      memory: formatBytes(spec.resources.memoryBytes),
      disk: formatBytes(spec.resources.diskBytes),
      ...spec.resources,
    },
    source: spec.source,
    ports: spec.ports,
    env: spec.env,
    secrets: spec.secretNames,
    health: spec.health,
    failover: spec.failover,
    maxParallel: spec.maxParallel,
    ...(spec.network ? { network: spec.network } : {}),
    ...(spec.volumes ? { volumes: spec.volumes } : {}),
    currentRelease: a.current_release === null ? null : Number(a.current_release),
    deleting: !!Number(a.deleting),
    createdBy: a.created_by,
    createdAt: Number(a.created_at),
    releases: (await listReleases(db, name)).map((r) => ({
      number: Number(r.number),
      kind: r.kind,
      status: r.status,
      rollbackOf: r.rollback_of === null ? null : Number(r.rollback_of),
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
    })),
    instances: (await appInstances(db, name)).map((i) => ({
      id: i.id,
      release: Number(i.release),
      node: i.node,
      address: nodes.get(i.node)?.address ?? '',
      state: i.state,
      ports: instancePorts(i),
      restarts: Number(i.restarts),
      message: i.message,
    })),
    rollout: latest
      ? {
          id: latest.id,
          jobId: latest.job_id,
          kind: latest.kind,
          status: latest.status,
          targetRelease: Number(latest.target_release),
          message: latest.message,
        }
      : null,
  };
}

/** The tail of each instance's output, read on its node by its driver (an error per instance, never a throw). */
export async function instanceLogs(d: AppRuntime, a: AppRow, tailLines: number) {
  const name = a.name;
  const out: Array<{ instance: string; node: string; release: number; text: string; error: string }> = [];
  for (const i of await appInstances(d.db, name)) {
    const node = await getNodeRow(d.db, i.node);
    const rel = await getRelease(d.db, name, i.release);
    const entry = { instance: i.id, node: i.node, release: Number(i.release), text: '', error: '' };
    try {
      if (!node) throw new Error(`node ${i.node} is gone`);
      const driver = d.drivers.get(appSpec(rel ?? a).runtime);
      if (!driver.logs) throw new Error(`the ${driver.kind} runtime keeps no logs`);
      const ctx = d.nodes(node, () => undefined);
      entry.text = await driver.logs(await handleFor(i, driver, ctx), ctx, tailLines);
    } catch (err) {
      entry.error = (err as Error).message;
    }
    out.push(entry);
  }
  return out;
}
