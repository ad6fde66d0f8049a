// Pure builders for running Firecracker under its jailer (reference/firecracker/jailer.md):
// the jailer argv, jail ids that fit the API socket path, per-VM uid/gid, the chroot staging plan
// and the cleanup plan. Nothing here touches the host.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { HostCommand } from './host-command.ts';
import { checkMemoryMib, cpuMaxValue, DEFAULT_CPU_PERIOD_US, parseCpuMillis } from './resources.ts';

export const JAILER_MAX_ID_LENGTH = 64; // jailer.md: alphanumerics and hyphens, at most 64
export const SUN_PATH_MAX = 107; // sockaddr_un.sun_path is 108 bytes including the NUL
export const IFNAMSIZ_MAX = 15; // Linux interface names: 16 bytes including the NUL
export const JAILED_API_SOCKET = '/run/firecracker.socket'; // Firecracker's default, passed explicitly

export class JailerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JailerError';
  }
}

export interface JailerHostConfig {
  jailerPath: string; // e.g. /usr/local/bin/jailer
  firecrackerPath: string; // e.g. /usr/local/bin/firecracker (static musl build of the same version)
  chrootBaseDir?: string; // default /srv/jailer
  /** uids (and equal gids) reserved for microVMs: first .. first+count-1, one per VM. */
  idRange: { first: number; count: number };
  cgroupRoot?: string; // cgroup v2 unified mount, default /sys/fs/cgroup
  cpuPeriodUs?: number; // default 100000
  /** Added to guest memory for memory.max: VMM threads, page tables, I/O buffers. Default 32 MiB. */
  memoryOverheadMib?: number;
  daemonize?: boolean; // default true
  netnsDir?: string; // default /var/run/netns
}

export interface JailSpec {
  jailId: string; // from jailIdFor
  uid: number; // from pickJailId; the gid is the same number
  cpu: string | number; // "250m", 0.5, 2
  memoryMib: number;
  netns?: string; // network namespace name under netnsDir
  firecrackerArgs?: string[]; // extra Firecracker arguments after "--"
}

/** Added to guest memory for the VMM's memory limit when nothing else is set (VMM threads, page tables). */
export const VMM_MEMORY_OVERHEAD_MIB = 32;

const DEFAULTS = {
  chrootBaseDir: '/srv/jailer',
  cgroupRoot: '/sys/fs/cgroup',
  memoryOverheadMib: VMM_MEMORY_OVERHEAD_MIB,
  netnsDir: '/var/run/netns',
};

function execFileName(host: JailerHostConfig): string {
  return path.posix.basename(host.firecrackerPath);
}

function chrootBase(host: JailerHostConfig): string {
  return host.chrootBaseDir ?? DEFAULTS.chrootBaseDir;
}

/** <chroot_base>/<exec_file_name>/<id> — the jail directory; its "root" is the jailed "/". */
export function jailDir(host: JailerHostConfig, jailId: string): string {
  return path.posix.join(chrootBase(host), execFileName(host), jailId);
}

export function jailRoot(host: JailerHostConfig, jailId: string): string {
  return path.posix.join(jailDir(host, jailId), 'root');
}

/** Host path of the API socket: <chroot_base>/<exec_file_name>/<id>/root/run/firecracker.socket. */
export function apiSocketPath(host: JailerHostConfig, jailId: string): string {
  return path.posix.join(jailRoot(host, jailId), JAILED_API_SOCKET);
}

/** The VM's cgroup relative to the cgroup root (as metrics.sh takes it): /<exec_file_name>/<id>. */
export function jailCgroupPath(host: JailerHostConfig, jailId: string): string {
  return `/${execFileName(host)}/${jailId}`;
}

/** The jailer stores Firecracker's pid in <chroot_dir>/<exec_file_name>.pid. */
export function pidFilePath(host: JailerHostConfig, jailId: string): string {
  return path.posix.join(jailRoot(host, jailId), `${execFileName(host)}.pid`);
}

