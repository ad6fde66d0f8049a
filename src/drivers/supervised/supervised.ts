/**
 * supervised(): a runtime kept alive by grim's node-side supervisor (systemd unit, OpenRC service or
 * scripts/node/supervisor.sh), so its instances survive control-node downtime, restart when they die and
 * start at boot, and the reconciler's app-list.sh sees them. The runtime lays the instance out and says what
 * the supervisor runs; this wrapper installs, starts, stops, inspects and removes the supervised service the
 * same way for every runtime (script, container, qemu-microvm, firecracker), and recovers handles from the
 * node (the handle.json app-install.sh keeps beside the service).
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
  RuntimeKind,
} from '../driver.ts';
import {
  destroySupervised,
  inspectSupervised,
  installSupervised,
  logsSupervised,
  recoverSupervised,
  startSupervised,
  stopSupervised,
  type SupervisedService,
} from './supervision.ts';

export interface SupervisedRuntime {
  readonly kind: RuntimeKind;
  capabilities(): DriverCapabilities;
  fingerprint(ctx: OpCtx): Promise<DriverFingerprint>;
  /** Lays the instance out on the node (nothing runs yet) and says what the supervisor runs. */
  prepare(spec: InstanceSpec, ctx: OpCtx): Promise<{ handle: InstanceHandle; service: SupervisedService }>;
  /** After the supervisor started the instance: wait until it runs (a VM that must boot). */
  started?(h: InstanceHandle, ctx: OpCtx): Promise<void>;
  /** After the supervisor stopped it: remove what a killed session can leave (a stray VMM, published ports). */
  stopped?(h: InstanceHandle, ctx: OpCtx): Promise<void>;
  /** After the service is gone: remove everything else of the instance (disks, TAP, address, container), stray processes included. */
  remove?(h: InstanceHandle, ctx: OpCtx): Promise<void>;
  /** The runtime's own view of the instance, merged with the supervisor's; without it, the supervisor's. */
  inspect?(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus>;
  /**
   * How the two views make one state: 'runtime' takes the runtime's; 'booted' says running only when the
   * runtime runs (a VM) and starting while the supervisor is up but the runtime is not (yet).
   */
  state?: 'runtime' | 'booted';
  observe(h: InstanceHandle): InstanceObservation;
  /** The instance's output; default: the supervisor's log of the app. */
  logs?(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string>;
  /** Handle data for an instance installed by a grim that kept no handle.json on the node. */
  legacyData?(instanceId: string): Record<string, unknown>;
}

export function supervised(runtime: SupervisedRuntime): RuntimeDriver {
  return {
    kind: runtime.kind,

    capabilities: () => runtime.capabilities(),

    fingerprint: (ctx) => runtime.fingerprint(ctx),

    async create(spec, ctx) {
      const { handle, service } = await runtime.prepare(spec, ctx);
      await installSupervised(ctx, {
        ...service,
        instanceId: spec.instanceId,
        app: spec.app,
        release: spec.release,
        driver: runtime.kind,
        handle,
      });
      return handle;
    },

    async start(h, ctx) {
      await startSupervised(h, ctx);
      await runtime.started?.(h, ctx);
    },

    async stop(h, ctx, timeoutMs) {
      await stopSupervised(h, ctx, timeoutMs);
      await runtime.stopped?.(h, ctx);
    },

    async destroy(h, ctx) {
      await destroySupervised(h, ctx);
      if (runtime.remove) await runtime.remove(h, ctx);
      else await runtime.stopped?.(h, ctx);
    },

    async inspect(h, ctx) {
      const [own, service] = await Promise.all([
        runtime.inspect ? runtime.inspect(h, ctx) : undefined,
        inspectSupervised(h, ctx),
      ]);
      if (own === undefined) return service;
      const state =
        runtime.state === 'booted'
          ? own.state === 'running'
            ? 'running'
            : service.state === 'running'
              ? 'starting'
              : service.state
          : own.state;
      return {
        ...own,
        state,
        restarts: service.restarts ?? own.restarts,
        detail: { ...own.detail, ...service.detail },
      };
    },

    observe: (h) => runtime.observe(h),

    logs: (h, ctx, tailLines) =>
      runtime.logs ? runtime.logs(h, ctx, tailLines) : logsSupervised(h, ctx, tailLines),

    async recover(instanceId, ctx) {
      const found = await recoverSupervised(instanceId, ctx);
      if (found.handle) return found.handle;
      if (!found.installed) return undefined;
      // installed by a grim that kept no handle on the node: what the runtime can rebuild from the id
      return {
        driver: runtime.kind,
        instanceId,
        node: ctx.node,
        data: runtime.legacyData?.(instanceId) ?? {},
      };
    },
  };
}
