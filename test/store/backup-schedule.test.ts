// Scheduled control-plane backups with two grim instances on one PostgreSQL: only the holder of the lease
// `loop:control-backup` takes them, one per interval (never two for the same interval, also across a
// handover), and the other instance takes over when the holder stops. (On SQLite only one instance runs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { freshPgUrl, postgresSkip } from '../helpers/stores.ts';
import { configFromEnv } from '../../src/server/config.ts';
import { createServices } from '../../src/server/start.ts';
import { LeaseManager } from '../../src/services/leases.ts';
import { runControlBackups, type ControlBackupSchedule } from '../../src/services/backup/schedule.ts';

const EVERY_MS = 1000;

test(
  'scheduled backups with two instances on PostgreSQL: only the lease holder takes them, one per interval',
  { timeout: 120_000, skip: await postgresSkip() },
  async (t) => {
    const pgDb = await freshPgUrl('grim_bs');
    const root = mkdtempSync(join(tmpdir(), 'grim-bs-'));
    const saved = process.env.GRIM_MASTER_KEY;
    process.env.GRIM_MASTER_KEY = randomBytes(32).toString('base64'); // shared by the instances
    const config = configFromEnv({ dataDir: join(root, 'data'), databaseUrl: pgDb.url }, {});
    const s = await createServices(config);
    const managers: LeaseManager[] = [];
    t.after(async () => {
      for (const m of managers) await m.stop();
      await s.leases.stop();
      s.pool.close();
      await s.db.close();
      if (saved === undefined) delete process.env.GRIM_MASTER_KEY;
      else process.env.GRIM_MASTER_KEY = saved;
      await pgDb.drop();
      rmSync(root, { recursive: true, force: true });
    });
    const to = join(root, 'backups');
    const schedule: ControlBackupSchedule = { to, everyMs: EVERY_MS, keep: 100 };
    const taken: Array<{ who: string; at: number; location: string }> = [];
    /** One grim instance: its own lease manager running the scheduled-backup loop, as the server does. */
    const instance = (who: string) => {
      const m = new LeaseManager(s.db, {
        instanceId: who,
        ttlMs: 1500,
        renewMs: 300,
        log: (l) => console.log('# ' + who + ': ' + l),
      });
      managers.push(m);
      const stop = runControlBackups(
        m,
        { db: s.db, dataDir: config.dataDir, databaseUrl: config.databaseUrl, audit: s.audit },
        schedule,
        (location, at) => taken.push({ who, at, location }),
      );
      return { m, stop };
    };
    const A = instance('A');
    await A.m.start();
    const B = instance('B');
    await B.m.start();
    const waitFor = async (what: string, ok: () => boolean, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!ok()) {
        assert.ok(Date.now() < end, `${what}: ${JSON.stringify(taken)}`);
        await delay(100);
      }
    };
    await waitFor('A takes three backups', () => taken.length >= 3);
    assert.deepEqual(
      taken.map((x) => x.who),
      ['A', 'A', 'A'],
      'the instance holding the lease takes them; the other never does',
    );
    // A stops (a shutdown gives the lease back): B goes on from the time A's last backup recorded.
    await A.stop();
    await A.m.stop();
    const handedOver = taken.length;
    await waitFor('B takes two backups after A stopped', () => taken.length >= handedOver + 2);
    await B.stop();
    assert.ok(
      taken.slice(handedOver).every((x) => x.who === 'B'),
      JSON.stringify(taken),
    );
    for (let i = 1; i < taken.length; i++)
      assert.ok(
        taken[i].at - taken[i - 1].at >= EVERY_MS,
        `two backups ${taken[i].at - taken[i - 1].at} ms apart (interval ${EVERY_MS} ms): ${JSON.stringify(taken)}`,
      );
    assert.deepEqual(
      readdirSync(to).sort(),
      taken.map((x) => x.location.slice(to.length + 1)).sort(),
      'every backup taken is in the target, nothing else',
    );
    const audited = await s.db.all("SELECT target FROM audit_log WHERE action = 'backup.scheduled'");
    assert.equal(audited.length, taken.length, 'one audit entry per backup');
    console.log(
      `# ${taken.length} scheduled backups (every ${EVERY_MS} ms): ${taken.map((x) => x.who).join('')}, ` +
        `gaps ${taken
          .slice(1)
          .map((x, i) => x.at - taken[i].at)
          .join(', ')} ms`,
    );
  },
);
