/**
 * Placement listens to what each node can run: a Firecracker app goes only to nodes with firecracker and a
 * usable KVM; with none, the deploy is refused before anything is recorded or run, naming each node and why.
 * The engine with a fake driver over fake nodes, on both databases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, storeCases } from '../helpers/stores.ts';
import { FakeNodes, fakeEngine, secretKey, seedNodes, type FakeEngine } from '../helpers/fake-engine.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { listReleases } from '../../src/store/apps-repo.ts';
import { appInstances } from '../../src/store/instances-repo.ts';

const NO_KVM = { kvm: false, kvmUsable: false };
const NO_FIRECRACKER = { tools: { 'qemu-system-x86_64': true, crun: true } };

async function createVm(e: FakeEngine, name: string) {
  await e.apps.create(
    {
      name,
      environment: 'e',
      group: 'g',
      replicas: 2,
      cpu: '250m',
      memory: '128Mi',
      disk: '1Gi',
      runtime: 'firecracker',
      source: { kind: 'image', image: 'registry.example/web:1' },
      ports: [{ name: 'http', port: 8080 }],
    },
    'tester',
  );
}

for (const c of storeCases) {
  test(`${c.name}: a Firecracker app is placed only on the nodes that can run it`, async (t) => {
    const skip = await skipReason(c);
    if (skip) return t.skip(skip);
    const { db, cleanup } = await c.open();
    t.after(cleanup);
    await seedNodes(db, 3, (i) => (i === 2 ? NO_KVM : i === 3 ? NO_FIRECRACKER : {}));
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey(), 'firecracker');
    await createVm(e, 'vm');
    const r = await e.apps.deploy('vm', {}, 'tester');
    assert.match(
      r.warnings.join('\n'),
      /left out: n2 \(firecracker: no usable \/dev\/kvm \(KVM\)\), n3 \(firecracker: firecracker is not installed\)/,
    );
    while (e.apps.running.size) await Promise.all([...e.apps.running.values()]);
    assert.equal((await e.jobs.get(r.jobId)).status, 'succeeded');
    assert.deepEqual(
      (await appInstances(db, 'vm')).map((i) => `${i.node}:${i.state}`),
      ['n1:running', 'n1:running'],
    );
    assert.deepEqual(new Set(nodes.calls.map((x) => x.node)), new Set(['n1']), 'nothing ran on n2 or n3');
  });

  test(`${c.name}: with no node able to run it, a Firecracker deploy is refused before anything runs`, async (t) => {
    const skip = await skipReason(c);
    if (skip) return t.skip(skip);
    const { db, cleanup } = await c.open();
    t.after(cleanup);
    await seedNodes(db, 2, (i) => (i === 1 ? NO_KVM : { ...NO_KVM, ...NO_FIRECRACKER }));
    const nodes = new FakeNodes();
    const e = fakeEngine(db, nodes, secretKey(), 'firecracker');
    await createVm(e, 'vm');
    const err = await e.apps.deploy('vm', {}, 'tester').then(
      () => assert.fail('the deploy was accepted'),
      (x: unknown) => x,
    );
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'conflict');
    assert.match(err.message, /no node in the group can run app "vm": n1 \(.*\), n2 \(.*\)/);
    assert.deepEqual(err.details, [
      { path: 'nodes/n1', message: 'cannot run the app: firecracker: no usable /dev/kvm (KVM)' },
      {
        path: 'nodes/n2',
        message: 'cannot run the app: firecracker: firecracker is not installed and no usable /dev/kvm (KVM)',
      },
    ]);
    assert.deepEqual(await listReleases(db, 'vm'), [], 'no release was recorded');
    assert.deepEqual(await appInstances(db, 'vm'), []);
    assert.deepEqual(nodes.calls, [], 'the driver was never called');
    assert.deepEqual(await e.jobs.list(10), [], 'no job was started');
  });
}
