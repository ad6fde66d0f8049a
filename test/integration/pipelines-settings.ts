// The pipelines test's build settings steps: the worker node and the registry's volume chosen through the CLI
// (an unknown node refused), and later the worker node dropped (applied at once, its worker removed).
import assert from 'node:assert/strict';
import { execInNode } from '../../src/lab/node-control.ts';
import type { LabState } from '../../src/lab/state.ts';
import type { TestApp } from '../helpers/app.ts';
import { cliEnv, grim } from '../helpers/grim-process.ts';
import { eventually } from './pipelines-support.ts';

export async function chooseBuildSettings(grimUrl: string, token: string, workerNode: string) {
  const settings = (...args: string[]) =>
    grim(['pipeline', 'settings', ...args, '--json'], {
      ...cliEnv(),
      GRIM_SERVER: grimUrl,
      GRIM_TOKEN: token,
    });
  const refused = await settings('--worker-nodes', `${workerNode},ghost`);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /node "ghost" does not exist/);
  const chosen = await settings('--worker-nodes', workerNode, '--registry-storage', 'volume');
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.deepEqual(JSON.parse(chosen.stdout).settings, {
    workerNodes: [workerNode],
    registryStorage: { kind: 'volume' },
  });
}

export async function dropWorkerNode(a: TestApp, lab: LabState, workerNode: string) {
  const dropped = await a.call('PUT', '/api/build-settings', {
    token: a.adminToken,
    body: { workerNodes: [], registryStorage: { kind: 'volume' } },
  });
  assert.deepEqual(
    [dropped.status, dropped.json.applied, dropped.json.removedWorkers],
    [200, true, [workerNode]],
    JSON.stringify(dropped.json),
  );
  await eventually('only the local worker connected', async () => {
    const connected = await a.services.pipelines.buildbot.connectedWorkers();
    return connected.length === 1 && connected[0] === 'local';
  });
  const index = lab.nodes.findIndex((n) => n.name === workerNode) + 1;
  const gone = await execInNode(
    lab,
    index,
    'test -e /var/lib/grim/buildbot-worker/services/buildbot-worker; echo $?',
  );
  assert.equal(gone.stdout.trim(), '1', 'the worker service is gone from the node');
}
