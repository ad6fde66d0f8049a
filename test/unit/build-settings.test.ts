// Build settings without Buildbot running: bad worker nodes and a bad S3 choice are refused with every problem
// listed, nothing stored, audited; good ones are stored, audited, shown by the API; an S3 bucket gets a key of
// its own from grim's SeaweedFS services (the recording double stands in for a cluster: the S3 storage itself
// runs for real in test/integration/build-registry-s3.test.ts), its secret sealed and retired on a move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/db.ts';
import { startTestApp } from '../helpers/app.ts';
import { buildSettingsProblems } from '../../src/domain/build-settings.ts';
import { seaweedRepo } from '../../src/store/seaweedfs-repo.ts';
import { getSetting } from '../../src/store/settings-repo.ts';
import { registryStorageConfig } from '../../src/services/pipelines/build-settings.ts';
import { openSecretBox } from '../../src/secrets/secret-box.ts';
import type { SeaweedAccess } from '../../src/services/seaweedfs/access.ts';

const insertNode = (db: Db, name: string, i: number) =>
  db.run(
    `INSERT INTO nodes (name, environment, address, port, ssh_user, roles, labels, host_key_fingerprint, state,
       created_at) VALUES (?, 'prod', ?, 22, 'root', '["compute"]', '{}', 'SHA256:x', 'ready', 0)`,
    [name, `10.0.0.${i + 1}`],
  );

test('buildSettingsProblems lists every problem', () => {
  const facts = { nodes: new Set(['n1']), storageClusters: new Set(['prod']) };
  assert.deepEqual(
    buildSettingsProblems(
      {
        workerNodes: ['n1', 'n1', 'ghost'],
        registryStorage: { kind: 's3', environment: 'dev', bucket: 'x_y' },
      },
      facts,
    ).map((p) => p.path),
    [
      'body/workerNodes/1',
      'body/workerNodes/2',
      'body/registryStorage/bucket',
      'body/registryStorage/environment',
    ],
  );
  assert.deepEqual(
    buildSettingsProblems({ workerNodes: ['n1'], registryStorage: { kind: 'volume' } }, facts),
    [],
  );
});

test('API: build settings validated, stored, audited; an S3 bucket gets its own sealed key', async (t) => {
  const a = await startTestApp(t);
  const call = (m: string, u: string, body?: unknown, token = a.adminToken) => a.call(m, u, { token, body });
  const db = a.services.db;
  await db.run("INSERT INTO environments (name, created_at) VALUES ('prod', 0)").catch(() => undefined);
  for (const [i, n] of ['n1', 'n2'].entries()) await insertNode(db, n, i);

  const bad = await call('PUT', '/api/build-settings', {
    workerNodes: ['n1', 'ghost', 'n1'],
    registryStorage: { kind: 's3', environment: 'prod', bucket: 'x' },
  });
  assert.equal(bad.status, 400, JSON.stringify(bad.json));
  assert.deepEqual(
    bad.json.error.details.map((d: { path: string }) => d.path),
    [
      'body/workerNodes/1',
      'body/workerNodes/2',
      'body/registryStorage/bucket',
      'body/registryStorage/environment',
    ],
  );
  const hostile = await call('PUT', '/api/build-settings', {
    workerNodes: ['$(id)'],
    registryStorage: { kind: 'nfs' },
  });
  assert.equal(hostile.status, 400);
  assert.equal(
    (await call('GET', '/api/build-settings')).json.settings.workerNodes.length,
    0,
    'nothing stored',
  );
  const viewer = await a.tokenFor('viewer');
  assert.equal((await call('PUT', '/api/build-settings', { workerNodes: [], registryStorage: { kind: 'volume' } }, viewer)).status, 403); // prettier-ignore

  const ok = await call('PUT', '/api/build-settings', {
    workerNodes: ['n2', 'n1'],
    registryStorage: { kind: 'volume' },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.deepEqual(ok.json, {
    settings: { workerNodes: ['n2', 'n1'], registryStorage: { kind: 'volume' } },
    applied: false,
    removedWorkers: [],
  });
  assert.deepEqual((await call('GET', '/api/build-settings', undefined, viewer)).json.settings.workerNodes, [
    'n2',
    'n1',
  ]);
  const audit = (await call('GET', '/api/audit?action=putBuildSettings&limit=10')).json.entries;
  assert.deepEqual(audit.map((e: any) => [e.outcome, e.details.status, e.details.workerNodes]).reverse(), [
    ['failure', 400, ['n1', 'ghost', 'n1']],
    ['failure', 400, undefined], // refused by the schema, before the handler
    ['denied', 403, undefined],
    ['success', 200, ['n2', 'n1']],
  ]);
  // The master.cfg grim would apply names the two worker nodes.
  const cfg = (await call('GET', '/api/build-config')).json.generated as string;
  assert.match(cfg, /"node-n2"/);
  assert.match(cfg, /"node-n1"/);

  // S3 on the environment's SeaweedFS cluster: the bucket is made, a key limited to it created, sealed.
  await seaweedRepo.insertCluster(db, {
    environment: 'prod', spec: '{}', state: 'ready', state_reason: '', version: '', secrets: '', health: '{}',
    health_at: null, provision_ms: null, created_by: 'test', created_at: 0, updated_at: 0,
  }); // prettier-ignore
  const calls: unknown[][] = [];
  const access = {
    createBucket: async (...args: unknown[]) => void calls.push(['createBucket', ...args]),
    createKey: async (env: string, body: { name: string; bucket: string; actions: string[] }) => {
      calls.push(['createKey', env, body.bucket, body.actions]);
      return { accessKey: `AK${calls.length}`, secretKey: 'the-secret', endpoints: ['http://10.0.0.1:8333'] };
    },
    retireKey: async (...args: unknown[]) => void calls.push(['retireKey', ...args]),
  } as unknown as SeaweedAccess;
  const s3 = { kind: 's3' as const, environment: 'prod', bucket: 'grim-images' };
  await a.services.pipelines.updateBuildSettings({ workerNodes: ['n1'], registryStorage: s3 }, access);
  assert.deepEqual(calls, [
    ['createBucket', 'prod', { name: 'grim-images' }],
    ['createKey', 'prod', 'grim-images', ['Read', 'Write']],
  ]);
  assert.doesNotMatch(JSON.stringify(await getSetting(db, 'build-settings')), /the-secret/, 'sealed');
  assert.deepEqual(await registryStorageConfig(db, openSecretBox(a.dataDir, process.env)), {
    kind: 's3', endpoint: 'http://10.0.0.1:8333', bucket: 'grim-images', accessKey: 'AK2', secretKey: 'the-secret',
  }); // prettier-ignore
  // The same bucket again: the key is kept; another storage: the key is retired.
  await a.services.pipelines.updateBuildSettings({ workerNodes: [], registryStorage: s3 }, access);
  assert.equal(calls.length, 2);
  await a.services.pipelines.updateBuildSettings(
    { workerNodes: [], registryStorage: { kind: 'directory' } },
    access,
  );
  assert.deepEqual(calls[2], ['retireKey', 'prod', 'AK2']);
});
