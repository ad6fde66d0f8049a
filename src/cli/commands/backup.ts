import type { Command } from 'commander';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv, type ServerConfig } from '../../server/config.ts';
import { masterKeyPath } from '../../secrets/secret-box.ts';
import { readSecret } from '../context.ts';
import { print } from '../output.ts';

/** The server's settings, with the command's --data-dir / --database-url on top (same env as `grim server`). */
export function localConfig(o: { dataDir?: string; databaseUrl?: string }): ServerConfig {
  const env = { ...process.env };
  if (o.dataDir) env.GRIM_DATA_DIR = o.dataDir;
  if (o.databaseUrl) env.GRIM_DATABASE_URL = o.databaseUrl;
  return configFromEnv({}, env);
}

/** The master key as the server would load it, without creating one when it is missing. */
export function existingMasterKey(dataDir: string): Buffer {
  const text =
    process.env.GRIM_MASTER_KEY ||
    (existsSync(masterKeyPath(dataDir)) ? readFileSync(masterKeyPath(dataDir), 'utf8') : '');
  if (!text) throw new Error(`no master key: neither GRIM_MASTER_KEY nor ${masterKeyPath(dataDir)} exists`);
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('the master key is not 32 bytes of base64');
  return key;
}

/** The server side of backups, loaded only when a backup command runs, so other CLI commands stay light. */
async function backupSide() {
  const [start, backup, box, restore, remote] = await Promise.all([
    import('../../server/start.ts'),
    import('../../services/backup/backup.ts'),
    import('../../services/backup/passphrase-box.ts'),
    import('../../server/restore.ts'),
    import('../../services/backup/remote.ts'),
  ]);
  return { ...start, ...backup, ...box, ...restore, ...remote };
}

async function passphrase(o: { passphraseFile?: string }, prompt: string): Promise<string> {
  if (o.passphraseFile) return readFileSync(o.passphraseFile, 'utf8').replace(/\r?\n$/, '');
  if (process.env.GRIM_BACKUP_PASSPHRASE) return process.env.GRIM_BACKUP_PASSPHRASE;
  return readSecret(prompt, false);
}

export function registerBackupCommands(program: Command, setExit: (code: number) => void) {
  const backup = program.command('backup').description('control-node backups (run on the control node)');
  backup
    .command('create')
    .description('a consistent snapshot of the database plus the data directory, in one .tar.gz')
    .option(
      '--to <dir|s3://bucket/prefix>',
      'directory or S3 location for the archive (default <data>/backups; S3: GRIM_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION)',
    )
    .option('--include-master-key', 'also store the master key, encrypted with a passphrase (scrypt)')
    .option(
      '--passphrase-file <file>',
      'passphrase for --include-master-key (else GRIM_BACKUP_PASSPHRASE, else asked)',
    )
    .option('--data-dir <dir>', 'data directory (env GRIM_DATA_DIR)')
    .option('--database-url <url>', 'postgres://... (env GRIM_DATABASE_URL)')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const { backupFileName, backupTarget, checkPassphrase, createBackup, openDb } = await backupSide();
      const config = localConfig(o);
      const key = existingMasterKey(config.dataDir);
      let pass: string | undefined;
      if (o.includeMasterKey) {
        pass = await passphrase(o, 'passphrase for the master key: ');
        const problems = checkPassphrase(pass);
        if (problems.length) throw new Error(problems.join('; '));
      }
      const target = backupTarget(o.to ?? join(config.dataDir, 'backups'));
      const work = mkdtempSync(join(tmpdir(), 'grim-backup-out-'));
      const outPath = join(work, backupFileName());
      const db = openDb(config);
      const t0 = performance.now();
      try {
        const manifest = await createBackup({
          db,
          dataDir: config.dataDir,
          databaseUrl: config.databaseUrl,
          outPath,
          masterKey: key,
          passphrase: pass,
        });
        const path = await target.store(outPath);
        const ms = Math.round(performance.now() - t0);
        print(o, { path, ms, manifest }, () =>
          [
            `backup written to ${path} in ${(ms / 1000).toFixed(1)} s`,
            `  ${manifest.dialect} snapshot, ${Object.keys(manifest.files).length} files, audit head ${manifest.audit.seq}`,
            manifest.masterKey.included
              ? '  the master key is inside, encrypted with your passphrase'
              : `  the master key is NOT inside: keep ${masterKeyPath(config.dataDir)} (or GRIM_MASTER_KEY) safe separately`,
          ].join('\n'),
        );
      } finally {
        await db.close();
        rmSync(work, { recursive: true, force: true });
      }
    });
  backup
    .command('verify <file>')
    .description(
      'read a backup back (a file or s3://bucket/key): every member against its SHA-256, the database snapshot readable',
    )
    .option('--json', 'JSON output')
    .action(async (file: string, o) => {
      const { localCopy, verifyBackup } = await backupSide();
      const copy = await localCopy(file);
      const r = await verifyBackup(copy.path).finally(copy.cleanup);
      print(o, r, () =>
        r.ok
          ? `backup OK: ${Object.keys(r.manifest.files).length} files, ${r.manifest.dialect} snapshot of ${new Date(r.manifest.createdAt).toISOString()}, grim ${r.manifest.grimVersion}, master key ${r.manifest.masterKey.included ? 'included (encrypted)' : 'not included'}`
          : `backup BROKEN:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`,
      );
      if (!r.ok) setExit(2);
    });

  program
    .command('restore <file>')
    .description(
      'restore a backup into an empty data directory (and empty database), then reconcile with the nodes',
    )
    .option('--data-dir <dir>', 'data directory, must be empty (env GRIM_DATA_DIR)')
    .option('--database-url <url>', 'postgres://... of an empty database (env GRIM_DATABASE_URL)')
    .option(
      '--passphrase-file <file>',
      'passphrase of the master key inside the backup (else GRIM_BACKUP_PASSPHRASE, else asked)',
    )
    .option('--master-key-file <file>', 'the master key, for a backup made without --include-master-key')
    .option('--json', 'JSON output')
    .action(async (file: string, o) => {
      const { localCopy, restoreBackup, verifyBackup } = await backupSide();
      const config = localConfig(o);
      const copy = await localCopy(file);
      try {
        const verified = await verifyBackup(copy.path);
        let pass: string | undefined;
        let masterKey: Buffer | undefined;
        const fromEnv =
          !o.masterKeyFile && !verified.manifest.masterKey.included && !!process.env.GRIM_MASTER_KEY;
        if (o.masterKeyFile) masterKey = Buffer.from(readFileSync(o.masterKeyFile, 'utf8').trim(), 'base64');
        else if (fromEnv) masterKey = Buffer.from(process.env.GRIM_MASTER_KEY!.trim(), 'base64');
        else if (verified.manifest.masterKey.included)
          pass = await passphrase(o, 'passphrase of the master key in the backup: ');
        const lines: string[] = [];
        const report = await restoreBackup({
          backupPath: copy.path,
          config,
          passphrase: pass,
          masterKey,
          masterKeyFromEnv: fromEnv,
          print: (l) => (o.json ? lines.push(l) : process.stdout.write(l + '\n')),
        });
        if (o.json) print(o, { ...report, log: lines }, () => '');
        if (!report.audit.ok || !report.audit.headMatches) setExit(2);
      } finally {
        copy.cleanup();
      }
    });
}
