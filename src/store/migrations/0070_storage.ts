/**
 * Storage nodes: the last inventory and pool health grim read from each node (JSON as parsed by
 * src/domain/storage), the health events it noticed, and scheduled scrubs and snapshot policies.
 */
export default {
  name: '0070_storage',
  up: (): string[] => [
    `CREATE TABLE storage_nodes (
  node TEXT PRIMARY KEY,
  capabilities TEXT NOT NULL DEFAULT 'null',
  disks TEXT NOT NULL DEFAULT '[]',
  pools TEXT NOT NULL DEFAULT '[]',
  health TEXT NOT NULL DEFAULT '[]',
  datasets TEXT NOT NULL DEFAULT '[]',
  error TEXT NOT NULL DEFAULT '',
  checked_at BIGINT NOT NULL
)`,
    `CREATE TABLE storage_events (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  node TEXT NOT NULL,
  pool TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL
)`,
    'CREATE INDEX storage_events_node_at ON storage_events (node, at)',
    `CREATE TABLE storage_schedules (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('scrub', 'snapshot')),
  label TEXT NOT NULL DEFAULT '',
  every_seconds BIGINT NOT NULL,
  keep INTEGER NOT NULL DEFAULT 0,
  last_run_at BIGINT NOT NULL DEFAULT 0,
  last_result TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE (node, target, kind, label)
)`,
  ],
};
