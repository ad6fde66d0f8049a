/**
 * The apps engine (app-service, rollout-runner, reconciler, planner) on both databases, with a fake driver over
 * fake nodes: no root, no lab. The driver fails (or hangs, as a crash of grim would leave it) at each phase:
 * create, start, health, stop, destroy. Each case checks what a user relies on: which release serves, which
 * instances exist on the nodes and in the store, and which host ports stay held.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../../src/store/db.ts';
import { skipReason, storeCases } from '../helpers/stores.ts';
import {
  FakeNodes,
  fakeEngine,
  secretKey,
  seedNodes,
  type FakeEngine,
  type Phase,
} from '../helpers/fake-engine.ts';
import { getApp, listReleases } from '../../src/store/apps-repo.ts';
import { appInstances, portsOn } from '../../src/store/instances-repo.ts';

const START = 'exec sleep 1000';
const HEALTH = { type: 'command' as const, command: 'true', intervalSec: 1, timeoutSec: 1, retries: 3 };

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

/** Every rollout this engine started (reverts and failovers included) has ended. */
async function settle(e: FakeEngine) {
  while (e.apps.running.size) await Promise.all([...e.apps.running.values()]);
}

async function createApp(e: FakeEngine, o: { replicas?: number; failover?: 'report' | 'reschedule' } = {}) {
  await e.apps.create(
    {
      name: 'web',
      environment: 'e',
      group: 'g',
      replicas: o.replicas ?? 2,
      cpu: '100m',
      memory: '64Mi',
      disk: '100Mi',
      runtime: 'script',
      source: { kind: 'script', start: START },
      ports: [{ name: 'http', port: 8080 }],
      secrets: { TOKEN: 'sealed' },
      health: HEALTH,
      failover: o.failover ?? 'report',
      maxParallel: 1,
    },
    'tester',
  );
}

async function deploy(e: FakeEngine, greeting: string) {
  const r = await e.apps.deploy('web', { changes: { env: { GREETING: greeting } } }, 'tester');
  await settle(e);
  return { ...r, job: await e.jobs.get(r.jobId) };
}

/** What the store says: instances by release and state, the current release, each release's status. */
async function stored(db: Db) {
  const insts = await appInstances(db, 'web');
  const app = await getApp(db, 'web');
  return {
    current: app?.current_release === null || !app ? null : Number(app.current_release),
    releases: Object.fromEntries(
      (await listReleases(db, 'web')).map((r) => [Number(r.number), r.status]),
    ) as Record<number, string>,
    instances: insts.map((i) => `${Number(i.release)}:${i.state}`).sort(),
    ids: insts.map((i) => i.id).sort(),
    ports: [
      ...(await portsOn(db, 'n1')).map((p) => `n1:${p}`),
      ...(await portsOn(db, 'n2')).map((p) => `n2:${p}`),
    ],
  };
}

const ofRelease = (n: number) => (id: string) => id.startsWith(`web-${n}-`);

