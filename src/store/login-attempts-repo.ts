/** Login attempts shared by every grim instance on the database (the login rate limit holds across them). */
import type { Db } from './db.ts';

export async function recentAttempts(db: Db, key: string, since: number, failedOnly: boolean) {
  return db.all<{ at: number }>(
    `SELECT at FROM login_attempts WHERE key = ? AND at > ?${failedOnly ? ' AND failed = 1' : ''} ORDER BY at`,
    [key, since],
  );
}

export async function recordAttempt(db: Db, key: string, at: number, failed: boolean) {
  await db.run('INSERT INTO login_attempts (key, at, failed) VALUES (?, ?, ?)', [key, at, failed ? 1 : 0]);
}

export async function forgetAttempts(db: Db, key: string) {
  await db.run('DELETE FROM login_attempts WHERE key = ?', [key]);
}

export async function pruneAttempts(db: Db, before: number) {
  await db.run('DELETE FROM login_attempts WHERE at <= ?', [before]);
}
