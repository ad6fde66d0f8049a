/**
 * Where control-node backups go and come from: a local directory, or an S3 location (`s3://bucket/prefix`,
 * any S3 endpoint, see integrations/s3/client.ts). A backup is always written to a local file first (the
 * archive needs its hashes before the manifest), then uploaded; reading an s3:// backup downloads it to a
 * private temporary file that the caller removes with cleanup().
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseS3Url, S3Client, s3SettingsFromEnv, type S3Location } from '../../integrations/s3/client.ts';

export interface BackupTarget {
  /** For messages: the directory, or s3://bucket/prefix. */
  label: string;
  /** Stores the finished local archive under its name; returns where it went. */
  store(localPath: string): Promise<string>;
  /** Archive names there, oldest first. */
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

const ARCHIVE = /^grim-backup-\d{8}T\d{6}Z\.tar\.gz$/;
const s3Key = (loc: S3Location, name: string) => (loc.prefix ? `${loc.prefix}/${name}` : name);

export function backupTarget(to: string, env: NodeJS.ProcessEnv = process.env): BackupTarget {
  const loc = parseS3Url(to);
  if (!loc) {
    const dir = resolve(to);
    return {
      label: dir,
      store: async (local) => {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const dest = join(dir, basename(local));
        if (resolve(local) === dest) return dest;
        try {
          renameSync(local, dest);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          copyFileSync(local, dest); // the temporary file is on another filesystem
          rmSync(local, { force: true });
        }
        return dest;
      },
      list: async () =>
        readdirSync(dir)
          .filter((f) => ARCHIVE.test(f))
          .sort(),
      remove: async (name) => rmSync(join(dir, name), { force: true }),
    };
  }
  const s3 = new S3Client(s3SettingsFromEnv(env));
  const label = `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}`;
  return {
    label,
    store: async (local) => {
      await s3.putFile(loc.bucket, s3Key(loc, basename(local)), local);
      rmSync(local, { force: true });
      return `${label}/${basename(local)}`;
    },
    list: async () =>
      (await s3.list(loc.bucket, loc.prefix ? `${loc.prefix}/` : ''))
        .map((k) => k.slice(loc.prefix ? loc.prefix.length + 1 : 0))
        .filter((f) => ARCHIVE.test(f)),
    remove: (name) => s3.delete(loc.bucket, s3Key(loc, name)),
  };
}

/** A backup to read: a local path as is, an s3:// object downloaded to a private temporary file. */
export async function localCopy(
  from: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ path: string; cleanup: () => void }> {
  const loc = parseS3Url(from);
  if (!loc) {
    const path = resolve(from);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) throw new Error(`no backup at ${path}: the file does not exist`);
    if (!st.isFile()) throw new Error(`no backup at ${path}: not a regular file`);
    return { path, cleanup: () => undefined };
  }
  if (!loc.prefix) throw new Error(`${from} names a bucket, not a backup archive`);
  const dir = mkdtempSync(join(tmpdir(), 'grim-s3-backup-'));
  const path = join(dir, basename(loc.prefix));
  try {
    await new S3Client(s3SettingsFromEnv(env)).getFile(loc.bucket, loc.prefix, path);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Keeps the newest `keep` archives at the target; returns the names removed. */
export async function pruneBackups(target: BackupTarget, keep: number): Promise<string[]> {
  const names = await target.list();
  const old = names.slice(0, Math.max(0, names.length - keep));
  for (const n of old) await target.remove(n);
  return old;
}
