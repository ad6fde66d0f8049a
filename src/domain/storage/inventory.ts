/**
 * A storage node's inventory from zfs-inventory.sh: what its ZFS supports and its disks, each marked
 * free or in use (partitions, a filesystem, holders, a mount, or membership of a pool).
 */
import type { PlanDisk, ZfsCapabilities } from './pool-plan.ts';
import { leaves, type PoolStatus } from './pool-status.ts';

export interface SmartSummary {
  passed: boolean | null;
  temperatureC?: number;
  powerOnHours?: number;
  model?: string;
}

export interface StorageDisk extends PlanDisk {
  dev: string;
  transport: string;
  model: string;
  serial: string;
  /** 'hdd' | 'ssd' | 'nvme' | 'file' */
  media: string;
  pool: string | null;
  smart: SmartSummary | null;
}

export interface RawInventory {
  zfs: { zpool: boolean; answers: boolean; upgradeV: string; jsonStatus: boolean };
  disks: {
    path: string;
    dev: string;
    kind: 'block' | 'file';
    sizeBytes: number;
    rotational: boolean;
    transport: string;
    model: string;
    serial: string;
    partitions: number;
    fstype: string;
    holders: number;
    mounted: boolean;
    smart: string;
  }[];
}

/** What the node's ZFS supports, from `zpool upgrade -v` (null when zpool is missing). */
export function capabilitiesFrom(zfs: RawInventory['zfs']): ZfsCapabilities | null {
  if (!zfs.zpool) return null;
  const text = zfs.upgradeV;
  const version = /pool version ([0-9]+)/.exec(text);
  const featureFlags = /feature flags/i.test(text) || !version;
  const v = featureFlags ? 5000 : Number(version![1]);
  const compression = ['on', 'off', 'lzjb', 'gzip', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `gzip-${n}`)];
  if (v >= 20) compression.push('zle');
  if (featureFlags) compression.push('lz4');
  if (/zstd_compress/.test(text)) compression.push('zstd');
  return {
    implementation: featureFlags ? 'openzfs' : 'zfs-fuse',
    poolVersion: v,
    draid: /draid/.test(text),
    compression,
    xattrSa: featureFlags,
    parsableList: featureFlags,
    jsonStatus: zfs.jsonStatus,
    cacheNeedsBlockDevice: !featureFlags,
  };
}

export function smartFrom(text: string): SmartSummary | null {
  if (!text) return null;
  try {
    const j = JSON.parse(text) as Record<string, any>;
    return {
      passed: typeof j.smart_status?.passed === 'boolean' ? j.smart_status.passed : null,
      ...(typeof j.temperature?.current === 'number' ? { temperatureC: j.temperature.current } : {}),
      ...(typeof j.power_on_time?.hours === 'number' ? { powerOnHours: j.power_on_time.hours } : {}),
      ...(typeof j.model_name === 'string' ? { model: j.model_name } : {}),
    };
  } catch {
    return null;
  }
}

/** Device names as pools show them ("disk/by-id/x", "sda", "/var/x.img") mapped to pool names. */
function poolMembers(pools: PoolStatus[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pools)
    for (const leaf of leaves(p)) {
      const name = leaf.wasPath ?? leaf.name;
      out.set(name.startsWith('/') ? name : `/dev/${name}`, p.name);
    }
  return out;
}

export function disksFrom(raw: RawInventory, pools: PoolStatus[]): StorageDisk[] {
  const members = poolMembers(pools);
  return raw.disks.map((d) => {
    const pool = members.get(d.path) ?? members.get(d.dev) ?? null;
    const reasons: string[] = [];
    if (pool) reasons.push(`member of pool ${pool}`);
    if (d.partitions > 0) reasons.push(`${d.partitions} partition${d.partitions > 1 ? 's' : ''}`);
    if (d.fstype) reasons.push(`${d.fstype} filesystem`);
    if (d.mounted) reasons.push('mounted');
    if (d.holders > 0 && !pool) reasons.push('held by another device');
    const media = d.kind === 'file' ? 'file' : d.transport === 'nvme' ? 'nvme' : d.rotational ? 'hdd' : 'ssd';
    return {
      path: d.path,
      dev: d.dev,
      kind: d.kind,
      sizeBytes: d.sizeBytes,
      rotational: d.rotational,
      transport: d.transport,
      model: d.model,
      serial: d.serial,
      media,
      pool,
      inUse: reasons.length ? reasons.join(', ') : null,
      smart: smartFrom(d.smart),
    };
  });
}
