/**
 * Health checks of a new instance. http and tcp checks go from the control node to node:hostPort (what users
 * reach); command checks run on the node (app-health.sh) in the instance's environment. Without a health check
 * an instance is healthy once its process has stayed up across two inspections.
 */
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { AppSpec, HealthCheck } from '../../domain/apps/model.ts';
import type { InstanceHandle, OpCtx, RuntimeDriver } from '../../drivers/driver.ts';

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await r.arrayBuffer().catch(() => undefined);
    return r.status >= 200 && r.status < 400;
  } catch {
    return false;
  }
}

export async function checkOnce(
  h: HealthCheck,
  where: { address: string; hostPorts: Record<string, number>; instanceId: string; ctx: OpCtx },
): Promise<boolean> {
  const timeoutMs = h.timeoutSec * 1000;
  if (h.type === 'command') {
    const { json } = await where.ctx.runScript(
      'app-health',
      { INSTANCE_ID: where.instanceId, HEALTH_COMMAND: h.command, TIMEOUT_SEC: String(h.timeoutSec) },
      { timeoutMs: timeoutMs + 30_000 },
    );
    return (json as { healthy: boolean }).healthy;
  }
  const port = where.hostPorts[h.port ?? ''] ?? Object.values(where.hostPorts)[0];
  if (!port) return false;
  if (h.type === 'tcp') return tcpOpen(where.address, port, timeoutMs);
  return httpOk(`http://${where.address}:${port}${h.path}`, timeoutMs);
}

/**
 * Where http/tcp checks go: node:hostPort, except for a bridged microVM, which has its own LAN address and
 * listens on the app's ports there (nothing is published on the node).
 */
export function healthTarget(
  nodeAddress: string,
  hostPorts: Record<string, number>,
  spec: AppSpec,
  handle: InstanceHandle,
  driver: RuntimeDriver,
): { address: string; hostPorts: Record<string, number> } {
  const endpoint = driver.observe(handle).endpoint;
  if (endpoint)
    return {
      address: endpoint.address,
      hostPorts: Object.fromEntries(spec.ports.map((p) => [p.name, p.port])),
    };
  return { address: nodeAddress, hostPorts };
}

/** Waits until the instance is healthy; false after `retries` failed checks. */
export async function waitHealthy(
  h: HealthCheck | null,
  where: { address: string; hostPorts: Record<string, number>; instanceId: string; ctx: OpCtx },
  driver: RuntimeDriver,
  handle: InstanceHandle,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void> = (ms, signal) =>
    delay(ms, undefined, { signal }),
): Promise<{ healthy: boolean; message: string }> {
  if (!h) {
    let lastRestarts = -1;
    for (let i = 0; i < 30; i++) {
      const s = await driver.inspect(handle, where.ctx);
      if (s.state === 'running' && s.restarts === lastRestarts)
        return { healthy: true, message: 'process up' };
      lastRestarts = s.state === 'running' ? (s.restarts ?? 0) : -1;
      await sleep(1000, where.ctx.signal);
    }
    return { healthy: false, message: 'the process did not stay up' };
  }
  for (let attempt = 1; attempt <= h.retries; attempt++) {
    if (await checkOnce(h, where).catch(() => false))
      return { healthy: true, message: `healthy after ${attempt} check(s)` };
    await sleep(h.intervalSec * 1000, where.ctx.signal);
  }
  return { healthy: false, message: `${h.type} health check failed ${h.retries} times` };
}
