/**
 * Volumes in the apps engine on both databases, with the fake driver and fake nodes that also answer the volume
 * scripts: a stateful app is refused with each node's numbers when its volume fits nowhere; redeploys stay on the
 * node holding the data and snapshot it first; a rollback with --restore-volumes restores the snapshot taken
 * when that release was left; failover of a stateful app whose node is lost is not silent (job + instance note
 * offering a restore) until the data has been restored elsewhere, and then the instance follows it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/store/db.ts';
import type { OpCtx } from '../../src/drivers/driver.ts';
import { DriverSet } from '../../src/drivers/driver-set.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { JobStore } from '../../src/services/jobs.ts';
import { AppService } from '../../src/services/apps/app-service.ts';
import { appInstances, type InstanceRow } from '../../src/store/instances-repo.ts';
import { appVolumes, setVolumeState, upsertVolume } from '../../src/store/volumes-repo.ts';
import { scheduledBackupsTick } from '../../src/services/volumes/schedule.ts';
import { skipReason, storeCases } from '../helpers/stores.ts';
import { FakeDriver, FakeNodes, seedNodes } from '../helpers/fake-engine.ts';

const GI = 1024 ** 3;

/** Fake nodes that keep volumes: free space per node, the scripts grim ran with their parameters. */
class VolumeNodes extends FakeNodes {
  free = new Map<string, number>([
    ['n1', 5 * GI],
    ['n2', 5 * GI],
  ]);
  readonly scripts: Array<{ node: string; name: string; env: Record<string, string> }> = [];
}

function engine(db: Db, nodes: VolumeNodes) {
  const driver = new FakeDriver(nodes);
  const jobs = new JobStore(db, `fake-${randomBytes(4).toString('hex')}`);
  const ctx = (node: string, log: (l: string) => void): OpCtx => ({
    node,
    log,
    async runScript(name, env) {
      if (nodes.unreachable.has(node)) throw new Error(`connect ECONNREFUSED ${node}`);
      nodes.scripts.push({ node, name, env });
      const result = { exitCode: 0, stdout: '', stderr: '', durationMs: 0, timedOut: false };
      if (name === 'app-health')
        return { json: { healthy: await driver.health(env.INSTANCE_ID, node) }, result };
      const json = (() => {
        switch (name) {
          case 'app-list':
            return nodes.listing(node);
          case 'volume-space':
            return { backend: 'dir', pool: null, freeBytes: nodes.free.get(node) ?? 0 };
          case 'volume-create':
            return {
              created: true,
              backend: 'dir',
              path: `/var/lib/grim/volumes/${env.APP}/${env.NAME}`,
              image: null,
              sizeBytes: Number(env.SIZE_BYTES),
              usedBytes: 0,
            };
          case 'volume-snapshot':
            return { taken: true, kind: 'copy', bytes: 10, reason: '', deleted: [] };
          case 'volume-restore-snapshot':
            return { restored: true, kind: 'copy', bytes: 10 };
          case 'volume-backup':
            return { snapshotId: 'abcd1234', bytes: 100, files: 2, added: 100, durationMs: 5, forgotten: 0 };
          default:
            throw new Error(`the fake node has no script ${name}`);
        }
      })();
      return { json, result };
    },
    async upload() {
      throw new Error('no uploads');
    },
  });
  const apps = new AppService({
    db,
    jobs,
    box: new SecretBox(randomBytes(32)),
    drivers: new DriverSet([driver]),
    nodes: (node, log) => ctx(node.name, log),
    sleep: async () => undefined,
  });
  return { apps, jobs, driver };
}

async function open(t: TestContext, c: (typeof storeCases)[number]) {
  const skip = await skipReason(c);
  if (skip) {
    t.skip(skip);
    return undefined;
  }
  const { db, cleanup } = await c.open();
  t.after(cleanup);
  await seedNodes(db, 2);
  return db;
}

async function settle(apps: AppService) {
  while (apps.running.size) await Promise.all([...apps.running.values()]);
}

