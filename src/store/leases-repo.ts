/**
 * Leases in the database (see src/domain/lease.ts). Time is the database's clock, so instances on different
 * machines need not agree on theirs. Every change is a compare-and-set on the token the decision saw.
 */
import type { Db, Queryable } from './db.ts';
import {
  decideLease,
  fenceAdmits,
  releaseAdmits,
  type LeaseDecision,
  type LeaseRecord,
} from '../domain/lease.ts';

export type Dialect = Db['dialect'];

/** The database clock in ms since the epoch. */
export function nowSql(dialect: Dialect): string {
  return dialect === 'sqlite'
    ? "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    : 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)';
}

export async function dbNow(q: Queryable, dialect: Dialect): Promise<number> {
  const r = await q.get<{ now: number }>(`SELECT ${nowSql(dialect)} AS now`);
  return Number(r!.now);
}

interface LeaseRow {
  name: string;
  holder: string;
  token: number;
  acquired_at: number;
  renewed_at: number;
  expires_at: number;
}

const record = (r: LeaseRow | undefined): LeaseRecord | undefined =>
  r && { holder: r.holder, token: Number(r.token), expiresAt: Number(r.expires_at) };

export type AcquireResult =
  | { held: true; token: number; expiresAt: number; now: number; decision: LeaseDecision['kind'] }
  | { held: false; holder: string; expiresAt: number; now: number };

/** Acquire, renew or take over `name` for `holder`; a lost race reports the winner. */
export async function tryAcquireLease(
  db: Db,
  name: string,
  holder: string,
  ttlMs: number,
  isGone: (holder: string) => boolean = () => false,
): Promise<AcquireResult> {
  return db.transaction(async (tx) => {
    const now = await dbNow(tx, db.dialect);
    const row = await tx.get<LeaseRow>('SELECT * FROM leases WHERE name = ?', [name]);
    const current = record(row);
    const d = decideLease(current, holder, now, ttlMs, !!current && isGone(current.holder));
    if (d.kind === 'held') return { held: false, holder: d.holder, expiresAt: d.expiresAt, now };
    let changes: number;
    if (d.kind === 'acquire') {
      changes = (
        await tx.run(
          'INSERT INTO leases (name, holder, token, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
          [name, holder, d.token, now, now, d.expiresAt],
        )
      ).changes;
    } else {
      changes = (
        await tx.run(
          `UPDATE leases SET holder = ?, token = ?, renewed_at = ?, expires_at = ?${d.kind === 'takeover' ? ', acquired_at = ?' : ''}
           WHERE name = ? AND holder = ? AND token = ?`,
          [
            holder,
            d.token,
            now,
            d.expiresAt,
            ...(d.kind === 'takeover' ? [now] : []),
            name,
            current!.holder,
            current!.token,
          ],
        )
      ).changes;
    }
    if (changes === 1) return { held: true, token: d.token, expiresAt: d.expiresAt, now, decision: d.kind };
    const winner = record(await tx.get<LeaseRow>('SELECT * FROM leases WHERE name = ?', [name]));
    return { held: false, holder: winner?.holder ?? '', expiresAt: winner?.expiresAt ?? 0, now };
  });
}

/** Thrown by a fenced write whose lease has moved on (expired, taken over or released). */
export class LeaseLostError extends Error {
  readonly lease: string;
  constructor(lease: string, message = `lease ${lease} is no longer held by this instance`) {
    super(message);
    this.name = 'LeaseLostError';
    this.lease = lease;
  }
}

/**
 * Inside a transaction: throws LeaseLostError unless (holder, token) still holds `name`. On PostgreSQL the
 * lease row stays locked until the transaction ends, so a takeover waits for the write to commit, then wins.
 */
export async function checkFence(
  tx: Queryable,
  dialect: Dialect,
  name: string,
  holder: string,
  token: number,
): Promise<void> {
  const row = await tx.get<LeaseRow & { now: number }>(
    `SELECT leases.*, ${nowSql(dialect)} AS now FROM leases WHERE name = ?${dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
    [name],
  );
  if (!fenceAdmits(record(row), holder, token, Number(row?.now ?? 0))) throw new LeaseLostError(name);
}

/** Expire the lease at once so another instance takes it without waiting; only the holder can. */
export async function releaseLease(db: Db, name: string, holder: string, token: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const row = await tx.get<LeaseRow>('SELECT * FROM leases WHERE name = ?', [name]);
    if (!releaseAdmits(record(row), holder, token)) return false;
    const r = await tx.run('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?', [
      name,
      holder,
      token,
    ]);
    return r.changes === 1;
  });
}

export interface LeaseView {
  name: string;
  holder: string;
  token: number;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
  expired: boolean;
}

export async function listLeases(db: Db, prefix = ''): Promise<LeaseView[]> {
  const now = await dbNow(db, db.dialect);
  const rows = await db.all<LeaseRow>(
    prefix ? 'SELECT * FROM leases WHERE name LIKE ? ORDER BY name' : 'SELECT * FROM leases ORDER BY name',
    prefix ? [`${prefix}%`] : [],
  );
  return rows.map((r) => ({
    name: r.name,
    holder: r.holder,
    token: Number(r.token),
    acquiredAt: Number(r.acquired_at),
    renewedAt: Number(r.renewed_at),
    expiresAt: Number(r.expires_at),
    expired: Number(r.expires_at) <= now,
  }));
}

/** Holders whose `instance:<id>` lease is still valid. */
export async function liveInstanceIds(db: Db): Promise<Set<string>> {
  const now = await dbNow(db, db.dialect);
  const rows = await db.all<{ name: string }>(
    "SELECT name FROM leases WHERE name LIKE 'instance:%' AND expires_at > ?",
    [now],
  );
  return new Set(rows.map((r) => r.name.slice('instance:'.length)));
}

export interface ControlInstanceRow {
  id: string;
  hostname: string;
  pid: number;
  version: string;
  listen: string;
  started_at: number;
  stopped_at: number | null;
}

export async function registerControlInstance(
  db: Db,
  i: { id: string; hostname: string; pid: number; version: string; listen: string },
): Promise<void> {
  await db.run(
    'INSERT INTO control_instances (id, hostname, pid, version, listen, started_at) VALUES (?, ?, ?, ?, ?, ?)',
    [i.id, i.hostname, i.pid, i.version, i.listen, Date.now()],
  );
  // Keep the table small: forget instances stopped more than a week ago.
  await db.run('DELETE FROM control_instances WHERE stopped_at IS NOT NULL AND stopped_at < ?', [
    Date.now() - 7 * 86_400_000,
  ]);
}

export async function markControlInstanceStopped(db: Db, id: string): Promise<void> {
  await db.run('UPDATE control_instances SET stopped_at = ? WHERE id = ?', [Date.now(), id]);
}

export async function listControlInstances(db: Db, limit = 20): Promise<ControlInstanceRow[]> {
  return db.all<ControlInstanceRow>('SELECT * FROM control_instances ORDER BY started_at DESC LIMIT ?', [
    limit,
  ]);
}
