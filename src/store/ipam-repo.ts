// SQL of the embedded IPAM: pools (ipam_pools) and claimed addresses (ipam_allocations, unique per pool and
// address, so a claim either wins or finds the address taken). The rules live in src/domain/ipam.ts and
// src/services/ipam-store.ts.
import type { Queryable } from './db.ts';
import type { IpPool } from '../domain/ipam.ts';

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

/** Creates or replaces a pool. */
export async function upsertPool(q: Queryable, pool: StoredPool): Promise<void> {
  await q.run(
    `INSERT INTO ipam_pools (id, cidr, gateway, excluded, scope_kind, scope_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET cidr = excluded.cidr, gateway = excluded.gateway, excluded = excluded.excluded,
       scope_kind = excluded.scope_kind, scope_id = excluded.scope_id, updated_at = excluded.updated_at`,
    [
      pool.id,
      pool.cidr,
      pool.gateway,
      JSON.stringify(pool.excluded ?? []),
      pool.scope.kind,
      pool.scope.id,
      Date.now(),
    ],
  );
}

export async function getPool(q: Queryable, id: string): Promise<StoredPool | undefined> {
  const row = await q.get<PoolRow>('SELECT * FROM ipam_pools WHERE id = ?', [id]);
  return row === undefined ? undefined : toPool(row);
}

export async function listPools(q: Queryable): Promise<StoredPool[]> {
  return (await q.all<PoolRow>('SELECT * FROM ipam_pools ORDER BY id')).map(toPool);
}

/** Deletes a pool only while no address of it is in use (one statement: no allocation slips in between). */
export async function deleteUnusedPool(q: Queryable, id: string): Promise<boolean> {
  const r = await q.run(
    'DELETE FROM ipam_pools WHERE id = ? AND NOT EXISTS (SELECT 1 FROM ipam_allocations WHERE pool_id = ?)',
    [id, id],
  );
  return r.changes > 0;
}

/** Addresses in use in a pool, with their owners, oldest first. */
export function poolAllocations(
  q: Queryable,
  poolId: string,
): Promise<Array<{ address: string; owner: string }>> {
  return q.all(
    'SELECT address, owner FROM ipam_allocations WHERE pool_id = ? ORDER BY allocated_at, address',
    [poolId],
  );
}

export async function addressOf(q: Queryable, poolId: string, owner: string): Promise<string | undefined> {
  const row = await q.get<{ address: string }>(
    'SELECT address FROM ipam_allocations WHERE pool_id = ? AND owner = ?',
    [poolId, owner],
  );
  return row?.address;
}

export async function usedAddresses(q: Queryable, poolId: string): Promise<string[]> {
  return (
    await q.all<{ address: string }>('SELECT address FROM ipam_allocations WHERE pool_id = ?', [poolId])
  ).map((r) => r.address);
}

/** Claims an address for an owner: false when another claim holds it. */
export async function claimAddress(
  q: Queryable,
  poolId: string,
  address: string,
  owner: string,
): Promise<boolean> {
  const { changes } = await q.run(
    'INSERT INTO ipam_allocations (pool_id, address, owner, allocated_at) VALUES (?, ?, ?, ?) ON CONFLICT (pool_id, address) DO NOTHING',
    [poolId, address, owner, Date.now()],
  );
  return changes === 1;
}

/** Gives back every address an owner holds. */
export async function releaseAddresses(q: Queryable, owner: string): Promise<void> {
  await q.run('DELETE FROM ipam_allocations WHERE owner = ?', [owner]);
}
