/**
 * Capacity maths of a pool layout, following what ZFS itself computes:
 * - each device loses its labels and boot area (4 MiB in front, 512 KiB at the end) after being
 *   aligned to 256 KiB (vdev_open);
 * - a mirror is as large as its smallest child; a raidz vdev is (smallest child) x (children);
 * - a top-level vdev is cut into metaslabs and only whole metaslabs count (vdev_metaslab_set_size);
 *   that is the SIZE `zpool list` reports;
 * - raidz space is "deflated" by how a 128 KiB block is stored: data sectors plus parity, rounded up
 *   to a multiple of (parity + 1) sectors (vdev_raidz_asize, vdev_deflate_ratio);
 * - the pool keeps slop space back (v23: max(1/64, 32 MiB); OpenZFS 2.x: 1/32, at least 128 MiB,
 *   at most 128 GiB). What is left is what `zfs list` shows as USED + AVAIL of the pool's root.
 */

export type MetaslabModel = 'v23' | 'openzfs2';

export interface CapacityModel {
  metaslabs: MetaslabModel;
  ashift: number;
}

export type TopVdevKind = 'disk' | 'mirror' | 'raidz1' | 'raidz2' | 'raidz3' | 'draid1' | 'draid2' | 'draid3';

export interface TopVdevSizes {
  kind: TopVdevKind;
  /** Sizes in bytes of the vdev's disks. */
  disks: number[];
  /** dRAID distributed spares (only for draid). */
  draidSpares?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const LABEL_ALIGN = 256 * KiB;
const LABEL_OVERHEAD = 4 * MiB + 512 * KiB;
/** The smallest device ZFS accepts (SPA_MINDEVSIZE). */
export const MIN_DEVICE_BYTES = 64 * MiB;

/** Allocatable bytes of one device after labels, 0 if it is too small. */
export function deviceAsize(bytes: number): number {
  const aligned = Math.floor(bytes / LABEL_ALIGN) * LABEL_ALIGN;
  return Math.max(0, aligned - LABEL_OVERHEAD);
}

/** highbit(): 1-based index of the most significant set bit; 0 for 0. */
function highbit(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

export function metaslabShift(asize: number, model: MetaslabModel): number {
  if (model === 'v23') return Math.max(highbit(Math.floor(asize / 200)), 17);
  // OpenZFS 2.x vdev_metaslab_set_size
  const defaultShift = 29;
  const minCount = 16;
  const countLimit = 131072;
  let shift: number;
  if (asize / 2 ** defaultShift < minCount) shift = Math.max(highbit(Math.floor(asize / minCount)), 24);
  else if (asize / 2 ** defaultShift > countLimit) shift = highbit(Math.floor(asize / countLimit));
  else shift = defaultShift;
  return Math.min(Math.max(shift, 24), 34);
}

export function parityOf(kind: TopVdevKind): number {
  const m = /([123])$/.exec(kind);
  return m && kind !== 'disk' ? Number(m[1]) : 0;
}

/** Raw allocatable bytes of a top-level vdev (parity included), as `zpool list` SIZE counts it. */
export function vdevRawBytes(v: TopVdevSizes, model: CapacityModel): number {
  if (v.disks.length === 0) return 0;
  const child = Math.min(...v.disks.map(deviceAsize));
  let asize: number;
  if (v.kind === 'disk' || v.kind === 'mirror') asize = child;
  else if (v.kind.startsWith('draid')) asize = child * (v.disks.length - (v.draidSpares ?? 0));
  else asize = child * v.disks.length;
  const shift = metaslabShift(asize, model.metaslabs);
  return Math.floor(asize / 2 ** shift) * 2 ** shift;
}

/**
 * The fraction of raw space that holds data (vdev_deflate_ratio in 512-byte units / 512), computed
 * the way ZFS does: from how one 128 KiB block is laid out.
 */
export function deflateRatio(v: TopVdevSizes, ashift: number): number {
  const parity = parityOf(v.kind);
  if (parity === 0) return 1;
  const n = v.kind.startsWith('draid') ? v.disks.length - (v.draidSpares ?? 0) : v.disks.length;
  const sectors = (128 * KiB) / 2 ** ashift;
  const dataCols = n - parity;
  if (dataCols <= 0) return 0;
  let asize = sectors + parity * Math.ceil(sectors / dataCols);
  asize = Math.ceil(asize / (parity + 1)) * (parity + 1);
  const asizeUnits = (asize * 2 ** ashift) / 512;
  return Math.floor((128 * KiB) / asizeUnits) / 512;
}

export function slopBytes(space: number, model: MetaslabModel): number {
  if (model === 'v23') return Math.max(Math.floor(space / 64), 32 * MiB);
  const slop = Math.max(Math.floor(space / 32), Math.min(Math.floor(space / 2), 128 * MiB));
  return Math.min(slop, 128 * GiB);
}

export interface CapacityEstimate {
  /** What `zpool list` SIZE will show (parity included). */
  rawBytes: number;
  /** What the pool's root dataset will offer (`zfs list` USED + AVAIL), before any data. */
  usableBytes: number;
  /** Bytes lost on disks larger than the smallest disk of their vdev. */
  wastedBytes: number;
}

export function estimateCapacity(vdevs: TopVdevSizes[], model: CapacityModel): CapacityEstimate {
  let raw = 0;
  let data = 0;
  let wasted = 0;
  for (const v of vdevs) {
    const r = vdevRawBytes(v, model);
    raw += r;
    data += Math.floor(r * deflateRatio(v, model.ashift));
    if (v.disks.length) {
      const smallest = Math.min(...v.disks.map(deviceAsize));
      wasted += v.disks.reduce((sum, d) => sum + (deviceAsize(d) - smallest), 0);
    }
  }
  const usable = Math.max(0, data - slopBytes(data, model.metaslabs));
  return { rawBytes: raw, usableBytes: usable, wastedBytes: wasted };
}
