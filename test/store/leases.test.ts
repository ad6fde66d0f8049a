// Leases in the store, on SQLite and PostgreSQL: acquire, renew, takeover after expiry with a higher token,
// release, a fenced Db that refuses writes after a takeover, concurrent acquirers (exactly one wins), and the
// LeaseManager loop that runs on one instance at a time and moves to the other when its holder stops.
// On PostgreSQL: a holder frozen inside a fenced write (SIGSTOP) does not keep the takeover waiting on its lock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { storeCases, skipReason } from '../helpers/stores.ts';
import type { Db } from '../../src/store/db.ts';
import {
  LeaseLostError,
  listLeases,
  liveInstanceIds,
  releaseLease,
  tryAcquireLease,
} from '../../src/store/leases-repo.ts';
import { fencedDb } from '../../src/store/fenced-db.ts';
import { LeaseManager } from '../../src/services/leases.ts';

for (const sc of storeCases) {
  describe(`leases on ${sc.name}`, async () => {
    const skip = await skipReason(sc);
    const withDb = (name: string, fn: (db: Db) => Promise<void>) =>
      test(name, { skip }, async () => {
        const { db, cleanup } = await sc.open();
        try {
          await fn(db);
        } finally {
          await cleanup();
        }
      });

    withDb('acquire, renew, held by another, takeover after expiry, release', async (db) => {
      const a = await tryAcquireLease(db, 'loop:x', 'A', 300);
      assert.equal(a.held && a.token, 1);
      const again = await tryAcquireLease(db, 'loop:x', 'A', 300);
      assert.equal(again.held && again.decision, 'renew');
      assert.equal(again.held && again.token, 1);
      const b = await tryAcquireLease(db, 'loop:x', 'B', 300);
      assert.equal(b.held, false);
      assert.equal(!b.held && b.holder, 'A');
      await delay(350);
      const b2 = await tryAcquireLease(db, 'loop:x', 'B', 300);
      assert.equal(b2.held && b2.decision, 'takeover');
      assert.equal(b2.held && b2.token, 2);
      assert.equal(await releaseLease(db, 'loop:x', 'A', 1), false, 'the old holder cannot release');
      assert.equal(await releaseLease(db, 'loop:x', 'B', 2), true);
      const c = await tryAcquireLease(db, 'loop:x', 'C', 300);
      assert.equal(c.held && c.token, 3, 'a released lease is taken at once, with the next token');
      const [view] = await listLeases(db);
      assert.equal(view.holder, 'C');
      assert.equal(view.expired, false);
    });

    withDb('a fenced Db writes while its token holds and refuses after a takeover', async (db) => {
      const a = await tryAcquireLease(db, 'loop:w', 'A', 200);
      assert.ok(a.held);
      const fdb = fencedDb(db, { name: 'loop:w', holder: 'A', token: a.token });
      await fdb.run("INSERT INTO settings (key, value) VALUES ('k', 'A1')");
      await fdb.transaction((tx) => tx.run("UPDATE settings SET value = 'A2' WHERE key = 'k'"));
      await delay(250);
      assert.ok((await tryAcquireLease(db, 'loop:w', 'B', 5000)).held);
      await assert.rejects(fdb.run("UPDATE settings SET value = 'A3' WHERE key = 'k'"), LeaseLostError);
      await assert.rejects(
        fdb.transaction((tx) => tx.run("UPDATE settings SET value = 'A4' WHERE key = 'k'")),
        LeaseLostError,
      );
      assert.equal(
        (await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'k'"))!.value,
        'A2',
      );
      // Reads still work: a fenced-off loop can look, not touch.
      assert.equal((await fdb.all('SELECT * FROM settings')).length, 1);
    });

    withDb('ten instances race for one free lease: exactly one wins', async (db) => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => tryAcquireLease(db, 'loop:race', `I${i}`, 5000)),
      );
      assert.equal(results.filter((r) => r.held).length, 1);
      const winner = results.find((r) => r.held) ? results.findIndex((r) => r.held) : -1;
      for (const r of results) if (!r.held) assert.equal(r.holder, `I${winner}`);
    });

    withDb('two managers: a loop runs on one at a time and moves when its holder stops', async (db) => {
      const logs: string[] = [];
      const a = new LeaseManager(db, {
        instanceId: 'A',
        ttlMs: 1500,
        renewMs: 150,
        log: (l) => logs.push(l),
      });
      const b = new LeaseManager(db, {
        instanceId: 'B',
        ttlMs: 1500,
        renewMs: 150,
        log: (l) => logs.push(l),
      });
      await a.start();
      await b.start();
      assert.deepEqual([...(await liveInstanceIds(db))].sort(), ['A', 'B']);
      const rounds: Array<{ who: string; token: number; start: number; end: number }> = [];
      const round = (who: string) => async (lease: { token: number; db: Db }) => {
        const start = performance.now();
        await lease.db.run(
          "INSERT INTO settings (key, value) VALUES ('r', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          [who],
        );
        await delay(30);
        rounds.push({ who, token: lease.token, start, end: performance.now() });
      };
      const stopA = a.runUnderLease('loop:demo', round('A'), { everyMs: 20 });
      await delay(50);
      const stopB = b.runUnderLease('loop:demo', round('B'), { everyMs: 20 });
      await delay(500);
      assert.ok(rounds.length > 3);
      assert.ok(
        rounds.every((r) => r.who === 'A'),
        'only the first holder runs while it is alive',
      );
      assert.equal(b.status().loops[0].held, false);
      await stopA(); // releases: B takes over within one renewal interval, not a whole ttl
      const handover = performance.now();
      await delay(800);
      const bRounds = rounds.filter((r) => r.who === 'B');
      assert.ok(
        bRounds.length > 0,
        `B took the loop over: ${JSON.stringify(b.status())} ${JSON.stringify(a.status())} ${JSON.stringify(await listLeases(db))}`,
      );
      assert.ok(bRounds[0].start - handover < 600, `handover took ${bRounds[0].start - handover} ms`);
      assert.ok(bRounds[0].token > rounds[0].token, 'with a higher fencing token');
      const sorted = [...rounds].sort((x, y) => x.start - y.start);
      for (let i = 1; i < sorted.length; i++)
        assert.ok(sorted[i].start >= sorted[i - 1].end, 'rounds never overlap');
      await stopB();
      await a.stop();
      await b.stop();
      assert.deepEqual(logs, []);
      assert.equal((await liveInstanceIds(db)).size, 0, 'stopped instances give their leases back');
    });

    withDb(
      'a holder whose renewals stop loses the lease: its signal aborts, its writes are refused',
      async (db) => {
        const a = new LeaseManager(db, { instanceId: 'A', ttlMs: 300, renewMs: 100, log: () => undefined });
        const b = new LeaseManager(db, { instanceId: 'B', ttlMs: 300, renewMs: 100, log: () => undefined });
        const lease = await a.acquire('rollout:r1');
        assert.ok(lease);
        // A is "paused": nobody renews (its timer never started). B takes over after expiry.
        await delay(350);
        const taken = await b.acquire('rollout:r1');
        assert.ok(taken && taken.token > lease.token);
        await a.renewAll(); // A wakes up: its renewal finds B holding the lease
        assert.equal(lease.signal.aborted, true);
        assert.ok(lease.signal.reason instanceof LeaseLostError);
        await assert.rejects(
          lease.db.run("INSERT INTO settings (key, value) VALUES ('x', 'A')"),
          LeaseLostError,
        );
        await taken.db.run("INSERT INTO settings (key, value) VALUES ('x', 'B')");
        await a.stop();
        await b.stop();
      },
    );

    // (SQLite runs one instance: nobody else waits on its locks.)
    if (sc.name === 'postgres')
      test(
        'a holder frozen inside a fenced write: PostgreSQL ends its session after the timeout, the takeover goes on',
        { skip },
        async () => {
          const { db, cleanup } = await sc.open({ sessionTimeoutMs: 1000 });
          let thaw = () => undefined as void;
          try {
            const a = await tryAcquireLease(db, 'rollout:f', 'A', 500);
            assert.ok(a.held);
            // A's fenced transaction locks the lease row, writes, then A freezes (as under SIGSTOP: the
            // session sits idle inside the transaction).
            const thawed = new Promise<void>((r) => (thaw = r));
            const frozen = fencedDb(db, { name: 'rollout:f', holder: 'A', token: a.token }).transaction(
              async (tx) => {
                await tx.run("INSERT INTO settings (key, value) VALUES ('f', 'A')");
                await thawed;
                await tx.run("UPDATE settings SET value = 'A, revived' WHERE key = 'f'");
              },
            );
            await delay(600); // A's lease has expired
            const asked = performance.now();
            const b = await Promise.race([
              tryAcquireLease(db, 'rollout:f', 'B', 5000),
              delay(8000).then(() => {
                throw new Error("B's takeover still waits on the frozen holder's row lock after 8 s");
              }),
            ]);
            const waitedMs = performance.now() - asked;
            assert.ok(b.held && b.decision === 'takeover' && b.token === a.token + 1, JSON.stringify(b));
            assert.ok(waitedMs < 3000, `B waited ${Math.round(waitedMs)} ms for the takeover`);
            thaw(); // A is revived: its session is gone, nothing of its transaction lands
            await assert.rejects(frozen);
            assert.equal(await db.get("SELECT value FROM settings WHERE key = 'f'"), undefined);
            // The pool dropped the dead session: the Db goes on working.
            for (let i = 0; i < 12; i++)
              await db.transaction((tx) =>
                tx.run(`INSERT INTO settings (key, value) VALUES ('ok${i}', 'B')`),
              );
            assert.equal((await db.all("SELECT key FROM settings WHERE value = 'B'")).length, 12);
          } finally {
            thaw(); // also when the takeover failed: the pool cannot close with A's transaction open
            await cleanup();
          }
        },
      );
  });
}
