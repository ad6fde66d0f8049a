/** The volume tables (migration 0090): copies of volumes on nodes, snapshots, backups, targets, passwords. */
import type { Queryable } from './db.ts';

export interface VolumeRow {
  app: string;
  name: string;
  node: string;
  environment: string;
  kind: 'local' | 'shared';
  size_bytes: number;
  backend: string;
  path: string;
  image: string;
  used_bytes: number;
  state: 'present' | 'abandoned' | 'delete-requested';
  created_at: number;
  updated_at: number;
}
export interface SnapshotRow {
  app: string;
  name: string;
  node: string;
  snapshot: string;
  release: number;
  kind: string;
  bytes: number;
  created_at: number;
}
export interface BackupRow {
  id: string;
  app: string;
  name: string;
  node: string;
  target: string;
  status: 'running' | 'succeeded' | 'failed';
  restic_id: string;
  bytes: number;
  files: number;
  duration_ms: number;
  message: string;
  created_by: string;
  created_at: number;
  finished_at: number | null;
}
export interface BackupTargetRow {
  name: string;
  kind: 's3' | 'path';
  location: string;
  access_key: string;
  secret_key: string;
  created_at: number;
  updated_at: number;
}

export const appVolumes = (q: Queryable, app: string) =>
  q.all<VolumeRow>('SELECT * FROM app_volumes WHERE app = ? ORDER BY name, node', [app]);
export const allVolumes = (q: Queryable) =>
  q.all<VolumeRow>('SELECT * FROM app_volumes ORDER BY app, name, node');
export const nodeVolumes = (q: Queryable, node: string) =>
  q.all<VolumeRow>('SELECT * FROM app_volumes WHERE node = ? ORDER BY app, name', [node]);
export const getVolume = (q: Queryable, app: string, name: string, node: string) =>
  q.get<VolumeRow>('SELECT * FROM app_volumes WHERE app = ? AND name = ? AND node = ?', [app, name, node]);

/** Nodes holding a present copy of the app's local volumes. */
export async function holderNodes(q: Queryable, app: string): Promise<Set<string>> {
  const rows = await q.all<{ node: string }>(
    "SELECT DISTINCT node FROM app_volumes WHERE app = ? AND kind = 'local' AND state = 'present'",
    [app],
  );
  return new Set(rows.map((r) => r.node));
}

export async function upsertVolume(q: Queryable, v: Omit<VolumeRow, 'created_at' | 'updated_at' | 'state'>) {
  const now = Date.now();
  const found = await getVolume(q, v.app, v.name, v.node);
  if (found)
    await q.run(
      `UPDATE app_volumes SET environment = ?, kind = ?, size_bytes = ?, backend = ?, path = ?, image = ?, used_bytes = ?,
       state = 'present', updated_at = ? WHERE app = ? AND name = ? AND node = ?`,
      [
        v.environment,
        v.kind,
        v.size_bytes,
        v.backend,
        v.path,
        v.image,
        v.used_bytes,
        now,
        v.app,
        v.name,
        v.node,
      ],
    );
  else
    await q.run(
      `INSERT INTO app_volumes (app, name, node, environment, kind, size_bytes, backend, path, image, used_bytes, state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'present', ?, ?)`,
      [
        v.app,
        v.name,
        v.node,
        v.environment,
        v.kind,
        v.size_bytes,
        v.backend,
        v.path,
        v.image,
        v.used_bytes,
        now,
        now,
      ],
    );
}

export const setVolumeState = (q: Queryable, app: string, node: string, state: VolumeRow['state']) =>
  q.run('UPDATE app_volumes SET state = ?, updated_at = ? WHERE app = ? AND node = ?', [
    state,
    Date.now(),
    app,
    node,
  ]);
export const setVolumeUsed = (q: Queryable, app: string, name: string, node: string, used: number) =>
  q.run('UPDATE app_volumes SET used_bytes = ?, updated_at = ? WHERE app = ? AND name = ? AND node = ?', [
    used,
    Date.now(),
    app,
    name,
    node,
  ]);
export const dropVolume = async (q: Queryable, app: string, name: string, node: string) => {
  await q.run('DELETE FROM volume_snapshots WHERE app = ? AND name = ? AND node = ?', [app, name, node]);
  await q.run('DELETE FROM app_volumes WHERE app = ? AND name = ? AND node = ?', [app, name, node]);
};

