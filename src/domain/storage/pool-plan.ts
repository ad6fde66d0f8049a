/**
 * The pool wizard's brain: from a layout the user picked, the disks of one node and what that node's
 * ZFS supports, work out the vdevs, the capacity, how many disks may fail, the warnings and the exact
 * `zpool create` argv, or every problem that stops it. Pure: nothing runs here.
 */
import type { ErrorDetail } from '../errors.ts';
import {
  MIN_DEVICE_BYTES,
  estimateCapacity,
  parityOf,
  type TopVdevKind,
  type TopVdevSizes,
} from './capacity.ts';
import { diskPathProblems, poolNameProblems } from './names.ts';
import { formatNicenum } from './zfs-numbers.ts';

export const LAYOUTS = [
  'stripe',
  'mirror',
  'striped-mirrors',
  'raidz1',
  'raidz2',
  'raidz3',
  'draid1',
  'draid2',
  'draid3',
] as const;
export type Layout = (typeof LAYOUTS)[number];

/** What a node's ZFS can do (from storage-inventory.sh). */
export interface ZfsCapabilities {
  /** 'zfs-fuse' (pool v23) or 'openzfs'. */
  implementation: 'zfs-fuse' | 'openzfs';
  /** 23 for zfs-fuse, 5000 for feature-flag pools. */
  poolVersion: number;
  draid: boolean;
  /** Compression algorithms `zfs set compression=` accepts. */
  compression: string[];
  /** xattr=sa (OpenZFS only). */
  xattrSa: boolean;
  /** `zpool list -p`, `zpool status -j`. */
  parsableList: boolean;
  jsonStatus: boolean;
  /** zfs-fuse refuses plain files as cache devices. */
  cacheNeedsBlockDevice: boolean;
}

export interface PlanDisk {
  path: string;
  sizeBytes: number;
  rotational: boolean;
  /** Why the disk is not free (partitions, a filesystem, a pool), or null. */
  inUse: string | null;
  /** 'block' or 'file' (lab disks are files behind /dev/disk/by-id links). */
  kind: 'block' | 'file';
}

export interface PoolPlanRequest {
  name: string;
  layout: Layout;
  disks: string[];
  /** Disks per mirror (2 or 3) or per raidz/draid vdev (default: all data disks in one vdev). */
  width?: number;
  log?: string[];
  cache?: string[];
  special?: string[];
  spares?: string[];
  /** Compression algorithm; default: lz4 where supported, else "on". */
  compression?: string;
  mountpoint?: string;
  /** Add -f: use disks that look in use. */
  force?: boolean;
}

export interface PlannedVdev {
  kind: TopVdevKind | 'log' | 'cache' | 'special' | 'spare';
  disks: string[];
}

export interface PoolPlan {
  name: string;
  layout: Layout;
  vdevs: PlannedVdev[];
  rawBytes: number;
  usableBytes: number;
  wastedBytes: number;
  faultTolerance: { perVdev: number; guaranteed: number; bestCase: number; description: string };
  warnings: string[];
  argv: string[];
  /** The argv as one shell line, each word quoted only when needed (for showing, never for running). */
  commandLine: string;
}

export type PlanResult = { ok: true; plan: PoolPlan } | { ok: false; problems: ErrorDetail[] };

