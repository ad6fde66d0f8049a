import { readFileSync } from 'node:fs';
import type { LabState } from '../lab/lab.ts';
import { ApiError } from '../api/client.ts';
import { apiClient } from './context.ts';

/**
 * `grim lab up --register`: add every lab node to grim in environment "lab" and group "lab-<name>",
 * pinning the host keys the lab recorded and installing grim's key with the lab's admin key.
 */
export async function registerLabNodes(state: LabState) {
  const c = apiClient();
  const ignoreConflict = (err: unknown) => {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  };
  await c
    .call('createEnvironment', { body: { name: 'lab', description: 'grim lab nodes' } })
    .catch(ignoreConflict);
  const privateKey = readFileSync(state.clientKeyPath, 'utf8');
  for (const n of state.nodes) {
    const name = `${state.name}-${n.name}`;
    await c
      .call('createNode', {
        body: {
          name,
          environment: 'lab',
          address: n.address,
          hostKeyFingerprint: n.hostKeyFingerprint,
          credential: { privateKey },
          ...(state.storageDisks ? { roles: ['storage' as const] } : {}),
        },
      })
      .then(() => process.stdout.write(`registered ${name} (${n.address})\n`), ignoreConflict);
  }
  const group = `lab-${state.name}`;
  await c
    .call('createGroup', {
      body: { name: group, environment: 'lab', nodes: state.nodes.map((n) => `${state.name}-${n.name}`) },
    })
    .catch(ignoreConflict);
  process.stdout.write(`group ${group}: ${state.nodes.length} nodes\n`);
}
