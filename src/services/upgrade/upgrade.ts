/**
 * `grim upgrade <package>`: stop the server, back up (a full `grim backup` archive), install the new package
 * with npm into the same prefix while the old installation is kept aside, start the new version (it migrates
 * the database forward as it starts) and wait until /readyz answers with the new version. When it does not
 * within the timeout, roll back by itself: stop the new version, put the old installation back, restore the
 * database from the backup taken a minute ago and start the old version again, waiting for its /readyz too.
 */
import { existsSync, mkdirSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../lab/run.ts';
import { openDb } from '../../server/start.ts';
import type { ServerConfig } from '../../server/config.ts';
import { backupFileName, createBackup, extractBackup } from '../backup/backup.ts';
import { pgRestore } from '../../store/snapshot.ts';
import type { ServiceManager } from './service-manager.ts';

export interface UpgradeOptions {
  /** The package to install: an npm tarball path or any spec npm accepts. */
  pkg: string;
  /** npm prefix grim is installed under (<prefix>/lib/node_modules/grim, <prefix>/bin/grim). */
  prefix: string;
  config: ServerConfig;
  masterKey: Buffer;
  service: ServiceManager;
  /** Base URL of the server, for /readyz. */
  url: string;
  readyTimeoutMs: number;
  /** npm may only use its cache (no registry). */
  offline?: boolean;
  print: (line: string) => void;
}

export interface UpgradeReport {
  ok: boolean;
  from: string;
  to?: string;
  backup: string;
  rolledBack: boolean;
  reason?: string;
  ms: number;
}

async function readyVersion(url: string): Promise<string | null> {
  try {
    const r = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2_000) });
    if (!r.ok) return null;
    return ((await r.json()) as { version?: string }).version ?? '';
  } catch {
    return null;
  }
}

/** Waits until /readyz answers; resolves with the version it reports, or null after the timeout. */
export async function waitReady(url: string, timeoutMs: number): Promise<string | null> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await readyVersion(url);
    if (v !== null || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function installedVersion(prefix: string): Promise<string> {
  const { stdout } = await run(join(prefix, 'bin', 'grim'), ['--version']);
  return stdout.trim();
}

async function restoreDatabase(config: ServerConfig, backupPath: string): Promise<void> {
  const x = await extractBackup(backupPath);
  try {
    if (x.problems.length) throw new Error(`the pre-upgrade backup is broken: ${x.problems.join('; ')}`);
    if (x.manifest.dialect === 'sqlite') {
      for (const f of ['grim.db-wal', 'grim.db-shm']) rmSync(join(config.dataDir, f), { force: true });
      copyFileSync(join(x.dir, x.manifest.database), join(config.dataDir, 'grim.db'));
    } else {
      const db = openDb(config);
      try {
        await db.run('DROP SCHEMA public CASCADE');
        await db.run('CREATE SCHEMA public');
      } finally {
        await db.close();
      }
      await pgRestore(config.databaseUrl!, join(x.dir, x.manifest.database));
    }
  } finally {
    x.cleanup();
  }
}

export async function upgrade(o: UpgradeOptions): Promise<UpgradeReport> {
  const t0 = performance.now();
  const print = o.print;
  const installDir = join(o.prefix, 'lib', 'node_modules', 'grim');
  const asideDir = join(o.prefix, 'lib', 'node_modules', '.grim-previous');
  if (!existsSync(installDir))
    throw new Error(`grim is not installed under ${o.prefix} (${installDir} missing)`);
  const from = await installedVersion(o.prefix);
  print(`upgrading grim ${from} (${o.service.describe()}) to ${o.pkg}`);

  await o.service.stop();
  const backupDir = join(o.config.dataDir, 'backups');
  mkdirSync(backupDir, { recursive: true, mode: 0o700 });
  const backup = join(backupDir, `pre-upgrade-${from}-${backupFileName()}`);
  const db = openDb(o.config);
  try {
    await createBackup({
      db,
      dataDir: o.config.dataDir,
      databaseUrl: o.config.databaseUrl,
      outPath: backup,
      masterKey: o.masterKey,
    });
  } finally {
    await db.close();
  }
  print(`backup written to ${backup}`);

  rmSync(asideDir, { recursive: true, force: true });
  renameSync(installDir, asideDir);
  let to: string | undefined;
  let reason: string | undefined;
  try {
    const npmArgs = ['install', '--global', '--prefix', o.prefix, '--no-audit', '--no-fund'];
    if (o.offline) npmArgs.push('--offline');
    const pkg = existsSync(o.pkg) ? resolve(o.pkg) : o.pkg;
    await run('npm', [...npmArgs, pkg], { timeoutMs: 10 * 60_000 });
    to = await installedVersion(o.prefix);
    print(`installed grim ${to}; starting it (it migrates the database forward)`);
    await o.service.start();
    const v = await waitReady(o.url, o.readyTimeoutMs);
    if (v === to) {
      rmSync(asideDir, { recursive: true, force: true });
      const ms = Math.round(performance.now() - t0);
      print(`grim ${to} is ready (${(ms / 1000).toFixed(1)} s); the backup stays at ${backup}`);
      return { ok: true, from, to, backup, rolledBack: false, ms };
    }
    reason =
      v === null
        ? `grim ${to} did not become ready within ${Math.round(o.readyTimeoutMs / 1000)} s`
        : `/readyz answered version ${v}, not ${to}`;
  } catch (err) {
    reason = (err as Error).message;
  }

  print(`upgrade failed: ${reason}; rolling back to grim ${from}`);
  await o.service.stop().catch((err: Error) => print(`  stopping the new version: ${err.message}`));
  rmSync(installDir, { recursive: true, force: true });
  renameSync(asideDir, installDir);
  await restoreDatabase(o.config, backup);
  print(`database restored from ${backup}`);
  await o.service.start();
  const v = await waitReady(o.url, o.readyTimeoutMs);
  const ms = Math.round(performance.now() - t0);
  if (v !== from)
    throw new Error(
      `rollback: grim ${from} did not become ready again either (${reason}); backup: ${backup}`,
    );
  print(`rolled back: grim ${from} serves again (${(ms / 1000).toFixed(1)} s)`);
  return { ok: false, from, to, backup, rolledBack: true, reason, ms };
}
