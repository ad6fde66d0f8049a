// Control-node backups on S3, against a real SeaweedFS S3 gateway (weed server -s3 on loopback): scheduled
// backups under the lease loop:control-backup with pruning, `grim backup create --to s3://...`, `grim backup
// verify s3://...` (and a corrupted copy refused), `grim restore s3://...` into an empty data directory,
// wrong credentials refused with S3's own error code, and a multipart upload (3 parts of S3's smallest size).
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import { startSeaweed } from '../helpers/seaweed.ts';
import { grim, startGrimServer } from '../helpers/grim-process.ts';
import { MIN_PART_BYTES, S3Client } from '../../src/integrations/s3/client.ts';

test('control-plane backups to S3: scheduled under a lease, create, verify, restore', async (t) => {
  const weed = await startSeaweed(t, '127.0.0.1');
  const s3env = {
    GRIM_S3_ENDPOINT: weed.endpoint,
    AWS_ACCESS_KEY_ID: weed.accessKey,
    AWS_SECRET_ACCESS_KEY: weed.secretKey,
  };
  const s3 = new S3Client({
    endpoint: weed.endpoint,
    region: 'us-east-1',
    accessKeyId: weed.accessKey,
    secretAccessKey: weed.secretKey,
  });
  await s3.createBucket('grim-backups');
  const work = mkdtempSync(join(tmpdir(), 'grim-s3-backup-test-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const dataDir = join(work, 'data');
  const srv = await startGrimServer(
    {
      ...s3env,
      GRIM_ADMIN_PASSWORD: 's3-admin-password',
      GRIM_CONTROL_BACKUP_TO: 's3://grim-backups/scheduled',
      GRIM_CONTROL_BACKUP_EVERY_MS: '1000',
      GRIM_CONTROL_BACKUP_KEEP: '2',
    },
    { dataDir },
  );
  t.after(() => srv.stop());

  // Scheduled: one every second (names are per second), the newest 2 kept, each audited.
  const db = new DatabaseSync(join(dataDir, 'grim.db'), { readOnly: true });
  t.after(() => db.close());
  const scheduled = () =>
    (
      db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'backup.scheduled'").get() as {
        n: number;
      }
    ).n;
  for (let i = 0; scheduled() < 3; i++) {
    assert.ok(i < 100, `three scheduled backups within 20 s: ${scheduled()}\n${srv.output()}`);
    await delay(200);
  }
  const kept = await s3.list('grim-backups', 'scheduled/');
  assert.equal(kept.length, 2, `pruned to the newest 2: ${kept.join(', ')}`);
  const lease = db.prepare("SELECT holder FROM leases WHERE name = 'loop:control-backup'").get() as {
    holder: string;
  };
  assert.ok(lease?.holder, 'the loop runs under its lease');
  const last = JSON.parse(
    (db.prepare("SELECT value FROM settings WHERE key = 'control_backup_last'").get() as { value: string })
      .value,
  );
  assert.match(last.location, /^s3:\/\/grim-backups\/scheduled\/grim-backup-\d{8}T\d{6}Z\.tar\.gz$/);

  // By hand, while the server runs.
  const env = { ...s3env, GRIM_DATA_DIR: dataDir };
  const created = await grim(['backup', 'create', '--to', 's3://grim-backups/manual', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const url = JSON.parse(created.stdout).path as string;
  assert.match(url, /^s3:\/\/grim-backups\/manual\/grim-backup-.*\.tar\.gz$/);
  const verified = await grim(['backup', 'verify', url], env);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /^backup OK: .* sqlite snapshot/);

  // A corrupted copy on S3 is refused.
  const key = url.slice('s3://grim-backups/'.length);
  const local = join(work, 'copy.tar.gz');
  await s3.getFile('grim-backups', key, local);
  const bytes = readFileSync(local);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(local, bytes);
  await s3.putFile('grim-backups', 'manual/corrupted.tar.gz', local);
  const bad = await grim(['backup', 'verify', 's3://grim-backups/manual/corrupted.tar.gz'], env);
  assert.notEqual(bad.code, 0, 'a corrupted archive does not verify');

  // Restore from S3 into an empty data directory.
  const restored = await grim(
    [
      'restore',
      url,
      '--data-dir',
      join(work, 'restored'),
      '--master-key-file',
      join(dataDir, 'secrets', 'master.key'),
    ],
    s3env,
  );
  assert.equal(restored.code, 0, restored.stderr + restored.stdout);
  assert.match(restored.stdout, /audit chain intact/);
  assert.match(restored.stdout, /recovered in \d+\.\d s/);

  // Multipart: a file larger than the part size goes up in parts, comes back byte for byte, and leaves no
  // unfinished upload behind (backups beyond S3's 5 GiB single-PUT limit go this way, in 64 MiB parts).
  const big = join(work, 'big.bin');
  writeFileSync(big, randomBytes(2 * MIN_PART_BYTES + 123_457));
  const up = await s3.putFile('grim-backups', 'multipart/big.bin', big, { partBytes: MIN_PART_BYTES });
  assert.equal(up.parts, 3);
  const back = join(work, 'big.back');
  await s3.getFile('grim-backups', 'multipart/big.bin', back);
  assert.ok(readFileSync(back).equals(readFileSync(big)), 'the object is the file, byte for byte');
  assert.deepEqual(await s3.listMultipartUploads('grim-backups', 'multipart/'), []);

  // Wrong credentials: S3's error, clearly.
  const denied = await grim(['backup', 'create', '--to', 's3://grim-backups/manual'], {
    ...env,
    AWS_SECRET_ACCESS_KEY: 'wrong-secret',
  });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /S3 upload s3:\/\/grim-backups\/manual\/.*: HTTP 403/);
});
