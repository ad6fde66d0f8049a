/** Pure naming and addressing for container networking: one /30 per instance from a per-node pool. */
import { createHash } from 'node:crypto';
import type { PortMapping } from '../driver.ts';

export interface AddressPool {
  cidr: string;
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  /** Number of /30 networks in the pool. */
  slots: number;
}

export const DEFAULT_POOL = '10.253.0.0/16';

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parsePool(cidr: string): AddressPool {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  const prefix = match ? Number(match[2]) : NaN;
  if (!match || prefix < 8 || prefix > 30)
    throw new Error(`address pool must be an IPv4 CIDR from /8 to /30, got ${JSON.stringify(cidr)}`);
  const base = ipToInt(match[1]);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0)
    throw new Error(`address pool ${cidr}: ${match[1]} is not the network address of a /${prefix}`);
  return { cidr, base, slots: size / 4 };
}

/** The addresses of slot n: the node side (.1 of the /30) and the container side (.2). */
export function slotAddresses(pool: AddressPool, slot: number): { host: string; container: string } {
  if (!Number.isInteger(slot) || slot < 0 || slot >= pool.slots)
    throw new Error(`slot ${slot} is outside ${pool.cidr}`);
  const net = pool.base + 4 * slot;
  return { host: intToIp(net + 1), container: intToIp(net + 2) };
}

/** 10 hex characters from the instance id: veth gvTAG (12 chars, within IFNAMSIZ) and iptables chains GRIM-TAG-*. */
export function netTag(instanceId: string): string {
  return createHash('sha256').update(instanceId).digest('hex').slice(0, 10);
}

export function netnsName(instanceId: string): string {
  return `grim-${instanceId}`;
}

export function vethName(instanceId: string): string {
  return `gv${netTag(instanceId)}`;
}

export function nftTableName(instanceId: string): string {
  return `grim_${instanceId.replaceAll('-', '_')}`;
}

/** Checks ports (tcp, 1-65535, distinct host ports) and renders them as HOSTPORT:CONTAINERPORT pairs. */
export function portPairs(ports: PortMapping[]): string {
  const seen = new Set<number>();
  for (const p of ports) {
    for (const [what, n] of [
      ['port', p.port],
      ['hostPort', p.hostPort],
    ] as const) {
      if (!Number.isInteger(n) || n < 1 || n > 65535)
        throw new Error(`${what} must be an integer from 1 to 65535, got ${n}`);
    }
    if (p.protocol !== 'tcp') throw new Error(`only tcp ports can be published, got ${String(p.protocol)}`);
    if (seen.has(p.hostPort)) throw new Error(`host port ${p.hostPort} is published twice`);
    seen.add(p.hostPort);
  }
  return ports.map((p) => `${p.hostPort}:${p.port}`).join(' ');
}
