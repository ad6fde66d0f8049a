/**
 * The `container` runtime as grim deploys it: the container driver with `supervision: 'external'`, each
 * instance kept alive by the same node-side supervisor as script apps (systemd unit, OpenRC service or
 * supervisor.sh), which runs the container's foreground script (container-run.sh). So a killed container is
 * restarted on its node without grim, it starts at boot, and the reconciler's app-list.sh sees it.
 *
 * The container's processes do not carry GRIM_INSTANCE (their environment comes from config.json), so stopping
 * the supervisor alone could leave a container behind when it ignores its stop signal: stop and destroy always
 * finish with the container driver's own stop (kill and delete in the runtime).
 */
import type {
  DriverCapabilities,
  DriverFingerprint,
  InstanceHandle,
  InstanceSpec,
  InstanceStatus,
  OpCtx,
  RuntimeDriver,
} from '../driver.ts';
import {
  destroySupervised,
  inspectSupervised,
  installSupervised,
  startSupervised,
  stopSupervised,
} from '../supervised/supervision.ts';
import { scriptFor } from '../../scripts/loader.ts';
import { containerInstanceDir, createContainerDriver, type ContainerDriverOptions } from './driver.ts';

export type SupervisedContainerOptions = Omit<ContainerDriverOptions, 'supervision'> & {
  /** Seconds between the stop signal and KILL when the supervisor stops the container (default 10). */
  stopTimeoutSec?: number;
};

export function createSupervisedContainerDriver(opts: SupervisedContainerOptions = {}): RuntimeDriver {
  const inner = createContainerDriver({ ...opts, supervision: 'external' });
  const stateDir = opts.stateDir ?? '/var/lib/grim';

  /** A handle rebuilt from a bare row (strays, rows without a stored handle) still finds the instance. */
  const complete = (h: InstanceHandle): InstanceHandle =>
    typeof h.data.stateDir === 'string'
      ? h
      : {
          ...h,
          driver: 'container',
          data: { stateDir, instanceDir: `${stateDir}/containers/${h.instanceId}`, ...h.data },
        };

  return {
    kind: 'container',

    capabilities(): DriverCapabilities {
      return inner.capabilities();
    },

    fingerprint(ctx: OpCtx): Promise<DriverFingerprint> {
      return inner.fingerprint(ctx);
    },

    async create(spec: InstanceSpec, ctx: OpCtx): Promise<InstanceHandle> {
      const handle = await inner.create(spec, ctx);
      // The app's environment lives in the container's config.json; the supervisor needs only the directory.
      await installSupervised(ctx, {
        instanceId: spec.instanceId,
        app: spec.app,
        release: spec.release,
        driver: 'container',
        run: scriptFor('container-supervised-run').body,
        env: { GRIM_CONTAINER_DIR: containerInstanceDir(handle) },
        stopTimeoutSec: opts.stopTimeoutSec,
      });
      return handle;
    },

    start(h: InstanceHandle, ctx: OpCtx): Promise<void> {
      return startSupervised(complete(h), ctx);
    },

    async stop(h: InstanceHandle, ctx: OpCtx, timeoutMs: number): Promise<void> {
      const full = complete(h);
      await stopSupervised(full, ctx, timeoutMs);
      await inner.stop(full, ctx, 1000);
    },

    async destroy(h: InstanceHandle, ctx: OpCtx): Promise<void> {
      const full = complete(h);
      await destroySupervised(full, ctx);
      await inner.destroy(full, ctx);
    },

    observe(h: InstanceHandle) {
      return inner.observe(h);
    },

    async inspect(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus> {
      const full = complete(h);
      const [container, supervised] = await Promise.all([
        inner.inspect(full, ctx),
        inspectSupervised(full, ctx),
      ]);
      return {
        ...container,
        restarts: supervised.restarts ?? container.restarts,
        detail: { ...container.detail, ...supervised.detail },
      };
    },

    logs(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string> {
      return inner.logs!(complete(h), ctx, tailLines);
    },
  };
}
