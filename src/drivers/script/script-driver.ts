/**
 * The `script` runtime: the user's own sh scripts. `start` runs in the foreground under the node's supervisor
 * with the instance's environment (ports, env, secrets) as quoted values; `stop` runs before the instance is
 * stopped; `status` (exit 0 = well) is consulted by inspect. No isolation; the supervisor runs the app in the
 * cgroup grim/<id> with the size's memory limit and CPU quota where the node's cgroups allow (best effort, so
 * limits are not promised).
 */
import type {
  DriverCapabilities,
  DriverFingerprint,
  InstanceHandle,
  InstanceObservation,
  InstanceSpec,
  InstanceStatus,
  OpCtx,
  RuntimeDriver,
} from '../driver.ts';
import {
  destroySupervised,
  inspectSupervised,
  installSupervised,
  logsSupervised,
  scriptCgroupPath,
  startSupervised,
  stopSupervised,
} from '../supervised/supervision.ts';

export class ScriptDriver implements RuntimeDriver {
  readonly kind = 'script' as const;

  capabilities(): DriverCapabilities {
    return { logs: true, exec: false, enforcesLimits: false };
  }

  async fingerprint(ctx: OpCtx): Promise<DriverFingerprint> {
    // Everything the supervision scripts need is POSIX sh plus setsid; app-list.sh is a harmless probe.
    try {
      await ctx.runScript('app-list', {}, { timeoutMs: 30_000 });
      return { available: true };
    } catch (err) {
      return { available: false, reason: (err as Error).message };
    }
  }

  async create(spec: InstanceSpec, ctx: OpCtx): Promise<InstanceHandle> {
    if (spec.source.kind !== 'script')
      throw new Error(`the script driver cannot run a ${spec.source.kind} source`);
    const r = await installSupervised(ctx, {
      instanceId: spec.instanceId,
      app: spec.app,
      release: spec.release,
      driver: 'script',
      run: spec.source.start,
      stop: spec.source.stop,
      status: spec.source.status,
      env: spec.env,
      cgroup: { memoryBytes: spec.resources.memoryBytes, cpuMillis: spec.resources.cpuMillis },
    });
    return {
      driver: 'script',
      instanceId: spec.instanceId,
      node: ctx.node,
      data: { dir: r.dir, mode: r.mode, cgroup: scriptCgroupPath(spec.instanceId) },
    };
  }

  start(h: InstanceHandle, ctx: OpCtx): Promise<void> {
    return startSupervised(h, ctx);
  }

  stop(h: InstanceHandle, ctx: OpCtx, timeoutMs: number): Promise<void> {
    return stopSupervised(h, ctx, timeoutMs);
  }

  destroy(h: InstanceHandle, ctx: OpCtx): Promise<void> {
    return destroySupervised(h, ctx);
  }

  observe(h: InstanceHandle): InstanceObservation {
    return { cgroups: [scriptCgroupPath(h.instanceId)] }; // the supervisor's cgroup (best effort)
  }

  inspect(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus> {
    return inspectSupervised(h, ctx);
  }

  logs(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string> {
    return logsSupervised(h, ctx, tailLines);
  }
}
