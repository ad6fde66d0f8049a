/**
 * Waiting for SeaweedFS processes to be really ready: a raft leader that every master names, volume servers
 * heartbeating in a master's topology, filer and S3 `/healthz`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { PORTS, type ClusterPlan, type PlannedService, type Role } from '../../domain/seaweedfs/cluster.ts';
import { getJson, getOk, hp } from './health-poll.ts';

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms: number,
  every = 250,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(every);
  }
}

/** Waits for a real readiness signal of the services of one role. */
export async function waitReady(
  role: Role,
  services: PlannedService[],
  plan: ClusterPlan,
  ms = 90_000,
): Promise<void> {
  const masters = plan.services.filter((s) => s.role === 'master');
  if (role === 'master')
    await until(
      'a master leader',
      async () => {
        const st = await Promise.all(
          masters.map((m) => getJson<any>(`http://${hp(m.address, PORTS.master.http)}/cluster/status`)),
        );
        return st.some((s) => s.ok && s.body.IsLeader) && st.every((s) => s.ok && s.body.Leader);
      },
      ms,
    );
  else if (role === 'volume')
    await until(
      `${services.length} volume servers heartbeating`,
      async () => {
        for (const m of masters) {
          const d = await getJson<any>(`http://${hp(m.address, PORTS.master.http)}/dir/status`);
          if (!d.ok) continue;
          const urls = new Set<string>();
          for (const dc of d.body.Topology?.DataCenters ?? [])
            for (const r of dc.Racks ?? []) for (const dn of r.DataNodes ?? []) urls.add(dn.Url);
          return services.every((s) => urls.has(hp(s.address, PORTS.volume.http)));
        }
        return false;
      },
      ms,
    );
  else {
    const port = role === 'filer' ? PORTS.filer.http : PORTS.s3.http;
    await until(
      `${role} healthz`,
      async () =>
        (await Promise.all(services.map((s) => getOk(`http://${hp(s.address, port)}/healthz`)))).every(
          (r) => r.ok,
        ),
      ms,
    );
  }
}
