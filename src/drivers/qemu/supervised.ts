/**
 * The `qemu-microvm` runtime as grim's apps engine deploys it: the QEMU driver lays out the VM (root disk,
 * metadata drive, TAP, run.sh), and the same node-side supervisor as script and container apps (systemd unit,
 * OpenRC service or supervisor.sh) keeps run.sh (QEMU in the foreground) alive. So the VM survives control-node
 * downtime, starts at boot, is restarted when it dies, and the reconciler's app-list.sh sees it.
 *
 * The supervisor's run script publishes the nat ports, puts the VMM in the cgroup /grim/<id> (best effort, for
 * instance metrics) and execs run.sh. Its stop script presses Ctrl-Alt-Del over QMP and waits for QEMU to exit
 * (grim's guest init gives the app SIGTERM, syncs and reboots; -no-reboot ends QEMU); the supervisor then
 * ends the session. stop/destroy always finish with the QEMU driver's own stop (ports, stray VMM) and destroy
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
import {
  destroySupervised,
  inspectSupervised,
  installSupervised,
  startSupervised,
  stopSupervised,
} from '../script/supervision.ts';
import { DEFAULT_VM_ROOT } from '../vm-image/node-layout.ts';
import { createQemuMicrovmDriver, type QemuMicrovmDriverOptions } from './driver.ts';

/** cgroup (relative to each hierarchy's root) of an instance's VMM, as metrics.sh reads it. */
export function vmCgroupPath(instanceId: string): string {
  return `/grim/${instanceId}`;
}

const CGROUP_DIRS =
  'for h in /sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup/cpuacct /sys/fs/cgroup/memory /sys/fs/cgroup/unified; do\n' +
  '  [ -d "$h" ] && [ ! -L "$h" ] && echo "$h"\n' +
  'done\n' +
  '[ -f /sys/fs/cgroup/cgroup.controllers ] && echo /sys/fs/cgroup\n';

/** Foreground command for the supervisor; values arrive as environment variables (GRIM_VM_DIR, GRIM_VM_PORTS). */
export const VM_RUN_SCRIPT = `#!/bin/sh
# run - one supervised QEMU microVM (written by grim's qemu-microvm driver)
cd "$GRIM_VM_DIR" || exit 1
for c in $(${CGROUP_DIRS}); do
  mkdir -p "$c/grim/$GRIM_INSTANCE" 2>/dev/null && echo $$ >"$c/grim/$GRIM_INSTANCE/cgroup.procs" 2>/dev/null
done
for p in \${GRIM_VM_PORTS:-}; do
  host_port=\${p%%:*}
  rest=\${p#*:}
  nft add element ip grim_vm_nat ports "{ $host_port : \${rest%%:*} . \${rest#*:} }" || exit 1
done
echo "\${GRIM_VM_PORTS:-}" >ports
exec sh ./run.sh
`;

/** Graceful stop, run by the supervisor (at most 10 s) before it ends the session. */
export const VM_STOP_SCRIPT = `#!/bin/sh
# stop - Ctrl-Alt-Del over QMP, then wait for QEMU to exit (written by grim's qemu-microvm driver)
cd "$GRIM_VM_DIR" || exit 0
pid=$(cat qemu.pid 2>/dev/null) || exit 0
printf '%s\\n' '{"execute":"qmp_capabilities"}' \\
  '{"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}}' |
  socat -t1 - UNIX-CONNECT:qmp.sock >/dev/null 2>&1 || exit 0
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 95 ]; do
  sleep 0.1
  n=$((n + 1))
done
kill -0 "$pid" 2>/dev/null && exit 0
for c in $(${CGROUP_DIRS}); do rmdir "$c/grim/$GRIM_INSTANCE" 2>/dev/null; done
exit 0
`;

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
        run: VM_RUN_SCRIPT,
        stop: VM_STOP_SCRIPT,
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
