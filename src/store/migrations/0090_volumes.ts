/**
 * App volumes: one row per (app, volume, node) copy of a local volume (or per node mounting a shared one), the
 * snapshots taken before deploys, restic backups with their outcome, named backup targets (credentials sealed),
 * each app's sealed repository password, and the snapshot a rollback asked to restore. Rows outlive their app:
 * volumes of a deleted app are kept (orphaned) unless it was deleted with --delete-volumes.
 */
export default {
  name: '0090_volumes',
  up: (): string[] => [
    `CREATE TABLE app_volumes (
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  node TEXT NOT NULL,
  environment TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('local', 'shared')),
  size_bytes BIGINT NOT NULL,
  backend TEXT NOT NULL,
  path TEXT NOT NULL,
  image TEXT NOT NULL DEFAULT '',
  used_bytes BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'abandoned', 'delete-requested')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (app, name, node)
)`,
    `CREATE TABLE volume_snapshots (
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  node TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  release BIGINT NOT NULL,
  kind TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (app, name, node, snapshot)
)`,
    `CREATE TABLE volume_backups (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  node TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  restic_id TEXT NOT NULL DEFAULT '',
  bytes BIGINT NOT NULL DEFAULT 0,
  files BIGINT NOT NULL DEFAULT 0,
  duration_ms BIGINT NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  finished_at BIGINT
)`,
    'CREATE INDEX volume_backups_volume ON volume_backups (app, name, created_at)',
    `CREATE TABLE backup_targets (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('s3', 'path')),
  location TEXT NOT NULL,
  access_key TEXT NOT NULL DEFAULT '',
  secret_key TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)`,
    `CREATE TABLE volume_passwords (
  app TEXT PRIMARY KEY,
  sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL
)`,
    `CREATE TABLE volume_restores (
  app TEXT NOT NULL,
  release BIGINT NOT NULL,
  after_release BIGINT NOT NULL,
  PRIMARY KEY (app, release)
)`,
  ],
};