const HEALTH = { type: 'command' as const, command: 'true', intervalSec: 1, timeoutSec: 1, retries: 3 };
const SCRIPT_APP = {
  environment: 'e',
  group: 'g',
  cpu: '100m',
  memory: '64Mi',
  disk: '100Mi',
  runtime: 'script',
  source: { kind: 'script' as const, start: 'exec sleep 1000' },
  health: HEALTH,
};

for (const c of storeCases) {
  test(`${c.name}: a stateful app stays with its data, snapshots before deploys, restores on rollback`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new VolumeNodes();
    const e = engine(db, nodes);
    const base = {
      ...SCRIPT_APP,
      failover: 'reschedule' as const,
    };
    await e.apps.create(
      { ...base, name: 'big', volumes: [{ name: 'data', size: '8Gi', mount: '/data' }] },
      't',
    );
    await assert.rejects(e.apps.deploy('big', {}, 't'), (err: any) => {
      assert.equal(err.code, 'conflict');
      assert.deepEqual(
        err.details.map((d: any) => `${d.path}: ${d.message}`),
        [
          'nodes/n1: needs 8Gi for new volumes, has 5Gi free',
          'nodes/n2: needs 8Gi for new volumes, has 5Gi free',
        ],
      );
      return true;
    });

    await e.apps.create(
      { ...base, name: 'db', volumes: [{ name: 'data', size: '1Gi', mount: '/data' }] },
      't',
    );
    const homes: string[] = [];
    for (let i = 0; i < 3; i++) {
      await e.apps.deploy('db', { changes: { env: { N: String(i) } } }, 't');
      await settle(e.apps);
      const all: InstanceRow[] = await appInstances(db, 'db');
      const insts = all.filter((x) => x.state === 'running');
      assert.equal(insts.length, 1);
      homes.push(insts[0].node);
    }
    assert.equal(new Set(homes).size, 1, `always on the same node: ${homes}`);
    const home = homes[0];
    const snaps = nodes.scripts
      .filter((s) => s.name === 'volume-snapshot')
      .map((s) => `${s.node}:${s.env.SNAPSHOT}`);
    assert.deepEqual(snaps, [`${home}:pre-r2`, `${home}:pre-r3`]);
    await e.apps.rollback('db', undefined, false, 't', { restoreVolumes: true });
    await settle(e.apps);
    const restores = nodes.scripts.filter((s) => s.name === 'volume-restore-snapshot');
    assert.deepEqual(
      restores.map((s) => `${s.node}:${s.env.SNAPSHOT}`),
      [`${home}:pre-r3`],
      'rollback to release 2 restores the snapshot taken when release 2 was left',
    );
    const order = nodes.scripts.map((s) => s.name).filter((n) => n.startsWith('volume-'));
    assert.ok(
      order.lastIndexOf('volume-snapshot') < order.indexOf('volume-restore-snapshot'),
      'pre-r4 first',
    );

    // The node holding the data is lost: no silent move, a failed job offers the restore.
    nodes.unreachable.add(home);
    const r = await e.apps.reconcile();
    assert.deepEqual(r.failover, ['db']);
    await settle(e.apps);
    const lost = await appInstances(db, 'db');
    assert.deepEqual(
      lost.map((i) => [i.node, i.state]),
      [[home, 'lost']],
    );
    assert.match(lost[0].message, /not rescheduled: .* grim volume restore db data --node <node>/);
    const jobs = await db.all<{ kind: string; status: string }>(
      "SELECT kind, status FROM jobs WHERE kind = 'app.failover'",
    );
    assert.deepEqual(
      jobs.map((j) => `${j.kind}:${j.status}`),
      ['app.failover:failed'],
    );

    // After a restore onto the other node (what `grim volume restore` records), failover follows the data.
    const other = home === 'n1' ? 'n2' : 'n1';
    const row = (await appVolumes(db, 'db'))[0];
    await upsertVolume(db, { ...row, node: other });
    await setVolumeState(db, 'db', home, 'abandoned');
    await e.apps.reconcile();
    await settle(e.apps);
    const moved = (await appInstances(db, 'db')).filter((i) => i.state === 'running');
    assert.deepEqual(
      moved.map((i) => i.node),
      [other],
    );
  });

  test(`${c.name}: scheduled backups run when due, the backup age is reported, passwords and keys stay sealed`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new VolumeNodes();
    const e = engine(db, nodes);
    await e.apps.create(
      {
        ...SCRIPT_APP,
        name: 'db',
        volumes: [{ name: 'data', size: '1Gi', mount: '/data', backup: { schedule: '6h', keep: 4 } }],
      },
      't',
    );
    await e.apps.deploy('db', {}, 't');
    await settle(e.apps);
    // The server's loop runs scheduledBackupsTick under the 'loop:volume-backups' lease; here with a given clock.
    const tick = (now: number) => scheduledBackupsTick(e.apps, now);
    await assert.rejects(
      tick(Date.now() + 7 * 3600_000).then((r) => {
        if (r[0]?.status === 'failed') throw new Error(r[0].message);
      }),
      /no backup target/,
    );
    await e.apps.backups.putTarget({
      name: 'sea',
      kind: 's3',
      endpoint: 'http://10.0.0.5:8333',
      bucket: 'grim-backups',
      accessKeyId: 'AKID',
      secretAccessKey: 'the-secret',
    });
    const now = Date.now();
    assert.deepEqual(await tick(now + 3600_000), [], 'not due yet');
    const ran = await tick(now + 7 * 3600_000);
    assert.deepEqual(
      ran.map((b) => [b.volume, b.status, b.resticId, b.target]),
      [['data', 'succeeded', 'abcd1234', 'sea']],
    );
    const call = nodes.scripts.filter((s) => s.name === 'volume-backup').pop()!;
    assert.equal(call.env.KEEP, '4');
    assert.equal(call.env.RESTIC_REPOSITORY, 's3:http://10.0.0.5:8333/grim-backups/grim/e/db');
    assert.equal(call.env.AWS_SECRET_ACCESS_KEY, 'the-secret');
    assert.ok(call.env.RESTIC_PASSWORD.length >= 40, 'a random per-app password');
    const stored =
      JSON.stringify(await db.all('SELECT * FROM backup_targets')) +
      JSON.stringify(await db.all('SELECT * FROM volume_passwords'));
    assert.ok(!stored.includes('the-secret') && !stored.includes(call.env.RESTIC_PASSWORD), 'sealed at rest');
    assert.deepEqual(await tick(Date.now() + 5 * 3600_000), [], 'the next one is due 6h after this attempt');
    const ages = await e.apps.backups.lastBackupAges(Date.now() + 60_000);
    assert.equal(ages.length, 1);
    assert.ok(
      ages[0].lastGood !== null && ages[0].ageSeconds >= 59 && ages[0].ageSeconds < 120,
      JSON.stringify(ages),
    );
  });
}

