// The restore drill, as an admin would run it: a 3-node Debian lab, a real `grim server` on SQLite with two
// apps (3 web replicas; a counter with a volume). `grim backup create` while it runs, then the control node
// is lost (SIGKILL, data directory deleted), `grim restore` into an empty directory with the master key kept
// elsewhere: the audit chain verifies, the nodes are reconciled without duplicates or strays, and the printed
// recovery time is under 60 s. grim starts again on the restored directory: the same admin logs in, both
// apps answer from the same instances, the volume's data is there, and `grim audit verify` is intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { withLab } from '../helpers/lab.ts';
import { adminApi, grim, startGrimServer, type GrimServer } from '../helpers/grim-process.ts';
import { addLabNodes, fetchText } from '../helpers/apps-lab.ts';
import { execInNode } from '../../src/lab/lab.ts';

const ADMIN = 'drill-admin-password';
const WEB = `mkdir -p www
printf 'web %s\\n' "$GRIM_RELEASE" > www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;
const COUNTER = `d="$GRIM_VOLUME_DATA"
n=$(cat "$d/counter" 2>/dev/null || echo 0)
echo $((n + 1)) > "$d/counter"
mkdir -p www
cp "$d/counter" www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;

test(
  'restore drill: back up, lose the control node, restore, everything answers',
  { timeout: 420_000 },
  async (t) => {
    const lab = await withLab(t, { nodes: 3, os: 'debian' });
    if (!lab) return;
    const work = mkdtempSync(join(tmpdir(), 'grim-drill-'));
    const dataDir = join(work, 'data');
    const servers: GrimServer[] = [];
    t.after(async () => {
      for (const s of servers) await s.stop('SIGKILL').catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    });
    const env = { GRIM_ADMIN_PASSWORD: ADMIN, GRIM_RECONCILE_MS: '2000' };
    const start = async () => {
      const s = await startGrimServer(env, { dataDir, readyMs: 60_000 });
      servers.push(s);
      return s;
    };
    let srv = await start();
    const { cli, token, api } = await adminApi(() => srv.url, ADMIN);
    await addLabNodes(api, lab, 'g');
    const health = { type: 'http', path: '/', intervalSec: 1, timeoutSec: 2, retries: 30 };
    const apps = [
      { name: 'web', replicas: 3, start: WEB, volumes: [] as unknown[] },
      {
        name: 'counter',
        replicas: 1,
        start: COUNTER,
        volumes: [{ name: 'data', size: '64Mi', mount: '/var/lib/counter' }],
      },
    ];
    const deployStarted = Date.now();
    for (const a of apps) {
      const c = await api('POST', '/api/apps', {
        name: a.name,
        environment: 'lab',
        group: 'g',
        size: 'xs',
        runtime: 'script',
        replicas: a.replicas,
        source: { kind: 'script', start: a.start },
        ports: [{ name: 'http', port: 8080 }],
        health,
        volumes: a.volumes,
      });
      assert.equal(c.status, 201, JSON.stringify(c.json));
      const d = await api('POST', `/api/apps/${a.name}/deploy`, {});
      assert.equal(d.status, 202, JSON.stringify(d.json));
      // One deploy after the other: two first deploys starting instances on one node at the same moment
      // failed twice in 15 runs under load (one instance never answered its health checks; see the README).
      const end = Date.now() + 120_000;
      for (;;) {
        const job = (await api('GET', `/api/jobs/${d.json.jobId}`)).json.job;
        if (job.status !== 'running') {
          assert.equal(job.status, 'succeeded', `deploy of ${a.name}: ${JSON.stringify(job)}`);
          break;
        }
        assert.ok(Date.now() < end, `deploy of ${a.name} still running: ${JSON.stringify(job)}`);
        await delay(250);
      }
    }
    /** Both apps through the current server, once settled: instance ids and what each answers. */
    const answers = async () => {
      const end = Date.now() + 120_000;
      for (;;) {
        const out: Record<string, string> = {};
        const state: Record<string, unknown> = {};
        let settled = true;
        for (const a of apps) {
          const app = (await api('GET', `/api/apps/${a.name}`)).json.app;
          state[a.name] = { rollout: app.rollout, instances: app.instances.map((i: any) => i.state) };
          if (
            app.rollout?.status === 'running' ||
            app.instances.length !== a.replicas ||
            app.instances.some((i: any) => i.state !== 'running')
          )
            settled = false;
          for (const i of app.instances)
            out[`${a.name}/${i.id}`] = await fetchText(`http://${i.address}:${i.ports.http}/`);
        }
        if (settled) return out;
        if (Date.now() > end) {
          const jobs = (await api('GET', '/api/jobs?limit=10')).json.jobs;
          assert.fail(
            `apps did not settle: ${JSON.stringify({ out, state, jobs })}\n${srv.output().slice(-4000)}`,
          );
        }
        await delay(500);
      }
    };
    const before = await answers();
    console.log(
      `# both apps deployed and answering ${((Date.now() - deployStarted) / 1000).toFixed(1)} s after the deploys`,
    );
    assert.equal(Object.keys(before).length, 4);
    for (const [k, v] of Object.entries(before))
      assert.match(v, k.startsWith('web/') ? /^web 1\n$/ : /^1\n$/, k);

    // Back up while grim runs; the master key is kept apart (the backup leaves it out).
    const backupDir = join(work, 'backups');
    const b = await grim(['backup', 'create', '--to', backupDir, '--json'], { GRIM_DATA_DIR: dataDir });
    assert.equal(b.code, 0, b.stderr);
    const archive = JSON.parse(b.stdout).path as string;
    const keyFile = join(work, 'master.key');
    copyFileSync(join(dataDir, 'secrets', 'master.key'), keyFile);

    // The control node is lost.
    await srv.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });

    const restoreStarted = Date.now();
    const r = await grim(['restore', archive, '--data-dir', dataDir, '--master-key-file', keyFile], {});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    console.log(r.stdout.replace(/^/gm, '# '));
    assert.match(r.stdout, /audit chain intact: \d+ entries, head \d+ matches the backup/);
    assert.match(
      r.stdout,
      /reconciled 3 node\(s\): 0 instance\(s\) recreated, 0 restarted, 0 stray\(s\) removed/,
    );
    const seconds = Number(/recovered in (\d+\.\d) s/.exec(r.stdout)?.[1]);
    assert.ok(seconds < 60, `recovery time ${seconds} s`);

    // grim again, on the restored directory: same admin, same apps, same instances, the volume's data.
    srv = await start();
    const after = await answers();
    const endToEndS = (Date.now() - restoreStarted) / 1000;
    console.log(
      `# restore started → grim serving again and both apps answering through it: ${endToEndS.toFixed(1)} s`,
    );
    assert.ok(endToEndS < 60, `end-to-end recovery ${endToEndS} s`);
    assert.deepEqual(after, before, 'the same instances answer the same (the counter did not restart)');
    const [copy] = (await api('GET', '/api/volumes')).json.volumes.filter((v: any) => v.app === 'counter');
    assert.equal(copy?.state, 'present', JSON.stringify(copy));
    const node = lab.nodes.find((n) => n.name === copy.node)!;
    const onDisk = await execInNode(lab, node.index, `cat '${copy.path}/counter'`);
    assert.equal(onDisk.stdout, '1\n', "the counter's volume holds what it wrote before the loss");
    const verify = await grim(['audit', 'verify'], { ...cli, GRIM_SERVER: srv.url, GRIM_TOKEN: token });
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /audit chain intact/);
  },
);
