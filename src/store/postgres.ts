import pg from 'pg';
import type { Db, Queryable, Row, SqlValue } from './db.ts';

/** Rewrites `?` placeholders (outside string literals) to $1, $2, ... */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  let out = '';
  let quoted = false;
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

// BIGINT (int8) comes back as a string by default; grim's integers fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  const exec = (sql: string, params: SqlValue[] = []) =>
    client.query(
      toPgPlaceholders(sql),
      params.map((p) => (typeof p === 'bigint' ? p.toString() : p)),
    );
  return {
    async all<T = Row>(sql: string, params?: SqlValue[]) {
      return (await exec(sql, params)).rows as T[];
    },
    async get<T = Row>(sql: string, params?: SqlValue[]) {
      return (await exec(sql, params)).rows[0] as T | undefined;
    },
    async run(sql: string, params?: SqlValue[]) {
      return { changes: (await exec(sql, params)).rowCount ?? 0 };
    },
  };
}

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number;
  /**
   * How long a session may sit inside a transaction without sending anything before PostgreSQL ends it
   * (idle_in_transaction_session_timeout; default 15 s, the lease ttl). A grim instance that is frozen
   * (SIGSTOP, a VM pause, a lost machine) in the middle of a fenced write holds the lease row locked
   * (`SELECT ... FOR UPDATE`): without this the instance taking over would wait on that lock for as long
   * as the freeze lasts. Its lease is void after one ttl anyway, so nothing is lost by ending it then.
   * (No lock_timeout: a migration may rightly wait longer for its lock.)
   */
  sessionTimeoutMs?: number;
}

/** PostgreSQL store, for several grim instances behind a load balancer. */
export function openPostgres(url: string, opts: PostgresOptions = {}): Db {
  const timeout = Math.max(1000, Math.round(opts.sessionTimeoutMs ?? 15_000));
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    idle_in_transaction_session_timeout: timeout,
    keepAlive: true, // a database that vanished is noticed by TCP, not only at the next query's timeout
  });
  pool.on('error', () => undefined); // idle client errors surface on the next query instead of crashing
  const base = queryable(pool);
  return {
    dialect: 'postgres',
    ...base,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no error listener: PostgreSQL ending its session (the timeout above after
      // this process was frozen) would otherwise be an uncaught 'error' event. Such a client is discarded.
      let broken: Error | undefined;
      const onError = (err: Error) => (broken = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(queryable(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken ??= e));
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await pool.end();
    },
  };
}
