/** SQL for the monitoring stack: recorded component releases and the stack of each environment. */
import type { Queryable } from './db.ts';
import { num as nums } from './seaweedfs-repo.ts';

export interface StackReleaseRow {
  component: string;
  version: string;
  sha256: string;
  size_bytes: number;
  kind: 'binary' | 'tarball';
  entry: string;
  source: string;
  path: string;
  recorded_at: number;
}

export interface StackRow {
  environment: string;
  node_group: string;
  node: string;
  tenant: string;
  /** JSON {component: version} */
  versions: string;
  /** 's3' or 'local' */
  storage: string;
  /** JSON {component: accessKey} */
  s3_keys: string;
  /** sealed */
  grafana_password: string;
  loki_schema_from: string;
  /** JSON StackEndpoints */
  endpoints: string;
  state: string;
  state_reason: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export const stackRepo = {
  async releases(q: Queryable) {
    return (
      await q.all<StackReleaseRow>('SELECT * FROM monitoring_releases ORDER BY component, recorded_at')
    ).map((r) => nums(r, 'size_bytes', 'recorded_at')!);
  },
  async release(q: Queryable, component: string, version: string) {
    return nums(
      await q.get<StackReleaseRow>('SELECT * FROM monitoring_releases WHERE component = ? AND version = ?', [
        component,
        version,
      ]),
      'size_bytes',
      'recorded_at',
    );
  },
  async putRelease(q: Queryable, r: StackReleaseRow) {
    await q.run(
      `INSERT INTO monitoring_releases (component, version, sha256, size_bytes, kind, entry, source, path, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [r.component, r.version, r.sha256, r.size_bytes, r.kind, r.entry, r.source, r.path, r.recorded_at],
    );
  },
  async stack(q: Queryable, environment: string) {
    return nums(
      await q.get<StackRow>('SELECT * FROM monitoring_stacks WHERE environment = ?', [environment]),
      'created_at',
      'updated_at',
    );
  },
  async stacks(q: Queryable) {
    return (await q.all<StackRow>('SELECT * FROM monitoring_stacks ORDER BY environment')).map((r) =>
      nums(r, 'created_at', 'updated_at')!,
    );
  },
  async putStack(q: Queryable, r: StackRow) {
    await q.run('DELETE FROM monitoring_stacks WHERE environment = ?', [r.environment]);
    await q.run(
      `INSERT INTO monitoring_stacks (environment, node_group, node, tenant, versions, storage, s3_keys,
         grafana_password, loki_schema_from, endpoints, state, state_reason, created_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.environment,
        r.node_group,
        r.node,
        r.tenant,
        r.versions,
        r.storage,
        r.s3_keys,
        r.grafana_password,
        r.loki_schema_from,
        r.endpoints,
        r.state,
        r.state_reason,
        r.created_by,
        r.created_at,
        r.updated_at,
      ],
    );
  },
  async setState(q: Queryable, environment: string, state: string, reason: string) {
    await q.run(
      'UPDATE monitoring_stacks SET state = ?, state_reason = ?, updated_at = ? WHERE environment = ?',
      [state, reason, Date.now(), environment],
    );
  },
  async deleteStack(q: Queryable, environment: string) {
    await q.run('DELETE FROM monitoring_stacks WHERE environment = ?', [environment]);
  },
};
