/**
 * The `container` runtime as grim deploys it: the container driver with `supervision: 'external'` lays the
 * instance out, and supervised() keeps it alive with the same node-side supervisor as script apps (systemd
 * unit, OpenRC service or supervisor.sh), which runs the container's foreground script (container-run.sh). So a
 * killed container is restarted on its node without grim, it starts at boot, and the reconciler's app-list.sh
 * sees it.
 *
 * The container's processes do not carry GRIM_INSTANCE (their environment comes from config.json), so stopping
 * the supervisor alone could leave a container behind when it ignores its stop signal: stop and destroy always
 * finish with the container driver's own stop (kill and delete in the runtime).
 */
import type { RuntimeDriver } from '../driver.ts';
import { scriptFor } from '../../scripts/loader.ts';
import { supervised } from '../supervised/supervised.ts';
import { containerInstanceDir, createContainerDriver, type ContainerDriverOptions } from './driver.ts';

export type SupervisedContainerOptions = Omit<ContainerDriverOptions, 'supervision'> & {
  /** Seconds between the stop signal and KILL when the supervisor stops the container (default 10). */
  stopTimeoutSec?: number;
};

export function createSupervisedContainerDriver(opts: SupervisedContainerOptions = {}): RuntimeDriver {
  const inner = createContainerDriver({ ...opts, supervision: 'external' });
  const stateDir = opts.stateDir ?? '/var/lib/grim';

  return supervised({
    kind: 'container',
    capabilities: () => inner.capabilities(),
    fingerprint: (ctx) => inner.fingerprint(ctx),

    async prepare(spec, ctx) {
      const handle = await inner.create(spec, ctx);
      // The app's environment lives in the container's config.json; the supervisor needs only the directory.
      return {
        handle,
        service: {
          run: scriptFor('container-supervised-run').body,
          env: { GRIM_CONTAINER_DIR: containerInstanceDir(handle) },
          stopTimeoutSec: opts.stopTimeoutSec,
        },
      };
    },

    stopped: (h, ctx) => inner.stop(h, ctx, 1000),
    remove: (h, ctx) => inner.destroy(h, ctx),
    inspect: (h, ctx) => inner.inspect(h, ctx),
    state: 'runtime',
    observe: (h) => inner.observe(h),
    logs: (h, ctx, tailLines) => inner.logs!(h, ctx, tailLines),
    // installed by a grim that kept no handle on the node: its directory follows from the id
    legacyData: (id) => ({ stateDir, instanceDir: `${stateDir}/containers/${id}` }),
  });
}