function shortHash(text: string, hexDigits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexDigits);
}

/** Longest jail id whose API socket path still fits in sun_path on this host layout. */
export function maxJailIdLength(host: JailerHostConfig): number {
  const withoutId = Buffer.byteLength(apiSocketPath(host, 'x')) - 1;
  return Math.min(JAILER_MAX_ID_LENGTH, SUN_PATH_MAX - withoutId);
}

/**
 * A jailer id for an instance: the instance id with anything but [A-Za-z0-9-] turned into "-".
 * When that is too long for the id limit or the socket path, it is shortened deterministically to
 * "<head>-<10 hex of sha256(instanceId)>". Throws when the chroot base leaves room for fewer than
 * 11 characters.
 */
export function jailIdFor(host: JailerHostConfig, instanceId: string): string {
  const max = maxJailIdLength(host);
  if (max < 11) {
    throw new JailerError(
      `chroot base "${chrootBase(host)}" is too long: the API socket path leaves ${max} bytes for the ` +
        `jail id (sun_path holds ${SUN_PATH_MAX}); use a shorter chrootBaseDir`,
    );
  }
  const clean = instanceId.replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  if (clean.length > 0 && clean.length <= max && clean === instanceId) return clean;
  const hash = shortHash(instanceId, 10);
  const head = clean.slice(0, Math.max(0, max - hash.length - 1)).replace(/-+$/g, '');
  return head.length > 0 ? `${head}-${hash}` : hash;
}

function checkJailId(host: JailerHostConfig, jailId: string): void {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(jailId)) {
    throw new JailerError(`jail id "${jailId}" must be 1-64 letters, digits or hyphens`);
  }
  const socket = apiSocketPath(host, jailId);
  if (Buffer.byteLength(socket) > SUN_PATH_MAX) {
    throw new JailerError(`API socket path "${socket}" exceeds ${SUN_PATH_MAX} bytes; use jailIdFor`);
  }
}

/** The lowest uid of the range not in use (gid = uid). Throws when every id is taken. */
export function pickJailId(host: JailerHostConfig, inUse: Iterable<number>): number {
  const { first, count } = host.idRange;
  if (!Number.isInteger(first) || first < 1 || !Number.isInteger(count) || count < 1) {
    throw new JailerError(`idRange must be positive integers, got first=${first} count=${count}`);
  }
  const taken = new Set(inUse);
  for (let id = first; id < first + count; id++) if (!taken.has(id)) return id;
  throw new JailerError(`all ${count} jail uids from ${first} are in use`);
}

function checkName(kind: string, name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new JailerError(`${kind} "${name}" has unsafe characters`);
  return name;
}

/** cgroup v2 settings the jailer writes: cpu.max for the (possibly fractional) CPU, memory.max. */
export function cgroupSettings(host: JailerHostConfig, jail: JailSpec): string[] {
  const millis = parseCpuMillis(jail.cpu);
  const bytes =
    (checkMemoryMib(jail.memoryMib) + (host.memoryOverheadMib ?? DEFAULTS.memoryOverheadMib)) * 2 ** 20;
  return [`cpu.max=${cpuMaxValue(millis, host.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US)}`, `memory.max=${bytes}`];
}

