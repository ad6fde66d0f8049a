/**
 * Scheduled control-plane backups (GRIM_CONTROL_BACKUP_TO=DIR|s3://bucket/prefix, every
 * GRIM_CONTROL_BACKUP_EVERY_MS, default a day; GRIM_CONTROL_BACKUP_KEEP newest kept, default 7). The loop runs
 * under the lease `loop:control-backup`, so with several instances exactly one takes each backup; when one is
 * due is read from, and recorded in, the database through the lease's fenced handle, so an instance that lost
 * the lease meanwhile cannot record (or repeat) it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import { getSetting, putSetting } from '../../store/settings-repo.ts';
import { loadMasterKey } from '../../secrets/secret-box.ts';
import type { AuditLog } from '../audit.ts';
import type { LeaseManager } from '../leases.ts';
import { backupFileName, createBackup } from './backup.ts';
import { backupTarget, pruneBackups } from './remote.ts';

export interface ControlBackupSchedule {
  to: string;
  everyMs: number;
  keep: number;
}

export function controlBackupScheduleFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ControlBackupSchedule | null {
  if (!env.GRIM_CONTROL_BACKUP_TO) return null;
  const everyMs = Number(env.GRIM_CONTROL_BACKUP_EVERY_MS || 86_400_000);
  const keep = Number(env.GRIM_CONTROL_BACKUP_KEEP || 7);
  const problems: string[] = [];
  if (!Number.isInteger(everyMs) || everyMs < 1000)
    problems.push('GRIM_CONTROL_BACKUP_EVERY_MS must be >= 1000');
  if (!Number.isInteger(keep) || keep < 1)
    problems.push('GRIM_CONTROL_BACKUP_KEEP must be a positive integer');
  if (problems.length) throw new Error(problems.join('; '));
  backupTarget(env.GRIM_CONTROL_BACKUP_TO, env); // validates the location and S3 credentials at start
  return { to: env.GRIM_CONTROL_BACKUP_TO, everyMs, keep };
}

interface LastBackup {
  at: number;
  location: string;
}

export interface ControlBackupDeps {
  db: Db;
  dataDir: string;
  databaseUrl?: string;
  audit: AuditLog;
}

/**
 * The scheduled backups of one grim instance: a round every interval (at most a minute) while it holds the
 * lease `loop:control-backup`. `taken` hears of each backup this instance made. Returns the loop's stop.
 */
export function runControlBackups(
  leases: LeaseManager,
  d: ControlBackupDeps,
  schedule: ControlBackupSchedule,
  taken: (location: string, at: number) => void = () => undefined,
): () => Promise<void> {
  return leases.runUnderLease(
    'loop:control-backup',
    async (lease) => {
      const at = Date.now();
      const location = await controlBackupTick({ ...d, fenced: lease.db }, schedule, at);
      if (location) taken(location, at);
    },
    { everyMs: Math.min(schedule.everyMs, 60_000) },
  );
}

/** One round: takes a backup when the last one is older than the interval. Returns where it went, or null. */
export async function controlBackupTick(
  d: ControlBackupDeps & { fenced: Db },
  schedule: ControlBackupSchedule,
  now = Date.now(),
): Promise<string | null> {
  const last = await getSetting<LastBackup>(d.db, 'control_backup_last');
  if (last && now - last.at < schedule.everyMs) return null;
  const work = mkdtempSync(join(tmpdir(), 'grim-scheduled-backup-'));
  try {
    const local = join(work, backupFileName(new Date(now)));
    const manifest = await createBackup({
      db: d.db,
      dataDir: d.dataDir,
      databaseUrl: d.databaseUrl,
      outPath: local,
      masterKey: loadMasterKey(d.dataDir),
    });
    const target = backupTarget(schedule.to);
    const location = await target.store(local);
    await putSetting(d.fenced, 'control_backup_last', { at: now, location } satisfies LastBackup);
    const pruned = await pruneBackups(target, schedule.keep);
    await d.audit.record({
      actor: 'system',
      actorKind: 'system',
      action: 'backup.scheduled',
      target: location,
      outcome: 'success',
      details: { auditHead: manifest.audit.seq, pruned },
    });
    return location;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
