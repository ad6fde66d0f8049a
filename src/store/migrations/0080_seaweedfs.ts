/**
 * SeaweedFS on the storage nodes: recorded releases (grim's own SHA-256 of each binary), one cluster per
 * environment (its spec, state, sealed secrets and last health), buckets, S3 keys (secrets sealed) and mounts.
 */
export default {
  name: '0080_seaweedfs',
  up: (): string[] => [
    `CREATE TABLE seaweed_releases (
  version TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
)`,
    `CREATE TABLE seaweed_clusters (
  environment TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  state_reason TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL,
  secrets TEXT NOT NULL,
  health TEXT NOT NULL DEFAULT '',
  health_at BIGINT,
  provision_ms BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)`,
    `CREATE TABLE seaweed_buckets (
  environment TEXT NOT NULL,
  name TEXT NOT NULL,
  quota_mb BIGINT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (environment, name)
)`,
    `CREATE TABLE seaweed_keys (
  environment TEXT NOT NULL,
  access_key TEXT NOT NULL,
  name TEXT NOT NULL,
  bucket TEXT NOT NULL,
  actions TEXT NOT NULL,
  secret TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT,
  PRIMARY KEY (environment, access_key)
)`,
    'CREATE UNIQUE INDEX seaweed_keys_name ON seaweed_keys (environment, name)',
    `CREATE TABLE seaweed_mounts (
  environment TEXT NOT NULL,
  name TEXT NOT NULL,
  node TEXT NOT NULL,
  filer_path TEXT NOT NULL,
  dir TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (environment, name)
)`,
  ],
};
