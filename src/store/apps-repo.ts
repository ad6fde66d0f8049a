/** The apps and their immutable numbered releases (tables apps, app_releases). */
import type { Queryable } from './db.ts';
import type { AppSpec } from '../domain/apps/model.ts';
import { moveRelease, type ReleaseState } from '../domain/apps/states.ts';

export interface AppRow {
  name: string;
  environment: string;
  group_name: string;
  spec: string;
  secrets: string;
  current_release: number | null;
  deleting: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}
export interface ReleaseRow {
  app: string;
  number: number;
  kind: string;
  spec: string;
  secrets: string;
  rollback_of: number | null;
  status: ReleaseState;
  created_by: string;
  created_at: number;
}

export const appSpec = (r: { spec: string }) => JSON.parse(r.spec) as AppSpec;

export const getApp = (q: Queryable, name: string) =>
  q.get<AppRow>('SELECT * FROM apps WHERE name = ?', [name]);
export const listApps = (q: Queryable) => q.all<AppRow>('SELECT * FROM apps ORDER BY name');
export const appExists = async (q: Queryable, name: string) =>
  !!(await q.get('SELECT name FROM apps WHERE name = ?', [name]));

export async function insertApp(
  q: Queryable,
  a: { name: string; environment: string; group: string; spec: string; secrets: string; by: string },
) {
  const now = Date.now();
  await q.run(
    `INSERT INTO apps (name, environment, group_name, spec, secrets, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [a.name, a.environment, a.group, a.spec, a.secrets, a.by, now, now],
  );
}

/** The app's desired spec and sealed secrets (what the next release is made from). */
export async function updateAppSpec(q: Queryable, name: string, spec: string, secrets: string) {
  await q.run('UPDATE apps SET spec = ?, secrets = ?, updated_at = ? WHERE name = ?', [
    spec,
    secrets,
    Date.now(),
    name,
  ]);
}

export async function markAppDeleting(q: Queryable, name: string) {
  await q.run('UPDATE apps SET deleting = 1 WHERE name = ?', [name]);
}

export async function deletingApps(q: Queryable): Promise<string[]> {
  return (await q.all<{ name: string }>('SELECT name FROM apps WHERE deleting = 1')).map((a) => a.name);
}

/** Nodes in the groups that apps are deployed to (the reconciler lists them even when they have no instance). */
export async function nodesOfAppGroups(q: Queryable): Promise<string[]> {
  return (
    await q.all<{ node_name: string }>(
      'SELECT DISTINCT node_name FROM group_members WHERE group_name IN (SELECT group_name FROM apps)',
    )
  ).map((r) => r.node_name);
}

/** The app and everything recorded for it, in one go (the end of a delete). */
export async function deleteAppCascade(q: Queryable, name: string) {
  await q.run('DELETE FROM app_ports WHERE instance_id IN (SELECT id FROM app_instances WHERE app = ?)', [
    name,
  ]);
  await q.run('DELETE FROM app_instances WHERE app = ?', [name]);
  await q.run('DELETE FROM app_rollouts WHERE app = ?', [name]);
  await q.run('DELETE FROM app_releases WHERE app = ?', [name]);
  await q.run('DELETE FROM apps WHERE name = ?', [name]);
}

export const getRelease = (q: Queryable, app: string, n: number) =>
  q.get<ReleaseRow>('SELECT * FROM app_releases WHERE app = ? AND number = ?', [app, n]);
export const listReleases = (q: Queryable, app: string) =>
  q.all<ReleaseRow>('SELECT * FROM app_releases WHERE app = ? ORDER BY number DESC', [app]);

export async function nextReleaseNumber(q: Queryable, app: string): Promise<number> {
  const r = await q.get<{ n: number | null }>('SELECT MAX(number) AS n FROM app_releases WHERE app = ?', [
    app,
  ]);
  return Number(r?.n ?? 0) + 1;
}

export async function insertRelease(
  q: Queryable,
  r: {
    app: string;
    number: number;
    kind: string;
    spec: string;
    secrets: string;
    rollbackOf: number | null;
    by: string;
  },
) {
  await q.run(
    `INSERT INTO app_releases (app, number, kind, spec, secrets, rollback_of, status, created_by, created_at)
     VALUES (?, ?, ?, ?, ?, ?, 'deploying', ?, ?)`,
    [r.app, r.number, r.kind, r.spec, r.secrets, r.rollbackOf, r.by, Date.now()],
  );
}

/** A deploying release whose rollout failed. */
export async function failRelease(q: Queryable, app: string, n: number) {
  const rel = await getRelease(q, app, n);
  if (rel?.status !== 'deploying') return;
  moveRelease(rel.status, 'failed');
  await q.run("UPDATE app_releases SET status = 'failed' WHERE app = ? AND number = ?", [app, n]);
}

/**
 * Make release `n` the app's active and current release (the one before it is superseded) unless it failed.
 * Run inside the rollout's final transaction.
 */
export async function activateRelease(q: Queryable, app: string, n: number) {
  const rel = await getRelease(q, app, n);
  // A failed release stays failed (a revert that only removed what it started ends on it).
  if (rel?.status === 'deploying') {
    moveRelease(rel.status, 'active');
    await q.run(
      "UPDATE app_releases SET status = 'superseded' WHERE app = ? AND status = 'active' AND number <> ?",
      [app, n],
    );
    await q.run("UPDATE app_releases SET status = 'active' WHERE app = ? AND number = ?", [app, n]);
  }
  if ((await getRelease(q, app, n))?.status === 'active')
    await q.run('UPDATE apps SET current_release = ?, updated_at = ? WHERE name = ?', [n, Date.now(), app]);
}
