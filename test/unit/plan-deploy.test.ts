/** planDeploy (pure): runtime support per node, refusals that name nodes, and the revert stored with the plan. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeploy, revertPlan, type PlanningNode } from '../../src/domain/apps/plan-deploy.ts';
import { runtimeSupport, runtimesOn } from '../../src/domain/runtimes.ts';

const GiB = 2 ** 30;
const node = (name: string, facts?: PlanningNode['facts']): PlanningNode => ({
  name,
  state: 'ready',
  allocatable: { cpuMillis: 4000, memoryBytes: 8 * GiB },
  requestedByOthers: { cpuMillis: 0, memoryBytes: 0 },
  ...(facts ? { facts } : {}),
});
const ALL = { crun: true, runc: true, firecracker: true, 'qemu-system-x86_64': true };
const req = (o: Partial<Parameters<typeof planDeploy>[1]> = {}) => {
  let n = 0;
  return {
    app: 'web',
    runtime: 'firecracker' as const,
    resources: { cpuMillis: 500, memoryBytes: GiB },
    target: 2,
    previous: 1,
    replicas: 2,
    maxParallel: 1,
    acceptOvercommit: false,
    newId: (release: number) => `web-${release}-${n++}`,
    ...o,
  };
};

test('runtime support is read from the facts; unknown facts are not a refusal', () => {
  assert.deepEqual(runtimeSupport('firecracker', undefined), { ok: true });
  assert.deepEqual(runtimeSupport('firecracker', {}), { ok: true });
  assert.deepEqual(runtimeSupport('firecracker', { kvm: true, tools: ALL }), { ok: true });
  assert.deepEqual(runtimeSupport('firecracker', { kvm: true, kvmUsable: false, tools: ALL }), {
    ok: false,
    reason: 'no usable /dev/kvm (KVM)',
  });
  assert.deepEqual(runtimeSupport('container', { tools: { crun: false, runc: false } }), {
    ok: false,
    reason: 'neither crun nor runc is installed',
  });
  assert.deepEqual(
    runtimeSupport('qemu-microvm', { kvm: false, tools: ALL }),
    { ok: true },
    'TCG needs no KVM',
  );
  assert.deepEqual(Object.keys(runtimesOn({ tools: {} })), [
    'script',
    'container',
    'qemu-microvm',
    'firecracker',
  ]);
});

test('planDeploy places only on nodes that can run the runtime and says which were left out', () => {
  const r = planDeploy(
    {
      nodes: [node('a', { kvmUsable: true, tools: ALL }), node('b', { kvmUsable: false, tools: ALL })],
      instances: [],
    },
    req({ previous: null, target: 1 }),
  );
  assert.ok(r.ok);
  assert.deepEqual(
    r.plan.units.map((u) => u.node),
    ['a', 'a'],
  );
  assert.match(r.warnings.join(), /left out: b \(firecracker: no usable \/dev\/kvm \(KVM\)\)/);
  assert.deepEqual(r.plan.revert, { target: null, restores: [] });

  const none = planDeploy({ nodes: [node('b', { kvmUsable: false, tools: ALL })], instances: [] }, req());
  assert.equal(none.ok, false);
  if (!none.ok) {
    assert.equal(none.code, 'conflict');
    assert.deepEqual(none.problems, [
      { path: 'nodes/b', message: 'cannot run the app: firecracker: no usable /dev/kvm (KVM)' },
    ]);
  }
});

test('the revert stored with a plan brings back what the failed roll removed, and only that', () => {
  const instances = [
    { id: 'old-a', node: 'a', release: 1, state: 'running' as const },
    { id: 'old-b', node: 'b', release: 1, state: 'running' as const },
  ];
  const r = planDeploy({ nodes: [node('a'), node('b')], instances }, req({ runtime: 'script' }));
  assert.ok(r.ok);
  const [ua, ub] = r.plan.units;
  assert.deepEqual([ua.oldId, ub.oldId], ['old-a', 'old-b']);
  assert.equal(r.plan.revert?.target, 1);
  // Unit a finished (old-a is gone), unit b failed: a gets a release-1 instance again, b's new one goes.
  const back = revertPlan(r.plan, { [ua.newId]: 'done', [ub.newId]: 'failed' }, 2);
  assert.equal(back.target, 1);
  assert.deepEqual(back.plan.units, [
    { node: 'a', newId: r.plan.revert?.restores[0].newId, oldId: ua.newId },
  ]);
  assert.deepEqual(back.plan.removals, [ub.newId]);
  // With nothing to return to, finished instances stay and the rest go.
  const first = revertPlan({ ...r.plan, revert: { target: null, restores: [] } }, { [ua.newId]: 'done' }, 2);
  assert.deepEqual(first, {
    target: 2,
    plan: { target: 2, units: [], removals: [ub.newId], maxParallel: 1 },
  });
});
