import { DatabaseSync } from 'node:sqlite';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, Queryable, Row, SqlValue } from './db.ts';

/** Embedded default store: one SQLite file in WAL mode. Calls are serialised, as SQLite itself is. */
export function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;',
  );
  let chain: Promise<unknown> = Promise.resolve();
  let inTx = 0;
  /** Marks the async flow of the running transaction: its own calls join it, everyone else waits. */
  const txFlow = new AsyncLocalStorage<true>();

  const normalize = (params: SqlValue[] = []) =>
    params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) as Array<
      string | number | bigint | null | Uint8Array
    >;

  const q: Queryable = {
    async all<T = Row>(sql: string, params?: SqlValue[]) {
      return db.prepare(sql).all(...normalize(params)) as T[];
    },
    async get<T = Row>(sql: string, params?: SqlValue[]) {
      return db.prepare(sql).get(...normalize(params)) as T | undefined;
    },
    async run(sql: string, params?: SqlValue[]) {
      const r = db.prepare(sql).run(...normalize(params));
      return { changes: Number(r.changes) };
    },
  };

  /** Serialise whole transactions so an await inside one never interleaves with another. */
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  }

  /** Outside a transaction's flow, wait for it, so statements never land inside someone else's transaction. */
  const wrap = <K extends keyof Queryable>(k: K): Queryable[K] =>
    ((...args: unknown[]) =>
      txFlow.getStore() ? (q[k] as any)(...args) : serial(() => (q[k] as any)(...args))) as Queryable[K];

  return {
    dialect: 'sqlite',
    all: wrap('all'),
    get: wrap('get'),
    run: wrap('run'),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      if (txFlow.getStore()) return fn(q); // nested: joins the outer transaction
      return serial(() =>
        txFlow.run(true, async () => {
          db.exec('BEGIN IMMEDIATE');
          inTx++;
          try {
            const out = await fn(q);
            db.exec('COMMIT');
            return out;
          } catch (err) {
            db.exec('ROLLBACK');
            throw err;
          } finally {
            inTx--;
          }
        }),
      );
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    poolStats: () => ({ total: 1, idle: inTx ? 0 : 1, waiting: 0 }),
    async close() {
      await chain;
      db.close();
    },
  };
}
