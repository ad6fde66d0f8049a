// Embedded IPAM on grim's database: pools, and an IpAllocator whose claims rely on the unique
// (pool_id, address) key, so concurrent allocations never hand out one address twice.
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

/** Pools grim stores: the domain's scopes plus a node's private (nat-mode) VM subnet. */
export type StoredPool = Omit<IpPool, 'scope'> & {
  scope: IpPool['scope'] | { kind: 'node'; id: string };
};

interface PoolRow {
  id: string;
  cidr: string;
  gateway: string;
  excluded: string;
  scope_kind: 'environment' | 'group' | 'node';
  scope_id: string;
}

function toPool(row: PoolRow): StoredPool {
  return {
    id: row.id,
    cidr: row.cidr,
    gateway: row.gateway,
    excluded: JSON.parse(row.excluded) as string[],
    scope: { kind: row.scope_kind, id: row.scope_id } as StoredPool['scope'],
  };
}

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
    const values = [
      pool.cidr,
      pool.gateway,
      JSON.stringify(pool.excluded ?? []),
      pool.scope.kind,
      pool.scope.id,
      Date.now(),
    ];
    await this.#db.run(
      `INSERT INTO ipam_pools (id, cidr, gateway, excluded, scope_kind, scope_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET cidr = excluded.cidr, gateway = excluded.gateway, excluded = excluded.excluded,
         scope_kind = excluded.scope_kind, scope_id = excluded.scope_id, updated_at = excluded.updated_at`,
      [pool.id, ...values],
    );
  }

  async getPool(id: string): Promise<StoredPool | undefined> {
    const row = await this.#db.get<PoolRow>('SELECT * FROM ipam_pools WHERE id = ?', [id]);
    return row === undefined ? undefined : toPool(row);
  }

  async listPools(): Promise<StoredPool[]> {
    return (await this.#db.all<PoolRow>('SELECT * FROM ipam_pools ORDER BY id')).map(toPool);
  }

  /**
   * Deletes a pool that has no address in use (one statement, so an allocation cannot slip in between).
   * Returns false when there is no such pool; throws IpamError naming the holders while addresses are in use.
   */
  async deletePool(id: string): Promise<boolean> {
    const r = await this.#db.run(
      'DELETE FROM ipam_pools WHERE id = ? AND NOT EXISTS (SELECT 1 FROM ipam_allocations WHERE pool_id = ?)',
      [id, id],
    );
    if (r.changes > 0) return true;
    if (!(await this.getPool(id))) return false;
    const used = await this.allocations(id);
    throw new IpamError(
      `pool ${id} still has ${used.length} address(es) in use: ${used.map((u) => `${u.address} (${u.owner})`).join(', ')}`,
    );
  }

  /** Addresses in use in a pool, with their owners. */
  async allocations(poolId: string): Promise<Array<{ address: string; owner: string }>> {
    return this.#db.all(
      'SELECT address, owner FROM ipam_allocations WHERE pool_id = ? ORDER BY allocated_at, address',
      [poolId],
    );
  }

  async allocate(poolId: string, owner: string): Promise<IpAllocation> {
    const pool = await this.getPool(poolId);
    if (pool === undefined) throw new IpamError(`IP pool ${poolId} does not exist`);
    const db = this.#db;
    const store: AllocationStore = {
      async findByOwner(p, o) {
        const row = await db.get<{ address: string }>(
          'SELECT address FROM ipam_allocations WHERE pool_id = ? AND owner = ?',
          [p, o],
        );
        return row?.address;
      },
      async listUsed(p) {
        return (
          await db.all<{ address: string }>('SELECT address FROM ipam_allocations WHERE pool_id = ?', [p])
        ).map((r) => r.address);
      },
      async tryClaim(p, address, o) {
        const { changes } = await db.run(
          'INSERT INTO ipam_allocations (pool_id, address, owner, allocated_at) VALUES (?, ?, ?, ?) ON CONFLICT (pool_id, address) DO NOTHING',
          [p, address, o, Date.now()],
        );
        return changes === 1 ? 'claimed' : 'taken';
      },
    };
    return allocateWithRetry(asDomainPool(pool), owner, store, 200);
  }

  async release(owner: string): Promise<void> {
    await this.#db.run('DELETE FROM ipam_allocations WHERE owner = ?', [owner]);
  }
}
