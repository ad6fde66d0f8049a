// IP address management: pure pieces (CIDR maths, pools, next free address, stable MACs) and the
// IpAllocator contract. Persistence lives elsewhere: the store implements IpAllocator with a unique
// constraint on (pool, address) and retries through `allocateWithRetry`; NetBox implements it in
// src/integrations/netbox/client.ts. IPv4 only for now: IPv6 pools are rejected with a clear error.

export interface IpAllocation {
  address: string; // e.g. "10.20.0.7"
  prefixLength: number; // e.g. 24
  gateway: string; // e.g. "10.20.0.1"
}

export interface IpAllocator {
  /** Allocates an address for `owner` (an instance id) from pool `poolId`. Idempotent per owner. */
  allocate(poolId: string, owner: string): Promise<IpAllocation>;
  /** Releases every address held by `owner`. Releasing an owner with nothing allocated is not an error. */
  release(owner: string): Promise<void>;
}

/** Which part of the estate a pool serves. A group pool wins over an environment pool. */
export type PoolScope = { kind: 'environment'; id: string } | { kind: 'group'; id: string };

export interface IpPool {
  id: string;
  cidr: string; // network address with prefix, e.g. "10.20.0.0/24" (host bits must be zero)
  gateway: string;
  /** Addresses or inclusive ranges that are never handed out: "10.20.0.5" or "10.20.0.200-10.20.0.250". */
  excluded?: readonly string[];
  scope: PoolScope;
}

export interface Ipv4Cidr {
  network: number; // unsigned 32-bit
  prefixLength: number;
}

export class IpamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpamError';
  }
}

const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number {
  if (text.includes(':')) throw new IpamError(`IPv6 is not supported yet: "${text}"`);
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => IPV4_OCTET.test(p))) {
    throw new IpamError(`not an IPv4 address: "${text}"`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function blockSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}

export function parseCidr(text: string): Ipv4Cidr {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!match) throw new IpamError(`not a CIDR (expected a.b.c.d/len): "${text}"`);
  const network = parseIpv4(match[1]);
  const prefixLength = Number(match[2]);
  if (prefixLength > 32) throw new IpamError(`prefix length out of range 0..32: "${text}"`);
  if (network % blockSize(prefixLength) !== 0) {
    const aligned = network - (network % blockSize(prefixLength));
    throw new IpamError(`host bits set in "${text}"; the network is ${formatIpv4(aligned)}/${prefixLength}`);
  }
  return { network, prefixLength };
}

export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + blockSize(cidr.prefixLength);
}

/** First and last addresses a host may use: all of a /31 and /32 (RFC 3021), else network+1..broadcast-1. */
export function usableRange(cidr: Ipv4Cidr): { first: number; last: number } {
  const size = blockSize(cidr.prefixLength);
  if (cidr.prefixLength >= 31) return { first: cidr.network, last: cidr.network + size - 1 };
  return { first: cidr.network + 1, last: cidr.network + size - 2 };
}

export function netmaskOf(prefixLength: number): string {
  return formatIpv4(2 ** 32 - blockSize(prefixLength));
}

function parseExcluded(entry: string): { start: number; end: number } {
  const [a, b] = entry.split('-').map((s) => s.trim());
  const start = parseIpv4(a);
  const end = b === undefined ? start : parseIpv4(b);
  if (end < start) throw new IpamError(`excluded range "${entry}" ends before it starts`);
  return { start, end };
}

