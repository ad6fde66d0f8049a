// Naming rules of a lab: everything global a lab creates carries its short name, so labs never clash.
import path from 'node:path';

export const DEFAULT_LAB_NAME = 'lab';
const NAME_RE = /^[a-z0-9]{1,6}$/;

export function assertLabName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new Error(`invalid lab name '${name}': use 1 to 6 characters from [a-z0-9]`);
  }
}

/** Root of all lab state dirs: $GRIM_LAB_DIR or /tmp/grim-lab. */
export function labRootDir(): string {
  return process.env.GRIM_LAB_DIR || '/tmp/grim-lab';
}

export function labStateDir(name: string): string {
  return path.join(labRootDir(), name);
}

export function netnsPrefix(name: string): string {
  return `grim-${name}-`;
}

export function nodeNetns(name: string, index: number): string {
  return `${netnsPrefix(name)}n${index}`;
}

export function bridgeName(name: string): string {
  return `gl-${name}`;
}

/** Host-side end of node i's veth pair (<= 15 characters for indexes below 1000). */
export function hostVeth(name: string, index: number): string {
  return `gv-${name}-${index}`;
}

/** Preferred subnet index k (1..254) for a lab name; the bridge setup moves to the next free one. */
export function hashedSubnetIndex(name: string): number {
  let h = 2166136261;
  for (const ch of name) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return (h % 254) + 1;
}

export function subnetOf(k: number): string {
  return `10.77.${k}.0/24`;
}

export function gatewayOf(k: number): string {
  return `10.77.${k}.1`;
}

export function nodeAddress(k: number, index: number): string {
  return `10.77.${k}.${10 + index}`;
}

export const MAX_NODES = 240;
