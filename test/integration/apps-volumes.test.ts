// Volumes of script apps on a 2-node Debian storage lab whose nodes each have a real zfs-fuse pool, through the
// API: hostile volume specs refused with every problem, a deploy whose volume fits nowhere refused with per-node
// numbers, a counter app redeployed 3 times reaching 3 on the same node in a ZFS dataset whose quota holds,
// ZFS snapshots before each deploy and `rollback --restore-volumes` returning the snapshot's data, growing the
// volume raising the quota, a restic backup (on demand, then by the schedule) to a real SeaweedFS bucket restored
// onto the other node after the volume was wiped (identical checksums, restore time printed), the app following
// its data there, backup age on /metrics, and deleting the app keeping its volume (orphaned) unless asked.
// (Directory volumes in the lab: apps-volumes-runtimes.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execInNode } from '../../src/lab/node-control.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, fetchText, waitJob } from '../helpers/apps-lab.ts';
import { withLab } from '../helpers/lab.ts';
import { startSeaweed } from '../helpers/seaweed.ts';
import { scheduledBackupsTick } from '../../src/services/volumes/schedule.ts';

const START = `d="$GRIM_VOLUME_DATA"
n=$(cat "$d/counter" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$d/counter"
echo "r$GRIM_RELEASE" >> "$d/history"
mkdir -p www
cp "$d/counter" www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;

test(
  'volumes of script apps: pinning, snapshots, rollback, backup to SeaweedFS and restore on another node',
  { timeout: 900_000 },
  async (t) => {
    const lab = await withLab(t, {
      nodes: 2,
      os: 'debian',
      storageDisks: { count: 1, sizeBytes: 256 * 1024 * 1024 },
    });
    if (!lab) return;
    const a = await startTestApp(t);
    await addLab(a, lab, 'pair');
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    const idx = (node: string) => lab.nodes.findIndex((n) => n.name === node) + 1;
    const sh = async (node: string, cmd: string) => (await execInNode(lab, idx(node), cmd)).stdout.trim();
    // A pool on each node's disk: volumes become datasets with quota = size.
    for (const n of lab.nodes)
      await sh(
        n.name,
        'zpool create gvol "/dev/disk/by-id/$(ls /dev/disk/by-id | grep GRIM_LAB_DISK | head -n 1)"',
      );

    // Hostile volume specs: every problem listed, nothing created.
    const hostile = await call('POST', '/api/apps', {
      name: 'evil',
      environment: 'lab',
      group: 'pair',
      size: 'xs',
      runtime: 'script',
      source: { kind: 'script', start: 'sleep 1000' },
      volumes: [
        { name: '../../etc', size: '1Gi', mount: '/data/../../etc' },
        { name: 'x', size: '-5Gi', mount: 'relative' },
        { name: 'y', size: '1Gi', mount: '/proc/sys' },
        { name: 'z', size: '999Pi', mount: '/sys' },
      ],
    });
    assert.equal(hostile.status, 400, JSON.stringify(hostile.json));
    const paths = hostile.json.error.details.map((d: any) => d.path);
    for (const p of ['0/name', '0/mount', '1/size', '1/mount', '2/mount', '3/size', '3/mount'])
      assert.ok(paths.includes(`body/volumes/${p}`), `${p} missing in ${JSON.stringify(paths)}`);
    assert.equal((await call('GET', '/api/apps/evil')).status, 404);

    // A volume that fits nowhere: refused before anything runs, with each node's numbers.
    const huge = await call('POST', '/api/apps', {
      name: 'huge',
      environment: 'lab',
      group: 'pair',
      size: 'xs',
      runtime: 'script',
      source: { kind: 'script', start: 'sleep 1000' },
      volumes: [{ name: 'data', size: '60Ti', mount: '/data' }],
    });
    assert.equal(huge.status, 201, JSON.stringify(huge.json));
    const refused = await call('POST', '/api/apps/huge/deploy', {});
    assert.equal(refused.status, 409, JSON.stringify(refused.json));
    console.log(`# refusal: ${refused.json.error.message}`);
    assert.deepEqual(refused.json.error.details.map((d: any) => d.path).sort(), ['nodes/n1', 'nodes/n2']);
    for (const d of refused.json.error.details)
      assert.match(d.message, /needs 60Ti for new volumes, has \d+(\.\d+)?\S* free/);

    // The counter app: 3 deploys, always on the same node, counter 3.
    const created = await call('POST', '/api/apps', {
      name: 'counter',
      environment: 'lab',
      group: 'pair',
      size: 'xs',
      runtime: 'script',
      source: { kind: 'script', start: START },
      ports: [{ name: 'http', port: 8080 }],
      health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 20 },
      volumes: [
        { name: 'data', size: '64Mi', mount: '/var/lib/counter', backup: { schedule: '1d', keep: 3 } },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const deploy = async (body: unknown = {}, path = 'deploy') => {
      const r = await call('POST', `/api/apps/counter/${path}`, body);
      assert.equal(r.status, 202, JSON.stringify(r.json));
      const j = await waitJob(a, r.json.jobId);
      assert.equal(j.status, 'succeeded', JSON.stringify(j));
      const app = (await call('GET', '/api/apps/counter')).json.app;
      assert.equal(app.instances.length, 1);
      const i = app.instances[0];
      return { node: i.node as string, body: await fetchText(`http://${i.address}:${i.ports.http}/`) };
    };
    const first = await deploy();
    assert.equal(first.body, '1\n');
    for (const expected of ['2\n', '3\n']) {
      const d = await deploy();
      assert.equal(d.node, first.node, 'a stateful instance stays with its data');
      assert.equal(d.body, expected);
    }
    const home = first.node;
    const other = home === 'n1' ? 'n2' : 'n1';
    const volPath = '/var/lib/grim/volumes/counter/data';
    assert.equal(await sh(home, `cat ${volPath}/history | tr '\\n' ' '`), 'r1 r2 r3');
    assert.equal(await sh(other, `test -e ${volPath}; echo $?`), '1', 'no copy on the other node');
    const listed = (await call('GET', '/api/volumes?app=counter')).json.volumes;
    assert.deepEqual(
      listed.map((v: any) => [v.node, v.backend, v.sizeBytes, v.snapshots.map((s: any) => s.name)]),
      [[home, 'zfs', 64 * 1024 * 1024, ['pre-r2', 'pre-r3']]],
    );
    assert.equal(
      await sh(home, 'zfs list -H -t snapshot -o name -r gvol/grim-volumes/counter/data | tr "\\n" " "'),
      'gvol/grim-volumes/counter/data@pre-r2 gvol/grim-volumes/counter/data@pre-r3',
      'real ZFS snapshots',
    );
    // The quota holds: 100 MiB do not fit in the 64Mi volume.
    assert.match(
      await sh(home, `dd if=/dev/zero of=${volPath}/big bs=1M count=100 2>&1; echo "exit $?"`),
      /Disk quota exceeded[\s\S]*exit 1$/,
    );
    await sh(home, `rm -f ${volPath}/big`);

    // Roll back with --restore-volumes: the data returns to the snapshot taken when release 2 was left (counter 2,
    // history r1 r2), then the rolled-back release starts and counts itself.
    const rolled = await deploy({ restoreVolumes: true }, 'rollback');
    assert.equal(rolled.node, home);
    assert.equal(
      await sh(home, `cat ${volPath}/history | tr '\\n' ' '`),
      'r1 r2 r4',
      'release 3 left no trace',
    );
    assert.equal(rolled.body, '3\n', 'snapshot value 2, plus the rollback release start');
    const live = (await call('GET', `/api/nodes/${home}/volumes`)).json.volumes;
    assert.ok(
      live.some((v: any) => v.app === 'counter' && v.snapshots.some((s: any) => s.name === 'pre-r4')),
    );

    // Backups to a bucket on a real SeaweedFS (S3), on the lab bridge where the nodes reach it.
    const weed = await startSeaweed(t, lab.gateway);
    const badTarget = await call('PUT', '/api/backup-targets/sea', {
      kind: 's3',
      endpoint: 'http://user:pw@host/path?x',
      bucket: 'A',
    });
    assert.equal(badTarget.status, 400);
    assert.ok(badTarget.json.error.details.length >= 4, JSON.stringify(badTarget.json));
    const target = await call('PUT', '/api/backup-targets/sea', {
      kind: 's3',
      endpoint: weed.endpoint,
      bucket: 'grim-backups',
      accessKeyId: weed.accessKey,
      secretAccessKey: weed.secretKey,
    });
    assert.equal(target.status, 200, JSON.stringify(target.json));
    assert.ok(!JSON.stringify((await call('GET', '/api/backup-targets')).json).includes(weed.secretKey));
    await sh(
      home,
      `head -c 3000000 /dev/urandom > ${volPath}/blob; mkdir -p ${volPath}/sub; echo deep > ${volPath}/sub/f`,
    );
    const checksum = `cd ${volPath} && find . -type f ! -path './lost+found/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64`;
    let before = await sh(home, checksum);
    const backup = await call('POST', '/api/volumes/counter/data/backups', {});
    assert.equal(backup.status, 200, JSON.stringify(backup.json));
    assert.equal(backup.json.backup.status, 'succeeded', JSON.stringify(backup.json));
    assert.equal(backup.json.backup.node, home);
    const listedBackups = (await call('GET', '/api/volumes/counter/data/backups')).json.backups;
    assert.equal(listedBackups[0].resticId, backup.json.backup.resticId);
    // The schedule (1d) is due a day later: the server's loop round runs restic on the node too.
    await sh(home, `echo scheduled > ${volPath}/sub/g`);
    const scheduled = await scheduledBackupsTick(a.services.apps, Date.now() + 25 * 3600_000);
    assert.deepEqual(
      scheduled.map((b) => [b.volume, b.status, b.node, b.createdBy]),
      [['data', 'succeeded', home, 'schedule']],
      JSON.stringify(scheduled),
    );
    assert.notEqual(scheduled[0].resticId, backup.json.backup.resticId);
    assert.equal((await call('GET', '/api/volumes/counter/data/backups')).json.backups.length, 2);
    assert.deepEqual(await scheduledBackupsTick(a.services.apps, Date.now() + 3600_000), [], 'not due again');
    assert.notEqual(await sh(home, checksum), before);
    before = await sh(home, checksum);
    const metrics = await call('GET', '/metrics');
    assert.match(
      String(metrics.json ?? (metrics as any).body ?? ''),
      /grim_volume_last_backup_age_seconds\{environment="lab",app="counter",volume="data",backed_up="yes"\} \d+/,
    );

    // Wipe the volume on its node, restore onto the other node: identical checksum, restore time printed.
    await sh(home, `rm -rf ${volPath}/*`);
    const t0 = Date.now();
    const restored = await call('POST', '/api/volumes/counter/data/restore', { node: other });
    const wall = Date.now() - t0;
    assert.equal(restored.status, 200, JSON.stringify(restored.json));
    console.log(
      `# restore of counter/data (${restored.json.bytes} bytes) onto ${other}: restic ${restored.json.durationMs} ms, API call ${wall} ms`,
    );
    assert.deepEqual(restored.json.abandoned, [home]);
    assert.equal(await sh(other, checksum), before, 'identical data on the other node');
    // The app follows its data: the next deploy runs it on the node the data was restored to.
    const moved = await deploy();
    assert.equal(moved.node, other);
    assert.equal(moved.body, '4\n', 'the restored counter (3) plus this start');
    // Growing the volume raises the dataset's quota there; the data stays.
    const grown = await deploy({
      volumes: [
        { name: 'data', size: '128Mi', mount: '/var/lib/counter', backup: { schedule: '1d', keep: 3 } },
      ],
    });
    assert.deepEqual([grown.node, grown.body], [other, '5\n']);
    assert.equal(
      await sh(other, 'zfs get -Hp -o value quota gvol/grim-volumes/counter/data'),
      String(128 * 1024 * 1024),
    );

    // Deleting an app keeps its volumes (orphaned) unless asked.
    const del = await call('DELETE', '/api/apps/counter');
    assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
    const orphans = (await call('GET', '/api/volumes?orphaned=true')).json.volumes;
    assert.ok(orphans.some((v: any) => v.app === 'counter' && v.node === other));
    assert.equal(await sh(other, `cat ${volPath}/counter`), '5');
    const gone = await call('DELETE', `/api/volumes/counter/data?node=${other}`);
    assert.equal(gone.status, 200, JSON.stringify(gone.json));
    assert.equal(await sh(other, `test -e ${volPath}; echo $?`), '1');
    const delHuge = await call('DELETE', '/api/apps/huge?deleteVolumes=true');
    assert.equal((await waitJob(a, delHuge.json.jobId)).status, 'succeeded');
  },
);
