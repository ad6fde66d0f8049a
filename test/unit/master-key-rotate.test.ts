// `grim master-key rotate` on SQLite and PostgreSQL: every sealed column (and grim's SSH keys in settings)
// re-sealed under the new key, releases still immutable afterwards (the re-seal exception lives only inside
// the rotation's transaction), the key file swapped crash-safely, an interrupted rotation finished, and a
// refusal while a grim instance is alive.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeCases, postgresUnavailable } from '../helpers/stores.ts';
import { generateStoredKeyPair, unsealPrivateKey } from '../../src/ssh/index.ts';
import { masterKeyPath, SecretBox } from '../../src/secrets/secret-box.ts';
import { resealAll, rotateMasterKey, SEALED_COLUMNS } from '../../src/services/master-key.ts';
import type { Db } from '../../src/store/db.ts';

const keyOf = (path: string) => Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');

/** One row for every sealed column; returns the plaintext expected in each (table.column -> value). */
async function seed(db: Db, box: SecretBox): Promise<Map<string, string>> {
  const plain = new Map<string, string>();
  const sealed = (table: string, column: string, keys: Record<string, string>) => {
    const col = SEALED_COLUMNS.find((c) => c.table === table && c.column === column)!;
    const value = `${table}.${column}:${randomBytes(4).toString('hex')}`;
    plain.set(`${table}.${column}.${Object.values(keys).join('/')}`, value);
    return box.seal(value, col.context(keys));
  };
  await db.run("INSERT INTO environments (name, created_at) VALUES ('prod', 0)");
  await db.run("INSERT INTO node_groups (name, environment, created_at) VALUES ('web', 'prod', 0)");
  await db.run(
    "INSERT INTO apps (name, environment, group_name, spec, secrets, created_by, created_at, updated_at) VALUES ('kv', 'prod', 'web', '{}', ?, 'admin', 0, 0)",
    [sealed('apps', 'secrets', { name: 'kv' })],
  );
  for (const n of [1, 2])
    await db.run(
      "INSERT INTO app_releases (app, number, kind, spec, secrets, status, created_by, created_at) VALUES ('kv', ?, 'deploy', '{}', ?, 'active', 'admin', 0)",
      [n, sealed('app_releases', 'secrets', { app: 'kv', number: String(n) })],
    );
  await db.run(
    "INSERT INTO seaweed_clusters (environment, spec, state, version, secrets, created_by, created_at, updated_at) VALUES ('prod', '{}', 'ready', '4.48', ?, 'admin', 0, 0)",
    [sealed('seaweed_clusters', 'secrets', { environment: 'prod' })],
  );
  await db.run(
    "INSERT INTO seaweed_keys (environment, access_key, name, bucket, actions, secret, status, created_at) VALUES ('prod', 'AK1', 'k', 'b', 'Read', ?, 'active', 0)",
    [sealed('seaweed_keys', 'secret', { environment: 'prod', access_key: 'AK1' })],
  );
  await db.run(
    "INSERT INTO backup_targets (name, kind, location, access_key, secret_key, created_at, updated_at) VALUES ('s3', 's3', 's3:http://x/b', ?, ?, 0, 0)",
    [
      sealed('backup_targets', 'access_key', { name: 's3' }),
      sealed('backup_targets', 'secret_key', { name: 's3' }),
    ],
  );
  await db.run("INSERT INTO volume_passwords (app, sealed, created_at) VALUES ('kv', ?, 0)", [
    sealed('volume_passwords', 'sealed', { app: 'kv' }),
  ]);
  await db.run(
    "INSERT INTO pipelines (name, app, spec, webhook_secret, deploy_token, created_by, created_at, updated_at) VALUES ('p', 'kv', '{}', ?, ?, 'admin', 0, 0)",
    [
      sealed('pipelines', 'webhook_secret', { name: 'p' }),
      sealed('pipelines', 'deploy_token', { name: 'p' }),
    ],
  );
  const identity = generateStoredKeyPair(box);
  plain.set('ssh_identity', unsealPrivateKey(box, identity));
  await db.run("INSERT INTO settings (key, value) VALUES ('ssh_identity', ?)", [JSON.stringify(identity)]);
  const old = generateStoredKeyPair(box);
  plain.set('ssh_rotation.old', unsealPrivateKey(box, old));
  await db.run("INSERT INTO settings (key, value) VALUES ('ssh_rotation', ?)", [
    JSON.stringify({ jobId: 'j1', old, next: identity }),
  ]);
  return plain;
}

