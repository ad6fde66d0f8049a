/**
 * Polls a cluster's SeaweedFS status endpoints from the control node (HTTP, short timeouts) and judges the
 * answers with the pure domain/seaweedfs/health.ts: master /cluster/status, /dir/status and /vol/status (proxied
 * to the leader), volume-server /status, filer and S3 /healthz.
 */
import { PORTS, type ClusterPlan } from '../../domain/seaweedfs/cluster.ts';
import { judgeHealth, type Fetched, type SeaweedHealth } from '../../domain/seaweedfs/health.ts';

const hp = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

export async function getJson<T>(url: string, timeoutMs = 2500): Promise<Fetched<T>> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return { ok: false, error: `HTTP ${r.status}` };
    return { ok: true, body: (await r.json()) as T };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export async function getOk(url: string, timeoutMs = 2500): Promise<Fetched<null>> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.ok ? { ok: true, body: null } : { ok: false, error: `HTTP ${r.status}` };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export async function pollHealth(plan: ClusterPlan): Promise<SeaweedHealth> {
  const of = (role: string) => plan.services.filter((s) => s.role === role);
  const masters = await Promise.all(
    of('master').map(async (m) => ({
      node: m.node,
      address: hp(m.address, PORTS.master.http),
      status: await getJson<any>(`http://${hp(m.address, PORTS.master.http)}/cluster/status`),
    })),
  );
  const answering =
    masters.find((m) => m.status.ok && (m.status.body as any).IsLeader) ?? masters.find((m) => m.status.ok);
  const none: Fetched<never> = { ok: false, error: 'no master answers' };
  const dir = answering ? await getJson<any>(`http://${answering.address}/dir/status`) : none;
  const vol = answering ? await getJson<any>(`http://${answering.address}/vol/status`) : none;
  const volumes = await Promise.all(
    of('volume').map(async (v) => ({
      node: v.node,
      address: hp(v.address, PORTS.volume.http),
      status: await getJson<any>(`http://${hp(v.address, PORTS.volume.http)}/status`),
    })),
  );
  const filers = await Promise.all(
    of('filer').map(async (f) => ({
      node: f.node,
      healthy: await getOk(`http://${hp(f.address, PORTS.filer.http)}/healthz`),
    })),
  );
  const s3 = await Promise.all(
    of('s3').map(async (g) => ({
      node: g.node,
      healthy: await getOk(`http://${hp(g.address, PORTS.s3.http)}/healthz`),
    })),
  );
  return judgeHealth({ masters, dir, vol, volumes, filers, s3 });
}

export { hp };
