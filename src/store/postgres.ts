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

/** PostgreSQL store, for several grim instances behind a load balancer. */
export function openPostgres(url: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined); // idle client errors surface on the next query instead of crashing
  const base = queryable(pool);
  return {
    dialect: 'postgres',
    ...base,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(queryable(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
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
