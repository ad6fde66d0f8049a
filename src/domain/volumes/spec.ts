/**
 * Volumes in an app's spec: `volumes: [{ name, size, mount, kind: local | shared, backup?: { schedule, keep } }]`.
 * Validation is strict and collects every problem with its path: hostile names, mount paths that are relative,
 * hold `..`, or cover the system's own trees (/proc, /sys, /dev ...), sizes out of range, and combinations a
 * runtime cannot honour (a shared volume in a microVM: Firecracker has no virtio-fs).
 */
import { formatBytes, parseBytes } from '../units.ts';
import { parseBackupSchedule } from './schedule.ts';
import { VM_RUNTIMES } from '../runtimes.ts';

export const VOLUME_KINDS = ['local', 'shared'] as const;
export type VolumeKind = (typeof VOLUME_KINDS)[number];

export type VolumeBackupPolicy = {
  /** How often: an interval such as "6h", "1d", "30m" (at least 5 minutes). */
  schedule: string;
  intervalSec: number;
  /** How many backups `forget --prune` keeps. */
  keep: number;
  /** Named backup target; default: the only one configured. */
  target?: string;
};

export type VolumeSpec = {
  name: string;
  size: string;
  sizeBytes: number;
  mount: string;
  kind: VolumeKind;
  backup?: VolumeBackupPolicy;
};

export type VolumeInput = {
  name?: unknown;
  size?: unknown;
  mount?: unknown;
  kind?: unknown;
  backup?: { schedule?: unknown; keep?: unknown; target?: unknown } | null;
};

export type Problem = { path: string; message: string };

export const VOLUME_NAME = /^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$/;
export const MAX_VOLUMES = 16;
export const MIN_VOLUME_BYTES = 16 * 1024 * 1024;
export const MAX_VOLUME_BYTES = 64 * 1024 ** 4;
const MOUNT_CHARS = /^[A-Za-z0-9._/-]+$/;
const TARGET_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** Trees a volume may not cover or sit inside: the kernel's views and what the OS and grim's guest need. */
export const FORBIDDEN_MOUNT_TREES = ['/proc', '/sys', '/dev', '/run', '/boot', '/grim'];
/** Directories a volume may not replace (mounting below them, e.g. /etc/app, is fine). */
export const FORBIDDEN_MOUNT_EXACT = [
  '/',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/usr',
  '/etc',
  '/var',
  '/tmp',
  '/root',
  '/app',
];

const isMicrovm = (runtime: string) => (VM_RUNTIMES as readonly string[]).includes(runtime);

/** Every problem with one mount path (empty when it is fine). */
export function mountProblems(mount: unknown): string[] {
  if (typeof mount !== 'string' || mount === '') return ['a mount path is required'];
  const out: string[] = [];
  if (mount.length > 200) out.push('must be at most 200 characters');
  if (!mount.startsWith('/')) out.push(`"${mount}" is not absolute (it must start with /)`);
  if (!MOUNT_CHARS.test(mount))
    out.push(
      'may only hold letters, digits, ".", "_", "-" and "/" (no spaces, quotes or control characters)',
    );
  const segments = mount.split('/').slice(1);
  if (segments.some((s) => s === '..')) out.push('must not contain ".." segments');
  if (segments.some((s) => s === '.')) out.push('must not contain "." segments');
  if (mount.length > 1 && segments.some((s) => s === '')) out.push('must not contain "//" or end with "/"');
  if (out.length > 0) return out;
  for (const tree of FORBIDDEN_MOUNT_TREES)
    if (mount === tree || mount.startsWith(`${tree}/`))
      out.push(`must not be ${tree} or below it (reserved for the system)`);
  if (FORBIDDEN_MOUNT_EXACT.includes(mount)) out.push(`must not replace ${mount}`);
  return out;
}

function checkBackup(
  b: NonNullable<VolumeInput['backup']>,
  kind: VolumeKind,
  path: string,
  problems: Problem[],
): VolumeBackupPolicy | undefined {
  if (typeof b !== 'object') {
    problems.push({ path, message: 'must be an object { schedule, keep }' });
    return undefined;
  }
  const schedule = parseBackupSchedule(b.schedule);
  if (!schedule.ok) problems.push({ path: `${path}/schedule`, message: schedule.error });
  const keep = b.keep ?? 7;
  if (!Number.isInteger(keep) || (keep as number) < 1 || (keep as number) > 1000)
    problems.push({ path: `${path}/keep`, message: 'must be a whole number from 1 to 1000' });
  if (b.target !== undefined && (typeof b.target !== 'string' || !TARGET_NAME.test(b.target)))
    problems.push({ path: `${path}/target`, message: 'must be the name of a backup target' });
  if (kind === 'shared')
    problems.push({
      path,
      message:
        'shared volumes live on the SeaweedFS cluster, which keeps its own replicas; back up local volumes',
    });
  if (!schedule.ok) return undefined;
  return {
    schedule: b.schedule as string,
    intervalSec: schedule.value,
    keep: keep as number,
    ...(typeof b.target === 'string' ? { target: b.target } : {}),
  };
}

