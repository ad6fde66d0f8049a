/**
 * The `qemu-microvm` runtime as grim's apps engine deploys it: the QEMU driver lays out the VM (root disk,
 * metadata drive, TAP, run.sh), and supervised() keeps run.sh (QEMU in the foreground) alive with the same
 * node-side supervisor as script and container apps (systemd unit, OpenRC service or supervisor.sh). So the VM
 * survives control-node downtime, starts at boot, is restarted when it dies, and the reconciler's app-list.sh
 * sees it.
 *
 * The supervisor runs scripts/node/vm-supervised-run.sh (publishes the nat ports, execs run.sh) in the
 * cgroup /grim/<id> (best effort, for instance metrics); scripts/node/vm-supervised-stop.sh presses
 * Ctrl-Alt-Del over QMP and waits for QEMU to exit; the supervisor then ends the session. stop/destroy always
 * finish with the QEMU driver's own stop (ports, stray VMM) and destroy (TAP, disks, IPAM address).
 */
import type { RuntimeDriver } from '../driver.ts';
import { supervised } from '../supervised/supervised.ts';
import { DEFAULT_VM_ROOT } from '../vm-image/node-layout.ts';
import { scriptFor } from '../../scripts/loader.ts';
import { createQemuMicrovmDriver, type QemuMicrovmDriverOptions } from './driver.ts';

/** cgroup (relative to each hierarchy's root) of an instance's VMM, as metrics.sh reads it. */
export function vmCgroupPath(instanceId: string): string {
  return `/grim/${instanceId}`;
}

export type SupervisedQemuOptions = QemuMicrovmDriverOptions & {
  /** Seconds between the supervisor's stop and KILL (default 10). */
  stopTimeoutSec?: number;
};

export function createSupervisedQemuDriver(opts: SupervisedQemuOptions): RuntimeDriver {
  const inner = createQemuMicrovmDriver(opts);
  const vmRoot = opts.vmRoot ?? DEFAULT_VM_ROOT;

  return supervised({
    kind: 'qemu-microvm',
    capabilities: () => inner.capabilities(),
    fingerprint: (ctx) => inner.fingerprint(ctx),

    async prepare(spec, ctx) {
      const handle = await inner.create(spec, ctx);
      // The app's environment and secrets live on the VM's metadata drive; the supervisor needs none of them.
      return {
        handle,
        service: {
          // What the supervisor runs and how it stops the VM: readable files in scripts/node/.
          run: scriptFor('vm-supervised-run').body,
          stop: scriptFor('vm-supervised-stop').body,
          // The supervisor runs QEMU in grim/<id> (for instance metrics), with no limits of its own.
          cgroup: { memoryBytes: 0, cpuMillis: 0 },
          env: {
            GRIM_VM_DIR: `${String(handle.data.vmRoot ?? vmRoot)}/instances/${spec.instanceId}`,
            GRIM_VM_PORTS: String(handle.data.ports ?? ''),
          },
          stopTimeoutSec: opts.stopTimeoutSec,
        },
      };
    },

    stopped: (h, ctx) => inner.stop(h, ctx, 1000),
    remove: (h, ctx) => inner.destroy(h, ctx),
    async inspect(h, ctx) {
      const vm = await inner.inspect(h, ctx);
      return { ...vm, detail: { ...vm.detail, cgroup: vmCgroupPath(h.instanceId) } };
    },
    // QEMU up = running; supervisor up while QEMU restarts = starting; else what the supervisor reports.
    state: 'booted',
    // the VMM process (best effort)
    observe: (h) => ({ ...inner.observe(h), cgroups: [vmCgroupPath(h.instanceId)] }),
    logs: (h, ctx, tailLines) => inner.logs!(h, ctx, tailLines),
    // installed by a grim that kept no handle on the node: its directory follows from the id
    legacyData: () => ({ vmRoot }),
  });
}
