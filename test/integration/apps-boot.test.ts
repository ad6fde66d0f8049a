// "Starts at boot" without grim: a script app's instance on a Debian lab node (no systemd, no OpenRC: the sh
// supervisor) comes back by itself after the node reboots, through the /etc/rc.local hook app-install.sh put
// there (the lab's init runs /etc/rc.local at boot, as a real init does). grim's reconciler never runs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { execInNode, rebootNode } from '../../src/lab/node-control.ts';
import { bootCount } from '../../src/lab/processes.ts';
import { startTestApp } from '../helpers/app.ts';
import { fetchText } from '../helpers/apps-lab.ts';
import { withLab } from '../helpers/lab.ts';

// Counts its starts in the instance directory, then serves its instance id.
const START = `echo start >> starts
mkdir -p www
printf '%s\\n' "$GRIM_INSTANCE" > www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;

test(
  'a script instance starts at boot by itself (rc.local hook), before any reconcile',
  { timeout: 600_000 },
  async (t) => {
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    const a = await startTestApp(t);
    // The reconciler must play no part: startTestApp starts no background work, and a call would fail the test.
    let reconciles = 0;
    a.services.apps.reconciler.tick = async () => {
      reconciles++;
      throw new Error('the reconciler must not run in this test');
    };
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    const node = lab.nodes[0];
    assert.equal((await call('POST', '/api/environments', { name: 'lab' })).status, 201);
    const added = await call('POST', '/api/nodes', {
      name: node.name,
      environment: 'lab',
      address: node.address,
      hostKeyFingerprint: node.hostKeyFingerprint,
      credential: { privateKey: readFileSync(lab.clientKeyPath, 'utf8') },
    });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    assert.equal(
      (await call('POST', '/api/groups', { name: 'one', environment: 'lab', nodes: [node.name] })).status,
      201,
    );
    assert.equal(
      (
        await call('POST', '/api/apps', {
          name: 'booty',
          environment: 'lab',
          group: 'one',
          replicas: 1,
          cpu: '50m',
          memory: '32Mi',
          disk: '100Mi',
          source: { kind: 'script', start: START },
          ports: [{ name: 'http', port: 8080 }],
          health: { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 20 },
        })
      ).status,
      201,
    );
    const d = await call('POST', '/api/apps/booty/deploy', {});
    assert.equal(d.status, 202, JSON.stringify(d.json));
    for (;;) {
      const j = (await call('GET', `/api/jobs/${d.json.jobId}`)).json.job;
      if (j.status !== 'running') {
        assert.equal(j.status, 'succeeded', JSON.stringify(j));
        break;
      }
      await delay(250);
    }
    const [inst] = (await call('GET', '/api/apps/booty')).json.app.instances;
    const url = `http://${inst.address}:${inst.ports.http}/`;
    const dir = `/var/lib/grim/apps/${inst.id}`;
    assert.equal(await fetchText(url), `${inst.id}\n`);
    assert.equal((await execInNode(lab, 1, `cat ${dir}/mode`)).stdout.trim(), 'sh', 'no systemd/OpenRC here');
    // app-install.sh created the node's boot script with grim's hook.
    const rc = await execInNode(
      lab,
      1,
      'test -x /etc/rc.local && echo executable; grep -c "bin/boot.sh" /etc/rc.local',
    );
    assert.deepEqual(rc.stdout.trim().split('\n'), ['executable', '1']);
    assert.equal((await execInNode(lab, 1, `wc -l < ${dir}/starts`)).stdout.trim(), '1');

    const boots = await bootCount(node);
    await rebootNode(lab, 1);
    assert.equal(await bootCount(node), boots + 1, 'the node rebooted');

    // Back by itself: the rc.local hook started the supervisor, which started the app (its 2nd start ever, and
    // not a supervisor restart: every process of the node died with the reboot).
    const end = Date.now() + 60_000;
    while ((await fetchText(url)) !== `${inst.id}\n`) {
      if (Date.now() > end) {
        const why = await execInNode(
          lab,
          1,
          `cat /etc/rc.local; cat /run/rc.local.log; ls -la ${dir}; tail -n 20 ${dir}/log ${dir}/supervisor.log; ps -eo pid,args`,
          { allowFailure: true },
        );
        assert.fail(`the instance did not come back after the reboot:\n${why.stdout}${why.stderr}`);
      }
      await delay(300);
    }
    const after = await execInNode(
      lab,
      1,
      `wc -l < ${dir}/starts; cat ${dir}/restarts; cat ${dir}/wanted; ps -eo args | grep -c "[s]upervisor.sh"`,
    );
    assert.deepEqual(after.stdout.trim().split('\n'), ['2', '0', 'run', '1']);
    assert.equal(reconciles, 0);

    // Delete leaves nothing (the boot hook stays, harmless: it starts only instances that exist).
    const del = await call('DELETE', '/api/apps/booty');
    for (;;) {
      const j = (await call('GET', `/api/jobs/${del.json.jobId}`)).json.job;
      if (j.status !== 'running') {
        assert.equal(j.status, 'succeeded', JSON.stringify(j));
        break;
      }
      await delay(250);
    }
    const left = await execInNode(
      lab,
      1,
      'ls /var/lib/grim/apps | wc -l; ps -eo args | grep -c "[s]upervisor.sh"',
      {
        allowFailure: true,
      },
    );
    assert.deepEqual(left.stdout.trim().split('\n'), ['0', '0']);
  },
);
