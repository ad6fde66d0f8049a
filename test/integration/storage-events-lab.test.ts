// The storage loop for real on a lab node (4 sparse disks of 512M, zfs-fuse): it runs under its lease as the
// server runs it, starts the scrub the admin scheduled when it is due and reports the result, raises the
// capacity events at 80 % and 90 % (storage state, audit log, /metrics), and follows a disk whose file is
// deleted under the running pool through to a replaced disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { withLab } from '../helpers/lab.ts';
import { startTestApp } from '../helpers/app.ts';
import { addStorageNodes, checkUntilScrubbed, waitForValue } from '../helpers/storage-lab.ts';
import { execInNode } from '../../src/lab/node-control.ts';

const MiB = 1024 * 1024;

test('storage loop on a lab: scheduled scrub, capacity 80/90 %, a disk file deleted', async (t) => {
  const lab = await withLab(t, { nodes: 1, os: 'debian', storageDisks: { count: 4, sizeBytes: 512 * MiB } });
  if (!lab) return;
  const a = await startTestApp(t);
  await addStorageNodes(a, lab);
  const api = (method: string, url: string, body?: unknown) =>
    a.call(method, url, { token: a.adminToken, body });
  const sh = (command: string, allowFailure = false) => execInNode(lab, 1, command, { allowFailure });
  const disks = (await api('GET', '/api/storage/nodes/n1?refresh=true')).json.disks
    .filter((d: any) => d.kind === 'file')
    .map((d: any) => d.path as string);
  assert.equal(disks.length, 4);
  for (const pool of [
    { name: 'small', layout: 'mirror', disks: disks.slice(0, 2), compression: 'off' },
    { name: 'full', layout: 'stripe', disks: [disks[3]], compression: 'off' },
  ]) {
    const created = await api('POST', '/api/storage/nodes/n1/pools', { confirm: true, pool });
    assert.equal(created.status, 200, JSON.stringify(created.json));
  }
  // The loop as the server runs it (runUnder: lease loop:zfs-health, fenced writes), every second.
  const stop = a.services.storageHealth.runUnder(a.services.leases, 1_000);
  t.after(stop);
  const node = async () => (await api('GET', '/api/storage/nodes/n1')).json;
  const health = async (pool: string) => (await node()).health.find((h: any) => h.name === pool);
  const small = () => health('small');
  const audit = async (action: string, pool = 'small') =>
    (await api('GET', `/api/audit?action=${action}`)).json.entries.filter(
      (e: any) => e.target === `n1/${pool}`,
    );

  await t.test('the admin schedules a scrub for now: the loop starts it and reports its result', async () => {
    const history = async () =>
      (await sh('zpool history small')).stdout.split('\n').filter((l) => l.includes('zpool scrub')).length;
    assert.equal(await history(), 0);
    const bad = await api('PUT', '/api/storage/nodes/n1/pools/small/scrub-schedule', {
      every: '1d; reboot',
      next: 'yesterday',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.error.details.map((d: any) => d.path).sort(), ['every', 'next']);
    const set = await api('PUT', '/api/storage/nodes/n1/pools/small/scrub-schedule', {
      every: '30d',
      next: 'now',
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const schedule = await waitForValue(
      'the scheduled scrub to finish and report',
      async () => {
        const s = (await node()).schedules.find((x: any) => x.kind === 'scrub' && x.target === 'small');
        return /finished/.test(s.lastResult) ? s : undefined;
      },
      30_000,
    );
    assert.equal(schedule.lastResult, 'scrub finished without errors');
    assert.ok(Math.abs(schedule.nextRunAt - (Date.now() + 30 * 86400_000)) < 60_000, 'next run in 30 days');
    assert.equal(await history(), 1, 'exactly one scrub, started by the schedule');
    assert.equal((await audit('storage.scrub-finished')).length, 1);
  });

  await t.test(
    'filling the pool past 80 % and 90 %: events in the state, audit log and /metrics',
    async () => {
      const { sizeBytes } = await health('full');
      const fill = async (name: string, fraction: number) => {
        const { allocatedBytes } = await health('full');
        const count = Math.ceil((fraction * sizeBytes - allocatedBytes) / MiB);
        await sh(`dd if=/dev/zero of=/full/${name} bs=1M count=${count} 2>/dev/null; sync`, true);
      };
      const capacityEvent = (kind: string) =>
        waitForValue(
          kind,
          async () => {
            const events = (await api('GET', '/api/storage/events?node=n1')).json.events;
            return events.find((e: any) => e.kind === kind && e.pool === 'full');
          },
          30_000,
        );
      await fill('a', 0.84);
      const e80 = await capacityEvent('capacity-80');
      assert.match(e80.message, /^pool full: 8\d% full \(≥ 80 %\)$/);
      assert.equal((await audit('storage.capacity-80', 'full')).length, 1);
      await fill('b', 0.92);
      const e90 = await capacityEvent('capacity-90');
      assert.match(e90.message, /^pool full: 9\d% full \(≥ 90 %\)$/);
      assert.equal(e90.severity, 'critical');
      assert.equal((await audit('storage.capacity-90', 'full')).length, 1);
      const h = await health('full');
      assert.ok(h.capacityPercent >= 90, JSON.stringify(h));
      const metrics = String((await a.call('GET', '/metrics', { token: a.adminToken })).json);
      const ratio = Number(/grim_zpool_capacity_ratio\{node="n1",pool="full"\} ([0-9.]+)/.exec(metrics)?.[1]);
      assert.ok(ratio >= 0.9, `grim_zpool_capacity_ratio ${ratio}`);
      console.log(
        `# full: ${h.capacityPercent} % of ${sizeBytes} B; events: ${e80.message} / ${e90.message}`,
      );
    },
  );

  await t.test(
    'a disk file deleted under the pool: seen at the next import; replace, resilver, ONLINE',
    async () => {
      const victim = disks[1];
      rmSync(path.join(lab.nodes[0].dir, 'disks', path.basename(victim)));
      // zfs-fuse keeps the deleted file open: I/O and even a scrub go on against the open file.
      await sh('dd if=/dev/urandom of=/small/c bs=1M count=4 2>/dev/null; sync');
      assert.equal((await api('POST', '/api/storage/nodes/n1/pools/small/scrub', {})).status, 200);
      const scrubbed = await checkUntilScrubbed(a, 'n1', 'small', 30_000);
      assert.equal(scrubbed.state, 'ONLINE', 'zfs-fuse does not notice a deleted file while it has it open');
      // The pool is opened again (export + import, as after a reboot): now the missing disk shows.
      await sh('for i in 1 2 3 4 5; do zpool export small && break; sleep 1; done');
      const taken = Date.now();
      const imported = await api('POST', '/api/storage/nodes/n1/pools/import', {
        pool: 'small',
        dir: '/dev/disk/by-id',
      });
      assert.equal(imported.status, 200, JSON.stringify(imported.json));
      const degraded = await waitForValue(
        'small DEGRADED',
        async () => {
          const h = await small();
          return h?.state === 'DEGRADED' ? h : undefined;
        },
        60_000,
      );
      console.log(`# DEGRADED in the API ${((Date.now() - taken) / 1000).toFixed(1)} s after the re-import`);
      // the mirror is DEGRADED, the missing disk UNAVAIL
      assert.deepEqual(degraded.unhealthy.map((u: any) => u.state).sort(), ['DEGRADED', 'UNAVAIL']);
      assert.ok(
        (await audit('storage.state-changed')).some((e: any) => /ONLINE -> DEGRADED/.test(e.details.message)),
      );
      const pool = (await node()).pools.find((p: any) => p.name === 'small');
      const missing = JSON.stringify(pool).match(/"name":"(\d+)"[^}]*"wasPath":"([^"]+)"/);
      assert.ok(missing, JSON.stringify(pool));
      assert.equal(missing[2], victim);
      const replaced = await api('POST', '/api/storage/nodes/n1/pools/small/devices', {
        action: 'replace',
        device: missing[1],
        newDevice: disks[2],
        confirm: true,
      });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.json));
      assert.equal(replaced.json.command, `zpool replace small ${missing[1]} ${disks[2]}`);
      const online = await waitForValue(
        'small ONLINE after resilver',
        async () => {
          const h = await small();
          return h.state === 'ONLINE' && h.scan.kind === 'resilver' && h.scan.state === 'finished'
            ? h
            : undefined;
        },
        60_000,
      );
      assert.equal(online.unhealthy.length, 0);
      assert.equal(
        (await sh('sha256sum /small/c >/dev/null && zpool list -H -o health small')).stdout,
        'ONLINE\n',
      );
    },
  );
});
