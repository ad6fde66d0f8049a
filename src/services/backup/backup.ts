/**
 * Control-node backups: one `.tar.gz` holding a consistent database snapshot (SQLite `VACUUM INTO`, or
 * `pg_dump` custom format), every file of the data directory (TLS CA, caches; not the live database, the lock
 * or the master key), the master key only when asked for (encrypted with a passphrase, scrypt) and, last, a
 * manifest with each member's SHA-256. `verifyBackup` reads it all back and checks hashes and the snapshot.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  readFileSync,
  createReadStream,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import type { Db } from '../../store/db.ts';
import { pgDump, pgDumpList, sqliteCheck, sqliteSnapshot } from '../../store/snapshot.ts';
import { readTar } from '../../oci/tar-reader.ts';
import { TarGzWriter } from './tar-writer.ts';
import { sealWithPassphrase, type PassphraseSealed } from './passphrase-box.ts';
import { GRIM_VERSION } from '../../server/version.ts';

export const BACKUP_FORMAT = 'grim-backup/1';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  grimVersion: string;
  createdAt: number;
  dialect: 'sqlite' | 'postgres';
  database: 'database.sqlite' | 'database.pgdump';
  migrations: string[];
  audit: { seq: number; hash: string };
  masterKey: { included: boolean; fingerprint: string };
  files: Record<string, { sha256: string; size: number }>;
}

/** Data-directory entries a backup never copies: the live database and lock, the key, backups themselves. */
const SKIP = new Set([
  'grim.db',
  'grim.db-wal',
  'grim.db-shm',
  'grim.lock',
  'grim.lock.holder',
  'secrets',
  'backups',
]);

export function masterKeyFingerprint(key: Buffer): string {
  return createHash('sha256').update('grim-master-key').update(key).digest('hex').slice(0, 16);
}

function dataFiles(
  dataDir: string,
): Array<{ rel: string; path: string; size: number; mode: number; mtime: number; dir: boolean }> {
  const out: Array<{ rel: string; path: string; size: number; mode: number; mtime: number; dir: boolean }> =
    [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(dataDir, path).split(sep).join('/');
      if (dir === dataDir && SKIP.has(name)) continue;
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        out.push({ rel, path, size: 0, mode: st.mode, mtime: st.mtimeMs / 1000, dir: true });
        walk(path);
      } else if (st.isFile())
        out.push({ rel, path, size: st.size, mode: st.mode, mtime: st.mtimeMs / 1000, dir: false });
    }
  };
  // On PostgreSQL with GRIM_MASTER_KEY the data directory may not exist yet: there is nothing to add.
  if (existsSync(dataDir)) walk(dataDir);
  return out;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

export function backupFileName(now = new Date()): string {
  return `grim-backup-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.tar.gz`;
}

export interface CreateBackupOptions {
  db: Db;
  dataDir: string;
  databaseUrl?: string;
  /** Where the archive goes (a file path). */
  outPath: string;
  masterKey: Buffer;
  /** Include the master key, encrypted with this passphrase. */
  passphrase?: string;
}

export async function createBackup(o: CreateBackupOptions): Promise<BackupManifest> {
  const work = mkdtempSync(join(tmpdir(), 'grim-backup-'));
  try {
    const dbFile = join(work, o.db.dialect === 'sqlite' ? 'database.sqlite' : 'database.pgdump');
    if (o.db.dialect === 'sqlite') sqliteSnapshot(join(o.dataDir, 'grim.db'), dbFile);
    else await pgDump(o.databaseUrl!, dbFile);
    // The snapshot's own view of schema and audit head (what the restore will check against).
    const migrations = (
      await o.db.all<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')
    ).map((r) => r.name);
    const head = await o.db.get<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    const tar = new TarGzWriter(o.outPath);
    const files: BackupManifest['files'] = {};
    const add = async (name: string, path: string, size: number, mode: number, mtime: number) => {
      files[name] = { sha256: await sha256File(path), size };
      await tar.addFile(name, path, size, mode, mtime);
    };
    const dbSt = statSync(dbFile);
    await add(dbFile.slice(work.length + 1), dbFile, dbSt.size, 0o600, dbSt.mtimeMs / 1000);
    for (const f of dataFiles(o.dataDir)) {
      if (f.dir) await tar.addDir(`data/${f.rel}`, f.mode);
      else await add(`data/${f.rel}`, f.path, f.size, f.mode, f.mtime);
    }
    if (o.passphrase !== undefined) {
      const sealed = Buffer.from(JSON.stringify(sealWithPassphrase(o.masterKey, o.passphrase)));
      files['master-key.json'] = {
        sha256: createHash('sha256').update(sealed).digest('hex'),
        size: sealed.length,
      };
      await tar.addBuffer('master-key.json', sealed);
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      grimVersion: GRIM_VERSION,
      createdAt: Date.now(),
      dialect: o.db.dialect,
      database: o.db.dialect === 'sqlite' ? 'database.sqlite' : 'database.pgdump',
      migrations,
      audit: { seq: Number(head?.seq ?? 0), hash: head?.hash ?? '' },
      masterKey: { included: o.passphrase !== undefined, fingerprint: masterKeyFingerprint(o.masterKey) },
      files,
    };
    await tar.addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)), 0o644);
    await tar.close();
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface ExtractedBackup {
  manifest: BackupManifest;
  /** Directory holding the members (database.*, data/, master-key.json). */
  dir: string;
  sealedMasterKey: PassphraseSealed | null;
  problems: string[];
  cleanup(): void;
}

