/**
 * Embedded IPAM: address pools (per environment or group, or a node's private VM subnet) and the
 * addresses handed out from them. The unique (pool_id, address) constraint is what keeps concurrent
 * deploys from sharing an address (src/domain/ipam.ts allocateWithRetry retries on a lost race).
 */
export default {
  name: '0050_ipam',
  up: (): string[] => [
    `CREATE TABLE ipam_pools (
  id TEXT PRIMARY KEY,
  cidr TEXT NOT NULL,
  gateway TEXT NOT NULL,
  excluded TEXT NOT NULL DEFAULT '[]',
  scope_kind TEXT NOT NULL CHECK (scope_kind IN ('environment', 'group', 'node')),
  scope_id TEXT NOT NULL,
  updated_at BIGINT NOT NULL
)`,
    `CREATE TABLE ipam_allocations (
  pool_id TEXT NOT NULL REFERENCES ipam_pools (id),
  address TEXT NOT NULL,
  owner TEXT NOT NULL,
  allocated_at BIGINT NOT NULL,
  PRIMARY KEY (pool_id, address)
)`,
    'CREATE INDEX ipam_allocations_owner ON ipam_allocations (owner)',
  ],
};
