/**
 * Consistent database snapshots for control-node backups: SQLite's `VACUUM INTO` (a transactionally
 * consistent copy taken while grim keeps running) and PostgreSQL's `pg_dump` custom format, restored with
 * `pg_restore`. The PostgreSQL tools get the connection from PG* variables, never from the command line,
 * so the password does not show in the process list.
 */
import { DatabaseSync } from 'node:sqlite';
import { execFile } from 'node:child_process';
import pg from 'pg';

export function sqliteSnapshot(dbPath: string, outPath: string): void {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(outPath);
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` and the migrations recorded in a SQLite file. */
export function sqliteCheck(path: string): { ok: boolean; problems: string[]; migrations: string[] } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>;
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    const migrations = (
      db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as Array<{ name: string }>
    ).map((r) => r.name);
    return { ok: problems.length === 0, problems, migrations };
  } finally {
    db.close();
  }
}

export function pgEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new Error(`not a postgres:// URL: ${u.protocol}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PGHOST: decodeURIComponent(u.hostname) || 'localhost',
    PGPORT: u.port || '5432',
    PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, '')),
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGCONNECT_TIMEOUT: '10',
  };
  const ssl = u.searchParams.get('sslmode');
  if (ssl) env.PGSSLMODE = ssl;
  return env;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} failed: ${(stderr || err.message).trim()}`));
      else res(stdout);
    }),
  );
}

export async function pgDump(url: string, outPath: string): Promise<void> {
  await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${outPath}`], pgEnv(url));
}

/** The dump's table of contents; throws when the file is not a readable custom-format dump. */
export async function pgDumpList(path: string): Promise<string> {
  return run('pg_restore', ['--list', path], { PATH: process.env.PATH });
}

export async function pgRestore(url: string, path: string): Promise<void> {
  const env = pgEnv(url);
  await run(
    'pg_restore',
    [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '--single-transaction',
      `--dbname=${env.PGDATABASE}`,
      path,
    ],
    env,
  );
}

/** Tables in the database's public schema: a restore only goes into an empty database. */
export async function pgTables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    const r = await c.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    return r.rows.map((x) => x.tablename);
  } finally {
    await c.end();
  }
}
