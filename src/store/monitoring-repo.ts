/** SQL of the monitoring work: log-shipping cursors and received alerts. */
import type { Db, Queryable } from './db.ts';

export interface LogCursor {
  sourceKey: string;
  node: string;
  path: string;
  inode: string;
  offset: number;
  skip: boolean;
  /** A journal source's journald cursor ('' for files). */
  journal?: string;
}

interface CursorRow {
  source_key: string;
  node: string;
  path: string;
  inode: string;
  byte_offset: number | string;
  skip: number;
  journal_cursor: string;
}

export async function loadCursors(db: Queryable, node: string): Promise<Map<string, LogCursor>> {
  const rows = await db.all<CursorRow>('SELECT * FROM log_cursors WHERE node = ?', [node]);
  return new Map(
    rows.map((r) => [
      r.source_key,
      {
        sourceKey: r.source_key,
        node: r.node,
        path: r.path,
        inode: r.inode,
        offset: Number(r.byte_offset),
        skip: r.skip === 1,
        ...(r.journal_cursor ? { journal: r.journal_cursor } : {}),
      },
    ]),
  );
}

/** Writes the cursors of one acknowledged push, all or none. */
export async function saveCursors(db: Db, cursors: readonly LogCursor[], now = Date.now()): Promise<void> {
  if (!cursors.length) return;
  await db.transaction(async (tx) => {
    for (const c of cursors)
      await tx.run(
        `INSERT INTO log_cursors (source_key, node, path, inode, byte_offset, skip, journal_cursor, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (source_key) DO UPDATE SET node = excluded.node, path = excluded.path,
           inode = excluded.inode, byte_offset = excluded.byte_offset, skip = excluded.skip,
           journal_cursor = excluded.journal_cursor, updated_at = excluded.updated_at`,
        [c.sourceKey, c.node, c.path, c.inode, c.offset, c.skip ? 1 : 0, c.journal ?? '', now],
      );
  });
}

export async function deleteCursorsExcept(db: Db, node: string, keep: readonly string[]): Promise<void> {
  const rows = await db.all<{ source_key: string }>('SELECT source_key FROM log_cursors WHERE node = ?', [
    node,
  ]);
  for (const r of rows)
    if (!keep.includes(r.source_key))
      await db.run('DELETE FROM log_cursors WHERE source_key = ?', [r.source_key]);
}

/** Where each instance's log file is: instance id, app, node and the runtime's handle JSON. */
export async function instancesForLogs(
  db: Queryable,
  node: string,
): Promise<{ id: string; app: string; environment: string; group_name: string; handle: string }[]> {
  return db.all(
    `SELECT i.id, i.app, i.handle, a.environment, a.group_name FROM app_instances i
     JOIN apps a ON a.name = i.app WHERE i.node = ? AND i.handle <> '' ORDER BY i.id`,
    [node],
  );
}

export interface AlertRow {
  fingerprint: string;
  name: string;
  status: 'firing' | 'resolved';
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number | null;
  receivedAt: number;
}

export async function upsertAlerts(db: Db, alerts: readonly AlertRow[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const a of alerts)
      await tx.run(
        `INSERT INTO alerts (fingerprint, name, status, severity, labels, annotations, starts_at, ends_at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (fingerprint) DO UPDATE SET name = excluded.name, status = excluded.status,
           severity = excluded.severity, labels = excluded.labels, annotations = excluded.annotations,
           starts_at = excluded.starts_at, ends_at = excluded.ends_at, received_at = excluded.received_at`,
        [
          a.fingerprint,
          a.name,
          a.status,
          a.severity,
          JSON.stringify(a.labels),
          JSON.stringify(a.annotations),
          a.startsAt,
          a.endsAt,
          a.receivedAt,
        ],
      );
  });
}

interface StoredAlert {
  fingerprint: string;
  name: string;
  status: 'firing' | 'resolved';
  severity: string;
  labels: string;
  annotations: string;
  starts_at: number | string;
  ends_at: number | string | null;
  received_at: number | string;
}

export async function listAlerts(db: Queryable, status?: 'firing' | 'resolved'): Promise<AlertRow[]> {
  const rows = await db.all<StoredAlert>(
    `SELECT * FROM alerts ${status ? 'WHERE status = ?' : ''} ORDER BY received_at DESC LIMIT 500`,
    status ? [status] : [],
  );
  return rows.map((r) => ({
    fingerprint: r.fingerprint,
    name: r.name,
    status: r.status,
    severity: r.severity,
    labels: JSON.parse(r.labels) as Record<string, string>,
    annotations: JSON.parse(r.annotations) as Record<string, string>,
    startsAt: Number(r.starts_at),
    endsAt: r.ends_at === null ? null : Number(r.ends_at),
    receivedAt: Number(r.received_at),
  }));
}

/** An app's instances (id, node, release), or null when there is no such app. */
export async function appInstancesForLogs(
  db: Queryable,
  app: string,
): Promise<{ id: string; node: string; release: number }[] | null> {
  if (!(await db.get('SELECT name FROM apps WHERE name = ?', [app]))) return null;
  const rows = await db.all<{ id: string; node: string; release: number | string }>(
    'SELECT id, node, release FROM app_instances WHERE app = ? ORDER BY id',
    [app],
  );
  return rows.map((r) => ({ id: r.id, node: r.node, release: Number(r.release) }));
}

/** Instances per app and state, with the app's environment (for grim_app_instances). */
export async function instanceStateCounts(
  db: Queryable,
): Promise<{ app: string; environment: string; state: string; n: number }[]> {
  const rows = await db.all<{ app: string; environment: string; state: string; n: number | string }>(
    `SELECT i.app, a.environment, i.state, COUNT(*) AS n FROM app_instances i JOIN apps a ON a.name = i.app
     GROUP BY i.app, a.environment, i.state ORDER BY i.app, i.state`,
  );
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

/** Every app's environment and spec JSON (the backup policies of its volumes are in the spec). */
export async function appSpecs(
  db: Queryable,
): Promise<{ name: string; environment: string; spec: string }[]> {
  return db.all('SELECT name, environment, spec FROM apps ORDER BY name');
}