function displayWord(w: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

const minDisks = (layout: Layout, width: number): number => {
  switch (layout) {
    case 'stripe':
      return 1;
    case 'mirror':
      return width;
    case 'striped-mirrors':
      return 2 * width;
    default:
      return parityOf(layout as TopVdevKind) + 1;
  }
};

function groupVdevs(layout: Layout, disks: string[], width: number): PlannedVdev[] {
  if (layout === 'stripe') return disks.map((d) => ({ kind: 'disk', disks: [d] }));
  if (layout === 'mirror') return [{ kind: 'mirror', disks }];
  const per = layout === 'striped-mirrors' ? width : width || disks.length;
  const kind: TopVdevKind = layout === 'striped-mirrors' ? 'mirror' : (layout as TopVdevKind);
  const out: PlannedVdev[] = [];
  for (let i = 0; i < disks.length; i += per) out.push({ kind, disks: disks.slice(i, i + per) });
  return out;
}

function toleranceOf(layout: Layout, vdevs: PlannedVdev[]): PoolPlan['faultTolerance'] {
  const data = vdevs.filter((v) => v.kind !== 'log' && v.kind !== 'cache' && v.kind !== 'spare');
  if (layout === 'stripe')
    return {
      perVdev: 0,
      guaranteed: 0,
      bestCase: 0,
      description: 'no disk may fail: losing any disk loses the pool',
    };
  const per = data[0]?.kind === 'mirror' ? data[0].disks.length - 1 : parityOf(data[0]?.kind as TopVdevKind);
  const groups = data.length;
  const unit = data[0]?.kind === 'mirror' ? 'mirror' : `${data[0]?.kind} vdev`;
  const description =
    groups === 1
      ? `any ${per} disk${per > 1 ? 's' : ''} may fail`
      : `${per} disk${per > 1 ? 's' : ''} in each ${unit} may fail (any ${per} for sure; up to ${per * groups} if they are spread over all ${groups} ${unit}s)`;
  return { perVdev: per, guaranteed: per, bestCase: per * groups, description };
}

export function defaultCompression(caps: ZfsCapabilities): string {
  return caps.compression.includes('lz4') ? 'lz4' : 'on';
}

/** Checks the request against the node's disks and ZFS, then builds the plan. */
export function planPool(req: PoolPlanRequest, inventory: PlanDisk[], caps: ZfsCapabilities): PlanResult {
  const problems: ErrorDetail[] = [];
  const add = (path: string, messages: string[]) =>
    messages.forEach((message) => problems.push({ path, message }));
  add('name', poolNameProblems(req.name));
  const width = req.width ?? (req.layout === 'mirror' || req.layout === 'striped-mirrors' ? 2 : 0);
  const byPath = new Map(inventory.map((d) => [d.path, d]));
  const roles: [keyof PoolPlanRequest, string[]][] = [
    ['disks', req.disks ?? []],
    ['log', req.log ?? []],
    ['cache', req.cache ?? []],
    ['special', req.special ?? []],
    ['spares', req.spares ?? []],
  ];
  const seen = new Map<string, string>();
  for (const [role, list] of roles) {
    list.forEach((path, i) => {
      const where = `${role}/${i}`;
      const pathProblems = diskPathProblems(path);
      add(where, pathProblems);
      if (pathProblems.length) return;
      if (seen.has(path)) add(where, [`${path} is already used as ${seen.get(path)}`]);
      seen.set(path, role);
      const disk = byPath.get(path);
      if (!disk) return add(where, [`${path} is not a disk of this node`]);
      if (disk.sizeBytes < MIN_DEVICE_BYTES)
        add(where, [`${path} is ${formatNicenum(disk.sizeBytes)}, smaller than ZFS's minimum of 64M`]);
      if (disk.inUse && !req.force)
        add(where, [`${path} is in use (${disk.inUse}); set force to overwrite it`]);
      if (role === 'cache' && caps.cacheNeedsBlockDevice && disk.kind === 'file')
        add(where, [`${path} is a file: this node's ZFS (zfs-fuse) needs a block device for cache`]);
    });
  }
  if ((req.special?.length ?? 0) > 0 && caps.poolVersion < 5000)
    add('special', [
      `special vdevs need OpenZFS 0.8 or later (allocation classes); this node runs ${caps.implementation} (pool version ${caps.poolVersion})`,
    ]);
  if (req.layout.startsWith('draid') && !caps.draid)
    add('layout', [
      `${req.layout} needs OpenZFS 2.1 or later; this node runs ${caps.implementation} (pool version ${caps.poolVersion})`,
    ]);
  if ((req.layout === 'mirror' || req.layout === 'striped-mirrors') && (width < 2 || width > 3))
    add('width', ['a mirror has 2 or 3 disks']);
  const disks = req.disks ?? [];
  const need = minDisks(req.layout, width);
  if (disks.length < need) add('disks', [`${req.layout} needs at least ${need} disks, got ${disks.length}`]);
  if (
    req.layout === 'mirror' &&
    width &&
    disks.length !== width &&
    disks.length >= 2 &&
    req.width !== undefined
  )
    add('disks', [`a ${width}-way mirror needs exactly ${width} disks, got ${disks.length}`]);
  const groupWidth =
    req.layout === 'striped-mirrors' ? width : req.layout.startsWith('raidz') ? width || disks.length : 0;
  if (groupWidth && disks.length % groupWidth !== 0)
    add('disks', [`${disks.length} disks do not split evenly into vdevs of ${groupWidth}`]);
  if (req.layout.startsWith('raidz') && width && width < parityOf(req.layout as TopVdevKind) + 1)
    add('width', [`${req.layout} needs at least ${parityOf(req.layout as TopVdevKind) + 1} disks per vdev`]);
  const compression = req.compression ?? defaultCompression(caps);
  if (!caps.compression.includes(compression))
    add('compression', [
      `compression "${compression}" is not supported here; choose one of ${caps.compression.join(', ')}`,
    ]);
  if (req.mountpoint !== undefined && !/^\/[A-Za-z0-9_./-]*$/.test(req.mountpoint))
    add('mountpoint', ['mountpoint must be an absolute path of letters, digits and _ . / -']);
  if (req.mountpoint?.split('/').some((p) => p === '..'))
    add('mountpoint', ['mountpoint cannot contain ".."']);
  if (problems.length) return { ok: false, problems };

  const vdevs = groupVdevs(req.layout, disks, width);
  const sizes = (paths: string[]) => paths.map((p) => byPath.get(p)!.sizeBytes);
  const estimate = estimateCapacity(
    vdevs.map((v): TopVdevSizes => ({ kind: v.kind as TopVdevKind, disks: sizes(v.disks) })),
    { metaslabs: caps.implementation === 'zfs-fuse' ? 'v23' : 'openzfs2', ashift: 12 },
  );
  const warnings = warningsFor(req, vdevs, byPath, estimate.wastedBytes);
  const all: PlannedVdev[] = [...vdevs];
  if (req.log?.length) all.push({ kind: 'log', disks: req.log });
  if (req.cache?.length) all.push({ kind: 'cache', disks: req.cache });
  if (req.special?.length) all.push({ kind: 'special', disks: req.special });
  if (req.spares?.length) all.push({ kind: 'spare', disks: req.spares });
  const argv = createArgv(req, vdevs, caps, compression);
  return {
    ok: true,
    plan: {
      name: req.name,
      layout: req.layout,
      vdevs: all,
      ...estimate,
      faultTolerance: toleranceOf(req.layout, vdevs),
      warnings,
      argv,
      commandLine: argv.map(displayWord).join(' '),
    },
  };
}

function warningsFor(
  req: PoolPlanRequest,
  vdevs: PlannedVdev[],
  byPath: Map<string, PlanDisk>,
  wasted: number,
): string[] {
  const w: string[] = [];
  if (req.layout === 'stripe')
    w.push('stripe has no redundancy: if any disk fails, every dataset on the pool is lost');
  if (wasted > 0.01 * Math.min(...req.disks.map((d) => byPath.get(d)!.sizeBytes)))
    w.push(
      `mixed disk sizes: ${formatNicenum(wasted)} on the larger disks cannot be used (each vdev uses its smallest disk's size)`,
    );
  const parity = parityOf(req.layout as TopVdevKind);
  const per = vdevs[0]?.disks.length ?? 0;
  if (req.layout.startsWith('raidz')) {
    if (per > 12)
      w.push(`raidz vdevs of ${per} disks are wide: resilvering takes long; consider several narrower vdevs`);
    if (per - parity < 2)
      w.push(
        `${req.layout} with ${per} disks keeps only ${per - parity} data disk per vdev: a ${per}-way mirror gives the same space with faster rebuilds`,
      );
    else if (((per - parity) & (per - parity - 1)) !== 0)
      w.push(
        `${req.layout} with ${per} disks has ${per - parity} data disks (not a power of two): 128K blocks need padding, so some space is lost`,
      );
  }
  for (const log of req.log ?? [])
    if (byPath.get(log)?.rotational)
      w.push(`log device ${log} is a rotational disk: a log only helps on a faster device (SSD/NVMe)`);
  if ((req.log?.length ?? 0) === 1)
    w.push(
      'a single log device: if it fails at the same time as a crash, recent synchronous writes are lost',
    );
  if ((req.special?.length ?? 0) > 0 && (req.special?.length ?? 0) < 2)
    w.push('a special vdev holds metadata: without a mirror, losing it loses the pool');
  for (const path of [
    ...req.disks,
    ...(req.log ?? []),
    ...(req.cache ?? []),
    ...(req.special ?? []),
    ...(req.spares ?? []),
  ]) {
    const inUse = byPath.get(path)?.inUse;
    if (inUse) w.push(`${path} already holds data (${inUse}); it will be overwritten (-f)`);
  }
  return w;
}

function createArgv(
  req: PoolPlanRequest,
  vdevs: PlannedVdev[],
  caps: ZfsCapabilities,
  compression: string,
): string[] {
  const argv = ['zpool', 'create'];
  if (req.force) argv.push('-f');
  argv.push('-o', 'ashift=12');
  argv.push('-O', `compression=${compression}`, '-O', 'atime=off');
  if (caps.xattrSa) argv.push('-O', 'xattr=sa');
  if (req.mountpoint) argv.push('-m', req.mountpoint);
  argv.push(req.name);
  for (const v of vdevs) {
    if (v.kind === 'disk') argv.push(...v.disks);
    else argv.push(v.kind === 'raidz1' && caps.implementation === 'zfs-fuse' ? 'raidz' : v.kind, ...v.disks);
  }
  if (req.special?.length)
    argv.push('special', ...(req.special.length > 1 ? ['mirror'] : []), ...req.special);
  if (req.log?.length) argv.push('log', ...(req.log.length > 1 ? ['mirror'] : []), ...req.log);
  if (req.cache?.length) argv.push('cache', ...req.cache);
  if (req.spares?.length) argv.push('spare', ...req.spares);
  return argv;
}