/** Checks a volume list for an app of `runtime`; every problem is reported, none stops the others. */
export function checkVolumes(
  input: unknown,
  runtime: string,
  path = 'body/volumes',
): { volumes: VolumeSpec[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const volumes: VolumeSpec[] = [];
  if (input === undefined || input === null) return { volumes, problems };
  if (!Array.isArray(input)) return { volumes, problems: [{ path, message: 'must be a list' }] };
  if (input.length > MAX_VOLUMES)
    problems.push({ path, message: `at most ${MAX_VOLUMES} volumes per app, got ${input.length}` });
  const names = new Map<string, number>();
  const mounts: Array<{ mount: string; i: number }> = [];
  (input as VolumeInput[]).forEach((v, i) => {
    const at = `${path}/${i}`;
    if (typeof v !== 'object' || v === null) {
      problems.push({ path: at, message: 'must be an object { name, size, mount, kind }' });
      return;
    }
    const before = problems.length;
    const name = v.name;
    if (typeof name !== 'string' || !VOLUME_NAME.test(name))
      problems.push({
        path: `${at}/name`,
        message:
          `volume name ${typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : String(name)} is invalid: ` +
          '1 to 24 lowercase letters, digits and "-", starting with a letter and not ending with "-"',
      });
    else if (names.has(name))
      problems.push({
        path: `${at}/name`,
        message: `volume "${name}" appears twice (also at ${names.get(name)})`,
      });
    else names.set(name, i);

    const kind = (v.kind ?? 'local') as VolumeKind;
    if (!VOLUME_KINDS.includes(kind))
      problems.push({ path: `${at}/kind`, message: `must be one of ${VOLUME_KINDS.join(', ')}` });
    else if (kind === 'shared' && isMicrovm(runtime))
      problems.push({
        path: `${at}/kind`,
        message:
          `a shared volume cannot be mounted in a ${runtime} microVM: Firecracker has no virtio-fs and grim gives ` +
          'microVMs block devices only; use a local volume, or mount an NFS or S3 path inside the guest yourself',
      });

    const badMount = mountProblems(v.mount);
    for (const m of badMount) problems.push({ path: `${at}/mount`, message: m });
    if (badMount.length === 0 && typeof v.mount === 'string') {
      const mount = v.mount;
      for (const other of mounts)
        if (
          other.mount === mount ||
          mount.startsWith(`${other.mount}/`) ||
          other.mount.startsWith(`${mount}/`)
        )
          problems.push({
            path: `${at}/mount`,
            message: `${mount} overlaps the mount ${other.mount} of volume ${other.i}`,
          });
      mounts.push({ mount, i });
    }

    const size = parseBytes(v.size, 'volume size');
    if (!size.ok) problems.push({ path: `${at}/size`, message: size.error });
    else if (size.value < MIN_VOLUME_BYTES || size.value > MAX_VOLUME_BYTES)
      problems.push({
        path: `${at}/size`,
        message: `must be from ${formatBytes(MIN_VOLUME_BYTES)} to ${formatBytes(MAX_VOLUME_BYTES)}, got ${formatBytes(size.value)}`,
      });

    const backup =
      v.backup === undefined || v.backup === null
        ? undefined
        : checkBackup(v.backup, kind, `${at}/backup`, problems);
    if (problems.length > before || !size.ok) return;
    volumes.push({
      name: name as string,
      size: v.size as string,
      sizeBytes: size.value,
      mount: v.mount as string,
      kind,
      ...(backup ? { backup } : {}),
    });
  });
  return { volumes, problems };
}

/** Bytes of node storage one instance's local volumes take. */
/**
 * Local volumes never shrink (ZFS refuses a quota under its use, ext4 images would lose data): each volume of
 * `volumes` smaller than a copy grim already keeps on some node is a problem, with both sizes.
 */
export function shrinkProblems(
  volumes: readonly VolumeSpec[] | undefined,
  copies: ReadonlyArray<{ name: string; node: string; sizeBytes: number }>,
): Problem[] {
  const problems: Problem[] = [];
  (volumes ?? []).forEach((v, i) => {
    if (v.kind !== 'local') return;
    const bigger = copies.filter((c) => c.name === v.name && c.sizeBytes > v.sizeBytes);
    if (bigger.length === 0) return;
    const largest = Math.max(...bigger.map((c) => c.sizeBytes));
    problems.push({
      path: `body/volumes/${i}/size`,
      message:
        `volume ${v.name} is ${largest} bytes on ${bigger.map((c) => c.node).join(', ')}: it cannot shrink to ` +
        `${v.sizeBytes} bytes (make a new volume and restore a backup into it)`,
    });
  });
  return problems;
}

export const localVolumeBytes = (volumes: readonly VolumeSpec[] | undefined) =>
  (volumes ?? []).filter((v) => v.kind === 'local').reduce((sum, v) => sum + v.sizeBytes, 0);

/** `data:10Gi:/var/lib/app[:shared]`, the CLI's --volume form (validation happens in checkVolumes). */
export function parseVolumeFlag(flag: string): VolumeInput {
  const parts = flag.split(':');
  const [name, size, mount] = parts;
  const kind = parts.length > 3 ? parts.slice(3).join(':') : undefined;
  return { name, size, mount, ...(kind !== undefined ? { kind } : {}) };
}

/** The directory of a volume on its node (a ZFS dataset's mountpoint, or a plain directory). */
export const VOLUMES_ROOT = '/var/lib/grim/volumes';
export const volumeHostPath = (app: string, name: string) => `${VOLUMES_ROOT}/${app}/${name}`;
/**
 * Shared volumes: each node mounts its environment's SeaweedFS filer directory SHARED_FILER_PATH at SHARED_ROOT
 * (a supervised `weed mount`); a volume is <environment>/<app>/<name> below it, the same files on every node.
 */
export const SHARED_ROOT = '/srv/grim-shared';
export const SHARED_FILER_PATH = '/volumes/grim';
export const sharedHostPath = (environment: string, app: string, name: string) =>
  `${SHARED_ROOT}/${environment}/${app}/${name}`;

/** The variable that tells an instance where a volume is: GRIM_VOLUME_<NAME>. */
export const volumeEnvName = (name: string) => `GRIM_VOLUME_${name.toUpperCase().replace(/-/g, '_')}`;
