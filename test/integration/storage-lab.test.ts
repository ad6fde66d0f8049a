// Storage nodes on a real lab: 2 Debian nodes with 6 sparse-file disks each and a zfs-fuse daemon
// per node (real pools, pool version 23), driven through the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { withLab } from '../helpers/lab.ts';
import { startTestApp } from '../helpers/app.ts';
import { addStorageNodes, checkUntilScrubbed, waitForValue } from '../helpers/storage-lab.ts';
import { execInNode } from '../../src/lab/node-control.ts';
import type { LabState } from '../../src/lab/lab.ts';

const MiB = 1024 * 1024;
/** Promised vs actual capacity: within 1 % for raw size, 2 % for usable space (see README). */
const RAW_TOLERANCE = 0.01;
const USABLE_TOLERANCE = 0.02;

async function sh(lab: LabState, node: number, command: string, allowFailure = false) {
  return execInNode(lab, node, command, { allowFailure });
}

function within(actual: number, promised: number, tolerance: number, what: string) {
  const off = Math.abs(actual - promised) / promised;
  assert.ok(
    off <= tolerance,
    `${what}: promised ${promised}, actual ${actual} (${(off * 100).toFixed(2)} % off, tolerance ${tolerance * 100} %)`,
  );
}

test('storage lab: pools in two layouts, quota, degrade and replace, scrubs, snapshots, replication, hostile names', async (t) => {
  const lab = await withLab(t, { nodes: 2, os: 'debian', storageDisks: { count: 6, sizeBytes: 1024 * MiB } });
  if (!lab) return;
  const a = await startTestApp(t);
  await addStorageNodes(a, lab);
  const token = a.adminToken;
  const api = (method: string, url: string, body?: unknown) => a.call(method, url, { token, body });

  const n1 = (await api('GET', '/api/storage/nodes/n1?refresh=true')).json;
  assert.equal(n1.capabilities.implementation, 'zfs-fuse');
  assert.equal(n1.capabilities.poolVersion, 23);
  // The lab's disks are the sparse files; the host's own disks show through /sys/block too.
  const labDisks = (state: any): string[] =>
    state.disks.filter((d: any) => d.kind === 'file').map((d: any) => d.path);
  const disks1 = labDisks(n1);
  assert.equal(disks1.length, 6);
  assert.ok(
    n1.disks
      .filter((d: any) => d.kind === 'file')
      .every(
        (d: any) => d.inUse === null && d.path.startsWith('/dev/disk/by-id/') && d.sizeBytes === 1024 * MiB,
      ),
  );
  const disks2 = labDisks((await api('GET', '/api/storage/nodes/n2?refresh=true')).json);

  await t.test('hostile names and paths are refused, every problem listed, nothing runs', async () => {
    const r = await api('POST', '/api/storage/nodes/n1/pools', {
      confirm: true,
      pool: {
        name: 'mirror;rm -rf /',
        layout: 'raidz2',
        disks: ['/dev/../etc/passwd', '$(reboot)', disks1[0]],
        compression: 'lz4',
      },
    });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    const messages = r.json.error.details.map((d: any) => `${d.path}: ${d.message}`).join('\n');
    for (const expected of [
      /name: .*cannot begin with "mirror"/,
      /name: .*contains ";", space/,
      /name: .*cannot contain "\/"/,
      /disks\/0: .*"\." or "\.\."/,
      /disks\/1: .*must be under \/dev\//,
      /disks\/1: .*contains "\$", "\(", "\)"/,
      /compression: .*lz4/,
    ])
      assert.match(messages, expected);
    const ds = await api('POST', '/api/storage/nodes/n1/datasets', {
      name: 'tank/../x; reboot',
      quota: '-1',
    });
    assert.equal(ds.status, 400);
    assert.ok(ds.json.error.details.length >= 3, JSON.stringify(ds.json));
    const snap = await api('POST', '/api/storage/nodes/n1/snapshots', {
      action: 'create',
      name: 'tank/data@`id`',
    });
    assert.equal(snap.status, 400);
    const repl = await api('POST', '/api/storage/replications', {
      sourceNode: 'n1',
      snapshot: 'tank@a b',
      targetNode: 'n2',
      targetDataset: '/etc',
    });
    assert.equal(repl.status, 400);
    assert.equal((await sh(lab, 1, 'zpool list -H -o name')).stdout.trim(), '');
    assert.match((await sh(lab, 1, 'zpool history 2>&1', true)).stdout, /no pools available/);
  });

  const created: Record<string, any> = {};
  await t.test(
    'raidz2 on n1 and striped mirrors on n2: command and capacity first, then as promised',
    async () => {
      const req1 = { name: 'tank', layout: 'raidz2', disks: disks1 };
      const plan1 = await api('POST', '/api/storage/nodes/n1/pool-plan', req1);
      assert.equal(plan1.status, 200, JSON.stringify(plan1.json));
      assert.equal(
        plan1.json.commandLine,
        `zpool create -o ashift=12 -O compression=on -O atime=off tank raidz2 ${disks1.join(' ')}`,
      );
      assert.equal(plan1.json.faultTolerance.guaranteed, 2);
      assert.equal((await sh(lab, 1, 'zpool list -H -o name')).stdout.trim(), '', 'a plan runs nothing');
      const c1 = await api('POST', '/api/storage/nodes/n1/pools', { pool: req1, confirm: true });
      assert.equal(c1.status, 200, JSON.stringify(c1.json));
      const req2 = { name: 'vault', layout: 'striped-mirrors', width: 2, disks: disks2.slice(0, 4) };
      const c2 = await api('POST', '/api/storage/nodes/n2/pools', { pool: req2, confirm: true });
      assert.equal(c2.status, 200, JSON.stringify(c2.json));
      assert.equal(c2.json.plan.faultTolerance.bestCase, 2);
      created.tank = c1.json.plan;
      created.vault = c2.json.plan;
      for (const [node, plan] of [
        [1, c1.json.plan],
        [2, c2.json.plan],
      ] as const) {
        const state = (await api('GET', `/api/storage/nodes/n${node}`)).json;
        const health = state.health.find((h: any) => h.name === plan.name);
        assert.equal(health.state, 'ONLINE');
        within(health.sizeBytes, plan.rawBytes, RAW_TOLERANCE, `${plan.name} zpool list SIZE`);
        const root = state.datasets.find((d: any) => d.name === plan.name);
        within(
          root.usedBytes + root.availableBytes,
          plan.usableBytes,
          USABLE_TOLERANCE,
          `${plan.name} usable`,
        );
        console.log(
          `# ${plan.name} (${plan.layout}): promised raw ${plan.rawBytes} usable ${plan.usableBytes}; actual raw ${health.sizeBytes} usable ${root.usedBytes + root.availableBytes}`,
        );
      }
    },
  );

  await t.test('a dataset with a quota: the quota is enforced', async () => {
    const r = await api('POST', '/api/storage/nodes/n1/datasets', {
      name: 'tank/data',
      quota: '100Mi',
      compression: 'off',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.command, 'zfs create -p -o quota=104857600 -o compression=off tank/data');
    const dd = await sh(lab, 1, 'dd if=/dev/urandom of=/tank/data/big bs=1M count=150 2>&1; sync', true);
    assert.match(dd.stdout, /Disk quota exceeded/);
    const ds = (await api('GET', '/api/storage/nodes/n1?refresh=true')).json.datasets.find(
      (d: any) => d.name === 'tank/data',
    );
    assert.equal(ds.quotaBytes, 104857600);
    assert.ok(ds.usedBytes <= 104857600 * 1.01 && ds.usedBytes > 90 * MiB, String(ds.usedBytes));
    await sh(lab, 1, 'rm -f /tank/data/big; sync');
    // ZFS frees the blocks of a deleted file a transaction group later
    await waitForValue(
      'space back under the quota',
      async () => {
        const r = await sh(lab, 1, 'echo probe > /tank/data/probe && rm /tank/data/probe', true);
        return r.code === 0 ? true : undefined;
      },
      30_000,
    );
  });

  await t.test('snapshot and roll back', async () => {
    await sh(lab, 1, 'echo before > /tank/data/file');
    const s = await api('POST', '/api/storage/nodes/n1/snapshots', {
      action: 'create',
      name: 'tank/data@s1',
    });
    assert.equal(s.status, 200, JSON.stringify(s.json));
    await sh(lab, 1, 'echo after > /tank/data/file; touch /tank/data/new');
    const r = await api('POST', '/api/storage/nodes/n1/snapshots', {
      action: 'rollback',
      name: 'tank/data@s1',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((await sh(lab, 1, 'cat /tank/data/file; ls /tank/data')).stdout, 'before\nfile\n');
    const list = (await api('GET', '/api/storage/nodes/n1?refresh=true')).json.datasets;
    assert.ok(list.some((d: any) => d.name === 'tank/data@s1' && d.type === 'snapshot'));
  });

  await t.test('replication to the other node, incremental the second time, checksums match', async () => {
    await sh(lab, 1, 'dd if=/dev/urandom of=/tank/data/one bs=1M count=8 2>/dev/null; sync');
    await api('POST', '/api/storage/nodes/n1/snapshots', { action: 'create', name: 'tank/data@r1' });
    // wait:false answers at once with the job; the job shows the bytes sent so far while it runs
    const first = await api('POST', '/api/storage/replications', {
      sourceNode: 'n1',
      snapshot: 'tank/data@r1',
      targetNode: 'n2',
      targetDataset: 'vault/copy',
      wait: false,
    });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json.running, true);
    let whileRunning = 0;
    const job = await waitForValue(
      'replication job to end',
      async () => {
        const j = (await api('GET', `/api/jobs/${first.json.jobId}`)).json.job;
        if (j.status === 'running' && /^sent \d+ bytes/m.test(j.tasks[0]?.output ?? '')) whileRunning++;
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
      },
      60_000,
      100,
    );
    console.log(`# replication: progress seen in ${whileRunning} polls while the stream ran`);
    assert.equal(job.kind, 'storage.replicate');
    assert.equal(job.status, 'succeeded', job.summary);
    const firstBytes = job.tasks[0].result.bytes;
    assert.ok(firstBytes > 8 * MiB);
    // Progress went through the job: a line per second and one at the end, bytes never going down
    const sentLines = [...job.tasks[0].output.matchAll(/^sent (\d+) bytes \(\S+\) in [\d.]+ s, \S+\/s$/gm)];
    assert.ok(sentLines.length >= 1, job.tasks[0].output);
    const counts = sentLines.map((m) => Number(m[1]));
    assert.deepEqual(
      counts,
      [...counts].sort((x, y) => x - y),
    );
    assert.equal(counts.at(-1), firstBytes);
    await sh(lab, 1, 'dd if=/dev/urandom of=/tank/data/two bs=1M count=4 2>/dev/null; sync');
    await api('POST', '/api/storage/nodes/n1/snapshots', { action: 'create', name: 'tank/data@r2' });
    const second = await api('POST', '/api/storage/replications', {
      sourceNode: 'n1',
      snapshot: 'tank/data@r2',
      from: 'tank/data@r1',
      targetNode: 'n2',
      targetDataset: 'vault/copy',
    });
    assert.equal(second.status, 200, JSON.stringify(second.json));
    assert.equal(second.json.incremental, true);
    assert.ok(second.json.bytes < firstBytes, `incremental ${second.json.bytes} < full ${firstBytes}`);
    for (const snap of ['vault/copy@r1', 'vault/copy@r2'])
      assert.ok(second.json.received.snapshots.includes(snap), snap);
    const sums = async (node: number, dir: string) =>
      (await sh(lab, node, `cd ${dir} && sha256sum file one two`)).stdout;
    assert.equal(await sums(2, '/vault/copy'), await sums(1, '/tank/data'));
  });

  await t.test('scrub on demand reports its result (on schedule: storage-events-lab)', async () => {
    const r = await api('POST', '/api/storage/nodes/n1/pools/tank/scrub', {});
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.command, 'zpool scrub tank');
    const health = await checkUntilScrubbed(a, 'n1', 'tank', 60_000);
    assert.equal(health.scan.errors, 0);
    const events = (await api('GET', '/api/storage/events?node=n1')).json.events;
    assert.ok(
      events.some((e: any) => e.kind === 'scrub-finished' && e.pool === 'tank'),
      JSON.stringify(events),
    );
  });

  await t.test(
    'a disk taken away: DEGRADED in the API, audit and metrics within 60 s; replace, resilver, ONLINE',
    async () => {
      const stop = a.services.storageHealth.runUnder(a.services.leases, 5_000);
      t.after(stop);
      const victim = disks2[0];
      const taken = Date.now();
      await sh(lab, 2, `zpool offline vault ${victim}`);
      const degraded = await waitForValue(
        'vault DEGRADED',
        async () => {
          const h = (await api('GET', '/api/storage/nodes/n2')).json.health.find(
            (x: any) => x.name === 'vault',
          );
          return h.state === 'DEGRADED' ? h : undefined;
        },
        60_000,
      );
      const seconds = (Date.now() - taken) / 1000;
      console.log(`# DEGRADED seen by grim ${seconds.toFixed(1)} s after the disk was taken away`);
      assert.ok(degraded.unhealthy.some((u: any) => u.state === 'OFFLINE'));
      const audit = (await api('GET', '/api/audit?action=storage.state-changed')).json;
      assert.ok(JSON.stringify(audit).includes('ONLINE -> DEGRADED'), JSON.stringify(audit).slice(0, 500));
      const metrics = await a.call('GET', '/metrics', { token });
      assert.match(String(metrics.json), /grim_zpool_health\{node="n2",pool="vault",state="DEGRADED"\} 1/);
      const federate = await a.call('GET', '/metrics/federate', { token });
      assert.match(String(federate.json), /grim_zpool_health\{node="n2",pool="vault",state="DEGRADED"\} 1/);

      const device = victim;
      const preview = await api('POST', '/api/storage/nodes/n2/pools/vault/devices', {
        action: 'replace',
        device,
        newDevice: disks2[4],
      });
      assert.equal(preview.status, 200, JSON.stringify(preview.json));
      assert.deepEqual(preview.json, { command: `zpool replace vault ${device} ${disks2[4]}`, ran: false });
      const done = await api('POST', '/api/storage/nodes/n2/pools/vault/devices', {
        action: 'replace',
        device,
        newDevice: disks2[4],
        confirm: true,
      });
      assert.equal(done.status, 200, JSON.stringify(done.json));
      const online = await waitForValue(
        'vault ONLINE after resilver',
        async () => {
          const h = (await api('POST', '/api/storage/nodes/n2/check')).json.health.find(
            (x: any) => x.name === 'vault',
          );
          return h.state === 'ONLINE' && h.scan.kind === 'resilver' && h.scan.state === 'finished'
            ? h
            : undefined;
        },
        60_000,
      );
      assert.equal(online.unhealthy.length, 0);
      const events = (await api('GET', '/api/storage/events?node=n2')).json.events.map((e: any) => e.message);
      assert.ok(
        events.some((m: string) => m.includes('DEGRADED -> ONLINE')),
        events.join('\n'),
      );
    },
  );

  await t.test(
    'silent corruption: a scrub finds and repairs it, errors reach events and metrics, clear resets them',
    async () => {
      // Overwrite part of one mirror side's disk file behind zfs-fuse's back (labels at both ends stay).
      const file = path.join(lab.nodes[1].dir, 'disks', path.basename(disks2[1]));
      execFileSync('dd', [
        'if=/dev/urandom',
        `of=${file}`,
        'bs=1M',
        'seek=8',
        'count=200',
        'conv=notrunc',
        'status=none',
      ]);
      assert.equal((await api('POST', '/api/storage/nodes/n2/pools/vault/scrub', {})).status, 200);
      const h = await checkUntilScrubbed(a, 'n2', 'vault', 60_000);
      assert.ok(h.errors > 0, `checksum errors counted: ${JSON.stringify(h)}`);
      assert.equal(h.state, 'ONLINE', 'a mirror repairs what one side lost');
      const kinds = (await api('GET', '/api/storage/events?node=n2')).json.events.map((e: any) => e.kind);
      assert.ok(kinds.includes('errors-increased') && kinds.includes('scrub-found-errors'), kinds.join(','));
      const metrics = String((await a.call('GET', '/metrics', { token })).json);
      assert.match(metrics, /grim_zpool_errors\{node="n2",pool="vault"\} [1-9]/);
      const cleared = await api('POST', '/api/storage/nodes/n2/pools/vault/devices', { action: 'clear' });
      assert.equal(cleared.json.command, 'zpool clear vault');
      const after = (await api('GET', '/api/storage/nodes/n2')).json.health.find(
        (y: any) => y.name === 'vault',
      );
      assert.equal(after.errors, 0);
    },
  );

  await t.test('snapshot policy: the scheduler takes them and keeps the newest N', async () => {
    const r = await api('PUT', '/api/storage/nodes/n1/snapshot-policies', {
      dataset: 'tank/data',
      label: 'hourly',
      keep: 2,
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    for (let hour = 1; hour <= 3; hour++)
      await a.services.storageHealth.runSchedules(Date.now() + hour * 3_601_000);
    const snaps = (await sh(lab, 1, 'zfs list -H -t snapshot -o name -r tank/data')).stdout
      .split('\n')
      .filter((l) => l.includes('@grim-hourly-'));
    assert.equal(snaps.length, 2, snaps.join(', '));
    const policy = (await api('GET', '/api/storage/nodes/n1')).json.schedules.find(
      (x: any) => x.kind === 'snapshot',
    );
    assert.match(policy.lastResult, /^took tank\/data@grim-hourly-\d{8}-\d{6}, removed 1$/);
  });

  await t.test('an existing pool is found and adopted (zpool import)', async () => {
    await sh(lab, 1, 'for i in 1 2 3 4 5; do zpool export tank && break; sleep 1; done');
    const listing = await api('POST', '/api/storage/nodes/n1/pools/import', { dir: '/dev/disk/by-id' });
    assert.equal(listing.status, 200, JSON.stringify(listing.json));
    assert.match(listing.json.result.listing, /pool: tank/);
    assert.deepEqual(
      listing.json.result.importable.map((p: any) => [p.name, p.state, /^\d+$/.test(p.id)]),
      [['tank', 'ONLINE', true]],
    );
    const adopted = await api('POST', '/api/storage/nodes/n1/pools/import', {
      pool: 'tank',
      dir: '/dev/disk/by-id',
    });
    assert.equal(adopted.status, 200, JSON.stringify(adopted.json));
    assert.equal(adopted.json.command, 'zpool import -d /dev/disk/by-id tank');
    const h = (await api('GET', '/api/storage/nodes/n1')).json.health.find((x: any) => x.name === 'tank');
    assert.equal(h.state, 'ONLINE');
    assert.equal((await sh(lab, 1, 'cat /tank/data/file')).stdout, 'before\n');
  });
});
