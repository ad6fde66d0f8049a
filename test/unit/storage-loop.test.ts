// The storage loop on a real database (SQLite and PostgreSQL) with the node side faked: a due scrub is
// claimed, started and later reports its result; once another instance has taken the loop's lease over,
// the old holder writes nothing (no health, no events, no audit) and starts nothing on a node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, skipReason } from '../helpers/stores.ts';
import type { Db } from '../../src/store/db.ts';
import { LeaseLostError, tryAcquireLease } from '../../src/store/leases-repo.ts';
import { fencedDb } from '../../src/store/fenced-db.ts';
import { AuditLog } from '../../src/services/audit.ts';
import { StorageService } from '../../src/services/storage/storage-service.ts';
import { StorageHealthLoop, STORAGE_LOOP_LEASE } from '../../src/services/storage/health-loop.ts';
import { saveStorageNode, upsertSchedule, listSchedules } from '../../src/store/storage-repo.ts';
import type { PoolHealth } from '../../src/domain/storage/health.ts';
import type { SshPool } from '../../src/ssh/index.ts';

const pool = (over: Partial<PoolHealth>): PoolHealth => ({
  name: 'tank',
  state: 'ONLINE',
  errors: 0,
  dataErrors: 0,
  capacityPercent: 10,
  sizeBytes: 1000,
  allocatedBytes: 100,
  freeBytes: 900,
  scan: { kind: null, state: 'none' },
  unhealthy: [],
  ...over,
});

/** A storage service whose node side is a script: each read returns the next health; runs are recorded. */
function fakeService(db: Db, readings: PoolHealth[][]) {
  const service = new StorageService({ db, pool: {} as SshPool, audit: new AuditLog(db) });
  const ran: string[] = [];
  let i = 0;
  const next = () => ({ pools: [], health: readings[Math.min(i++, readings.length - 1)], datasets: [] });
  service.nodes.readStatus = async () => next();
  service.nodes.read = async () => ({ capabilities: null, disks: [], ...next() });
  service.nodes.run = async (node, script, env) => {
    ran.push(`${node} ${script} ${env.POOL ?? ''}`);
    return {};
  };
  return { service, ran };
}

const count = async (db: Db, table: string) =>
  Number((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n);

for (const sc of storeCases) {
  describe(`storage loop on ${sc.name}`, async () => {
    const skip = await skipReason(sc);
    test(
      'a due scrub runs and reports its result; a stale lease holder writes and starts nothing',
      { skip },
      async () => {
        const { db, cleanup } = await sc.open();
        try {
          const scrubbing = pool({ scan: { kind: 'scrub', state: 'in-progress', percentDone: 10 } });
          const scrubbed = pool({ scan: { kind: 'scrub', state: 'finished', errors: 0, when: 'today' } });
          const degraded = pool({
            ...scrubbed,
            state: 'DEGRADED',
            unhealthy: [{ path: 'd1', state: 'UNAVAIL' }],
          });
          const { service, ran } = fakeService(db, [
            [pool({})],
            [scrubbing],
            [scrubbing],
            [scrubbed],
            [degraded],
          ]);
          const loop = new StorageHealthLoop(service);
          await saveStorageNode(db, 'n1', { health: JSON.stringify([pool({})]) });
          await upsertSchedule(db, {
            node: 'n1',
            target: 'tank',
            kind: 'scrub',
            label: '',
            every_seconds: 86400,
            keep: 0,
            last_run_at: Date.now() - 86400_000, // due now
          });
          const a = await tryAcquireLease(db, STORAGE_LOOP_LEASE, 'A', 60_000);
          assert.ok(a.held);
          const asA = fencedDb(db, { name: STORAGE_LOOP_LEASE, holder: 'A', token: a.token });

          await loop.tick(asA);
          assert.deepEqual(ran, ['n1 zpool-scrub tank']);
          let [sch] = await listSchedules(db, 'n1');
          assert.equal(sch.last_result, 'scrub started');
          assert.ok(Date.now() - Number(sch.last_run_at) < 5_000, 'the next run is a day away again');
          await loop.tick(asA); // still scrubbing: no second scrub
          assert.equal(ran.length, 1);
          await loop.tick(asA); // finished
          [sch] = await listSchedules(db, 'n1');
          assert.equal(sch.last_result, 'scrub finished without errors');
          const events = await count(db, 'storage_events');
          const audit = await count(db, 'audit_log');
          assert.ok(events >= 1 && audit === events, `${events} events, ${audit} audit rows`);

          // Another instance takes the loop over (A is gone: no waiting for its lease to run out, which a loaded
          // machine could reach before A's own rounds end); A's next round (the pool went DEGRADED, a scrub is
          // due) lands nothing.
          assert.ok((await tryAcquireLease(db, STORAGE_LOOP_LEASE, 'B', 5000, (h) => h === 'A')).held);
          await assert.rejects(loop.tick(asA), LeaseLostError); // the DEGRADED reading is not stored
          await db.run('UPDATE storage_schedules SET last_run_at = 0');
          await assert.rejects(loop.tick(asA), LeaseLostError); // the due scrub is not claimed, so not run
          assert.equal(ran.length, 1, 'no scrub started by the stale holder');
          assert.equal(await count(db, 'storage_events'), events);
          assert.equal(await count(db, 'audit_log'), audit);
          const row = await db.get<{ health: string }>("SELECT health FROM storage_nodes WHERE node = 'n1'");
          assert.equal((JSON.parse(row!.health) as PoolHealth[])[0].state, 'ONLINE');
        } finally {
          await cleanup();
        }
      },
    );
  });
}
