// Shapes of the storage API's loosely typed parts (pools, health, disks), as the server builds them
// in src/domain/storage, and the storage pages' shared helpers.
import { call } from '../../api.ts';

/** Storage nodes (read before by grim, or given the role "storage"), by name, with what grim last read. */
export async function storageNodeList(signal?: AbortSignal) {
  const [storage, nodes] = await Promise.all([
    call('listStorageNodes', undefined, signal),
    call('listNodes', { query: {} }, signal),
  ]);
  const names = new Set([
    ...storage.nodes.map((n) => n.node),
    ...nodes.nodes.filter((n) => n.roles.includes('storage')).map((n) => n.name),
  ]);
  return [...names].sort().map((name) => ({ name, state: storage.nodes.find((s) => s.node === name) }));
}
export interface Vdev {
  name: string;
  type: string;
  state: string;
  readErrors: number;
  writeErrors: number;
  checksumErrors: number;
  note: string;
  wasPath?: string;
  children: Vdev[];
}
export interface Pool {
  name: string;
  state: string;
  status: string;
  action: string;
  root: Vdev;
  logs: Vdev[];
  cache: Vdev[];
  spares: Vdev[];
  special: Vdev[];
  dedup: Vdev[];
  errors: string;
}
export interface Health {
  name: string;
  state: string;
  errors: number;
  capacityPercent: number;
  sizeBytes: number;
  allocatedBytes: number;
  scan: {
    kind: string | null;
    state: string;
    percentDone?: number;
    etaSeconds?: number;
    errors?: number;
    when?: string;
  };
  unhealthy: { path: string; state: string }[];
}
export interface Disk {
  path: string;
  sizeBytes: number;
  media: string;
  model: string;
  serial: string;
  inUse: string | null;
  pool: string | null;
  kind: string;
  smart: { passed: boolean | null; temperatureC?: number } | null;
}
export interface Dataset {
  name: string;
  type: string;
  usedBytes: number;
  availableBytes: number | null;
  referencedBytes: number;
  quotaBytes: number | null;
  compression: string;
  mountpoint: string;
  createdAt: number | null;
}

/** ZFS states as badge classes (lowercase, see styles.css). */
export const zfsStateClass = (state: string) =>
  `zstate zstate-${/^[A-Z]+$/.test(state) ? state.toLowerCase() : 'unknown'}`;

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]}`;
}
