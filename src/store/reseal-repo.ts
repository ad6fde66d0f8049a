/**
 * Re-sealing secrets at rest under a new master key (`grim master-key rotate`): every column that holds sealed
 * values, read and rewritten row by row inside the caller's transaction. The release-immutability trigger lets
 * app_releases.secrets change only after allowReleaseReseal() in that same transaction (migration
 * 0100_release_reseal).
 */
import type { Db, Queryable } from './db.ts';

type Dialect = Db['dialect'];

export interface SealedColumn {
  table: string;
  /** Primary-key columns, handed to the context function. */
  keys: string[];
  column: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Rewrites every non-empty value of one sealed column; returns how many were rewritten. */
export async function resealColumn(
  tx: Queryable,
  col: SealedColumn,
  reseal: (row: Record<string, string>, sealed: string) => string,
): Promise<number> {
  for (const name of [col.table, col.column, ...col.keys])
    if (!IDENT.test(name)) throw new Error(`invalid identifier ${name}`);
  const rows = await tx.all<Record<string, string>>(
    `SELECT ${[...col.keys, col.column].join(', ')} FROM ${col.table} WHERE ${col.column} <> ''`,
  );
  const where = col.keys.map((k) => `${k} = ?`).join(' AND ');
  for (const row of rows) {
    const keys = Object.fromEntries(col.keys.map((k) => [k, String(row[k])]));
    await tx.run(`UPDATE ${col.table} SET ${col.column} = ? WHERE ${where}`, [
      reseal(keys, row[col.column]),
      ...col.keys.map((k) => row[k]),
    ]);
  }
  return rows.length;
}

/** Lets this transaction (and nothing else) rewrite app_releases.secrets. */
export async function allowReleaseReseal(tx: Queryable, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await tx.run("SET LOCAL grim.reseal = 'on'");
  else await tx.run('INSERT INTO release_reseal (id) VALUES (1)');
}

/** Closes the exception again before the transaction commits (SQLite; PostgreSQL's SET LOCAL ends by itself). */
export async function endReleaseReseal(tx: Queryable, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') await tx.run('DELETE FROM release_reseal');
}
