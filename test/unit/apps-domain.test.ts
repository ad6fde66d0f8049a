import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAppInput, instanceEnv } from '../../src/domain/apps/model.ts';
import { canMoveInstance, moveRelease } from '../../src/domain/apps/states.ts';
import { batches, keptInstances, planRollout, type CurrentInstance } from '../../src/domain/apps/rollout.ts';
import { diffNode } from '../../src/domain/apps/reconcile.ts';
import { DEFAULT_SIZES } from '../../src/domain/sizes.ts';

const script = { kind: 'script' as const, start: 'exec sleep 100' };

test('app input: defaults, sizes, explicit values and every problem at once', () => {
  const ok = applyAppInput(
    {
      size: 'm',
      cpu: '250m',
      source: script,
      ports: [{ name: 'http', port: 80 }],
      secrets: { TOKEN: 'x' },
      health: { type: 'http' },
    },
    DEFAULT_SIZES,
  );
  assert.ok(ok.ok);
  assert.deepEqual(ok.spec.resources, { cpuMillis: 250, memoryBytes: 1024 ** 3, diskBytes: 10 * 1024 ** 3 });
  assert.deepEqual(ok.spec.secretNames, ['TOKEN']);
  assert.equal(JSON.stringify(ok.spec).includes('"x"'), false, 'the spec holds no secret value');
  assert.deepEqual(ok.spec.health, {
    type: 'http',
    port: 'http',
    path: '/',
    intervalSec: 2,
    timeoutSec: 2,
    retries: 15,
  });
  const bad = applyAppInput(
    {
      size: 'huge',
      memory: '1GB',
      runtime: 'qemu',
      source: script,
      env: { PORT: '1', 'bad-name': 'x' },
      health: { type: 'tcp' },
      replicas: -1,
    },
    DEFAULT_SIZES,
  );
  assert.ok(!bad.ok);
  const paths = bad.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    'body/env/PORT',
    'body/env/bad-name',
    'body/health/port',
    'body/memory',
    'body/replicas',
    'body/runtime',
    'body/size',
  ]); // no body/source: a source cannot be judged against a runtime that does not exist
  // A change merges into the current spec; null removes a secret.
  const cur = { spec: ok.spec, secrets: { TOKEN: 'x', OTHER: 'y' } };
  const next = applyAppInput({ replicas: 5, secrets: { TOKEN: null } }, DEFAULT_SIZES, cur);
  assert.ok(next.ok);
  assert.equal(next.spec.replicas, 5);
  assert.equal(next.spec.resources.cpuMillis, 250);
  assert.deepEqual(next.secrets, { OTHER: 'y' });
  assert.ok(
    !applyAppInput({ runtime: 'container', source: script }, DEFAULT_SIZES).ok,
    'container needs an image',
  );
});

test('instance env: app env, secrets and grim variables with the listen ports', () => {
  const r = applyAppInput(
    {
      size: 'xs',
      source: script,
      ports: [
        { name: 'http', port: 80 },
        { name: 'admin', port: 81 },
      ],
      env: { A: '1' },
    },
    DEFAULT_SIZES,
  );
  assert.ok(r.ok);
  assert.deepEqual(
    instanceEnv(
      r.spec,
      { S: 'secret' },
      {
        app: 'a',
        environment: 'e',
        release: 3,
        instanceId: 'a-3-x',
        listenPorts: { http: 20000, admin: 20001 },
      },
    ),
    {
      A: '1',
      S: 'secret',
      GRIM_APP: 'a',
      GRIM_ENVIRONMENT: 'e',
      GRIM_RELEASE: '3',
      GRIM_INSTANCE: 'a-3-x',
      PORT: '20000',
      PORT_HTTP: '20000',
      PORT_ADMIN: '20001',
    },
  );
});

test('state machines refuse impossible moves', () => {
  assert.ok(canMoveInstance('pending', 'starting'));
  assert.ok(canMoveInstance('lost', 'orphaned'));
  assert.ok(!canMoveInstance('orphaned', 'running'), 'a replaced instance never comes back');
  assert.ok(!canMoveInstance('stopping', 'running'));
  assert.equal(moveRelease('deploying', 'active'), 'active');
  assert.throws(() => moveRelease('failed', 'active'), /cannot go from failed to active/);
  assert.throws(() => moveRelease('superseded', 'active'));
});

const inst = (
  id: string,
  node: string,
  release: number,
  state: CurrentInstance['state'] = 'running',
): CurrentInstance => ({ id, node, release, state });

test('rollout plan: replace on the same node first, extra removals last, names fixed up front', () => {
  const instances = [inst('a1', 'n1', 1), inst('a2', 'n2', 1), inst('a3', 'n3', 1)];
  let n = 0;
  const plan = planRollout({
    target: 2,
    instances,
    replicas: 2,
    adds: [
      { node: 'n2', add: 1 },
      { node: 'n1', add: 1 },
    ],
    maxParallel: 1,
    newId: (node) => `new-${node}-${n++}`,
  });
  assert.deepEqual(plan.units, [
    { node: 'n1', newId: 'new-n1-0', oldId: 'a1' },
    { node: 'n2', newId: 'new-n2-1', oldId: 'a2' },
  ]);
  assert.deepEqual(plan.removals, ['a3']);
  // Scaling down the target release removes from the most crowded node.
  const kept = keptInstances([inst('b1', 'n1', 2), inst('b2', 'n1', 2), inst('b3', 'n2', 2)], 2, 2);
  assert.deepEqual(kept.excess, ['b2']);
  assert.deepEqual(batches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  // Instances being removed or orphaned are never paired again.
  const p2 = planRollout({
    target: 3,
    instances: [inst('c1', 'n1', 2, 'orphaned')],
    replicas: 1,
    adds: [{ node: 'n1', add: 1 }],
    maxParallel: 1,
    newId: () => 'x',
  });
  assert.deepEqual(p2.units, [{ node: 'n1', newId: 'x', oldId: null }]);
  assert.deepEqual(p2.removals, []);
});

test('reconcile diff: restart, recreate, remove strays, forget removed rows, leave busy apps alone', () => {
  const rep = (id: string, app: string, supervised: boolean) => ({
    id,
    app,
    release: 1,
    supervised,
    appAlive: supervised,
    restarts: 0,
  });
  const d = diffNode(
    [
      { id: 'ok', app: 'a', state: 'running' },
      { id: 'dead', app: 'a', state: 'running' },
      { id: 'gone', app: 'a', state: 'running' },
      { id: 'old', app: 'a', state: 'orphaned' },
      { id: 'oldgone', app: 'a', state: 'stopping' },
      { id: 'busy1', app: 'b', state: 'pending' },
    ],
    [
      rep('ok', 'a', true),
      rep('dead', 'a', false),
      rep('old', 'a', true),
      rep('stray', 'z', true),
      rep('busy2', 'b', true),
    ],
    new Set(['b']),
  );
  assert.deepEqual(
    d.ok.map((r) => r.id),
    ['ok'],
  );
  assert.deepEqual(d.restart, ['dead']);
  assert.deepEqual(d.recreate, ['gone']);
  assert.deepEqual(d.remove, ['old', 'stray']);
  assert.deepEqual(d.forget, ['oldgone']);
});
