/**
 * Monitoring: log-shipping cursors (one per tailed file: which inode, how far, whether inside an over-long
 * line) and the alerts Alertmanager reported to grim's webhook (current state per alert fingerprint).
 */
export default {
  name: '0110_monitoring',
  up: (): string[] => [
    `CREATE TABLE log_cursors (
  source_key TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  path TEXT NOT NULL,
  inode TEXT NOT NULL,
  byte_offset BIGINT NOT NULL,
  skip INTEGER NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
)`,
    `CREATE TABLE alerts (
  fingerprint TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT,
  received_at BIGINT NOT NULL
)`,
    'CREATE INDEX alerts_status ON alerts (status, received_at)',
  ],
};