for (const c of storeCases)
  test(`${c.name}: a volume grows with a deploy, never shrinks (refused with the sizes; a rollback keeps the size)`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new VolumeNodes();
    const e = engine(db, nodes);
    const vol = (size: string) => [{ name: 'data', size, mount: '/data' }];
    await e.apps.create({ ...SCRIPT_APP, name: 'db', volumes: vol('1Gi') }, 't');
    await e.apps.deploy('db', {}, 't');
    await settle(e.apps);
    const sizes = () =>
      nodes.scripts.filter((s) => s.name === 'volume-create').map((s) => Number(s.env.SIZE_BYTES) / GI);
    await e.apps.deploy('db', { changes: { volumes: vol('2Gi') } }, 't');
    await settle(e.apps);
    await assert.rejects(e.apps.deploy('db', { changes: { volumes: vol('512Mi') } }, 't'), (err: any) => {
      assert.equal(err.code, 'invalid');
      assert.deepEqual(
        err.details.map((d: any) => d.path),
        ['body/volumes/0/size'],
      );
      assert.match(
        err.details[0].message,
        /volume data is 2147483648 bytes on n[12]: it cannot shrink to 536870912/,
      );
      return true;
    });
    await e.apps.rollback('db', 1, false, 't');
    await settle(e.apps);
    assert.deepEqual(sizes(), [1, 2, 2], 'the rollback to the 1Gi release keeps the grown 2Gi copy');
    assert.deepEqual(
      (await appVolumes(db, 'db')).map((v) => Number(v.size_bytes) / GI),
      [2],
    );
  });
