// Apps on a Debian lab with the `script` runtime: spread placement, overcommit held then accepted, HTTP from the
// host, supervisor restarts, reconciler repairs, rolling deploys, a failed health check, rollback, secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { withLab } from '../helpers/lab.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { eventually as pollUntil, fetchText } from '../helpers/apps-lab.ts';
import { execInNode, type LabState } from '../../src/lab/lab.ts';

const START = `mkdir -p www
printf 'hello %s %s\\n' "$GRIM_RELEASE" "$GREETING" > www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;

async function addLab(a: TestApp, lab: LabState, groups: Record<string, string[]>) {
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  assert.equal((await call('POST', '/api/environments', { name: 'lab' })).status, 201);
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const n of lab.nodes) {
    const r = await call('POST', '/api/nodes', {
      name: n.name,
      environment: 'lab',
      address: n.address,
      hostKeyFingerprint: n.hostKeyFingerprint,
      credential: { privateKey },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  for (const [name, nodes] of Object.entries(groups))
    assert.equal((await call('POST', '/api/groups', { name, environment: 'lab', nodes })).status, 201);
}

export async function waitJob(a: TestApp, id: string, ms = 180_000) {
  const end = Date.now() + ms;
  for (;;) {
    const j = (await a.call('GET', `/api/jobs/${id}`, { token: a.adminToken })).json.job;
    if (j.status !== 'running') return j;
    if (Date.now() > end) throw new Error(`job ${id} still running after ${ms} ms: ${JSON.stringify(j)}`);
    await delay(250);
  }
}

const eventually = <T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000) =>
  pollUntil(what, fn, ms);

test('script apps on a 3-node Debian lab', { timeout: 900_000 }, async (t) => {
  const lab = await withLab(t, { nodes: 3, os: 'debian' });
  if (!lab) return;
  const a = await startTestApp(t);
  await addLab(a, lab, { three: ['n1', 'n2', 'n3'], two: ['n1', 'n2'] });
  const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
  const app = async (name: string) => (await call('GET', `/api/apps/${name}`)).json.app;
  const nodeIndex = (name: string) => Number(name.slice(1));

  // Sizes live in the database, editable by admins.
  const sizes = (await call('GET', '/api/sizes')).json.sizes;
  assert.deepEqual(
    sizes.map((s: any) => s.name),
    ['xs', 's', 'm', 'l', 'xl'],
  );
  assert.equal(
    (await call('PUT', '/api/sizes/tiny', { cpu: '50m', memory: '32Mi', disk: '100Mi' })).status,
    200,
  );
  const badSize = await call('PUT', '/api/sizes/bad', { cpu: '1 core', memory: '1GB', disk: '1Gi' });
  assert.equal(badSize.status, 400);
  assert.equal(badSize.json.error.details.length, 2, JSON.stringify(badSize.json));

  // 3 replicas on 3 nodes: one per node, serving HTTP reachable from the host.
  const created = await call('POST', '/api/apps', {
    name: 'web',
    environment: 'lab',
    group: 'three',
    replicas: 3,
    size: 'tiny',
    runtime: 'script',
    source: { kind: 'script', start: START },
    ports: [{ name: 'http', port: 8080 }],
    env: { GREETING: 'one' },
    secrets: { API_KEY: "s3cr'et $(touch /root/pwned)" },
    health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 20 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.deepEqual(created.json.app.secrets, ['API_KEY']);
  assert.ok(!JSON.stringify(created.json).includes('s3cr'), 'the API never echoes a secret');
  const stored = await a.services.db.get<{ secrets: string }>('SELECT secrets FROM apps WHERE name = ?', [
    'web',
  ]);
  assert.ok(stored && stored.secrets.startsWith('v1:') && !stored.secrets.includes('s3cr'), 'sealed at rest');

  const d1 = await call('POST', '/api/apps/web/deploy', {});
  assert.equal(d1.status, 202, JSON.stringify(d1.json));
  const j1 = await waitJob(a, d1.json.jobId);
  assert.equal(j1.status, 'succeeded', JSON.stringify(j1));
  let web = await app('web');
  assert.equal(web.currentRelease, 1);
  assert.deepEqual(web.instances.map((i: any) => i.node).sort(), ['n1', 'n2', 'n3']);
  assert.ok(web.instances.every((i: any) => i.state === 'running'));
  for (const i of web.instances)
    assert.equal(await fetchText(`http://${i.address}:${i.ports.http}/`), 'hello 1 one\n');
  // The secret reached the instance as a literal value (quoted, never run).
  const first = web.instances[0];
  const envOnNode = await execInNode(
    lab,
    nodeIndex(first.node),
    `sed -n 's/^API_KEY=//p' /var/lib/grim/apps/${first.id}/environment | base64 -d`,
  );
  assert.equal(envOnNode.stdout, "s3cr'et $(touch /root/pwned)");
  assert.equal(
    (await execInNode(lab, nodeIndex(first.node), 'test -e /root/pwned; echo $?')).stdout.trim(),
    '1',
  );

  // Killing the app's process: the node's supervisor restarts it (grim is not involved).
  const victim = web.instances.find((i: any) => i.node === 'n2');
  const dir = `/var/lib/grim/apps/${victim.id}`;
  const pid1 = (await execInNode(lab, 2, `cat ${dir}/app.pid`)).stdout.trim();
  await execInNode(lab, 2, `kill -9 ${pid1}`);
  await eventually('the supervisor restarted the app', async () => {
    const pid2 = (
      await execInNode(lab, 2, `cat ${dir}/app.pid 2>/dev/null`, { allowFailure: true })
    ).stdout.trim();
    return (
      pid2 &&
      pid2 !== pid1 &&
      (await fetchText(`http://${victim.address}:${victim.ports.http}/`)) === 'hello 1 one\n'
    );
  });
  assert.equal((await execInNode(lab, 2, `cat ${dir}/restarts`)).stdout.trim(), '1');

  // Deleting its files and processes: the reconciler recreates it.
  await execInNode(
    lab,
    2,
    `for p in /proc/[0-9]*; do if tr '\\0' '\\n' <$p/environ 2>/dev/null | grep -qx GRIM_INSTANCE=${victim.id}; then kill -9 \${p#/proc/}; fi; done; rm -rf ${dir}`,
  );
  assert.match(await fetchText(`http://${victim.address}:${victim.ports.http}/`), /^error/);
  const rep = (await call('POST', '/api/apps/reconcile')).json;
  assert.deepEqual(rep.recreated, [victim.id], JSON.stringify(rep));
  await eventually(
    'the recreated instance serves',
    async () => (await fetchText(`http://${victim.address}:${victim.ports.http}/`)) === 'hello 1 one\n',
  );
  // A stray instance (not in grim's store) is removed.
  await execInNode(
    lab,
    3,
    'mkdir -p /var/lib/grim/apps/stray-1-aaaaa && printf "app=stray\\nrelease=1\\ndriver=script\\n" > /var/lib/grim/apps/stray-1-aaaaa/meta',
  );
  const rep2 = (await call('POST', '/api/apps/reconcile')).json;
  assert.deepEqual(rep2.removed, ['stray-1-aaaaa'], JSON.stringify(rep2));
  assert.equal(
    (await execInNode(lab, 3, 'test -e /var/lib/grim/apps/stray-1-aaaaa; echo $?')).stdout.trim(),
    '1',
  );

  // A rolling deploy of release 2 (two at a time): every instance is replaced.
  const d2 = await call('POST', '/api/apps/web/deploy', { env: { GREETING: 'two' }, maxParallel: 2 });
  assert.equal((await waitJob(a, d2.json.jobId)).status, 'succeeded');
  web = await app('web');
  assert.equal(web.currentRelease, 2);
  assert.equal(web.instances.length, 3);
  assert.ok(web.instances.every((i: any) => i.release === 2 && i.state === 'running'));
  for (const i of web.instances)
    assert.equal(await fetchText(`http://${i.address}:${i.ports.http}/`), 'hello 2 two\n');
  assert.deepEqual(
    web.releases.map((r: any) => [r.number, r.status]),
    [
      [2, 'active'],
      [1, 'superseded'],
    ],
  );

  // A release whose health check fails stops the roll; release 2 keeps serving.
  const d3 = await call('POST', '/api/apps/web/deploy', {
    source: { kind: 'script', start: 'echo broken; exit 1\n' },
    health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 1, retries: 3 },
  });
  const j3 = await waitJob(a, d3.json.jobId);
  assert.equal(j3.status, 'failed');
  web = await app('web');
  assert.equal(web.currentRelease, 2);
  assert.deepEqual(web.releases.map((r: any) => [r.number, r.status]).slice(0, 2), [
    [3, 'failed'],
    [2, 'active'],
  ]);
  assert.equal(web.instances.length, 3, JSON.stringify(web.instances));
  for (const i of web.instances)
    assert.equal(await fetchText(`http://${i.address}:${i.ports.http}/`), 'hello 2 two\n');

  // Rollback to release 1: a new release 4 with release 1's content.
  const rb = await call('POST', '/api/apps/web/rollback', { release: 1 });
  assert.equal(rb.status, 202, JSON.stringify(rb.json));
  const jrb = await waitJob(a, rb.json.jobId);
  assert.equal(jrb.status, 'succeeded', JSON.stringify(jrb));
  web = await app('web');
  assert.equal(web.currentRelease, 4);
  assert.equal(web.releases[0].rollbackOf, 1);
  for (const i of web.instances)
    assert.equal(await fetchText(`http://${i.address}:${i.ports.http}/`), 'hello 4 one\n');

  // 4 replicas on a 2-node group: 2 and 2.
  assert.equal(
    (
      await call('POST', '/api/apps', {
        name: 'pair',
        environment: 'lab',
        group: 'two',
        replicas: 4,
        cpu: '100m',
        memory: '64Mi',
        disk: '100Mi',
        source: { kind: 'script', start: START },
        ports: [{ name: 'http', port: 8080 }],
      })
    ).status,
    201,
  );
  const dp = await call('POST', '/api/apps/pair/deploy', { maxParallel: 4 });
  const jp = await waitJob(a, dp.json.jobId);
  assert.equal(jp.status, 'succeeded', JSON.stringify(jp));
  const pair = await app('pair');
  const per = (n: string) => pair.instances.filter((i: any) => i.node === n).length;
  assert.deepEqual([per('n1'), per('n2')], [2, 2]);

  // Overcommit: held with per-node numbers, nothing recorded; accepted explicitly, and audited.
  assert.equal(
    (
      await call('POST', '/api/apps', {
        name: 'big',
        environment: 'lab',
        group: 'two',
        replicas: 2,
        cpu: '64',
        memory: '64Mi',
        disk: '1Gi',
        source: { kind: 'script', start: START },
        ports: [{ name: 'http', port: 8080 }],
      })
    ).status,
    201,
  );
  const held = await call('POST', '/api/apps/big/deploy', {});
  assert.equal(held.status, 409);
  assert.equal(held.json.error.code, 'held');
  assert.deepEqual(held.json.error.details.map((d: any) => d.path).sort(), ['nodes/n1', 'nodes/n2']);
  assert.match(held.json.error.details[0].message, /requested after placement: CPU 64.*allocatable: CPU \d/);
  assert.equal((await app('big')).releases.length, 0);
  const accepted = await call('POST', '/api/apps/big/deploy', { acceptOvercommit: true });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.json));
  assert.equal(accepted.json.warnings.length, 2);
  const audit = await call('GET', '/api/audit?action=deployApp');
  const entry = audit.json.entries.find((e: any) => e.target?.includes('big') && e.details.acceptOvercommit);
  assert.ok(entry, JSON.stringify(audit.json.entries.map((e: any) => [e.target, e.details])));
  assert.equal((await waitJob(a, accepted.json.jobId)).status, 'succeeded');

  // Delete: every trace leaves the nodes.
  for (const name of ['web', 'pair', 'big']) {
    const del = await call('DELETE', `/api/apps/${name}`);
    assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
  }
  for (const n of [1, 2, 3]) {
    const left = await execInNode(
      lab,
      n,
      'ls /var/lib/grim/apps | wc -l; ps -eo args | grep -c "[s]upervisor.sh"',
      {
        allowFailure: true,
      },
    );
    assert.deepEqual(left.stdout.trim().split('\n'), ['0', '0'], `node n${n}`);
  }
});
