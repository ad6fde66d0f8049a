// Control-node backups on SQLite and PostgreSQL: create (consistent snapshot + data directory + encrypted
// master key), verify (and detect a tampered archive), restore into an empty data directory / database
// (refused when not empty, wrong passphrase or wrong key), with the audit chain and the secrets intact.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { freshPgUrl, postgresUnavailable } from '../helpers/stores.ts';
import { configFromEnv } from '../../src/server/config.ts';
import { createServices } from '../../src/server/start.ts';
import { createBackup, verifyBackup } from '../../src/services/backup/backup.ts';
import { openWithPassphrase, sealWithPassphrase } from '../../src/services/backup/passphrase-box.ts';
import { restoreBackup } from '../../src/server/restore.ts';
import { localCopy } from '../../src/services/backup/remote.ts';
import { loadMasterKey } from '../../src/secrets/secret-box.ts';

const PASS = 'correct horse battery staple';

test('the master key passphrase box: scrypt, wrong passphrase and tampering are refused', () => {
  const key = randomBytes(32);
  const sealed = sealWithPassphrase(key, PASS, { N: 2 ** 14, r: 8, p: 1 });
  assert.deepEqual(openWithPassphrase(sealed, PASS), key);
  assert.throws(() => openWithPassphrase(sealed, PASS + '!'), /wrong passphrase/);
  assert.throws(
    () => openWithPassphrase({ ...sealed, data: Buffer.from('x').toString('base64') }, PASS),
    /wrong passphrase/,
  );
  assert.throws(() => sealWithPassphrase(key, 'short'), /at least 12/);
  assert.throws(() => openWithPassphrase({ ...sealed, N: 2 }, PASS), /unsupported KDF/);
});

test('a backup path that is missing or not a file is refused with a clear error, not a stream crash', async () => {
  await assert.rejects(
    localCopy('/nonexistent/grim.tar'),
    /no backup at \/nonexistent\/grim.tar: the file does not exist/,
  );
  await assert.rejects(localCopy(tmpdir()), /not a regular file/);
  await assert.rejects(localCopy('s3://bucket'), /names a bucket, not a backup archive/);
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`backup and restore on ${dialect}`, async () => {
    const pgWhy = dialect === 'postgres' ? await postgresUnavailable() : null;
    if (pgWhy && process.env.CI) throw new Error(pgWhy);
    test(
      'create, verify, refuse bad restores, restore, secrets and audit chain intact',
      { skip: pgWhy ?? false },
      async () => {
        const root = mkdtempSync(join(tmpdir(), 'grim-bk-'));
        const dbs: Array<{ url: string; drop: () => Promise<void> }> = [];
        const saved = process.env.GRIM_MASTER_KEY;
        delete process.env.GRIM_MASTER_KEY;
        try {
          const srcDb = dialect === 'postgres' ? (dbs.push(await freshPgUrl()), dbs[0].url) : undefined;
          const src = configFromEnv({ dataDir: join(root, 'src'), databaseUrl: srcDb }, {});
          const s = await createServices(src);
          await s.auth.createUser('alice', 'alice-password-1', 'admin');
          await s.audit.record({ actor: 'alice', actorKind: 'user', action: 'test.one', outcome: 'success' });
          await s.audit.record({ actor: 'alice', actorKind: 'user', action: 'test.two', outcome: 'success' });
          mkdirSync(join(src.dataDir, 'tls'), { recursive: true });
          writeFileSync(join(src.dataDir, 'tls', 'ca.crt'), 'CA CERT\n');
          const key = loadMasterKey(src.dataDir, {});
          const out = join(root, 'backup.tar.gz');
          const m = await createBackup({
            db: s.db,
            dataDir: src.dataDir,
            databaseUrl: srcDb,
            outPath: out,
            masterKey: key,
            passphrase: PASS,
          });
          assert.equal(m.dialect, dialect);
          assert.equal(m.audit.seq, 2);
          assert.ok(m.files['data/tls/ca.crt']);
          assert.ok(
            !Object.keys(m.files).some((f) => f.includes('master.key') || f.endsWith('grim.db')),
            'no live db or key file',
          );
          assert.ok(m.migrations.includes('0100_control_plane'));
          await s.leases.stop();
          s.pool.close();
          await s.db.close();

          assert.equal((await verifyBackup(out)).ok, true);
          // Tampering: flip the CA's content inside the archive, re-gzip: verify names the member.
          const raw = gunzipSync(readFileSync(out));
          const at = raw.indexOf('CA CERT');
          raw.write('XX', at);
          const bad = join(root, 'bad.tar.gz');
          writeFileSync(bad, gzipSync(raw));
          const v = await verifyBackup(bad);
          assert.equal(v.ok, false);
          assert.deepEqual(v.problems, ['data/tls/ca.crt: content does not match its SHA-256']);

          const dstDb = dialect === 'postgres' ? (dbs.push(await freshPgUrl()), dbs[1].url) : undefined;
          const dst = configFromEnv({ dataDir: join(root, 'dst'), databaseUrl: dstDb }, {});
          // Wrong passphrase, and a non-empty target, are refused before anything is written.
          await assert.rejects(
            restoreBackup({ backupPath: out, config: dst, passphrase: 'not the passphrase' }),
            /wrong passphrase/,
          );
          mkdirSync(dst.dataDir, { recursive: true });
          writeFileSync(join(dst.dataDir, 'stray'), 'x');
          await assert.rejects(
            restoreBackup({ backupPath: out, config: dst, passphrase: PASS }),
            /is not empty/,
          );
          rmSync(join(dst.dataDir, 'stray'));
          await assert.rejects(
            restoreBackup({ backupPath: out, config: dst, masterKey: randomBytes(32) }),
            /not the one this backup was made with/,
          );
          const lines: string[] = [];
          const r = await restoreBackup({
            backupPath: out,
            config: dst,
            passphrase: PASS,
            print: (l) => lines.push(l),
          });
          assert.equal(r.audit.ok, true);
          assert.equal(r.audit.headMatches, true);
          assert.ok(r.recoveryMs < 60_000);
          assert.match(lines.join('\n'), /recovered in \d+\.\d s/);
          assert.equal(readFileSync(join(dst.dataDir, 'tls', 'ca.crt'), 'utf8'), 'CA CERT\n');
          assert.deepEqual(loadMasterKey(dst.dataDir, {}), key);
          // The restored grim works: same users, same SSH identity (sealed with the restored key).
          const t = await createServices(dst);
          assert.ok(await t.auth.checkPassword('alice', 'alice-password-1'));
          const restoredAudit = await t.audit.verify();
          assert.equal(restoredAudit.ok, true);
          await t.leases.stop();
          t.pool.close();
          await t.db.close();
          if (dstDb)
            await assert.rejects(
              restoreBackup({
                backupPath: out,
                config: { ...dst, dataDir: join(root, 'dst2') },
                passphrase: PASS,
              }),
              /already has tables/,
            );
        } finally {
          if (saved !== undefined) process.env.GRIM_MASTER_KEY = saved;
          for (const d of dbs) await d.drop();
          rmSync(root, { recursive: true, force: true });
        }
      },
    );
  });
}
