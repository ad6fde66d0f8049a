// `grim ssh rotate` on a 3-node lab with one node down: the two reachable nodes rotate at once (new key in,
// checked over a connection with only the new key, old key out); the down node keeps the old key and the job
// lists it as waiting; when it comes back the rotation loop finishes it. Afterwards grim's old key no longer
// logs in anywhere, the new one does, and commands through the pool work on every node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { withLab } from '../helpers/lab.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, waitJob } from '../helpers/apps-lab.ts';
import { startNode, stopNode } from '../../src/lab/node-control.ts';
import { runScriptOnce } from '../../src/ssh/index.ts';
import { targetOf } from '../../src/services/nodes.ts';
import { getNodeRow } from '../../src/store/nodes-repo.ts';
import { startSshRotation } from '../../src/server/start.ts';

test(
  'ssh rotate with one node down: the others at once, the down one when it returns',
  { timeout: 240_000 },
  async (t) => {
    const lab = await withLab(t, { nodes: 3, os: 'debian' });
    if (!lab) return;
    const a = await startTestApp(t);
    await addLab(a, lab, 'rot');
    const s = a.services;
    const oldKey = (s.identity as unknown as { privateKey: string }).privateKey;
    const oldFp = s.identity.fingerprint;
    const names = lab.nodes.map((n) => n.name);
    const loginWith = async (node: string, privateKey: string) => {
      const row = (await getNodeRow(s.db, node))!;
      try {
        await runScriptOnce(targetOf(row), { privateKey }, 'heartbeat', {}, { connectTimeoutMs: 5_000 });
        return 'ok';
      } catch (err) {
        return (err as Error).message;
      }
    };
    for (const n of names) assert.equal(await loginWith(n, oldKey), 'ok');

    await stopNode(lab, 3); // 1-based: n3's sshd is gone: connection refused
    const r = await a.call('POST', '/api/ssh/rotate', { token: a.adminToken, body: {} });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.equal(r.json.resumed, false);
    assert.deepEqual(r.json.waiting, [names[2]]);
    const byNode = Object.fromEntries(r.json.job.tasks.map((x: any) => [x.node, x]));
    assert.equal(byNode[names[0]].status, 'succeeded');
    assert.equal(byNode[names[1]].status, 'succeeded');
    assert.equal(byNode[names[2]].status, 'waiting');
    assert.match(byNode[names[2]].error, /keeps the old key/);
    assert.equal(r.json.job.status, 'running');
    const newKey = (s.identity as unknown as { privateKey: string }).privateKey;
    assert.notEqual(s.identity.fingerprint, oldFp, 'the new key is grim identity from the start');
    // Rotated nodes: the old key is refused, the new one logs in.
    for (const n of names.slice(0, 2)) {
      assert.match(await loginWith(n, oldKey), /authentication|auth/i, `old key still logs in on ${n}`);
      assert.equal(await loginWith(n, newKey), 'ok');
    }
    // Asking again reports the same rotation.
    const again = await a.call('POST', '/api/ssh/rotate', { token: a.adminToken, body: {} });
    assert.equal(again.json.resumed, true);
    assert.equal(again.json.job.id, r.json.job.id);

    // The node returns: the rotation loop (under its lease) finishes it.
    const stopLoop = startSshRotation(s, 500);
    t.after(stopLoop);
    await startNode(lab, 3);
    const job = await waitJob(a, r.json.job.id, 60_000);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    assert.ok(job.tasks.every((x: any) => x.status === 'succeeded'));
    for (const n of names) {
      assert.match(await loginWith(n, oldKey), /authentication|auth/i, `old key still logs in on ${n}`);
      assert.equal(await loginWith(n, newKey), 'ok');
    }
    // The pool (now without the old key) runs commands everywhere.
    const run = await a.call('POST', '/api/runs', {
      token: a.adminToken,
      body: { target: { groups: ['rot'] }, command: 'echo rotated' },
    });
    assert.equal(run.status, 201, JSON.stringify(run.json));
    const done = await waitJob(a, run.json.job.id, 30_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    const audit = await a.call('GET', '/api/audit?action=ssh.rotate.completed', { token: a.adminToken });
    assert.equal(audit.json.entries.length, 1);
    await delay(10);
  },
);
