import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withLab } from '../helpers/lab.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  linkDown,
  linkUp,
  regenerateHostKey,
  execInNode,
  rebootNode,
  stopNode,
  startNode,
} from '../../src/lab/node-control.ts';
import type { LabState } from '../../src/lab/lab.ts';
import { spanTree, startTraceDouble } from '../helpers/otlp-trace-double.ts';

async function addLabNodes(a: TestApp, lab: LabState, env = 'lab') {
  assert.equal(
    (await a.call('POST', '/api/environments', { token: a.adminToken, body: { name: env } })).status,
    201,
  );
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const n of lab.nodes) {
    // Trust on first use: scan, compare with what the lab recorded, then confirm by passing it.
    const scan = await a.call('POST', '/api/nodes/scan', {
      token: a.adminToken,
      body: { address: n.address },
    });
    assert.equal(scan.status, 200, JSON.stringify(scan.json));
    assert.equal(scan.json.fingerprint, n.hostKeyFingerprint);
    const r = await a.call('POST', '/api/nodes', {
      token: a.adminToken,
      body: {
        name: n.name,
        environment: env,
        address: n.address,
        hostKeyFingerprint: scan.json.fingerprint,
        credential: { privateKey },
        labels: { tier: n.index === 1 ? 'web' : 'db' },
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
}

async function waitJob(a: TestApp, id: string, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const j = (await a.call('GET', `/api/jobs/${id}`, { token: a.adminToken })).json.job;
    if (j.status !== 'running') return j;
    if (Date.now() > end) throw new Error(`job ${id} still running after ${ms} ms: ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('nodes on a Debian lab: pinned keys, facts, fan-out with a dead link, key change refused and audited', async (t) => {
  const lab = await withLab(t, { nodes: 3, os: 'debian' });
  if (!lab) return;
  const a = await startTestApp(t);
  await addLabNodes(a, lab);

  const n2 = (await a.call('GET', '/api/nodes/n2', { token: a.adminToken })).json.node;
  assert.equal(n2.facts.hostname, 'n2');
  assert.equal(n2.facts.os.id, 'debian');
  assert.ok(n2.facts.cpus >= 1 && n2.facts.memoryBytes > 0);
  assert.ok(n2.allocatable.cpuMillis > 0);
  // grim's key was installed: the node's authorized_keys holds it (and nothing of the admin's key was stored).
  const ak = await execInNode(lab, 2, 'cat /root/.ssh/authorized_keys');
  assert.ok(ak.stdout.includes(a.services.identity.publicKey.split(' ')[1]));

  const sel = await a.call('GET', '/api/nodes?selector=tier%3Ddb', { token: a.adminToken });
  assert.deepEqual(
    sel.json.nodes.map((n: any) => n.name),
    ['n2', 'n3'],
  );

  // Fan out with n3's link down: n1 and n2 succeed, n3 fails within the timeout, nothing hangs.
  await linkDown(lab, 3);
  const t0 = Date.now();
  const run = await a.call('POST', '/api/runs', {
    token: a.adminToken,
    body: { target: { nodes: ['n1', 'n2', 'n3'] }, command: 'hostname; echo "$((6 * 7))"', timeoutSec: 5 },
  });
  assert.equal(run.status, 201, JSON.stringify(run.json));
  const job = await waitJob(a, run.json.job.id, 30_000);
  const by = Object.fromEntries(job.tasks.map((x: any) => [x.node, x]));
  assert.equal(by.n1.status, 'succeeded', JSON.stringify(job.tasks));
  assert.equal(by.n1.output, 'n1\n42\n');
  assert.equal(by.n2.exitCode, 0);
  assert.equal(by.n3.status, 'failed');
  assert.ok(
    Date.now() - t0 < 20_000,
    `the dead node failed within its timeouts (${Date.now() - t0} ms): ${JSON.stringify(job.tasks)}`,
  );
  await linkUp(lab, 3);

  // The heartbeat marks a node unreachable when its sshd is gone, and ready again when it is back.
  await stopNode(lab, 2);
  const down = await a.call('POST', '/api/nodes/n2/refresh', { token: a.adminToken });
  assert.equal(down.json.node.state, 'unreachable');
  assert.match(down.json.node.stateReason, /refused|closed/);
  await startNode(lab, 2, { wait: true });
  await new Promise((r) => setTimeout(r, 2100)); // the pool fails a just-failed node fast for 2 s
  assert.equal(
    (await a.call('POST', '/api/nodes/n2/refresh', { token: a.adminToken })).json.node.state,
    'ready',
  );

  // The run is a job with logs, and the command is audited.
  const audit = await a.call('GET', '/api/audit?action=createRun', { token: a.adminToken });
  assert.equal(audit.json.entries[0].details.command, 'hostname; echo "$((6 * 7))"');

  // A changed host key is refused: the node goes to host-key-mismatch, audited, nothing runs.
  // A reinstalled node: new host key, and it rebooted (so grim's pooled connection is gone too).
  const newFp = await regenerateHostKey(lab, 1);
  await rebootNode(lab, 1, { wait: true });
  const probed = await a.call('POST', '/api/nodes/n1/refresh', { token: a.adminToken });
  assert.equal(probed.json.node.state, 'host-key-mismatch');
  const mm = await a.call('GET', '/api/audit?action=node.host-key-mismatch', { token: a.adminToken });
  assert.equal(mm.json.entries[0].target, 'n1');
  assert.equal(mm.json.entries[0].details.actual, newFp);
  const blocked = await waitJob(
    a,
    (
      await a.call('POST', '/api/runs', {
        token: a.adminToken,
        body: { target: { nodes: ['n1'] }, command: 'touch /root/should-not-exist' },
      })
    ).json.job.id,
  );
  assert.equal(blocked.tasks[0].status, 'failed');
  assert.match(blocked.tasks[0].error, /host key mismatch/);
  assert.equal((await execInNode(lab, 1, 'test -e /root/should-not-exist; echo $?')).stdout.trim(), '1');
  // An admin re-pins after confirming, and the node is usable again.
  const repin = await a.call('POST', '/api/nodes/n1/host-key', {
    token: a.adminToken,
    body: { fingerprint: newFp },
  });
  assert.equal(repin.json.node.state, 'ready');
});

test('hostile names, labels and parameters are rejected or passed literally, never executed', async (t) => {
  const lab = await withLab(t, { nodes: 1, os: 'debian' });
  if (!lab) return;
  const a = await startTestApp(t);
  await addLabNodes(a, lab);
  const fp = lab.nodes[0].hostKeyFingerprint;
  for (const name of ['n$(id)', 'a;b', "q'x", 'new\nline', '`x`']) {
    const r = await a.call('POST', '/api/nodes', {
      token: a.adminToken,
      body: { name, environment: 'lab', address: '10.0.0.1', hostKeyFingerprint: fp },
    });
    assert.equal(r.status, 400, name);
  }
  for (const address of ['10.0.0.1;reboot', '$(reboot)', 'a b']) {
    const r = await a.call('POST', '/api/nodes', {
      token: a.adminToken,
      body: { name: 'x1', environment: 'lab', address, hostKeyFingerprint: fp },
    });
    assert.equal(r.status, 400, address);
  }
  const lbl = await a.call('PATCH', '/api/nodes/n1', {
    token: a.adminToken,
    body: { labels: { 'k$(id)': 'v', ok: "v'; touch /tmp/x" } },
  });
  assert.equal(lbl.status, 400);
  assert.equal(lbl.json.error.details.length, 2, 'every problem is listed');
  const sel = await a.call('POST', '/api/runs', {
    token: a.adminToken,
    body: { target: { selector: 'a=$(touch /root/pwned)' }, command: 'true' },
  });
  assert.equal(sel.status, 400);
  assert.equal((await execInNode(lab, 1, 'ls /root/pwned 2>/dev/null | wc -l')).stdout.trim(), '0');
});

test('the same node scripts run on Alpine lab nodes (busybox ash, apk)', async (t) => {
  if (!process.env.GRIM_ALPINE_ROOTFS) {
    const why =
      'GRIM_ALPINE_ROOTFS is not set (point it at shared/fixtures/alpine/alpine-minirootfs-3.20.3-x86_64.tar.gz)';
    if (process.env.CI) throw new Error(why);
    t.skip(why);
    return;
  }
  const lab = await withLab(t, { nodes: 2, os: 'alpine', alpineRootfs: process.env.GRIM_ALPINE_ROOTFS });
  if (!lab) return;
  const a = await startTestApp(t);
  await addLabNodes(a, lab);
  const n = (await a.call('GET', '/api/nodes/n1', { token: a.adminToken })).json.node;
  assert.equal(n.facts.os.id, 'alpine');
  assert.equal(n.facts.hostname, 'n1');
  const run = await a.call('POST', '/api/runs', {
    token: a.adminToken,
    body: { target: { nodes: ['n1', 'n2'] }, command: 'cat /etc/alpine-release; readlink /bin/sh' },
  });
  const job = await waitJob(a, run.json.job.id);
  for (const task of job.tasks) assert.match(task.output, /^3\.20\.\d+\n\/bin\/busybox\n$/);
  const up = await a.call('POST', '/api/updates', {
    token: a.adminToken,
    body: { target: { nodes: ['n1', 'n2'] }, refresh: false },
  });
  const uj = await waitJob(a, up.json.job.id);
  assert.equal(uj.status, 'succeeded', JSON.stringify(uj.tasks));
  assert.equal(uj.tasks[0].result.manager, 'apk');
});

test('rolling OS update on Debian lab nodes: dry run shows the script, reboot waits for SSH, a failure stops the roll, traced step by step', async (t) => {
  const lab = await withLab(t, { nodes: 3, os: 'debian' });
  if (!lab) return;
  // The roll is exported as a trace to an OTLP receiver (protocol double: official protos, GRIM_SHARED_DIR).
  const otlp = await startTraceDouble();
  t.after(() => otlp.close());
  process.env.GRIM_OTLP_ENDPOINT = otlp.url;
  t.after(() => delete process.env.GRIM_OTLP_ENDPOINT);
  const a = await startTestApp(t);
  await addLabNodes(a, lab);
  const plan = await a.call('POST', '/api/updates/plan', {
    token: a.adminToken,
    body: { target: { nodes: ['n1', 'n2', 'n3'] }, refresh: false },
  });
  assert.equal(plan.status, 200);
  assert.match(plan.json.script, /apt-get -y -q/);
  assert.deepEqual(
    plan.json.nodes.map((n: any) => n.name),
    ['n1', 'n2', 'n3'],
  );
  assert.deepEqual(plan.json.env, { REFRESH: '0' });

  // n1 says a reboot is needed; n2's apt is broken, so the roll stops there and n3 is never touched.
  await execInNode(lab, 1, 'touch /run/reboot-required');
  await execInNode(
    lab,
    2,
    'echo \'Dir::State::status "/nonexistent/status";\' > /etc/apt/apt.conf.d/99broken',
  );
  const up = await a.call('POST', '/api/updates', {
    token: a.adminToken,
    body: { target: { nodes: ['n1', 'n2', 'n3'] }, refresh: false },
  });
  assert.equal(up.status, 201);
  const job = await waitJob(a, up.json.job.id, 120_000);
  const by = Object.fromEntries(job.tasks.map((x: any) => [x.node, x]));
  assert.equal(by.n1.status, 'succeeded', JSON.stringify(by.n1));
  assert.equal(by.n1.result.rebootRequired, true);
  assert.match(by.n1.output, /node is back/);
  assert.equal(by.n2.status, 'failed');
  assert.equal(by.n3.status, 'skipped');
  assert.equal(job.status, 'failed');
  assert.match(job.summary, /n2 failed/);
  // After the reboot /run is fresh, so the reboot marker is gone: the node really rebooted.
  assert.equal((await execInNode(lab, 1, 'test -e /run/reboot-required; echo $?')).stdout.trim(), '1');

  for (let i = 0; i < 50 && !otlp.spans.some((s) => s.name === 'os update'); i++)
    await new Promise((r) => setTimeout(r, 100)); // batches leave within 1 s
  assert.deepEqual(otlp.violations, []);
  assert.deepEqual(spanTree(otlp.spans, 'os update'), [
    'os update [error]',
    '  update n1',
    '    os-update.sh',
    '    reboot.sh',
    '    wait for SSH',
    '  update n2 [error]',
    '    os-update.sh [error]',
  ]);
  const root = otlp.spans.find((s) => s.name === 'os update')!;
  assert.equal(root.attributes['grim.job.id'], up.json.job.id);
  assert.equal(otlp.spans.find((s) => s.name === 'update n1')!.attributes['grim.reboot_required'], true);
  const metrics = String((await a.call('GET', '/metrics', { token: a.adminToken })).json);
  assert.match(metrics, new RegExp(`^grim_trace_exported_spans_total ${otlp.spans.length}$`, 'm'));
  assert.match(metrics, /^grim_trace_dropped_spans_total 0$/m);
});
