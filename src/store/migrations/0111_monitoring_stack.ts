/**
 * The monitoring stack grim deploys (`grim monitoring enable`): the releases the admin recorded per component
 * (binary or release tarball, SHA-256 computed by grim) and one stack per environment (where it runs, which
 * releases, its endpoints, the sealed Grafana admin password, the S3 access keys it uses).
 */
export default {
  name: '0111_monitoring_stack',
  up: (): string[] => [
    `CREATE TABLE monitoring_releases (
  component TEXT NOT NULL CHECK (component IN ('cortex', 'loki', 'tempo', 'grafana')),
  version TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('binary', 'tarball')),
  entry TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (component, version)
)`,
    `CREATE TABLE monitoring_stacks (
  environment TEXT PRIMARY KEY,
  node_group TEXT NOT NULL,
  node TEXT NOT NULL,
  tenant TEXT NOT NULL,
  versions TEXT NOT NULL,
  storage TEXT NOT NULL,
  s3_keys TEXT NOT NULL,
  grafana_password TEXT NOT NULL,
  loki_schema_from TEXT NOT NULL,
  endpoints TEXT NOT NULL,
  state TEXT NOT NULL,
  state_reason TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)`,
  ],
};