export const recordSnapshot = async (q: Queryable, s: SnapshotRow) => {
  await q.run('DELETE FROM volume_snapshots WHERE app = ? AND name = ? AND node = ? AND snapshot = ?', [
    s.app,
    s.name,
    s.node,
    s.snapshot,
  ]);
  await q.run(
    `INSERT INTO volume_snapshots (app, name, node, snapshot, release, kind, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [s.app, s.name, s.node, s.snapshot, s.release, s.kind, s.bytes, s.created_at],
  );
};
export const forgetSnapshots = async (
  q: Queryable,
  app: string,
  name: string,
  node: string,
  names: string[],
) => {
  for (const s of names)
    await q.run('DELETE FROM volume_snapshots WHERE app = ? AND name = ? AND node = ? AND snapshot = ?', [
      app,
      name,
      node,
      s,
    ]);
};
export const volumeSnapshots = (q: Queryable, app: string) =>
  q.all<SnapshotRow>('SELECT * FROM volume_snapshots WHERE app = ? ORDER BY name, node, release', [app]);

/** The first snapshot of a volume copy taken before a release after `afterRelease`: the data as that release left it. */
export const snapshotAfter = (q: Queryable, app: string, name: string, node: string, afterRelease: number) =>
  q.get<SnapshotRow>(
    'SELECT * FROM volume_snapshots WHERE app = ? AND name = ? AND node = ? AND release > ? ORDER BY release LIMIT 1',
    [app, name, node, afterRelease],
  );

export const requestRestore = (q: Queryable, app: string, release: number, afterRelease: number) =>
  q.run('INSERT INTO volume_restores (app, release, after_release) VALUES (?, ?, ?)', [
    app,
    release,
    afterRelease,
  ]);
export const restoreRequest = (q: Queryable, app: string, release: number) =>
  q.get<{ after_release: number }>(
    'SELECT after_release FROM volume_restores WHERE app = ? AND release = ?',
    [app, release],
  );
export const dropRestoreRequests = (q: Queryable, app: string, release?: number) =>
  release === undefined
    ? q.run('DELETE FROM volume_restores WHERE app = ?', [app])
    : q.run('DELETE FROM volume_restores WHERE app = ? AND release = ?', [app, release]);

export async function appPassword(q: Queryable, app: string): Promise<string | undefined> {
  return (await q.get<{ sealed: string }>('SELECT sealed FROM volume_passwords WHERE app = ?', [app]))
    ?.sealed;
}
export const storeAppPassword = (q: Queryable, app: string, sealed: string) =>
  q.run('INSERT INTO volume_passwords (app, sealed, created_at) VALUES (?, ?, ?)', [app, sealed, Date.now()]);

export const insertBackup = (
  q: Queryable,
  b: Pick<BackupRow, 'id' | 'app' | 'name' | 'node' | 'target' | 'created_by'>,
) =>
  q.run(
    `INSERT INTO volume_backups (id, app, name, node, target, status, created_by, created_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
    [b.id, b.app, b.name, b.node, b.target, b.created_by, Date.now()],
  );
export const finishBackup = (
  q: Queryable,
  id: string,
  r: {
    status: 'succeeded' | 'failed';
    resticId?: string;
    bytes?: number;
    files?: number;
    durationMs?: number;
    message?: string;
  },
) =>
  q.run(
    `UPDATE volume_backups SET status = ?, restic_id = ?, bytes = ?, files = ?, duration_ms = ?, message = ?, finished_at = ? WHERE id = ?`,
    [
      r.status,
      r.resticId ?? '',
      r.bytes ?? 0,
      r.files ?? 0,
      r.durationMs ?? 0,
      (r.message ?? '').slice(0, 2000),
      Date.now(),
      id,
    ],
  );
export const volumeBackups = (q: Queryable, app: string, name?: string) =>
  name === undefined
    ? q.all<BackupRow>('SELECT * FROM volume_backups WHERE app = ? ORDER BY created_at DESC', [app])
    : q.all<BackupRow>('SELECT * FROM volume_backups WHERE app = ? AND name = ? ORDER BY created_at DESC', [
        app,
        name,
      ]);
/** Per (app, volume): when the last good backup finished and when the last one was attempted. */
export const backupTimes = (q: Queryable) =>
  q.all<{ app: string; name: string; last_good: number | null; last_attempt: number | null }>(
    `SELECT app, name,
       MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS last_good,
       MAX(created_at) AS last_attempt
     FROM volume_backups GROUP BY app, name`,
  );

export const listTargets = (q: Queryable) =>
  q.all<BackupTargetRow>('SELECT * FROM backup_targets ORDER BY name');
export const getTarget = (q: Queryable, name: string) =>
  q.get<BackupTargetRow>('SELECT * FROM backup_targets WHERE name = ?', [name]);
export async function putTarget(q: Queryable, t: Omit<BackupTargetRow, 'created_at' | 'updated_at'>) {
  const now = Date.now();
  if (await getTarget(q, t.name))
    await q.run(
      'UPDATE backup_targets SET kind = ?, location = ?, access_key = ?, secret_key = ?, updated_at = ? WHERE name = ?',
      [t.kind, t.location, t.access_key, t.secret_key, now, t.name],
    );
  else
    await q.run(
      'INSERT INTO backup_targets (name, kind, location, access_key, secret_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [t.name, t.kind, t.location, t.access_key, t.secret_key, now, now],
    );
}
export const deleteTarget = (q: Queryable, name: string) =>
  q.run('DELETE FROM backup_targets WHERE name = ?', [name]);

export const markVolumesForDeletion = (q: Queryable, app: string) =>
  q.run("UPDATE app_volumes SET state = 'delete-requested', updated_at = ? WHERE app = ?", [Date.now(), app]);

/** A note on an app instance (why it stays where it is) without changing its state. */
export const noteInstance = (q: Queryable, id: string, message: string) =>
  q.run('UPDATE app_instances SET message = ?, updated_at = ? WHERE id = ?', [
    message.slice(0, 1000),
    Date.now(),
    id,
  ]);

/** Each local volume (app, name) once: its environment and when its first copy was made. */
export const localVolumeFirsts = (q: Queryable) =>
  q.all<{ app: string; name: string; environment: string; created: number }>(
    `SELECT app, name, MIN(environment) AS environment, MIN(created_at) AS created FROM app_volumes
     WHERE kind = 'local' GROUP BY app, name ORDER BY app, name`,
  );
