// How one Firecracker microVM is laid out on its node, jailed or not: the boot spec (paths as Firecracker
// sees them), the host steps before the VMM starts, the VMM's argv, the cleanup steps, and where the API
// socket, metrics file and cgroup are on the node. Pure: the driver uploads what this returns as data files
// (run-plan, vmm-argv, cleanup-plan) that the static scripts/node/vm-fc-vmm.sh and vm-fc-cleanup.sh read.
import type { MicroVmBootSpec } from './boot-plan.ts';
import type { HostCommand } from './host-command.ts';
import {
  chrootStagingPlan,
  jailCgroupPath,
  jailCleanupPlan,
  jailerArgv,
  jailIdFor,
  jailRoot,
  type JailerHostConfig,
} from './jailer.ts';

export interface VmLayoutInput {
  instanceId: string;
  /** The instance's directory on the node (disk.ext4, meta.tar, app.ext4, run.sh...). */
  dir: string;
  kernel: { vmlinux: string; initramfs?: string; bootArgs: string };
  hasAppDrive: boolean;
  /** Persistent volume images on the node, attached read-write in this order. */
  volumeImages?: string[];
  tap: string;
  bridge: string;
  /** machine-config, network and MMDS: the same jailed or not. */
  base: Pick<MicroVmBootSpec, 'instanceId' | 'size' | 'network' | 'mmds'>;
  /** Unjailed: the firecracker binary on the node. */
  firecrackerPath: string;
  /** Jailed: the jailer settings and this VM's uid/gid. */
  jail?: { host: JailerHostConfig; uid: number };
}

export interface VmLayout {
  boot: MicroVmBootSpec;
  /** Host steps before the VMM starts (jail staging, TAP on its bridge), in order. */
  prepare: HostCommand[];
  /** The VMM in the foreground: firecracker, or the jailer that execs it. */
  vmm: string[];
  cleanup: HostCommand[];
  /** As the node sees it. */
  apiSocket: string;
  metricsFile: string;
  /** cgroup of the VMM relative to the cgroup root, for instance metrics. */
  cgroup: string;
  jailId?: string;
}

/** Arguments travel as lines and TAB-separated fields: neither may hold a TAB, a newline or a NUL. */
function checkArg(arg: string): string {
  if (/[\t\n\r\0]/.test(arg))
    throw new Error(`host command argument ${JSON.stringify(arg)} holds a control character`);
  return arg;
}

/** A plan file for scripts/lib/plan.sh: "must" or "may", then the argv, TAB-separated, one command a line. */
export function planFile(commands: HostCommand[]): string {
  return commands
    .map((c) => [c.ignoreFailure ? 'may' : 'must', ...c.argv.map(checkArg)].join('\t') + '\n')
    .join('');
}

/** The vmm-argv file of scripts/node/vm-fc-vmm.sh: one argument a line. */
export function argvFile(argv: string[]): string {
  return argv.map((a) => `${checkArg(a)}\n`).join('');
}

export function vmLayout(input: VmLayoutInput): VmLayout {
  const { dir, tap, bridge, base } = input;
  if (input.jail !== undefined) {
    const host = { ...input.jail.host, daemonize: false }; // the supervisor keeps it in the foreground
    const jailId = jailIdFor(host, input.instanceId);
    const uid = input.jail.uid;
    const staged = chrootStagingPlan(host, {
      jailId,
      uid,
      kernelPath: input.kernel.vmlinux,
      initrdPath: input.kernel.initramfs,
      rootfsPath: `${dir}/disk.ext4`,
      dataDrivePath: input.hasAppDrive ? `${dir}/app.ext4` : undefined,
      metadataDrivePath: `${dir}/meta.tar`,
      volumeDrivePaths: input.volumeImages,
      tap: { name: tap },
    });
    const p = staged.jailPaths;
    return {
      boot: {
        ...base,
        kernel: { path: p.kernel, bootArgs: input.kernel.bootArgs, initrdPath: p.initrd },
        rootfs: { path: p.rootfs },
        dataDrive: p.data === undefined ? undefined : { path: p.data },
        metadataDrive: { path: p.metadata as string },
        volumeDrives: p.volumes?.map((path) => ({ path })),
        metricsPath: p.metrics,
      },
      prepare: [...staged.commands, onBridge(tap, bridge)],
      vmm: jailerArgv(host, { jailId, uid, cpu: base.size.cpu, memoryMib: base.size.memoryMib }),
      cleanup: jailCleanupPlan(host, {
        jailId,
        tap: { name: tap },
        volumeDrives: input.volumeImages?.length,
      }),
      apiSocket: p.hostApiSocket,
      metricsFile: `${jailRoot(host, jailId)}${p.metrics}`,
      cgroup: jailCgroupPath(host, jailId),
      jailId,
    };
  }
  const apiSocket = `${dir}/api.sock`;
  const metricsFile = `${dir}/metrics.ndjson`;
  return {
    boot: {
      ...base,
      kernel: {
        path: input.kernel.vmlinux,
        bootArgs: input.kernel.bootArgs,
        initrdPath: input.kernel.initramfs,
      },
      rootfs: { path: `${dir}/disk.ext4` },
      dataDrive: input.hasAppDrive ? { path: `${dir}/app.ext4` } : undefined,
      metadataDrive: { path: `${dir}/meta.tar` },
      volumeDrives: input.volumeImages?.map((path) => ({ path })),
      metricsPath: metricsFile,
    },
    prepare: [
      // Firecracker does not create the metrics file, and writes it from the start: a fresh one per boot.
      { description: 'empty the metrics file', argv: ['cp', '/dev/null', metricsFile] },
      // Kept across restarts; "may": it exists after the first boot, and attaching it below says if it is missing.
      {
        description: 'create the TAP device',
        argv: ['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap'],
        ignoreFailure: true,
      },
      onBridge(tap, bridge),
    ],
    vmm: [input.firecrackerPath, '--api-sock', apiSocket, '--id', input.instanceId],
    cleanup: [
      { description: 'delete the TAP device', argv: ['ip', 'link', 'del', tap], ignoreFailure: true },
    ],
    apiSocket,
    metricsFile,
    // grim's supervisor runs the VMM in grim/<id> (cgroup v2 or the v1 cpu/memory hierarchies).
    cgroup: `/grim/${input.instanceId}`,
  };
}

function onBridge(tap: string, bridge: string): HostCommand {
  return {
    description: 'attach the TAP device to its bridge',
    argv: ['ip', 'link', 'set', tap, 'master', bridge, 'up'],
  };
}
