/**
 * SQLite is single-instance: a grim server holds an exclusive SQLite lock on `<data>/grim.lock` for as long as
 * it runs (the operating system drops it when the process dies, even on SIGKILL), so a second server on the
 * same data directory refuses to start instead of running a second reconciler on the same nodes.
 */
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(dataDir: string, holder: string) {
    super(
      `another grim server${holder ? ` (${holder})` : ''} is running on the data directory ${dataDir}. ` +
        'With SQLite only one grim instance may use a data directory: stop the other one first, or run ' +
        'several instances on PostgreSQL (GRIM_DATABASE_URL=postgres://...).',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string, what = `pid ${process.pid}`): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'grim.lock');
  const info = join(dataDir, 'grim.lock.holder');
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE;');
    // The first write in exclusive locking mode takes the lock and keeps it until the connection closes.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (id INTEGER PRIMARY KEY); COMMIT;');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test((err as Error).message)) {
      let holder = '';
      try {
        holder = readFileSync(info, 'utf8').trim();
      } catch {
        /* no holder file: say nothing about who */
      }
      throw new DataDirLockedError(dataDir, holder);
    }
    throw err;
  }
  writeFileSync(info, `${what} since ${new Date().toISOString()}\n`);
  return {
    release: () => {
      try {
        db.close();
      } catch {
        /* already closed */
      }
    },
  };
}
