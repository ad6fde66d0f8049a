import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, skipReason } from '../helpers/stores.ts';
import { migrate } from '../../src/store/migrate.ts';
import { AuditLog } from '../../src/services/audit.ts';
import { AuthService } from '../../src/services/auth.ts';
import type { Db } from '../../src/store/db.ts';

/** The same suite runs on every backend: SQLite (embedded default) and PostgreSQL. */
for (const sc of storeCases) {
  describe(`store on ${sc.name}`, async () => {
    const skip = await skipReason(sc);
    if (skip) console.log(`# skipping the ${sc.name} store suite: ${skip}`);
    const withDb = (name: string, fn: (db: Db) => Promise<void>) =>
      test(name, { skip }, async () => {
        const { db, cleanup } = await sc.open();
        try {
          await fn(db);
        } finally {
          await cleanup();
        }
      });

    withDb('migrations are recorded and re-running them is a no-op', async (db) => {
      assert.deepEqual(await migrate(db), []);
      const rows = await db.all<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      assert.ok(rows.some((r) => r.name === '0001_foundation'));
    });

    withDb('a failed transaction leaves nothing behind', async (db) => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO settings (key, value) VALUES ('a', '1')");
          throw new Error('boom');
        }),
      );
      assert.equal(await db.get("SELECT * FROM settings WHERE key = 'a'"), undefined);
    });

    withDb(
      'users: unique usernames, tokens hashed and revocable, sessions expire with the user',
      async (db) => {
        const auth = new AuthService(db);
        const u = await auth.createUser('alice', 'a-long-password', 'operator');
        await assert.rejects(auth.createUser('alice', 'another-password', 'viewer'), /exists/);
        assert.ok(await auth.checkPassword('alice', 'a-long-password'));
        assert.equal(await auth.checkPassword('alice', 'wrong'), null);
        const p = { userId: u.id, username: 'alice', role: 'operator' as const, via: 'session' as const };
        const { secret, token } = await auth.createToken(p, 'ci', 'viewer');
        assert.equal((await auth.principalFromToken(secret))?.principal.role, 'viewer');
        await auth.revokeToken(p, token.id);
        assert.equal(await auth.principalFromToken(secret), null);
        const s = await auth.createSession(u);
        assert.equal((await auth.principalFromSession(s.sid))?.username, 'alice');
        await auth.updateUser(u.id, { disabled: true });
        assert.equal(await auth.principalFromSession(s.sid), null);
      },
    );

    withDb('audit: concurrent appends form one unbroken chain', async (db) => {
      const audit = new AuditLog(db);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          audit.record({
            actor: `u${i}`,
            actorKind: 'user',
            action: 'test',
            target: String(i),
            outcome: 'success',
          }),
        ),
      );
      const v = await audit.verify();
      assert.deepEqual(v, { ok: true, checked: 40 });
      const seqs = (await db.all<{ seq: number }>('SELECT seq FROM audit_log ORDER BY seq')).map((r) =>
        Number(r.seq),
      );
      assert.deepEqual(
        seqs,
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    });

    withDb('audit: the log refuses updates and deletes', async (db) => {
      const audit = new AuditLog(db);
      await audit.record({ actor: 'a', actorKind: 'user', action: 'x', outcome: 'success' });
      await assert.rejects(db.run("UPDATE audit_log SET actor = 'b'"), /append-only/);
      await assert.rejects(db.run('DELETE FROM audit_log'), /append-only/);
    });

    withDb('audit: altering any stored row is detected and the first broken entry named', async (db) => {
      const audit = new AuditLog(db);
      for (let i = 1; i <= 6; i++)
        await audit.record({ actor: 'a', actorKind: 'user', action: `act${i}`, outcome: 'success' });
      // A tamperer with database access first has to get past the append-only trigger.
      if (db.dialect === 'sqlite') await db.run('DROP TRIGGER audit_log_no_update');
      else await db.run('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      for (const [col, value] of [
        ['actor', "'mallory'"],
        ['outcome', "'failure'"],
        ['ts', 'ts + 1'],
        ['details', `'{"x":1}'`],
      ]) {
        const before = await db.get<any>('SELECT * FROM audit_log WHERE seq = 4');
        await db.run(`UPDATE audit_log SET ${col} = ${value} WHERE seq = 4`);
        const v = await audit.verify();
        assert.equal(v.ok, false, col);
        assert.equal(v.firstBroken?.seq, 4, col);
        assert.equal(v.checked, 3);
        await db.run(`UPDATE audit_log SET ${col} = ? WHERE seq = 4`, [before[col]]);
      }
      assert.equal((await audit.verify()).ok, true);
      // Re-hashing the altered row still breaks the link from the next one.
      const { hashEntry } = await import('../../src/domain/audit-chain.ts');
      const r = await db.get<any>('SELECT * FROM audit_log WHERE seq = 2');
      const forged = {
        seq: 2,
        ts: Number(r.ts),
        actor: 'mallory',
        actorKind: r.actor_kind,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
        details: r.details,
        ip: r.ip,
        prevHash: r.prev_hash,
      };
      await db.run('UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 2', ['mallory', hashEntry(forged)]);
      const v = await audit.verify();
      assert.equal(v.firstBroken?.seq, 3);
    });
  });
}
