/** SQL for SeaweedFS clusters, releases, buckets, keys and mounts (the storage service's only SQL). */
import type { Queryable } from './db.ts';

export interface ReleaseRow {
  version: string;
  sha256: string;
  size_bytes: number;
  source: string;
  path: string;
  recorded_at: number;
}
export interface ClusterRow {
  environment: string;
  spec: string;
  state: string;
  state_reason: string;
  version: string;
  secrets: string;
  health: string;
  health_at: number | null;
  provision_ms: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}
export interface BucketRow {
  environment: string;
  name: string;
  quota_mb: number | null;
  created_at: number;
}
export interface KeyRow {
  environment: string;
  access_key: string;
  name: string;
  bucket: string;
  actions: string;
  secret: string;
  status: 'active' | 'retired';
  created_at: number;
  retired_at: number | null;
}
export interface MountRow {
  environment: string;
  name: string;
  node: string;
  filer_path: string;
  dir: string;
  created_at: number;
}

export const num = <T extends object>(r: T | undefined, ...keys: (keyof T)[]): T | undefined => {
  if (!r) return r;
  for (const k of keys) if (r[k] !== null && r[k] !== undefined) (r as any)[k] = Number(r[k]);
  return r;
};

export const seaweedRepo = {
  async release(q: Queryable, version: string) {
    return num(
      await q.get<ReleaseRow>('SELECT * FROM seaweed_releases WHERE version = ?', [version]),
      'size_bytes',
      'recorded_at',
    );
  },
  async releases(q: Queryable) {
    return (await q.all<ReleaseRow>('SELECT * FROM seaweed_releases ORDER BY recorded_at')).map((r) =>
      num(r, 'size_bytes', 'recorded_at')!,
    );
  },
  async putRelease(q: Queryable, r: ReleaseRow) {
    await q.run(
      'INSERT INTO seaweed_releases (version, sha256, size_bytes, source, path, recorded_at) VALUES (?, ?, ?, ?, ?, ?)',
      [r.version, r.sha256, r.size_bytes, r.source, r.path, r.recorded_at],
    );
  },
  async cluster(q: Queryable, environment: string) {
    return num(
      await q.get<ClusterRow>('SELECT * FROM seaweed_clusters WHERE environment = ?', [environment]),
      'health_at',
      'provision_ms',
      'created_at',
      'updated_at',
    );
  },
  async clusters(q: Queryable) {
    return (await q.all<ClusterRow>('SELECT * FROM seaweed_clusters ORDER BY environment')).map((r) =>
      num(r, 'health_at', 'provision_ms', 'created_at', 'updated_at')!,
    );
  },
  async insertCluster(q: Queryable, r: ClusterRow) {
    await q.run(
      `INSERT INTO seaweed_clusters (environment, spec, state, state_reason, version, secrets, health, health_at,
        provision_ms, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.environment,
        r.spec,
        r.state,
        r.state_reason,
        r.version,
        r.secrets,
        r.health,
        r.health_at,
        r.provision_ms,
        r.created_by,
        r.created_at,
        r.updated_at,
      ],
    );
  },
  async updateCluster(
    q: Queryable,
    environment: string,
    f: Partial<
      Pick<
        ClusterRow,
        'spec' | 'state' | 'state_reason' | 'version' | 'secrets' | 'health' | 'health_at' | 'provision_ms'
      >
    >,
  ) {
    const keys = Object.keys(f) as (keyof typeof f)[];
    if (!keys.length) return;
    await q.run(
      `UPDATE seaweed_clusters SET ${keys.map((k) => `${k} = ?`).join(', ')}, updated_at = ? WHERE environment = ?`,
      [...keys.map((k) => f[k] as string | number | null), Date.now(), environment],
    );
  },
  async deleteCluster(q: Queryable, environment: string) {
    for (const t of ['seaweed_mounts', 'seaweed_keys', 'seaweed_buckets', 'seaweed_clusters'])
      await q.run(`DELETE FROM ${t} WHERE environment = ?`, [environment]);
  },
  async buckets(q: Queryable, environment: string) {
    return (
      await q.all<BucketRow>('SELECT * FROM seaweed_buckets WHERE environment = ? ORDER BY name', [
        environment,
      ])
    ).map((r) => num(r, 'quota_mb', 'created_at')!);
  },
  async bucket(q: Queryable, environment: string, name: string) {
    return num(
      await q.get<BucketRow>('SELECT * FROM seaweed_buckets WHERE environment = ? AND name = ?', [
        environment,
        name,
      ]),
      'quota_mb',
      'created_at',
    );
  },
  async insertBucket(q: Queryable, r: BucketRow) {
    await q.run('INSERT INTO seaweed_buckets (environment, name, quota_mb, created_at) VALUES (?, ?, ?, ?)', [
      r.environment,
      r.name,
      r.quota_mb,
      r.created_at,
    ]);
  },
  async deleteBucket(q: Queryable, environment: string, name: string) {
    await q.run('DELETE FROM seaweed_buckets WHERE environment = ? AND name = ?', [environment, name]);
  },
  async keys(q: Queryable, environment: string) {
    return (
      await q.all<KeyRow>('SELECT * FROM seaweed_keys WHERE environment = ? ORDER BY created_at, name', [
        environment,
      ])
    ).map((r) => num(r, 'created_at', 'retired_at')!);
  },
  async insertKey(q: Queryable, r: KeyRow) {
    await q.run(
      `INSERT INTO seaweed_keys (environment, access_key, name, bucket, actions, secret, status, created_at, retired_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.environment,
        r.access_key,
        r.name,
        r.bucket,
        r.actions,
        r.secret,
        r.status,
        r.created_at,
        r.retired_at,
      ],
    );
  },
  async retireKey(q: Queryable, environment: string, accessKey: string) {
    await q.run(
      "UPDATE seaweed_keys SET status = 'retired', retired_at = ? WHERE environment = ? AND access_key = ?",
      [Date.now(), environment, accessKey],
    );
  },
  async deleteKey(q: Queryable, environment: string, accessKey: string) {
    await q.run('DELETE FROM seaweed_keys WHERE environment = ? AND access_key = ?', [
      environment,
      accessKey,
    ]);
  },
  async mounts(q: Queryable, environment: string) {
    return (
      await q.all<MountRow>('SELECT * FROM seaweed_mounts WHERE environment = ? ORDER BY name', [environment])
    ).map((r) => num(r, 'created_at')!);
  },
  async mount(q: Queryable, environment: string, name: string) {
    return num(
      await q.get<MountRow>('SELECT * FROM seaweed_mounts WHERE environment = ? AND name = ?', [
        environment,
        name,
      ]),
      'created_at',
    );
  },
  async insertMount(q: Queryable, r: MountRow) {
    await q.run(
      'INSERT INTO seaweed_mounts (environment, name, node, filer_path, dir, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [r.environment, r.name, r.node, r.filer_path, r.dir, r.created_at],
    );
  },
  async deleteMount(q: Queryable, environment: string, name: string) {
    await q.run('DELETE FROM seaweed_mounts WHERE environment = ? AND name = ?', [environment, name]);
  },
};
