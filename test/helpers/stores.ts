import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/store/db.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { openPostgres, type PostgresOptions } from '../../src/store/postgres.ts';
import { migrate } from '../../src/store/migrate.ts';

/** The PostgreSQL server the tests use; .ci/run and scripts/dev/setup.sh --test create it. */
export const TEST_PG_URL =
  process.env.GRIM_TEST_DATABASE_URL ?? 'postgres://grim:grim@127.0.0.1:5432/grim_test';

let pgProbe: Promise<string | null> | undefined;
/** null when PostgreSQL is usable, else why not. */
export function postgresUnavailable(): Promise<string | null> {
  pgProbe ??= (async () => {
    const c = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return null;
    } catch (err) {
      return `PostgreSQL at ${TEST_PG_URL.replace(/:[^:@/]*@/, ':***@')} is not reachable (${(err as Error).message}); run scripts/dev/setup.sh --test or set GRIM_TEST_DATABASE_URL`;
    } finally {
      await c.end().catch(() => undefined);
    }
  })();
  return pgProbe;
}

/** A fresh, empty PostgreSQL database (prefix names it for whoever finds it left over) and its drop. */
export async function freshPgUrl(prefix = 'grim_t'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = new pg.Client({ connectionString: TEST_PG_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** The reason to skip a PostgreSQL test here (false when it can run); in CI a missing PostgreSQL throws. */
export async function postgresSkip(): Promise<string | false> {
  const why = await postgresUnavailable();
  if (why && process.env.CI) throw new Error(`CI must run the PostgreSQL tests: ${why}`);
  return why ?? false;
}

export interface StoreCase {
  name: 'sqlite' | 'postgres';
  /** A fresh, migrated, empty database, dropped by the returned cleanup (`pg`: options of the PostgreSQL pool). */
  open(pg?: PostgresOptions): Promise<{ db: Db; cleanup: () => Promise<void> }>;
}

export const storeCases: StoreCase[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'grim-store-'));
      const db = openSqlite(join(dir, 'grim.db'));
      await migrate(db);
      return {
        db,
        cleanup: async () => {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open(options?: PostgresOptions) {
      const fresh = await freshPgUrl();
      const db = openPostgres(fresh.url, options);
      await migrate(db);
      return {
        db,
        cleanup: async () => {
          await db.close();
          await fresh.drop();
        },
      };
    },
  },
];

/** In CI a missing PostgreSQL is a failure, not a skip. */
export async function skipReason(c: StoreCase): Promise<string | false> {
  return c.name === 'postgres' ? postgresSkip() : false;
}
