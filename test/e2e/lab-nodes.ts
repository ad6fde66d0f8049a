import { readFileSync } from 'node:fs';
import type { LabState } from '../../src/lab/lab.ts';
import { api, type HttpSession } from './http-session.ts';

/** Adds lab nodes through the API the way an admin does: scan, compare with the lab's record, create. */
export async function addLabNodesByApi(s: HttpSession, lab: LabState, env: string, from = 0): Promise<void> {
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  const envs = await api<{ environments: Array<{ name: string }> }>(s, 'GET', '/api/environments');
  if (!envs.environments.some((e) => e.name === env))
    await api(s, 'POST', '/api/environments', { name: env });
  const todo = lab.nodes.slice(from);
  // A few at a time: each add installs grim's key and gathers facts over SSH.
  for (let i = 0; i < todo.length; i += 5)
    await Promise.all(
      todo.slice(i, i + 5).map(async (n) => {
        const scan = await api<{ fingerprint: string }>(s, 'POST', '/api/nodes/scan', { address: n.address });
        if (scan.fingerprint !== n.hostKeyFingerprint)
          throw new Error(`${n.name}: scanned ${scan.fingerprint}, the lab recorded ${n.hostKeyFingerprint}`);
        await api(s, 'POST', '/api/nodes', {
          name: n.name,
          environment: env,
          address: n.address,
          hostKeyFingerprint: scan.fingerprint,
          credential: { privateKey },
          labels: { tier: n.index % 2 ? 'web' : 'db' },
        });
      }),
    );
}
