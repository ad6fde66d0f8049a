// How one Firecracker microVM is laid out on its node, jailed or not: the boot spec (paths as Firecracker
// sees them), the run.sh lines that start the VMM in the foreground, the cleanup.sh lines, and where the
// API socket, metrics file and cgroup are on the node. Pure: the driver uploads what this returns.
import { shellQuote } from '../../ssh/quote.ts';
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
  run: string[];
  cleanup: HostCommand[];
  /** As the node sees it. */
  apiSocket: string;
  metricsFile: string;
  /** cgroup of the VMM relative to the cgroup root, for instance metrics. */
  cgroup: string;
  jailId?: string;
}

export function commandLine(c: HostCommand): string {
  const cmd = c.argv.map(shellQuote).join(' ');
  return c.ignoreFailure ? `${cmd} 2>/dev/null || true` : `${cmd} || exit 1`;
}

export function runScript(lines: string[]): string {
  return `#!/bin/sh\n# written by grim's firecracker driver\ncd "$(dirname "$0")" || exit 1\n${lines.join('\n')}\n`;
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
      run: [
        ...staged.commands.map(commandLine),
        `ip link set ${shellQuote(tap)} master ${shellQuote(bridge)} up || exit 1`,
        'echo $$ >qemu.pid',
        `exec ${jailerArgv(host, { jailId, uid, cpu: base.size.cpu, memoryMib: base.size.memoryMib })
          .map(shellQuote)
          .join(' ')} >serial.log 2>&1`,
      ],
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
    run: [
      // Firecracker does not create the metrics file, and writes it from the start: a fresh one per boot.
      ': >metrics.ndjson || exit 1',
      `ip link show ${shellQuote(tap)} >/dev/null 2>&1 || ip tuntap add dev ${shellQuote(tap)} mode tap || exit 1`,
      `ip link set ${shellQuote(tap)} master ${shellQuote(bridge)} up || exit 1`,
      'echo $$ >qemu.pid',
      `exec ${[input.firecrackerPath, '--api-sock', apiSocket, '--id', input.instanceId].map(shellQuote).join(' ')} >serial.log 2>&1`,
    ],
    cleanup: [
      { description: 'delete the TAP device', argv: ['ip', 'link', 'del', tap], ignoreFailure: true },
    ],
    apiSocket,
    metricsFile,
    // grim's supervisor runs the VMM in grim/<id> (cgroup v2 or the v1 cpu/memory hierarchies).
    cgroup: `/grim/${input.instanceId}`,
  };
}