/** Opens every sealed value with `box`; throws when one does not open. */
async function readAll(db: Db, box: SecretBox): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const col of SEALED_COLUMNS) {
    const rows = await db.all<Record<string, string>>(
      `SELECT ${[...col.keys, col.column].join(', ')} FROM ${col.table} WHERE ${col.column} <> ''`,
    );
    for (const r of rows) {
      const keys = Object.fromEntries(col.keys.map((k) => [k, String(r[k])]));
      out.set(
        `${col.table}.${col.column}.${Object.values(keys).join('/')}`,
        box.open(r[col.column], col.context(keys)).toString('utf8'),
      );
    }
  }
  const setting = async (key: string) =>
    JSON.parse((await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))!.value);
  out.set('ssh_identity', unsealPrivateKey(box, await setting('ssh_identity')));
  out.set('ssh_rotation.old', unsealPrivateKey(box, (await setting('ssh_rotation')).old));
  return out;
}

for (const c of storeCases) {
  test(`master-key rotate re-seals every secret (${c.name})`, async (t) => {
    if (c.name === 'postgres') {
      const why = await postgresUnavailable();
      if (why) {
        if (process.env.CI) assert.fail(why);
        t.skip(why);
        return;
      }
    }
    const { db, cleanup } = await c.open();
    const dataDir = mkdtempSync(join(tmpdir(), 'grim-mk-'));
    t.after(async () => {
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });
    mkdirSync(join(dataDir, 'secrets'));
    writeFileSync(masterKeyPath(dataDir), randomBytes(32).toString('base64'), { mode: 0o600 });
    const oldKey = keyOf(masterKeyPath(dataDir));
    const oldBox = new SecretBox(oldKey);
    const plain = await seed(db, oldBox);
    assert.equal(plain.size, 12);

    // Outside a rotation, release secrets stay frozen on both databases.
    await assert.rejects(
      db.run("UPDATE app_releases SET secrets = 'v1:AAAA' WHERE app = 'kv' AND number = 1"),
      /immutable/,
    );

    const r = await rotateMasterKey({ db, dataDir, actor: 'test' });
    assert.equal(r.finished, false);
    assert.equal(
      Object.values(r.counts).reduce((a, b) => a + b, 0),
      13,
    ); // ssh_rotation holds two keys
    assert.equal(r.counts['app_releases.secrets'], 2);
    const newKey = keyOf(masterKeyPath(dataDir));
    assert.notDeepEqual(newKey, oldKey);
    assert.deepEqual(keyOf(r.retiredKey), oldKey, 'the old key is kept for older backups');
    assert.ok(!existsSync(`${masterKeyPath(dataDir)}.next`));
    assert.deepEqual(await readAll(db, new SecretBox(newKey)), plain, 'everything opens with the new key');
    await assert.rejects(readAll(db, oldBox), /cannot decrypt/, 'nothing opens with the old key any more');
    const audit = await db.get<{ action: string }>(
      "SELECT action FROM audit_log WHERE action = 'master-key.rotated'",
    );
    assert.ok(audit);

    // The exception closed with the transaction: releases are immutable again, other columns always were.
    await assert.rejects(
      db.run("UPDATE app_releases SET secrets = 'v1:AAAA' WHERE app = 'kv' AND number = 1"),
      /immutable/,
    );
    await assert.rejects(db.run("UPDATE app_releases SET spec = '{\"x\":1}' WHERE app = 'kv'"), /immutable/);
    await db.run("UPDATE app_releases SET status = 'superseded' WHERE app = 'kv' AND number = 1");
    if (c.name === 'sqlite') assert.deepEqual(await db.all('SELECT * FROM release_reseal'), []);

    // Interrupted after the commit, before the key file moved: running it again finishes the swap.
    const next = randomBytes(32);
    writeFileSync(`${masterKeyPath(dataDir)}.next`, next.toString('base64'), { mode: 0o600 });
    await resealAll(db, new SecretBox(newKey), new SecretBox(next));
    const again = await rotateMasterKey({ db, dataDir, actor: 'test' });
    assert.equal(again.finished, true);
    assert.deepEqual(keyOf(masterKeyPath(dataDir)), next);
    assert.deepEqual(await readAll(db, new SecretBox(next)), plain);
    assert.equal(readdirSync(join(dataDir, 'secrets')).filter((f) => f.includes('retired')).length, 2);

    // A live grim instance holds the old key in memory: refused.
    await db.run(
      "INSERT INTO leases (name, holder, token, acquired_at, renewed_at, expires_at) VALUES ('instance:live-1', 'live-1', 1, 0, 0, ?)",
      [Date.now() + 3_600_000],
    );
    await assert.rejects(rotateMasterKey({ db, dataDir, actor: 'test' }), /instances are running.*live-1/);
    assert.deepEqual(keyOf(masterKeyPath(dataDir)), next, 'nothing changed');
  });
}