/** Returns every problem with a pool; an empty list means the pool is usable. */
export function validatePool(pool: IpPool): string[] {
  const problems: string[] = [];
  let cidr: Ipv4Cidr;
  try {
    cidr = parseCidr(pool.cidr);
  } catch (err) {
    return [`pool ${pool.id}: ${(err as Error).message}`];
  }
  const range = usableRange(cidr);
  try {
    const gw = parseIpv4(pool.gateway);
    if (gw < range.first || gw > range.last) {
      problems.push(`pool ${pool.id}: gateway ${pool.gateway} is not a usable address of ${pool.cidr}`);
    }
  } catch (err) {
    problems.push(`pool ${pool.id}: gateway: ${(err as Error).message}`);
  }
  for (const entry of pool.excluded ?? []) {
    try {
      const { start, end } = parseExcluded(entry);
      if (!cidrContains(cidr, start) || !cidrContains(cidr, end)) {
        problems.push(`pool ${pool.id}: excluded "${entry}" is outside ${pool.cidr}`);
      }
    } catch (err) {
      problems.push(`pool ${pool.id}: excluded: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Pairs of pools whose CIDRs overlap (a configuration error: two pools would hand out one address). */
export function overlappingPools(pools: readonly IpPool[]): Array<[string, string]> {
  const parsed = pools.map((p) => ({ id: p.id, cidr: parseCidr(p.cidr) }));
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i].cidr;
      const b = parsed[j].cidr;
      if (cidrContains(a, b.network) || cidrContains(b, a.network)) pairs.push([parsed[i].id, parsed[j].id]);
    }
  }
  return pairs;
}

/** The pool for a placement: the group's pool if it has one, else the environment's. */
export function selectPool(
  pools: readonly IpPool[],
  target: { environmentId: string; groupId?: string },
): IpPool | undefined {
  const group = target.groupId;
  return (
    (group === undefined ? undefined : pools.find((p) => p.scope.kind === 'group' && p.scope.id === group)) ??
    pools.find((p) => p.scope.kind === 'environment' && p.scope.id === target.environmentId)
  );
}

/**
 * The lowest usable address of `pool` that is not the gateway, not excluded and not in `used`.
 * Returns undefined when the pool is full. Throws IpamError when the pool itself is invalid.
 */
export function nextFree(pool: IpPool, used: Iterable<string>): string | undefined {
  const problems = validatePool(pool);
  if (problems.length > 0) throw new IpamError(problems.join('; '));
  const cidr = parseCidr(pool.cidr);
  const taken = new Set<number>([parseIpv4(pool.gateway)]);
  for (const address of used) taken.add(parseIpv4(address));
  const excluded = (pool.excluded ?? []).map(parseExcluded).sort((x, y) => x.start - y.start);
  const { first, last } = usableRange(cidr);
  for (let candidate = first; candidate <= last; candidate++) {
    const range = excluded.find((r) => candidate >= r.start && candidate <= r.end);
    if (range) {
      candidate = range.end; // the loop's ++ moves past the range
      continue;
    }
    if (!taken.has(candidate)) return formatIpv4(candidate);
  }
  return undefined;
}

export interface AllocationStore {
  /** The allocation `owner` already holds in the pool, if any (makes allocate idempotent). */
  findByOwner(poolId: string, owner: string): Promise<string | undefined>;
  /** Every address currently allocated in the pool. */
  listUsed(poolId: string): Promise<string[]>;
  /** Inserts (pool, address, owner); 'taken' when the unique constraint on (pool, address) fired. */
  tryClaim(poolId: string, address: string, owner: string): Promise<'claimed' | 'taken'>;
}

/**
 * Concurrency-safe allocation against a store with a unique constraint on (pool, address): pick the
 * next free address, try to claim it, and on a lost race re-read and retry. Each retry also skips the
 * addresses this call already lost, so it progresses even if `listUsed` reads a stale snapshot.
 */
export async function allocateWithRetry(
  pool: IpPool,
  owner: string,
  store: AllocationStore,
  maxAttempts = 20,
): Promise<IpAllocation> {
  const prefixLength = parseCidr(pool.cidr).prefixLength;
  const result = (address: string): IpAllocation => ({ address, prefixLength, gateway: pool.gateway });
  const existing = await store.findByOwner(pool.id, owner);
  if (existing !== undefined) return result(existing);
  const lost: string[] = [];
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const used = await store.listUsed(pool.id);
    const candidate = nextFree(pool, [...used, ...lost]);
    if (candidate === undefined) throw new IpamError(`pool ${pool.id} (${pool.cidr}) has no free address`);
    if ((await store.tryClaim(pool.id, candidate, owner)) === 'claimed') return result(candidate);
    lost.push(candidate);
  }
  throw new IpamError(`pool ${pool.id}: gave up after ${maxAttempts} contended attempts for ${owner}`);
}

/** 64-bit FNV-1a over the UTF-8 bytes of `text` (deterministic, dependency-free). */
function fnv1a64(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/**
 * A stable MAC address for an instance: six bytes of a hash of the id, with the first octet marked
 * locally administered (bit 1 set) and unicast (bit 0 clear). Same id, same MAC, on every host.
 */
export function macAddressForInstance(instanceId: string): string {
  if (instanceId.length === 0) throw new IpamError('instance id must not be empty');
  const hash = fnv1a64(`grim-mac:${instanceId}`);
  const bytes = Array.from({ length: 6 }, (_, i) => Number((hash >> BigInt(8 * (7 - i))) & 0xffn));
  bytes[0] = (bytes[0] & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
