/**
 * The PostgreSQL schema a storage cluster's filers share (SeaweedFS's postgres2 store creates one table per
 * bucket in it, through the search_path its `schema` setting sets). grim creates it before the filers start
 * and drops it when the cluster is deleted with its data. The only SQL of the storage service outside
 * seaweedfs-repo.ts: it runs on the filers' database, not grim's own.
 */
import pg from 'pg';
import type { PostgresStore } from '../domain/seaweedfs/config-files.ts';

/** seaweedfs_<environment> with dashes as underscores: always a plain identifier. */
export function filerSchemaName(environment: string): string {
  const name = `seaweedfs_${environment.replace(/-/g, '_')}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`no schema name for environment ${environment}`);
  return name;
}

async function withClient<T>(c: PostgresStore, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.user,
    password: c.password,
    ssl: c.sslmode === 'disable' ? false : { rejectUnauthorized: c.sslmode === 'verify-full' },
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function createFilerSchema(c: PostgresStore, schema: string): Promise<void> {
  return withClient(c, async (client) => {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  });
}

export function dropFilerSchema(c: PostgresStore, schema: string): Promise<void> {
  return withClient(c, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}

/** Tables in the schema (one per bucket, plus `filemeta` for everything else). */
export function filerSchemaTables(c: PostgresStore, schema: string): Promise<string[]> {
  return withClient(c, async (client) => {
    const r = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    return r.rows.map((x) => x.table_name);
  });
}
