// A shared volume on a 3-node Debian lab with a real SeaweedFS cluster set up by grim (n1: storage; n2, n3:
// compute): a 2-replica script app, one replica per compute node; grim gives each node a supervised weed mount of
// the filer (/volumes/grim at /srv/grim-shared) when the first replica there needs it; each replica writes a file
// and serves what it reads from the volume, so each one shows the other's file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execInNode } from '../../src/lab/node-control.ts';
import { startTestApp } from '../helpers/app.ts';
import { fetchText, waitJob } from '../helpers/apps-lab.ts';
import { withLab } from '../helpers/lab.ts';
import { addSeaweedLab, eventually, waitCluster, weedBinary } from '../helpers/seaweedfs-lab.ts';

const START = `d="$GRIM_VOLUME_MEDIA"
echo "hello from $GRIM_INSTANCE" > "$d/$GRIM_INSTANCE.txt"
mkdir -p www
echo starting > www/index.html
busybox httpd -f -p "$PORT" -h www &
pid=$!
trap 'kill $pid; exit 0' TERM
while kill -0 $pid 2>/dev/null; do
  cat "$d"/*.txt > www/next 2>/dev/null && mv www/next www/index.html
  sleep 1
done
`;

test(
  "a shared volume: 2 replicas on 2 nodes see each other's files through SeaweedFS",
  { timeout: 900_000 },
  async (t) => {
    const weed = weedBinary();
    const lab = await withLab(t, { nodes: 3, os: 'debian' });
    if (!lab) return;
    const a = await startTestApp(t);
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    await addSeaweedLab(a, lab, 'lab', 1);
    const base = '/api/storage/clusters/lab';
    t.after(async () => {
      await a.services.seaweedfs.settled('lab').catch(() => undefined);
      await call('DELETE', `${base}?deleteData=true`).catch(() => undefined);
    });
    assert.equal((await call('POST', '/api/storage/releases', { version: '4.48', path: weed })).status, 200);
    const c = await call('POST', base, {
      masters: ['n1'],
      filers: ['n1'],
      s3: ['n1'],
      replication: '000',
      version: '4.48',
    });
    assert.equal(c.status, 200, JSON.stringify(c.json));
    assert.equal((await waitCluster(a, 'lab')).state, 'ready');
    assert.equal(
      (await call('POST', '/api/groups', { name: 'web', environment: 'lab', nodes: ['n2', 'n3'] })).status,
      201,
    );

    const created = await call('POST', '/api/apps', {
      name: 'gallery',
      environment: 'lab',
      group: 'web',
      replicas: 2,
      size: 'xs',
      runtime: 'script',
      source: { kind: 'script', start: START },
      ports: [{ name: 'http', port: 8080 }],
      health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 30 },
      volumes: [{ name: 'media', size: '1Gi', mount: '/srv/media', kind: 'shared' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const d = await call('POST', '/api/apps/gallery/deploy', { maxParallel: 2 });
    assert.equal(d.status, 202, JSON.stringify(d.json));
    const j = await waitJob(a, d.json.jobId);
    assert.equal(j.status, 'succeeded', JSON.stringify(j));
    const app = (await call('GET', '/api/apps/gallery')).json.app;
    assert.deepEqual(app.instances.map((i: any) => i.node).sort(), ['n2', 'n3']);
    for (const i of app.instances) {
      const others = app.instances.filter((x: any) => x.id !== i.id);
      const body = await eventually(`${i.id} sees the other replica's file`, async () => {
        const b = await fetchText(`http://${i.address}:${i.ports.http}/`);
        return others.every((o: any) => b.includes(`hello from ${o.id}`)) ? b : undefined;
      });
      console.log(`# replica ${i.id} on ${i.node} reads: ${body.trim().replace(/\n/g, ' | ')}`);
    }
    // The files are in the filer, seen through each compute node's weed mount.
    const mounts = (await call('GET', base)).json.cluster.mounts.map((m: any) => `${m.node}:${m.dir}`).sort();
    assert.deepEqual(mounts, ['n2:/srv/grim-shared', 'n3:/srv/grim-shared']);
    const listing = await execInNode(lab, 3, 'ls /srv/grim-shared/lab/gallery/media');
    assert.equal(listing.stdout.trim().split('\n').length, 2, listing.stdout);
    // A shared volume in a microVM is refused with the reason.
    const vm = await call('POST', '/api/apps', {
      name: 'vmshared',
      environment: 'lab',
      group: 'web',
      size: 'xs',
      runtime: 'qemu-microvm',
      source: { kind: 'image', image: 'x/y:1' },
      volumes: [{ name: 'media', size: '1Gi', mount: '/srv/media', kind: 'shared' }],
    });
    assert.equal(vm.status, 400);
    assert.match(JSON.stringify(vm.json), /virtio-fs/);
    const del = await call('DELETE', '/api/apps/gallery');
    assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
  },
);
