/**
 * Usage metrics: raw samples (kept 24 h), 1-minute rollups (7 d), 15-minute rollups (90 d).
 * Series key: (kind node|instance, entity id, metric, dim, ts); dim is the core/mountpoint/device/interface
 * or '' (see src/domain/metrics/catalog.ts).
 */
export default {
  name: '0030_metrics',
  up: (d: { dialect: 'sqlite' | 'postgres' }): string[] => {
    const real = d.dialect === 'postgres' ? 'DOUBLE PRECISION' : 'REAL';
    const withoutRowid = d.dialect === 'sqlite' ? ' WITHOUT ROWID' : '';
    const key = `kind TEXT NOT NULL CHECK (kind IN ('node', 'instance')),
  entity_id TEXT NOT NULL,
  metric TEXT NOT NULL,
  dim TEXT NOT NULL DEFAULT '',
  ts BIGINT NOT NULL`;
    const rollupTable = (name: string): string => `CREATE TABLE ${name} (
  ${key},
  avg_value ${real} NOT NULL,
  max_value ${real} NOT NULL,
  n_samples INTEGER NOT NULL,
  PRIMARY KEY (kind, entity_id, metric, dim, ts)
)${withoutRowid}`;
    return [
      `CREATE TABLE metrics_raw (
  ${key},
  value ${real} NOT NULL,
  PRIMARY KEY (kind, entity_id, metric, dim, ts)
)${withoutRowid}`,
      'CREATE INDEX metrics_raw_ts ON metrics_raw (ts)',
      rollupTable('metrics_1m'),
      'CREATE INDEX metrics_1m_ts ON metrics_1m (ts)',
      rollupTable('metrics_15m'),
      'CREATE INDEX metrics_15m_ts ON metrics_15m (ts)',
      // Rollups are complete for buckets starting before done_until (per resolution).
      `CREATE TABLE metrics_rollup_state (
  resolution TEXT PRIMARY KEY,
  done_until BIGINT NOT NULL
)`,
    ];
  },
};