for (const c of storeCases) {
  for (const phase of ['create', 'start', 'health'] as const) {
    test(`${c.name}: a deploy failing at ${phase} reverts to the release before and frees its host ports`, async (t) => {
      const db = await open(t, c);
      if (!db) return;
      const nodes = new FakeNodes();
      const e = fakeEngine(db, nodes, secretKey());
      await createApp(e);
      const first = await deploy(e, 'one');
      assert.equal(first.job.status, 'succeeded', first.job.summary);
      const before = await stored(db);
      assert.deepEqual(before.instances, ['1:running', '1:running']);
      assert.deepEqual(before.ports, ['n1:20000', 'n2:20000']);
      assert.deepEqual(nodes.present(), before.ids);

      e.driver.breakAt(phase, { which: ofRelease(2) });
      const second = await deploy(e, 'two');
      assert.equal(second.job.status, 'failed');
      assert.match(second.job.summary, new RegExp(`fake ${phase} failure|health check failed`));
      assert.match(second.job.summary, /rolled back to release 1/);
      const after = await stored(db);
      assert.equal(after.current, 1, 'release 1 still serves');
      assert.deepEqual(after.releases, { 1: 'active', 2: 'failed' });
      assert.deepEqual(after.ids, before.ids, 'the instances of release 1 are untouched');
      assert.deepEqual(after.instances, ['1:running', '1:running']);
      assert.deepEqual(after.ports, before.ports, 'the failed instance gave its host port back');
      assert.deepEqual(nodes.present(), before.ids, 'nothing of release 2 is left on the nodes');
      assert.equal(nodes.count(phase === 'health' ? 'health' : phase) > 0, true);
      // The stop of the broken instance was tried only for release 2 (release 1 never stopped).
      assert.equal(nodes.calls.filter((x) => x.op === 'stop' && ofRelease(1)(x.id)).length, 0);

      // Healed, the same change deploys and replaces every instance; ports are reused.
      e.driver.heal();
      const third = await deploy(e, 'two');
      assert.equal(third.job.status, 'succeeded', third.job.summary);
      const healed = await stored(db);
      assert.equal(healed.current, 3);
      assert.deepEqual(healed.instances, ['3:running', '3:running']);
      assert.deepEqual(nodes.present(), healed.ids);
      assert.equal(healed.ports.length, 2, `one port per instance, got ${healed.ports.join(' ')}`);
    });
  }

  test(`${c.name}: a roll failing after replacing one instance brings that one back from the stored revert`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e);
    await deploy(e, 'one');
    const seen: string[] = [];
    e.driver.breakAt('health', {
      which: (id) => {
        if (!ofRelease(2)(id)) return false;
        if (!seen.includes(id)) seen.push(id);
        return seen.indexOf(id) === 1; // the second new instance fails; the first finished its unit
      },
    });
    const r = await deploy(e, 'two');
    assert.equal(r.job.status, 'failed');
    assert.match(r.job.summary, /rolled back to release 1/);
    const s = await stored(db);
    assert.equal(s.current, 1);
    assert.deepEqual(s.instances, ['1:running', '1:running']);
    assert.deepEqual(
      (await appInstances(db, 'web')).map((i) => i.node).sort(),
      ['n1', 'n2'],
      'one instance per node again',
    );
    assert.deepEqual(nodes.present(), s.ids);
    assert.equal(s.ports.length, 2);
  });

  test(`${c.name}: a first deploy failing at create leaves no instance, no port and no current release`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e);
    e.driver.breakAt('create');
    const r = await deploy(e, 'one');
    assert.equal(r.job.status, 'failed');
    assert.match(r.job.summary, /removing|removed|release 1 is active|revert/);
    const s = await stored(db);
    assert.equal(s.current, null);
    assert.deepEqual(s.releases, { 1: 'failed' });
    assert.deepEqual(s.instances, []);
    assert.deepEqual(s.ports, []);
    assert.deepEqual(nodes.present(), []);
  });

  for (const phase of ['stop', 'destroy'] as const) {
    test(`${c.name}: an old instance whose ${phase} fails is orphaned, keeps its port, and the reconciler removes it`, async (t) => {
      const db = await open(t, c);
      if (!db) return;
      const nodes = new FakeNodes();
      const e = fakeEngine(db, nodes, secretKey());
      await createApp(e);
      await deploy(e, 'one');
      const old = (await stored(db)).ids;
      e.driver.breakAt(phase, { which: ofRelease(1) });
      const r = await deploy(e, 'two');
      assert.equal(r.job.status, 'succeeded', 'removing the old instance is not the new release failing');
      const s = await stored(db);
      assert.equal(s.current, 2);
      assert.deepEqual(s.instances, ['1:orphaned', '1:orphaned', '2:running', '2:running']);
      assert.equal(s.ports.length, 4, 'an orphan keeps its host port until the node confirms it is gone');
      for (const id of old) assert.ok(nodes.present().includes(id), `${id} is still on its node`);

      // Still broken: the reconciler reports the error and keeps the row and the port.
      const stuck = await e.apps.reconcile();
      assert.equal(stuck.errors.length, 2, JSON.stringify(stuck));
      assert.equal((await stored(db)).ports.length, 4);

      e.driver.heal();
      const fixed = await e.apps.reconcile();
      assert.deepEqual(fixed.removed.sort(), old);
      const done = await stored(db);
      assert.deepEqual(done.instances, ['2:running', '2:running']);
      assert.deepEqual(done.ports, ['n1:20001', 'n2:20001']);
      assert.deepEqual(nodes.present(), done.ids);
    });
  }

  for (const phase of ['create', 'start', 'health', 'stop', 'destroy'] as const satisfies readonly Phase[]) {
    test(`${c.name}: grim crashing at ${phase} resumes the rollout to the same end`, async (t) => {
      const db = await open(t, c);
      if (!db) return;
      const nodes = new FakeNodes();
      const key = secretKey();
      const a = fakeEngine(db, nodes, key);
      await createApp(a);
      await deploy(a, 'one');
      const old = (await stored(db)).ids;
      // The first process hangs at `phase` (of a new instance, or of an old one being removed) and "dies".
      a.driver.breakAt(phase, {
        mode: 'hang',
        which: ofRelease(phase === 'stop' || phase === 'destroy' ? 1 : 2),
      });
      const started = await a.apps.deploy('web', { changes: { env: { GREETING: 'two' } } }, 'tester');
      for (let i = 0; i < 200 && nodes.count(phase) === 0; i++) await delay(5);
      assert.ok(nodes.count(phase) > 0, `the rollout reached ${phase}`);
      await delay(20); // let the phase writes that precede the hang land

      const b = fakeEngine(db, nodes, key);
      assert.equal(await b.apps.resume(), 1);
      await settle(b);
      const s = await stored(db);
      assert.equal(s.current, 2, 'the resumed rollout finished');
      assert.deepEqual(s.releases, { 1: 'superseded', 2: 'active' });
      assert.deepEqual(s.instances, ['2:running', '2:running']);
      assert.deepEqual(nodes.present(), s.ids, 'exactly the new instances are on the nodes');
      for (const id of old) assert.ok(!nodes.present().includes(id));
      assert.equal(s.ports.length, 2, `no port leaked: ${s.ports.join(' ')}`);
      const created = new Set(nodes.calls.filter((x) => x.op === 'create').map((x) => x.id));
      assert.equal([...created].filter(ofRelease(2)).length, 2, 'no instance was planned twice');
      const job = await b.jobs.list(10);
      assert.ok(job.some((j) => j.status === 'succeeded' && j.id !== started.jobId));
    });
  }

  test(`${c.name}: the reconciler recreates missing instances, restarts dead ones and removes strays`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e);
    await deploy(e, 'one');
    const [i1, i2] = (await appInstances(db, 'web')).sort((x, y) => (x.node < y.node ? -1 : 1));
    assert.deepEqual([i1.node, i2.node], ['n1', 'n2']);

    nodes.node('n1').delete(i1.id); // its files are gone (disk wiped)
    (nodes.node('n2').get(i2.id) as { supervised: boolean }).supervised = false; // its supervisor died
    nodes
      .node('n1')
      .set('ghost-1-aaaaa', { app: 'ghost', release: 1, supervised: true, restarts: 0, ports: [], env: {} });
    nodes.strays.set('n2', new Set(['web-9-zzzzz'])); // a process whose directory is gone
    const r = await e.apps.reconcile();
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.recreated, [i1.id]);
    assert.deepEqual(r.restarted, [i2.id]);
    assert.deepEqual(r.removed.sort(), ['ghost-1-aaaaa', 'web-9-zzzzz']);
    assert.equal(nodes.count('create', i1.id), 2, 'created again');
    assert.deepEqual(nodes.present(), [i1.id, i2.id].sort());
    assert.ok(nodes.node('n2').get(i2.id)?.supervised);
    assert.deepEqual(nodes.strays.get('n2'), new Set());
    assert.deepEqual((await stored(db)).ports, ['n1:20000', 'n2:20000']);

    // A recreate that fails is reported and tried again on the next tick.
    nodes.node('n1').delete(i1.id);
    e.driver.breakAt('create', { times: 1 });
    const failed = await e.apps.reconcile();
    assert.match(failed.errors.join(), new RegExp(`${i1.id}: recreate: fake create failure`));
    assert.deepEqual((await e.apps.reconcile()).recreated, [i1.id]);
    assert.deepEqual(nodes.present(), [i1.id, i2.id].sort());
  });

  test(`${c.name}: an instance a deploy installs while the reconciler lists its node is no stray`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e, { replicas: 1 });
    // The tick reads rows and busy apps, then lists the node; the deploy starts and installs its instance on
    // the node before the listing answers (a slow SSH round trip), as two deploys at once made it happen.
    let deployed: Promise<{ jobId: string }> | undefined;
    nodes.onList = async () => {
      deployed ??= e.apps.deploy('web', { changes: { env: { GREETING: 'one' } } }, 'tester');
      while (nodes.count('create') === 0) await delay(1);
    };
    const r = await e.apps.reconcile();
    nodes.onList = undefined;
    assert.deepEqual(r.removed, [], 'the new instance was taken for a stray');
    assert.ok(deployed);
    const { jobId } = await deployed;
    await settle(e);
    const job = await e.jobs.get(jobId);
    assert.equal(job?.status, 'succeeded', job?.summary);
    const after = await stored(db);
    assert.deepEqual(after.instances, ['1:running']);
    assert.deepEqual(nodes.present(), after.ids);
    assert.equal(nodes.count('destroy'), 0);
  });

  test(`${c.name}: recover(): an instance without a stored handle is restarted and removed with the one its node keeps`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e);
    await deploy(e, 'one');
    const [i1] = (await appInstances(db, 'web')).sort((x, y) => (x.node < y.node ? -1 : 1));
    // grim stopped between create and storing the handle (or the row predates handles): only the node knows it
    await db.run("UPDATE app_instances SET handle = '' WHERE id = ?", [i1.id]);
    (nodes.node(i1.node).get(i1.id) as { supervised: boolean }).supervised = false; // and its supervisor died
    const r = await e.apps.reconcile();
    assert.deepEqual(r.errors, [], 'started with the recovered handle (a bare one is refused by the fake)');
    assert.deepEqual(r.restarted, [i1.id]);
    assert.equal(nodes.count('recover', i1.id), 1);
    assert.ok(nodes.node(i1.node).get(i1.id)?.supervised);
    // A running instance without a stored handle keeps the one its node has (metrics and logs find it again).
    const i2 = (await appInstances(db, 'web')).find((i) => i.id !== i1.id)!;
    const kept = i2.handle;
    await db.run("UPDATE app_instances SET handle = '' WHERE id = ?", [i2.id]);
    const quiet = await e.apps.reconcile();
    assert.deepEqual(
      [quiet.errors, quiet.restarted, quiet.recreated],
      [[], [], []],
      'left running as it was',
    );
    assert.equal((await appInstances(db, 'web')).find((i) => i.id === i2.id)?.handle, kept);

    // An instance the store does not know (a leftover of another grim): removed with the handle from its node;
    // a stray whose directory is gone has none, and is removed with a bare one.
    nodes.node('n2').set('ghost-1-aaaaa', {
      app: 'ghost',
      release: 1,
      supervised: true,
      restarts: 0,
      ports: [],
      env: {},
      handle: { driver: 'script', instanceId: 'ghost-1-aaaaa', node: 'n2', data: { fake: true } },
    });
    nodes.strays.set('n1', new Set(['web-9-zzzzz']));
    const again = await e.apps.reconcile();
    assert.deepEqual(again.errors, []);
    assert.deepEqual(again.removed.sort(), ['ghost-1-aaaaa', 'web-9-zzzzz']);
    assert.equal(nodes.count('recover', 'ghost-1-aaaaa'), 1);
    assert.equal(nodes.count('recover', 'web-9-zzzzz'), 1);
    assert.equal(nodes.node('n2').has('ghost-1-aaaaa'), false);
  });

  test(`${c.name}: an unreachable node's instances are lost, placed again, and removed when it returns`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e, { failover: 'reschedule' });
    await deploy(e, 'one');
    const onN2 = (await appInstances(db, 'web')).find((i) => i.node === 'n2')!;
    nodes.unreachable.add('n2');
    const r = await e.apps.reconcile();
    assert.deepEqual(r.unreachable, ['n2']);
    assert.deepEqual(r.lost, [onN2.id]);
    assert.deepEqual(r.failover, ['web']);
    await settle(e);
    const s = await stored(db);
    assert.deepEqual(s.instances, ['1:orphaned', '1:running', '1:running']);
    assert.equal(
      (await appInstances(db, 'web')).filter((i) => i.state === 'running' && i.node === 'n1').length,
      2,
      'both replicas now run on n1',
    );

    nodes.unreachable.delete('n2');
    const back = await e.apps.reconcile();
    assert.deepEqual(back.removed, [onN2.id]);
    const end = await stored(db);
    assert.deepEqual(end.instances, ['1:running', '1:running']);
    assert.deepEqual(end.ports, ['n1:20000', 'n1:20001'], 'the orphan gave its port on n2 back');
    assert.deepEqual(nodes.present(), end.ids);
  });

  test(`${c.name}: scale down and delete give every host port back`, async (t) => {
    const db = await open(t, c);
    if (!db) return;
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey());
    await createApp(e, { replicas: 4 });
    await deploy(e, 'one');
    assert.deepEqual((await stored(db)).ports, ['n1:20000', 'n1:20001', 'n2:20000', 'n2:20001']);
    await e.apps.scale('web', 1, false, 'tester');
    await settle(e);
    assert.equal((await stored(db)).ports.length, 1);
    assert.equal(nodes.present().length, 1);
    const logs = await e.apps.logs('web', 10);
    assert.match(logs[0].text, /^logs of web-1-/);
    await e.apps.remove('web', 'tester');
    await settle(e);
    assert.equal(await getApp(db, 'web'), undefined);
    assert.deepEqual(await portsOn(db, 'n1'), []);
    assert.deepEqual(await portsOn(db, 'n2'), []);
    assert.deepEqual(nodes.present(), []);
  });
}