/**
 * Unpack a backup into a temporary directory, hashing every member, and check it: manifest format, every
 * listed member present with its hash, nothing unlisted, and the database snapshot readable.
 */
export async function extractBackup(path: string): Promise<ExtractedBackup> {
  const dir = mkdtempSync(join(tmpdir(), 'grim-restore-'));
  const problems: string[] = [];
  const seen = new Map<string, { sha256: string; size: number }>();
  let manifest: BackupManifest | null = null;
  try {
    const gunzip = createReadStream(path).pipe(createGunzip());
    for await (const item of readTar(gunzip)) {
      const name = item.entry.name.replace(/\/$/, '');
      if (
        !/^(manifest\.json|master-key\.json|database\.(sqlite|pgdump)|data\/.+)$/.test(name) ||
        name.split('/').includes('..')
      ) {
        problems.push(`unexpected member ${JSON.stringify(name)}`);
        for await (const _ of item.body) void _;
        continue;
      }
      const target = join(dir, name);
      if (item.entry.type === 'dir') {
        mkdirSync(target, { recursive: true, mode: 0o700 });
        continue;
      }
      if (item.entry.type !== 'file') {
        problems.push(`${name}: not a regular file`);
        for await (const _ of item.body) void _;
        continue;
      }
      mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
      const h = createHash('sha256');
      let size = 0;
      const out = createWriteStream(target, { mode: item.entry.mode & 0o777 || 0o600 });
      await pipeline(
        (async function* () {
          for await (const c of item.body) {
            h.update(c);
            size += c.length;
            yield c;
          }
        })(),
        out,
      );
      seen.set(name, { sha256: h.digest('hex'), size });
      if (name === 'manifest.json') {
        manifest = JSON.parse(readFileSync(target, 'utf8')) as BackupManifest;
      }
    }
  } catch (err) {
    problems.push(`cannot read the archive: ${(err as Error).message}`);
  }
  if (!manifest) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${path} is not a grim backup: ${problems.concat('no manifest.json').join('; ')}`);
  }
  if (manifest.format !== BACKUP_FORMAT)
    problems.push(`unknown backup format ${JSON.stringify(manifest.format)}`);
  for (const [name, want] of Object.entries(manifest.files)) {
    const got = seen.get(name);
    if (!got) problems.push(`${name}: missing`);
    else if (got.sha256 !== want.sha256 || got.size !== want.size)
      problems.push(`${name}: content does not match its SHA-256`);
  }
  for (const name of seen.keys())
    if (name !== 'manifest.json' && !(name in manifest.files))
      problems.push(`${name}: not listed in the manifest`);
  const dbPath = join(dir, manifest.database);
  if (seen.has(manifest.database)) {
    try {
      if (manifest.dialect === 'sqlite') {
        const c = sqliteCheck(dbPath);
        if (!c.ok) problems.push(`database snapshot: ${c.problems.join('; ')}`);
      } else await pgDumpList(dbPath);
    } catch (err) {
      problems.push(`database snapshot unreadable: ${(err as Error).message}`);
    }
  }
  let sealedMasterKey: PassphraseSealed | null = null;
  if (manifest.masterKey.included) {
    try {
      sealedMasterKey = JSON.parse(readFileSync(join(dir, 'master-key.json'), 'utf8')) as PassphraseSealed;
    } catch {
      problems.push('master-key.json: missing or unreadable');
    }
  }
  return {
    manifest,
    dir,
    sealedMasterKey,
    problems,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function verifyBackup(
  path: string,
): Promise<{ ok: boolean; manifest: BackupManifest; problems: string[] }> {
  const x = await extractBackup(path);
  x.cleanup();
  return { ok: x.problems.length === 0, manifest: x.manifest, problems: x.problems };
}

/** Write a key file the way secret-box expects it (base64, mode 0600). */
export function writeMasterKeyFile(dataDir: string, key: Buffer): void {
  mkdirSync(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'secrets', 'master.key'), `${key.toString('base64')}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
}
