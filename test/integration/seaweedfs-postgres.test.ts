// Several filers on PostgreSQL, with the real weed on a 2-node lab and the real PostgreSQL the tests use:
// grim creates the cluster's schema (seaweedfs_<environment>), both filers keep their metadata in it
// (SeaweedFS's postgres2 store, one table per bucket), and an object written through the S3 gateway on n1
// (filer A) is listed and read through the gateway on n2 (filer B), and the other way round. Deleting the
// cluster with its data drops the schema. PostgreSQL listens on 127.0.0.1 only, so the test relays the lab
// bridge's address to it (the lab nodes reach the host there); in production the admin gives an address the
// nodes reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { withLab } from '../helpers/lab.ts';
import { startTestApp } from '../helpers/app.ts';
import { addSeaweedLab, s3Client, waitCluster, weedBinary } from '../helpers/seaweedfs-lab.ts';
import { filerSchemaTables } from '../../src/store/seaweedfs-filer-schema.ts';

const ENV = 'pgfilers';

test(
  'two filers on PostgreSQL: a file written through filer A is visible through filer B',
  { timeout: 300_000 },
  async (t) => {
    const url = process.env.GRIM_TEST_DATABASE_URL;
    if (!url) {
      if (process.env.CI) throw new Error('GRIM_TEST_DATABASE_URL is not set (.ci/run sets it)');
      t.skip('GRIM_TEST_DATABASE_URL is not set');
      return;
    }
    const weed = weedBinary();
    const lab = await withLab(t, { nodes: 2, os: 'debian' });
    if (!lab) return;
    const db = new URL(url);
    // the lab's side of the host: a relay on the bridge address to PostgreSQL on loopback
    const relay = createServer((c) => {
      const up = createConnection({ host: db.hostname, port: Number(db.port || 5432) });
      c.pipe(up).pipe(c);
      const end = () => (c.destroy(), up.destroy());
      c.on('error', end);
      up.on('error', end);
    });
    await new Promise<void>((r) => relay.listen(0, lab.gateway, r));
    t.after(() => new Promise((r) => relay.close(r)));
    const store = {
      host: lab.gateway,
      port: (relay.address() as AddressInfo).port,
      database: db.pathname.slice(1),
      user: decodeURIComponent(db.username),
      password: decodeURIComponent(db.password),
      sslmode: 'disable' as const,
    };

    const a = await startTestApp(t);
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    const base = `/api/storage/clusters/${ENV}`;
    await addSeaweedLab(a, lab, ENV, 2);
    t.after(async () => {
      await a.services.seaweedfs.settled(ENV);
      await call('DELETE', `${base}?deleteData=true`).catch(() => undefined);
    });
    assert.equal((await call('POST', '/api/storage/releases', { version: '4.48', path: weed })).status, 200);
    const r = await call('POST', base, {
      masters: ['n1'],
      filers: ['n1', 'n2'],
      filerStore: 'postgres',
      postgres: store,
      s3: ['n1', 'n2'],
      volumeSizeLimitMB: 32,
      version: '4.48',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const c = await waitCluster(a, ENV);
    assert.equal(c.state, 'ready', c.stateReason);
    assert.equal((await call('POST', `${base}/buckets`, { name: 'shared' })).status, 200);
    const key = (
      await call('POST', `${base}/keys`, { name: 'shared-rw', bucket: 'shared', actions: ['Read', 'Write'] })
    ).json.key;
    const gateway = (node: string) =>
      key.endpoints.find((e: string) => e.includes(lab.nodes[node === 'n1' ? 0 : 1].address));
    const viaA = s3Client(gateway('n1'), key);
    const viaB = s3Client(gateway('n2'), key);

    await viaA.send(
      new PutObjectCommand({ Bucket: 'shared', Key: 'from-a.txt', Body: 'written through filer A' }),
    );
    const list = await viaB.send(new ListObjectsV2Command({ Bucket: 'shared' }));
    assert.deepEqual(
      list.Contents?.map((o) => o.Key),
      ['from-a.txt'],
    );
    const got = await viaB.send(new GetObjectCommand({ Bucket: 'shared', Key: 'from-a.txt' }));
    assert.equal(await got.Body!.transformToString(), 'written through filer A');
    await viaB.send(
      new PutObjectCommand({ Bucket: 'shared', Key: 'from-b.txt', Body: 'written through filer B' }),
    );
    const back = await viaA.send(new GetObjectCommand({ Bucket: 'shared', Key: 'from-b.txt' }));
    assert.equal(await back.Body!.transformToString(), 'written through filer B');

    // the metadata is in PostgreSQL: the bucket's table in the cluster's schema
    const tables = await filerSchemaTables(store, 'seaweedfs_pgfilers');
    assert.ok(tables.includes('shared'), `tables: ${tables.join(', ')}`);
    await a.services.seaweedfs.settled(ENV);
    assert.equal(
      (await call('DELETE', `/api/storage/clusters/${ENV}/keys/${key.accessKey}`)).status < 300,
      true,
    );
    assert.equal((await call('DELETE', `${base}?deleteData=true`)).status, 200);
    assert.deepEqual(
      await filerSchemaTables(store, 'seaweedfs_pgfilers'),
      [],
      'the schema is dropped with the data',
    );
  },
);
