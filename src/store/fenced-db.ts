/**
 * A Db whose every write checks a fencing token first: `run` and `transaction` open a transaction that
 * verifies the lease (checkFence), then write. Reads pass straight through. Give it to a loop or a rollout
 * instead of the plain Db and none of its writes can land once another instance has taken the lease over.
 */
import type { Db, Queryable, SqlValue } from './db.ts';
import { checkFence } from './leases-repo.ts';

export interface Fence {
  name: string;
  holder: string;
  token: number;
}

export function fencedDb(db: Db, fence: Fence): Db {
  const check = (tx: Queryable) => checkFence(tx, db.dialect, fence.name, fence.holder, fence.token);
  return {
    dialect: db.dialect,
    all: (sql, params) => db.all(sql, params),
    get: (sql, params) => db.get(sql, params),
    run(sql: string, params?: SqlValue[]) {
      return db.transaction(async (tx) => {
        await check(tx);
        return tx.run(sql, params);
      });
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction(async (tx) => {
        await check(tx);
        return fn(tx);
      });
    },
    ping: () => db.ping(),
    poolStats: () => db.poolStats(),
    close: async () => undefined, // the fence does not own the connection
  };
}
