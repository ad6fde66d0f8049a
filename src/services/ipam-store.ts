// Embedded IPAM on grim's database: pools, and an IpAllocator whose claims rely on the unique
// (pool_id, address) key, so concurrent allocations never hand out one address twice. The SQL is in
// src/store/ipam-repo.ts; the address rules in src/domain/ipam.ts.
import type { Db } from '../store/db.ts';
import {
  allocateWithRetry,
  IpamError,
  overlappingPools,
  validatePool,
  type AllocationStore,
  type IpAllocation,
  type IpAllocator,
  type IpPool,
} from '../domain/ipam.ts';
import * as repo from '../store/ipam-repo.ts';
import type { StoredPool } from '../store/ipam-repo.ts';

export type { StoredPool } from '../store/ipam-repo.ts';

function asDomainPool(pool: StoredPool): IpPool {
  return {
    ...pool,
    scope: pool.scope.kind === 'node' ? { kind: 'environment', id: `node:${pool.scope.id}` } : pool.scope,
  };
}

export class IpamStore implements IpAllocator {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Creates or replaces a pool. Rejects invalid pools and CIDRs overlapping another pool (node NAT pools excepted). */
  async savePool(pool: StoredPool): Promise<void> {
    const problems = validatePool(asDomainPool(pool));
    if (problems.length > 0) throw new IpamError(problems.join('; '));
    // A node's NAT pool is private to that node: node pools may reuse the same range as each other.
    const others = (await this.listPools()).filter(
      (p) => p.id !== pool.id && !(pool.scope.kind === 'node' && p.scope.kind === 'node'),
    );
    const overlap = overlappingPools([...others, pool].map(asDomainPool)).find(
      ([a, b]) => a === pool.id || b === pool.id,
    );
    if (overlap)
      throw new IpamError(
        `pool ${pool.id} (${pool.cidr}) overlaps pool ${overlap[0] === pool.id ? overlap[1] : overlap[0]}`,
      );
    await repo.upsertPool(this.#db, pool);
  }

  getPool(id: string): Promise<StoredPool | undefined> {
    return repo.getPool(this.#db, id);
  }

  listPools(): Promise<StoredPool[]> {
    return repo.listPools(this.#db);
  }

  /**
   * Deletes a pool that has no address in use. Returns false when there is no such pool; throws IpamError
   * naming the holders while addresses are in use.
   */
  async deletePool(id: string): Promise<boolean> {
    if (await repo.deleteUnusedPool(this.#db, id)) return true;
    if (!(await this.getPool(id))) return false;
    const used = await this.allocations(id);
    throw new IpamError(
      `pool ${id} still has ${used.length} address(es) in use: ${used.map((u) => `${u.address} (${u.owner})`).join(', ')}`,
    );
  }

  /** Addresses in use in a pool, with their owners. */
  allocations(poolId: string): Promise<Array<{ address: string; owner: string }>> {
    return repo.poolAllocations(this.#db, poolId);
  }

  async allocate(poolId: string, owner: string): Promise<IpAllocation> {
    const pool = await this.getPool(poolId);
    if (pool === undefined) throw new IpamError(`IP pool ${poolId} does not exist`);
    const db = this.#db;
    const store: AllocationStore = {
      findByOwner: (p, o) => repo.addressOf(db, p, o),
      listUsed: (p) => repo.usedAddresses(db, p),
      tryClaim: async (p, address, o) => ((await repo.claimAddress(db, p, address, o)) ? 'claimed' : 'taken'),
    };
    return allocateWithRetry(asDomainPool(pool), owner, store, 200);
  }

  release(owner: string): Promise<void> {
    return repo.releaseAddresses(this.#db, owner);
  }
}
