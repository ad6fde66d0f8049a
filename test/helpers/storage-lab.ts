// Shared by the storage lab tests: register lab nodes as storage nodes, and wait for a value.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestApp } from './app.ts';
import type { LabState } from '../../src/lab/lab.ts';

/** Registers every lab node (environment "lab") with the storage role. */
export async function addStorageNodes(a: TestApp, lab: LabState) {
  assert.equal(
    (await a.call('POST', '/api/environments', { token: a.adminToken, body: { name: 'lab' } })).status,
    201,
  );
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const n of lab.nodes) {
    const r = await a.call('POST', '/api/nodes', {
      token: a.adminToken,
      body: {
        name: n.name,
        environment: 'lab',
        address: n.address,
        hostKeyFingerprint: n.hostKeyFingerprint,
        credential: { privateKey },
        roles: ['storage'],
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
}

/** Polls `fn` every `stepMs` until it returns something other than undefined; throws after `ms`. */
export async function waitForValue<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms: number,
  stepMs = 500,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Asks grim to read `node` now, again and again, until `pool`'s last scrub has finished; returns its health. */
export function checkUntilScrubbed(a: TestApp, node: string, pool: string, ms = 60_000) {
  return waitForValue(
    `scrub of ${pool} on ${node} to finish`,
    async () => {
      const r = await a.call('POST', `/api/storage/nodes/${node}/check`, { token: a.adminToken });
      const h = r.json.health.find((x: any) => x.name === pool);
      return h?.scan.kind === 'scrub' && h.scan.state === 'finished' ? h : undefined;
    },
    ms,
  );
}