/** argv for the jailer (argv[0] is the jailer binary). */
export function jailerArgv(host: JailerHostConfig, jail: JailSpec): string[] {
  checkJailId(host, jail.jailId);
  const { first, count } = host.idRange;
  if (!Number.isInteger(jail.uid) || jail.uid < first || jail.uid >= first + count) {
    throw new JailerError(`uid ${jail.uid} is outside the jail id range ${first}..${first + count - 1}`);
  }
  const argv = [
    host.jailerPath,
    '--id',
    jail.jailId,
    '--exec-file',
    host.firecrackerPath,
    '--uid',
    String(jail.uid),
    '--gid',
    String(jail.uid),
    '--chroot-base-dir',
    chrootBase(host),
    '--cgroup-version',
    '2',
  ];
  for (const setting of cgroupSettings(host, jail)) argv.push('--cgroup', setting);
  if (jail.netns !== undefined) {
    argv.push('--netns', path.posix.join(host.netnsDir ?? DEFAULTS.netnsDir, checkName('netns', jail.netns)));
  }
  if (host.daemonize ?? true) argv.push('--daemonize');
  argv.push('--', '--api-sock', JAILED_API_SOCKET, ...(jail.firecrackerArgs ?? []));
  return argv;
}

/** A TAP name within IFNAMSIZ, stable for a jail id: "fc" + 10 hex digits. */
export function tapNameFor(jailId: string): string {
  return `fc${shortHash(jailId, 10)}`;
}

export interface StagingInput {
  jailId: string;
  uid: number;
  kernelPath: string;
  initrdPath?: string;
  /** The instance's own image: it is hard-linked and chowned, which changes the shared inode. */
  rootfsPath: string;
  dataDrivePath?: string;
  metadataDrivePath?: string;
  /**
   * Persistent volume drives (an ext4 image file, or a zvol's block device): bind-mounted onto an empty file in
   * the jail, so the VM writes the volume itself wherever it lives (a ZFS dataset is another filesystem than the
   * chroot base, so a hard link fails; a copy would fork the data). The jailer bind-mounts chroot_dir onto
   * itself recursively (MS_BIND | MS_REC) before pivot_root, so the file mount is inside its jail.
   */
  volumeDrivePaths?: string[];
  tap?: { name: string; netns?: string };
}

/** Where staged files appear for Firecracker (jail-relative) and for the host. */
export interface JailPaths {
  kernel: string;
  initrd?: string;
  rootfs: string;
  data?: string;
  metadata?: string;
  volumes?: string[];
  metrics: string;
  hostApiSocket: string;
  hostPidFile: string;
}

function ipCommand(netns: string | undefined, ...args: string[]): string[] {
  return netns === undefined ? ['ip', ...args] : ['ip', '-n', checkName('netns', netns), ...args];
}

/**
 * Host commands that prepare a jail before the jailer runs. Hard links need the image store and
 * the chroot base on one filesystem. The kernel and initrd are shared read-only files: linked, not
 * chowned (they must be world-readable). Per-instance disks and the metrics file are chowned to the
 * VM's uid/gid with mode 0600. The TAP device is recreated, so the plan can be re-run before start.
 */
