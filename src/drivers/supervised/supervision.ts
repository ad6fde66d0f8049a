/**
 * Node-side supervision shared by drivers: an instance is a directory under /var/lib/grim/apps/<id> with a
 * `run` script (the app in the foreground), an `environment` file, the driver's handle (handle.json, for
 * recover()) and a supervisor (systemd unit, OpenRC service or scripts/node/supervisor.sh). Drivers use it
 * through supervised() (supervised.ts): installSupervised() then the app-start/app-stop/app-destroy/
 * app-inspect/app-logs/app-recover scripts. The reconciler's one-round-trip listing (app-list.sh) sees every
 * instance installed this way.
 */
import { scriptFor } from '../../scripts/loader.ts';
import { envFile } from '../env-file.ts';
import type { InstanceHandle, InstanceStatus, OpCtx, RuntimeKind } from '../driver.ts';

/** cgroup (relative to each hierarchy's root) the supervisor runs a script instance in, as metrics.sh reads it. */
export function scriptCgroupPath(instanceId: string): string {
  return `/grim/${instanceId}`;
}

/** Where the supervisor appends the stdout of what it runs (and its own notes), as app-logs.sh reads it. */
export function supervisedLogFile(instanceId: string): string {
  return `/var/lib/grim/apps/${instanceId}/log`;
}

/** Where the supervisor appends the stderr of what it runs. */
export function supervisedStderrFile(instanceId: string): string {
  return `/var/lib/grim/apps/${instanceId}/stderr`;
}

/** What the supervisor runs for one instance. */
export interface SupervisedService {
  /** sh script that runs the instance in the foreground (a static scripts/ body, or the user's own script). */
  run: string;
  /** Environment of run/stop/status (besides GRIM_INSTANCE). */
  env: Record<string, string>;
  /** sh script run before the instance is stopped. */
  stop?: string;
  /** sh script whose exit status says whether the app is well. */
  status?: string;
  stopTimeoutSec?: number;
  /** Run the app in the cgroup grim/<id> with these limits (0 = none); best effort on the node. */
  cgroup?: { memoryBytes: number; cpuMillis: number };
}

export async function installSupervised(
  ctx: OpCtx,
  p: SupervisedService & {
    instanceId: string;
    app: string;
    release: number;
    driver: RuntimeKind;
    /** Kept on the node as handle.json, for recover(). */
    handle?: InstanceHandle;
  },
): Promise<{ dir: string; mode: string }> {
  const params: Record<string, string> = {
    INSTANCE_ID: p.instanceId,
    APP_NAME: p.app,
    RELEASE: String(p.release),
    DRIVER: p.driver,
    RUN_SCRIPT: p.run,
    ENV_FILE: envFile({ ...p.env, GRIM_INSTANCE: p.instanceId }),
    SUPERVISOR_SCRIPT: scriptFor('supervisor').body,
    BOOT_SCRIPT: scriptFor('supervisor-boot').body,
  };
  if (p.handle) params.HANDLE = JSON.stringify(p.handle);
  if (p.stop) params.STOP_SCRIPT = p.stop;
  if (p.status) params.STATUS_SCRIPT = p.status;
  if (p.stopTimeoutSec) params.STOP_TIMEOUT_SEC = String(p.stopTimeoutSec);
  if (p.cgroup) {
    params.CGROUP = 'yes';
    params.MEMORY_LIMIT_BYTES = String(Math.max(0, Math.floor(p.cgroup.memoryBytes)));
    params.CPU_LIMIT_MILLIS = String(Math.max(0, Math.floor(p.cgroup.cpuMillis)));
  }
  const { json } = await ctx.runScript('app-install', params, { timeoutMs: 60_000 });
  const r = json as { dir: string; mode: string };
  ctx.log(`${p.instanceId}: installed on ${ctx.node} (${r.mode} supervision)`);
  return r;
}

export async function startSupervised(h: InstanceHandle, ctx: OpCtx): Promise<void> {
  const { json } = await ctx.runScript('app-start', { INSTANCE_ID: h.instanceId }, { timeoutMs: 60_000 });
  if ((json as { started: boolean }).started) ctx.log(`${h.instanceId}: started on ${ctx.node}`);
}

export async function stopSupervised(h: InstanceHandle, ctx: OpCtx, timeoutMs: number): Promise<void> {
  const sec = Math.max(1, Math.ceil(timeoutMs / 1000));
  await ctx.runScript(
    'app-stop',
    { INSTANCE_ID: h.instanceId, TIMEOUT_SEC: String(sec) },
    { timeoutMs: timeoutMs + 30_000 },
  );
}

export async function destroySupervised(h: InstanceHandle, ctx: OpCtx): Promise<void> {
  const { json } = await ctx.runScript('app-destroy', { INSTANCE_ID: h.instanceId }, { timeoutMs: 60_000 });
  if ((json as { existed: boolean }).existed) ctx.log(`${h.instanceId}: removed from ${ctx.node}`);
}

export async function inspectSupervised(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus> {
  const { json } = await ctx.runScript('app-inspect', { INSTANCE_ID: h.instanceId }, { timeoutMs: 30_000 });
  const r = json as {
    state: InstanceStatus['state'];
    pid: number | null;
    restarts: number;
    supervised: boolean;
  };
  return {
    state: r.state,
    restarts: r.restarts,
    ...(r.pid ? { pid: r.pid } : {}),
    detail: { supervised: r.supervised },
  };
}

export async function logsSupervised(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string> {
  const { result } = await ctx.runScript(
    'app-logs',
    { INSTANCE_ID: h.instanceId, TAIL_LINES: String(tailLines) },
    { timeoutMs: 30_000 },
  );
  const lines = result.stdout.split('\n');
  // drop the JSON result line (and the blank line before it)
  while (lines.length && !lines[lines.length - 1].startsWith('{')) lines.pop();
  lines.pop();
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** What the node has of an instance: installed as a supervised service, and the handle kept beside it. */
export async function recoverSupervised(
  instanceId: string,
  ctx: OpCtx,
): Promise<{ installed: boolean; handle?: InstanceHandle }> {
  const { json } = await ctx.runScript('app-recover', { INSTANCE_ID: instanceId }, { timeoutMs: 30_000 });
  const r = json as { installed: boolean; handle: InstanceHandle | null };
  const h = r.handle;
  const valid =
    h !== null &&
    typeof h === 'object' &&
    h.instanceId === instanceId &&
    typeof h.driver === 'string' &&
    typeof h.data === 'object' &&
    h.data !== null;
  return { installed: r.installed, ...(valid ? { handle: { ...h, node: ctx.node } } : {}) };
}
