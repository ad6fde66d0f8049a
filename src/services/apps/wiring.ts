/** How the app service is put together with the rest of grim (secret box, metrics usage and providers). */
import type { Db } from '../../store/db.ts';
import { openSecretBox, type SshPool } from '../../ssh/index.ts';
import type { JobStore } from '../jobs.ts';
import type { MetricsService } from '../metrics.ts';
import { AppService } from './app-service.ts';
import { requestedPerNode } from './planner.ts';
import { instanceCgroupsOn } from './instance-cgroups.ts';

export function createAppService(d: { db: Db; pool: SshPool; jobs: JobStore; dataDir: string }): AppService {
  return new AppService({ db: d.db, pool: d.pool, jobs: d.jobs, box: openSecretBox(d.dataDir) });
}

/**
 * Recent usage from the metrics service for overcommit warnings; instance cgroups, requested resources and app
 * membership back.
 */
export function connectAppsToMetrics(apps: AppService, metrics: MetricsService, db: Db): void {
  apps.setUsage(async (nodes) => {
    const cap = await metrics.capacity();
    const out = new Map<string, { cpuMillis: number; memoryBytes: number }>();
    for (const n of cap.nodes)
      if (nodes.includes(n.node) && n.used.cpuMillis !== null && n.used.memoryBytes !== null)
        out.set(n.node, { cpuMillis: n.used.cpuMillis, memoryBytes: n.used.memoryBytes });
    return out;
  });
  metrics.setProviders({
    instanceCgroups: (node) => instanceCgroupsOn(db, node),
    requested: async (node) => (await requestedPerNode(db, '')).get(node) ?? { cpuMillis: 0, memoryBytes: 0 },
    instanceApp: async (id) =>
      (await db.get<{ app: string }>('SELECT app FROM app_instances WHERE id = ?', [id]))?.app,
    appInstances: async (app) =>
      (await db.get('SELECT name FROM apps WHERE name = ?', [app]))
        ? (await db.all<{ id: string }>('SELECT id FROM app_instances WHERE app = ?', [app])).map((r) => r.id)
        : null,
  });
}
