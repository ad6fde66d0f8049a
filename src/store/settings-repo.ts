/** The settings table: small JSON documents by key (grim's SSH identity, a key rotation in progress). */
import type { Queryable } from './db.ts';

export async function getSetting<T>(db: Queryable, key: string): Promise<T | undefined> {
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export async function putSetting(db: Queryable, key: string, value: unknown): Promise<void> {
  await db.run(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    [key, JSON.stringify(value)],
  );
}

/** Insert only when absent; true when this call created it. */
export async function createSetting(db: Queryable, key: string, value: unknown): Promise<boolean> {
  const r = await db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [
    key,
    JSON.stringify(value),
  ]);
  return r.changes === 1;
}

export async function deleteSetting(db: Queryable, key: string): Promise<void> {
  await db.run('DELETE FROM settings WHERE key = ?', [key]);
}
