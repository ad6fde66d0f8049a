import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Db } from './db.ts';

export interface Dialect {
  dialect: 'sqlite' | 'postgres';
}
export interface Migration {
  name: string;
  up: (d: Dialect) => string[];
}

const dir = fileURLToPath(new URL('./migrations/', import.meta.url));

export async function loadMigrations(): Promise<Migration[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.[jt]s$/.test(f)) // .js once compiled into an installed package
    .sort();
  const out: Migration[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: Migration };
    out.push(mod.default);
  }
  return out;
}

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL an advisory lock makes
 * concurrent grim instances starting together apply each migration exactly once.
 */
export async function migrate(db: Db): Promise<string[]> {
  await db.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
  );
  const applied: string[] = [];
  for (const m of await loadMigrations()) {
    await db.transaction(async (tx) => {
      if (db.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(7324001)');
      const done = await tx.get('SELECT name FROM schema_migrations WHERE name = ?', [m.name]);
      if (done) return;
      for (const sql of m.up({ dialect: db.dialect })) await tx.run(sql);
      await tx.run('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)', [m.name, Date.now()]);
      applied.push(m.name);
    });
  }
  return applied;
}
