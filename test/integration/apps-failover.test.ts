// Failover on a 3-node Debian lab: when a node's link goes down, the reconciler marks its instances lost; an app
// with failover "reschedule" gets them placed again on the reachable nodes, an app with "report" only reports.
// When the link is back, the rescheduled app's old instance is removed and the reported one is running again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { linkDown, linkUp } from '../../src/lab/node-control.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, waitJob, fetchText } from '../helpers/apps-lab.ts';
import { withLab } from '../helpers/lab.ts';

const START = `mkdir -p www
printf '%s\\n' "$GRIM_INSTANCE" > www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;

test(
  'failover: reschedule places lost instances again, report only reports',
  { timeout: 900_000 },
  async (t) => {
    const lab = await withLab(t, { nodes: 3, os: 'debian' });
    if (!lab) return;
    const a = await startTestApp(t);
    await addLab(a, lab, 'three');
    // a node whose link is down counts as unreachable after 4 s (default 20 s): the rounds below wait that long
    a.services.apps.nodeListTimeoutMs = 4_000;
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    const app = async (name: string) => (await call('GET', `/api/apps/${name}`)).json.app;

    for (const [name, failover] of [
      ['fo', 'reschedule'],
      ['rep', 'report'],
    ]) {
      const created = await call('POST', '/api/apps', {
        name,
        environment: 'lab',
        group: 'three',
        replicas: 2,
        cpu: '50m',
        memory: '32Mi',
        disk: '100Mi',
        source: { kind: 'script', start: START },
        ports: [{ name: 'http', port: 8080 }],
        health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 20 },
        failover,
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.app.failover, failover);
      const d = await call('POST', `/api/apps/${name}/deploy`, { maxParallel: 2 });
      assert.equal(d.status, 202, JSON.stringify(d.json));
      assert.equal((await waitJob(a, d.json.jobId)).status, 'succeeded');
    }
    const fo1 = await app('fo');
    const rep1 = await app('rep');
    for (const x of [fo1, rep1]) {
      assert.equal(new Set(x.instances.map((i: any) => i.node)).size, 2, 'one instance per node');
      assert.ok(x.instances.every((i: any) => i.state === 'running'));
    }
    // A node that runs an instance of both apps (2 + 2 instances on 3 nodes: there is one).
    const down = fo1.instances
      .map((i: any) => i.node as string)
      .find((n: string) => rep1.instances.some((i: any) => i.node === n)) as string;
    assert.ok(down);
    const foLostId = fo1.instances.find((i: any) => i.node === down).id;
    const repLostId = rep1.instances.find((i: any) => i.node === down).id;
    const downIndex = Number(down.slice(1));

    await linkDown(lab, downIndex);
    let linkIsDown = true;
    t.after(async () => {
      if (linkIsDown) await linkUp(lab, downIndex);
    });
    const rep = (await call('POST', '/api/apps/reconcile')).json;
    assert.deepEqual(rep.unreachable, [down], JSON.stringify(rep));
    assert.deepEqual([...rep.lost].sort(), [foLostId, repLostId].sort(), JSON.stringify(rep));
    assert.deepEqual(rep.failover, ['fo'], 'only the app that opted in fails over');

    // "reschedule": a failover rollout places a new instance on a reachable node; it serves.
    let fo = await app('fo');
    assert.equal(fo.rollout.kind, 'failover');
    const jf = await waitJob(a, fo.rollout.jobId);
    assert.equal(jf.status, 'succeeded', JSON.stringify(jf));
    fo = await app('fo');
    const running = fo.instances.filter((i: any) => i.state === 'running');
    assert.equal(running.length, 2, JSON.stringify(fo.instances));
    assert.ok(
      running.every((i: any) => i.node !== down),
      `no running instance on ${down}: ${JSON.stringify(fo.instances)}`,
    );
    const fresh = running.find((i: any) => !fo1.instances.some((o: any) => o.id === i.id));
    assert.ok(fresh, 'a new instance replaced the lost one');
    assert.equal(fo.currentRelease, 1, 'failover keeps the release');
    assert.equal(await fetchText(`http://${fresh.address}:${fresh.ports.http}/`), `${fresh.id}\n`);
    const old = fo.instances.find((i: any) => i.id === foLostId);
    assert.ok(!old || old.state === 'orphaned', `the lost instance is given up: ${JSON.stringify(old)}`);

    // "report": the lost instance is reported, nothing new is placed.
    let repApp = await app('rep');
    assert.equal(repApp.rollout.kind, 'deploy', 'no failover rollout for a "report" app');
    assert.equal(repApp.instances.length, 2);
    assert.equal(repApp.instances.find((i: any) => i.id === repLostId).state, 'lost');
    assert.equal(repApp.instances.filter((i: any) => i.state === 'running').length, 1);

    // A second round while the node is still down changes nothing more.
    const again = (await call('POST', '/api/apps/reconcile')).json;
    assert.deepEqual(again.failover, [], JSON.stringify(again));
    assert.equal((await app('rep')).instances.length, 2);

    // The link is back: the old "fo" instance is removed from its node, the "rep" one runs again.
    await linkUp(lab, downIndex);
    linkIsDown = false;
    // (The first rounds may still fail on the SSH connection that was open when the link went down.)
    let back = (await call('POST', '/api/apps/reconcile')).json;
    const until = Date.now() + 90_000;
    while (back.unreachable.length && Date.now() < until) {
      await delay(250);
      back = (await call('POST', '/api/apps/reconcile')).json;
    }
    assert.deepEqual(back.unreachable, [], JSON.stringify(back));
    fo = await app('fo');
    assert.equal(fo.instances.length, 2, JSON.stringify(fo.instances));
    assert.ok(!fo.instances.some((i: any) => i.id === foLostId));
    assert.ok(back.removed.includes(foLostId) || !old, JSON.stringify(back));
    repApp = await app('rep');
    assert.equal(repApp.instances.find((i: any) => i.id === repLostId).state, 'running');
    const repBack = repApp.instances.find((i: any) => i.id === repLostId);
    assert.equal(await fetchText(`http://${repBack.address}:${repBack.ports.http}/`), `${repLostId}\n`);
  },
);
