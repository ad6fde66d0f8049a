/**
 * The `qemu-microvm` runtime as grim's apps engine deploys it: the QEMU driver lays out the VM (root disk,
 * metadata drive, TAP, run.sh), and the same node-side supervisor as script and container apps (systemd unit,
 * OpenRC service or supervisor.sh) keeps run.sh (QEMU in the foreground) alive. So the VM survives control-node
 * downtime, starts at boot, is restarted when it dies, and the reconciler's app-list.sh sees it.
 *
 * The supervisor runs scripts/node/vm-supervised-run.sh (publishes the nat ports, execs run.sh) in the
 * cgroup /grim/<id> (best effort, for instance metrics); scripts/node/vm-supervised-stop.sh presses
 * Ctrl-Alt-Del over QMP and waits for QEMU to exit; the supervisor then ends the session. stop/destroy always finish with the QEMU driver's own stop (ports, stray VMM) and destroy
 * (TAP, disks, IPAM address).
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
import { vmEndpoint } from '../driver.ts';
import {
  destroySupervised,
  inspectSupervised,
  installSupervised,
  startSupervised,
  stopSupervised,
} from '../supervised/supervision.ts';
import { DEFAULT_VM_ROOT } from '../vm-image/node-layout.ts';
import { scriptFor } from '../../scripts/loader.ts';
import { createQemuMicrovmDriver, type QemuMicrovmDriverOptions } from './driver.ts';

/** cgroup (relative to each hierarchy's root) of an instance's VMM, as metrics.sh reads it. */
export function vmCgroupPath(instanceId: string): string {
  return `/grim/${instanceId}`;
}

/** What the supervisor runs and how it stops the VM: readable files in scripts/node/. */
const runScript = () => scriptFor('vm-supervised-run').body;
const stopScript = () => scriptFor('vm-supervised-stop').body;

export type SupervisedQemuOptions = QemuMicrovmDriverOptions & {
  /** Seconds between the supervisor's stop and KILL (default 10). */
  stopTimeoutSec?: number;
};

export function createSupervisedQemuDriver(opts: SupervisedQemuOptions): RuntimeDriver {
  const inner = createQemuMicrovmDriver(opts);
  const vmRoot = opts.vmRoot ?? DEFAULT_VM_ROOT;

  /** A handle rebuilt from a bare row (strays) still finds the instance's directory. */
  const complete = (h: InstanceHandle): InstanceHandle =>
    typeof h.data.vmRoot === 'string' ? h : { ...h, driver: 'qemu-microvm', data: { vmRoot, ...h.data } };
  const dirOf = (h: InstanceHandle) => `${String(complete(h).data.vmRoot)}/instances/${h.instanceId}`;

  return {
    kind: 'qemu-microvm',

    capabilities(): DriverCapabilities {
      return inner.capabilities();
    },

    fingerprint(ctx: OpCtx): Promise<DriverFingerprint> {
      return inner.fingerprint(ctx);
    },

    async create(spec: InstanceSpec, ctx: OpCtx): Promise<InstanceHandle> {
      const handle = await inner.create(spec, ctx);
      // The app's environment and secrets live on the VM's metadata drive; the supervisor needs none of them.
      await installSupervised(ctx, {
        instanceId: spec.instanceId,
        app: spec.app,
        release: spec.release,
        driver: 'qemu-microvm',
        run: runScript(),
        stop: stopScript(),
        // The supervisor runs QEMU in grim/<id> (for instance metrics), with no limits of its own.
        cgroup: { memoryBytes: 0, cpuMillis: 0 },
        env: { GRIM_VM_DIR: dirOf(handle), GRIM_VM_PORTS: String(handle.data.ports ?? '') },
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
      return { cgroups: [vmCgroupPath(h.instanceId)], endpoint: vmEndpoint(h) }; // the VMM process (best effort)
    },

    async inspect(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus> {
      const full = complete(h);
      const [vm, supervised] = await Promise.all([inner.inspect(full, ctx), inspectSupervised(full, ctx)]);
      // QEMU up = running; supervisor up while QEMU restarts = starting; else what the supervisor reports.
      const state =
        vm.state === 'running' ? 'running' : supervised.state === 'running' ? 'starting' : supervised.state;
      return {
        ...vm,
        state,
        restarts: supervised.restarts ?? vm.restarts,
        detail: { ...vm.detail, ...supervised.detail, cgroup: vmCgroupPath(h.instanceId) },
      };
    },

    logs(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string> {
      return inner.logs!(complete(h), ctx, tailLines);
    },
  };
}
