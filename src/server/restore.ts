/**
 * `grim restore`: a backup into an empty data directory (and, on PostgreSQL, an empty database), then grim
 * starts on it, checks the audit chain against the head recorded in the backup, probes the nodes and
 * reconciles once against them (missing instances are recreated, strays are removed and reported), and
 * reports the measured recovery time. The server is then started as usual.
 */
import { cpSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { extractBackup, masterKeyFingerprint, writeMasterKeyFile } from '../services/backup/backup.ts';
import { openWithPassphrase } from '../services/backup/passphrase-box.ts';
import { pgRestore, pgTables } from '../store/snapshot.ts';
import { lockDataDir } from '../store/sqlite-lock.ts';
import type { ReconcileReport } from '../services/apps/reconciler.ts';
import type { ServerConfig } from './config.ts';
import { createServices } from './start.ts';

export interface RestoreOptions {
  backupPath: string;
  config: ServerConfig;
  /** Passphrase of the master key inside the backup. */
  passphrase?: string;
  /** The master key, when the backup does not hold it (from GRIM_MASTER_KEY or --master-key-file). */
  masterKey?: Buffer;
  /** The key came from GRIM_MASTER_KEY: keep it there, do not write it into the data directory. */
  masterKeyFromEnv?: boolean;
  print?: (line: string) => void;
}

export interface RestoreReport {
  recoveryMs: number;
  backupCreatedAt: number;
  audit: {
    ok: boolean;
    checked: number;
    headMatches: boolean;
    firstBroken?: { seq: number; reason: string };
  };
  nodes: { total: number; ready: number };
  reconcile: ReconcileReport;
}

export async function restoreBackup(o: RestoreOptions): Promise<RestoreReport> {
  const started = performance.now();
  const print = o.print ?? (() => undefined);
  const { config } = o;
  const problems: string[] = [];
  if (existsSync(config.dataDir) && readdirSync(config.dataDir).length)
    problems.push(`the data directory ${config.dataDir} is not empty: restore only into an empty one`);
  if (config.databaseUrl) {
    const tables = await pgTables(config.databaseUrl);
    if (tables.length)
      problems.push(
        `the database already has tables (${tables.slice(0, 5).join(', ')}…): restore only into an empty one`,
      );
  }
  const x = await extractBackup(o.backupPath);
  try {
    problems.push(...x.problems);
    const m = x.manifest;
    if ((m.dialect === 'postgres') !== !!config.databaseUrl)
      problems.push(
        m.dialect === 'postgres'
          ? 'this backup is of a PostgreSQL database: give --database-url (GRIM_DATABASE_URL) of an empty database'
          : 'this backup is of a SQLite database: restore it without --database-url',
      );
    let key: Buffer | undefined;
    if (x.sealedMasterKey && o.passphrase !== undefined) {
      try {
        key = openWithPassphrase(x.sealedMasterKey, o.passphrase);
      } catch (err) {
        problems.push((err as Error).message);
      }
    } else if (o.masterKey) key = o.masterKey;
    else
      problems.push(
        m.masterKey.included
          ? 'the backup holds the master key encrypted: give its passphrase (--passphrase-file or GRIM_BACKUP_PASSPHRASE)'
          : 'the backup has no master key: give it with --master-key-file or GRIM_MASTER_KEY',
      );
    if (key && masterKeyFingerprint(key) !== m.masterKey.fingerprint)
      problems.push('the master key given is not the one this backup was made with (fingerprint differs)');
    if (problems.length) throw new Error(`cannot restore:\n  - ${problems.join('\n  - ')}`);
    print(
      `restoring the backup of ${new Date(m.createdAt).toISOString()} (grim ${m.grimVersion}, ${m.dialect})`,
    );
    if (existsSync(join(x.dir, 'data'))) cpSync(join(x.dir, 'data'), config.dataDir, { recursive: true });
    if (!o.masterKeyFromEnv) writeMasterKeyFile(config.dataDir, key!);
    if (m.dialect === 'sqlite') copyFileSync(join(x.dir, m.database), join(config.dataDir, 'grim.db'));
    else await pgRestore(config.databaseUrl!, join(x.dir, m.database));
  } finally {
    x.cleanup();
  }
  const lock = config.databaseUrl ? null : lockDataDir(config.dataDir, `grim restore, pid ${process.pid}`);
  const saved = process.env.GRIM_MASTER_KEY;
  if (!o.masterKeyFromEnv) delete process.env.GRIM_MASTER_KEY;
  const s = await createServices(config);
  try {
    const chain = await s.audit.verify();
    const at = await s.db.get<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = ?', [
      x.manifest.audit.seq,
    ]);
    const headMatches = x.manifest.audit.seq === 0 || at?.hash === x.manifest.audit.hash;
    print(
      chain.ok && headMatches
        ? `audit chain intact: ${chain.checked} entries, head ${x.manifest.audit.seq} matches the backup`
        : `audit chain BROKEN: ${chain.firstBroken ? `entry ${chain.firstBroken.seq}: ${chain.firstBroken.reason}` : `the entry ${x.manifest.audit.seq} recorded in the backup differs`}`,
    );
    await s.nodes.probeAll(false);
    const nodes = await s.nodes.list();
    const reconcile = await s.apps.reconcile();
    const recoveryMs = Math.round(performance.now() - started);
    print(
      `reconciled ${reconcile.nodes} node(s): ${reconcile.recreated.length} instance(s) recreated, ${reconcile.restarted.length} restarted, ` +
        `${reconcile.removed.length} stray(s) removed${reconcile.removed.length ? ` (${reconcile.removed.join(', ')})` : ''}` +
        `${reconcile.unreachable.length ? `, unreachable: ${reconcile.unreachable.join(', ')}` : ''}`,
    );
    for (const e of reconcile.errors) print(`  problem: ${e}`);
    print(`recovered in ${(recoveryMs / 1000).toFixed(1)} s`);
    return {
      recoveryMs,
      backupCreatedAt: x.manifest.createdAt,
      audit: {
        ok: chain.ok,
        checked: chain.checked,
        headMatches,
        ...(chain.firstBroken ? { firstBroken: chain.firstBroken } : {}),
      },
      nodes: { total: nodes.length, ready: nodes.filter((n) => n.state === 'ready').length },
      reconcile,
    };
  } finally {
    await s.leases.stop();
    s.pool.close();
    await s.db.close();
    lock?.release();
    if (saved !== undefined) process.env.GRIM_MASTER_KEY = saved;
  }
}