export function chrootStagingPlan(
  host: JailerHostConfig,
  input: StagingInput,
): { commands: HostCommand[]; jailPaths: JailPaths } {
  checkJailId(host, input.jailId);
  const root = jailRoot(host, input.jailId);
  const owner = `${input.uid}:${input.uid}`;
  const commands: HostCommand[] = [{ description: 'create the jail root', argv: ['mkdir', '-p', root] }];
  const link = (source: string, name: string, own: boolean): string => {
    const target = path.posix.join(root, name);
    commands.push({ description: `hard-link ${name} into the jail`, argv: ['ln', '-f', source, target] });
    if (own) {
      commands.push({ description: `give ${name} to the VM user`, argv: ['chown', owner, target] });
      commands.push({ description: `restrict ${name} to the VM user`, argv: ['chmod', '0600', target] });
    }
    return `/${name}`;
  };
  const jailPaths: JailPaths = {
    kernel: link(input.kernelPath, 'vmlinux', false),
    rootfs: '',
    metrics: '/metrics.ndjson',
    hostApiSocket: apiSocketPath(host, input.jailId),
    hostPidFile: pidFilePath(host, input.jailId),
  };
  if (input.initrdPath !== undefined) jailPaths.initrd = link(input.initrdPath, 'initrd', false);
  jailPaths.rootfs = link(input.rootfsPath, 'rootfs.ext4', true);
  if (input.dataDrivePath !== undefined) jailPaths.data = link(input.dataDrivePath, 'data.ext4', true);
  if (input.metadataDrivePath !== undefined) {
    jailPaths.metadata = link(input.metadataDrivePath, 'metadata.img', true);
  }
  if (input.volumeDrivePaths?.length)
    jailPaths.volumes = input.volumeDrivePaths.map((source, i) => {
      const name = volumeDriveName(i);
      const target = path.posix.join(root, name);
      commands.push(
        { description: `unmount a stale ${name}`, argv: ['umount', target], ignoreFailure: true },
        { description: `create the mount point of ${name}`, argv: ['touch', target] },
        {
          description: `bind-mount volume drive ${i} onto ${name}`,
          argv: ['mount', '--bind', source, target],
        },
        { description: `give ${name} to the VM user`, argv: ['chown', owner, target] },
        { description: `restrict ${name} to the VM user`, argv: ['chmod', '0600', target] },
      );
      return `/${name}`;
    });
  const metrics = path.posix.join(root, 'metrics.ndjson');
  commands.push(
    { description: 'create the metrics file (Firecracker does not create it)', argv: ['touch', metrics] },
    { description: 'give the metrics file to the VM user', argv: ['chown', owner, metrics] },
  );
  if (input.tap !== undefined) {
    const { name, netns } = input.tap;
    checkName('tap', name);
    if (name.length > IFNAMSIZ_MAX) throw new JailerError(`TAP name "${name}" exceeds ${IFNAMSIZ_MAX} chars`);
    commands.push(
      {
        description: 'remove a stale TAP device',
        argv: ipCommand(netns, 'link', 'del', name),
        ignoreFailure: true,
      },
      {
        description: 'create the TAP device for the VM user',
        argv: ipCommand(netns, 'tuntap', 'add', 'dev', name, 'mode', 'tap', 'user', String(input.uid)),
      },
      { description: 'bring the TAP device up', argv: ipCommand(netns, 'link', 'set', name, 'up') },
    );
  }
  return { commands, jailPaths };
}

/** The jail file a volume drive is bind-mounted onto. */
const volumeDriveName = (index: number) => `volume-${index}.ext4`;

/**
 * Host commands that remove what a stopped VM leaves behind: the volume drives' bind mounts, the TAP device,
 * the jailer's cgroup (<cgroup_root>/<exec_file_name>/<id>, rmdir only works once the process is gone) and the
 * jail directory (hard links only; the source images stay). Every step but the last tolerates an absent
 * target; should an unmount fail, rm cannot unlink a mount point (EBUSY), so a volume is never deleted.
 */
export function jailCleanupPlan(
  host: JailerHostConfig,
  input: { jailId: string; tap?: { name: string; netns?: string }; volumeDrives?: number },
): HostCommand[] {
  checkJailId(host, input.jailId);
  const commands: HostCommand[] = [];
  const root = jailRoot(host, input.jailId);
  for (let i = 0; i < (input.volumeDrives ?? 0); i++)
    commands.push({
      description: `unmount volume drive ${i}`,
      argv: ['umount', path.posix.join(root, volumeDriveName(i))],
      ignoreFailure: true,
    });
  if (input.tap !== undefined) {
    commands.push({
      description: 'delete the TAP device',
      argv: ipCommand(input.tap.netns, 'link', 'del', checkName('tap', input.tap.name)),
      ignoreFailure: true,
    });
  }
  const cgroup = path.posix.join(host.cgroupRoot ?? DEFAULTS.cgroupRoot, execFileName(host), input.jailId);
  commands.push(
    { description: 'remove the VM cgroup', argv: ['rmdir', cgroup], ignoreFailure: true },
    { description: 'remove the jail directory', argv: ['rm', '-rf', '--', jailDir(host, input.jailId)] },
  );
  return commands;
}
