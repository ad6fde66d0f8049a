/**
 * Tab-separated listings: `zpool list -H -o ...` (zfs-fuse has no -p, so sizes may be nicenum),
 * `zfs get -Hp -o name,property,value ...` (exact bytes on every ZFS version) and
 * `zfs list -H -o ...`.
 */
import { parseNicenum, parsePercent } from './zfs-numbers.ts';

export const ZPOOL_LIST_FIELDS = ['name', 'size', 'allocated', 'free', 'capacity', 'health'] as const;

export interface PoolListRow {
  name: string;
  sizeBytes: number;
  allocatedBytes: number;
  freeBytes: number;
  /** Percent used, 0..100. */
  capacityPercent: number;
  health: string;
  /** True when sizes were exact (-p) rather than rounded nicenum. */
  exact: boolean;
}

// -H rows start with a name; indented lines are usage or error text a refused option printed.
const isLine = (l: string) =>
  l.trim() !== '' && !/^\s/.test(l) && !/^\$ /.test(l) && !/^\[rc=[0-9]+\]/.test(l);

/** Rows of `zpool list -H[p] -o <fields>` (by default the fields zfs-status.sh asks for). */
export function parseZpoolList(text: string, fields: readonly string[] = ZPOOL_LIST_FIELDS): PoolListRow[] {
  const at = (name: string) => fields.indexOf(name);
  return text
    .split('\n')
    .filter(isLine)
    .map((l) => l.split('\t'))
    .filter((cols) => cols.length === fields.length)
    .map((cols) => ZPOOL_LIST_FIELDS.map((f) => cols[at(f)] ?? ''))
    .map(([name, size, alloc, free, cap, health]) => ({
      name,
      sizeBytes: parseNicenum(size) ?? 0,
      allocatedBytes: parseNicenum(alloc) ?? 0,
      freeBytes: parseNicenum(free) ?? 0,
      capacityPercent: parsePercent(cap) ?? parseNicenum(cap) ?? 0,
      health,
      exact: /^[0-9]+$/.test(size),
    }));
}

/** `zfs get -Hp -o name,property,value ...` → { dataset: { property: value } } */
export function parseZfsGet(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const line of text.split('\n').filter(isLine)) {
    const cols = line.split('\t');
    if (cols.length < 3) continue;
    const [name, property, value] = cols;
    const props = out.get(name) ?? {};
    props[property] = value;
    out.set(name, props);
  }
  return out;
}

/** A byte property from `zfs get -Hp`: "0" and "none" and "-" mean unset (null). */
export function byteProperty(value: string | undefined): number | null {
  if (value === undefined || value === 'none' || value === '-' || value === '0') return null;
  return parseNicenum(value) ?? null;
}

/** `zfs list -H -o <fields>` → one record per row keyed by the given field names. */
export function parseZfsList(text: string, fields: readonly string[]): Record<string, string>[] {
  return text
    .split('\n')
    .filter(isLine)
    .map((l) => l.split('\t'))
    .filter((cols) => cols.length === fields.length)
    .map((cols) => Object.fromEntries(fields.map((f, i) => [f, cols[i]])));
}
