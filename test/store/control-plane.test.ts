// Shared state across grim instances on one database (SQLite and PostgreSQL): the login rate limit counts
// attempts made through any instance; jobs belong to their instance and only orphans (owner's lease gone)
// are interrupted, after which the old owner cannot write to them. Plus the SQLite data-directory lock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { storeCases, skipReason } from '../helpers/stores.ts';
import type { Db } from '../../src/store/db.ts';
import { LoginLimiter } from '../../src/server/login-limiter.ts';
import { JobStore } from '../../src/services/jobs.ts';
import { LeaseManager } from '../../src/services/leases.ts';
import { liveInstanceIds } from '../../src/store/leases-repo.ts';
import { DataDirLockedError, lockDataDir } from '../../src/store/sqlite-lock.ts';

for (const sc of storeCases) {
  describe(`control plane state on ${sc.name}`, async () => {
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

    withDb('the login limit holds across instances sharing the database', async (db) => {
      const a = new LoginLimiter({ db, perUser: 3, perIp: 100 });
      const b = new LoginLimiter({ db, perUser: 3, perIp: 100 });
      const now = Date.now();
      await a.note('10.0.0.1', 'alice', false, now);
      await b.note('10.0.0.2', 'alice', false, now + 1);
      assert.equal(await a.retryAfter('10.0.0.3', 'alice', now + 2), 0);
      await a.note('10.0.0.3', 'alice', false, now + 2);
      // Three failures through two instances: the fourth attempt waits, on either instance.
      assert.ok((await b.retryAfter('10.0.0.4', 'alice', now + 3)) > 0);
      assert.ok((await a.retryAfter('10.0.0.4', 'alice', now + 3)) > 0);
      assert.equal(await a.retryAfter('10.0.0.4', 'bob', now + 3), 0);
      // Once the window has passed, attempts are allowed again.
      assert.equal(await b.retryAfter('10.0.0.4', 'alice', now + 5 * 60_000 + 10), 0);
    });

    withDb(
      'orphaned jobs are interrupted, live owners are left alone, old owners are fenced off',
      async (db) => {
        const ma = new LeaseManager(db, { instanceId: 'A', ttlMs: 400, renewMs: 100, log: () => undefined });
        const mb = new LeaseManager(db, { instanceId: 'B', ttlMs: 400, renewMs: 100, log: () => undefined });
        await ma.start();
        await mb.start();
        const ja = new JobStore(db, 'A');
        const jb = new JobStore(db, 'B');
        const jobA = await ja.create('run', {}, 'admin', ['n1']);
        const jobB = await jb.create('run', {}, 'admin', ['n1']);
        // B starts up / sweeps: A is alive, so its job stays running.
        assert.deepEqual(await jb.markOrphansInterrupted(await liveInstanceIds(db)), []);
        assert.equal((await jb.get(jobA)).status, 'running');
        assert.equal((await jb.get(jobA)).owner, 'A');
        // A stops renewing (killed): after its lease expires, B interrupts A's job and only that.
        await ma.stop();
        assert.deepEqual(await jb.markOrphansInterrupted(await liveInstanceIds(db)), [jobA]);
        assert.equal((await jb.get(jobA)).status, 'interrupted');
        assert.equal((await jb.get(jobA)).tasks[0].status, 'interrupted');
        assert.equal((await jb.get(jobB)).status, 'running');
        // A comes back from a pause and tries to finish its job: refused, the job stays interrupted.
        await ja.taskFinished(jobA, 'n1', { status: 'succeeded', output: 'late' });
        await ja.finish(jobA, 'succeeded', 'late');
        const late = await jb.get(jobA);
        assert.equal(late.status, 'interrupted');
        assert.equal(late.tasks[0].status, 'interrupted');
        await jb.finish(jobB, 'succeeded', 'ok');
        assert.equal((await jb.get(jobB)).status, 'succeeded');
        await mb.stop();
      },
    );

    withDb('a job run by one instance can be followed from another through its rows', async (db) => {
      const ja = new JobStore(db, 'A');
      const jb = new JobStore(db, 'B');
      const id = await ja.create('run', {}, 'admin', ['n1', 'n2']);
      await ja.taskStarted(id, 'n1');
      ja.output(id, 'n1', 'stdout', 'hello ');
      ja.output(id, 'n1', 'stdout', 'world\n');
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(jb.isLocal(id), false);
      // B's view of the running job has the output so far, from job_events.
      const snap = await jb.get(id);
      assert.equal(snap.tasks[0].output, 'hello world\n');
      const { seq } = await jb.storedProgress(id);
      const seen: string[] = [];
      const ctl = new AbortController();
      const following = jb.follow(
        id,
        seq,
        (e) =>
          seen.push(e.type === 'output' ? `out:${e.chunk}` : `${e.type}:${'status' in e ? e.status : ''}`),
        ctl.signal,
        30,
      );
      ja.output(id, 'n2', 'stderr', 'late\n');
      await ja.taskFinished(id, 'n1', { status: 'succeeded', exitCode: 0 });
      await ja.finish(id, 'succeeded', 'all good');
      await following;
      assert.deepEqual(seen, ['out:late\n', 'task:succeeded', 'done:succeeded']);
      assert.equal((await jb.get(id)).tasks[0].output, 'hello world\n');
    });
  });
}

test('SQLite: a second holder of the data directory is refused with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grim-lock-'));
  try {
    const lock = lockDataDir(dir, 'pid 1 test');
    assert.throws(() => lockDataDir(dir), DataDirLockedError);
    // Another process too (SQLite's lock is the operating system's).
    const other = spawnSync(
      process.execPath,
      [
        '-e',
        `import('${join(import.meta.dirname, '../../src/store/sqlite-lock.ts')}').then((m) => { try { m.lockDataDir(${JSON.stringify(dir)}); console.log('got it'); } catch (e) { console.log(e.message); process.exit(3); } })`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(other.status, 3, other.stdout + other.stderr);
    assert.match(
      other.stdout,
      /another grim server \(pid 1 test since .*\) is running on the data directory/,
    );
    assert.match(other.stdout, /PostgreSQL/);
    lock.release();
    lockDataDir(dir).release(); // free again once released
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
