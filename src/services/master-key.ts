/**
 * `grim master-key rotate`: a new master key, and every secret at rest re-sealed under it in one database
 * transaction (app secrets, release secrets, SeaweedFS secrets and S3 keys, backup-target credentials, volume
 * passwords, pipeline webhook secrets and deploy tokens, grim's SSH private key and a rotation's old/next keys).
 * Runs with no grim server up (the servers hold the old key in memory). The key file changes crash-safely:
 * the new key is written to master.key.next before the transaction, and only after the commit the old key
 * moves to master.key.retired-<time> (backups made before the rotation need it) and .next becomes master.key.
 * A rotation interrupted between the two is finished by running the command again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Db } from '../store/db.ts';
import {
  allowReleaseReseal,
  endReleaseReseal,
  resealColumn,
  type SealedColumn,
} from '../store/reseal-repo.ts';
import { getSetting, putSetting } from '../store/settings-repo.ts';
import { liveInstanceIds } from '../store/leases-repo.ts';
import { resealStoredKeyPair, type StoredKeyPair } from '../ssh/index.ts';
import { masterKeyPath, SecretBox } from '../secrets/secret-box.ts';
import { secretContext } from './apps/instances.ts';
import { KEY_CONTEXT, SECRET_CONTEXT } from './seaweedfs/seaweed-service.ts';
import { passwordContext, targetContext } from './volumes/backup-service.ts';
import { deployTokenContext, webhookContext } from './pipelines/pipeline-service.ts';
import { masterKeyFingerprint } from './backup/backup.ts';
import { AuditLog } from './audit.ts';

type Keys = Record<string, string>;

/** Every column holding sealed values, with the context each value was sealed under. */
export const SEALED_COLUMNS: Array<SealedColumn & { context: (k: Keys) => string }> = [
  { table: 'apps', keys: ['name'], column: 'secrets', context: (k) => secretContext(k.name) },
  { table: 'app_releases', keys: ['app', 'number'], column: 'secrets', context: (k) => secretContext(k.app) },
  {
    table: 'seaweed_clusters',
    keys: ['environment'],
    column: 'secrets',
    context: (k) => SECRET_CONTEXT(k.environment),
  },
  {
    table: 'seaweed_keys',
    keys: ['environment', 'access_key'],
    column: 'secret',
    context: (k) => KEY_CONTEXT(k.environment, k.access_key),
  },
  { table: 'backup_targets', keys: ['name'], column: 'access_key', context: (k) => targetContext(k.name) },
  { table: 'backup_targets', keys: ['name'], column: 'secret_key', context: (k) => targetContext(k.name) },
  { table: 'volume_passwords', keys: ['app'], column: 'sealed', context: (k) => passwordContext(k.app) },
  { table: 'pipelines', keys: ['name'], column: 'webhook_secret', context: (k) => webhookContext(k.name) },
  { table: 'pipelines', keys: ['name'], column: 'deploy_token', context: (k) => deployTokenContext(k.name) },
];

interface RotationSetting {
  old: StoredKeyPair;
  next: StoredKeyPair;
  [k: string]: unknown;
}

/** Re-seals every secret from one key to the other inside one transaction; counts per table.column. */
export async function resealAll(db: Db, from: SecretBox, to: SecretBox): Promise<Record<string, number>> {
  return db.transaction(async (tx) => {
    const counts: Record<string, number> = {};
    await allowReleaseReseal(tx, db.dialect);
    for (const col of SEALED_COLUMNS) {
      counts[`${col.table}.${col.column}`] = await resealColumn(tx, col, (keys, sealed) => {
        const context = col.context(keys);
        return to.seal(from.open(sealed, context), context);
      });
    }
    await endReleaseReseal(tx, db.dialect);
    const identity = await getSetting<StoredKeyPair>(tx, 'ssh_identity');
    if (identity) await putSetting(tx, 'ssh_identity', resealStoredKeyPair(from, to, identity));
    counts['settings.ssh_identity'] = identity ? 1 : 0;
    const rotation = await getSetting<RotationSetting>(tx, 'ssh_rotation');
    if (rotation)
      await putSetting(tx, 'ssh_rotation', {
        ...rotation,
        old: resealStoredKeyPair(from, to, rotation.old),
        next: resealStoredKeyPair(from, to, rotation.next),
      });
    counts['settings.ssh_rotation'] = rotation ? 2 : 0;
    return counts;
  });
}

function readKey(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} is not 32 bytes of base64`);
  return key;
}

/** Whether the database's secrets are sealed under this key (probed on grim's SSH identity). */
async function sealedUnder(db: Db, key: Buffer): Promise<boolean> {
  const identity = await getSetting<StoredKeyPair>(db, 'ssh_identity');
  if (!identity) return false;
  try {
    resealStoredKeyPair(new SecretBox(key), new SecretBox(key), identity);
    return true;
  } catch {
    return false;
  }
}

export interface RotateReport {
  from: string;
  to: string;
  counts: Record<string, number>;
  retiredKey: string;
  /** An interrupted rotation was finished instead of starting a new one. */
  finished: boolean;
}

export async function rotateMasterKey(o: { db: Db; dataDir: string; actor: string }): Promise<RotateReport> {
  if (process.env.GRIM_MASTER_KEY)
    throw new Error(
      'the master key comes from GRIM_MASTER_KEY: rotation rewrites the key file; move the key into ' +
        `${masterKeyPath(o.dataDir)} (and unset GRIM_MASTER_KEY) first`,
    );
  const live = await liveInstanceIds(o.db);
  if (live.size)
    throw new Error(
      `grim instances are running on this database (${[...live].join(', ')}): stop them first; they hold the old key`,
    );
  const path = masterKeyPath(o.dataDir);
  const nextPath = `${path}.next`;
  const retiredKey = `${path}.retired-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const oldKey = readKey(path);
  let counts: Record<string, number> = {};
  let finished = false;
  if (existsSync(nextPath) && (await sealedUnder(o.db, readKey(nextPath)))) finished = true;
  else {
    rmSync(nextPath, { force: true });
    writeFileSync(nextPath, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    counts = await resealAll(o.db, new SecretBox(oldKey), new SecretBox(readKey(nextPath)));
  }
  const newKey = readKey(nextPath);
  renameSync(path, retiredKey);
  renameSync(nextPath, path);
  const report = {
    from: masterKeyFingerprint(oldKey),
    to: masterKeyFingerprint(newKey),
    counts,
    retiredKey,
    finished,
  };
  await new AuditLog(o.db).record({
    actor: o.actor,
    actorKind: 'user',
    action: 'master-key.rotated',
    target: report.to,
    outcome: 'success',
    details: { from: report.from, resealed: Object.values(counts).reduce((a, b) => a + b, 0), finished },
  });
  return report;
}
