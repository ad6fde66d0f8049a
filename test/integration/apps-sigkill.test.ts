// grim killed with SIGKILL at random points during rolling deploys, then restarted on the same data dir:
// each time, the interrupted rollout resumes and the lab nodes match the database exactly (instances,
// supervisors, processes, listening ports), with one healthy instance per node and no duplicates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { withLab } from '../helpers/lab.ts';
import { cliEnv, grim, startGrimServer, type GrimServer } from '../helpers/grim-process.ts';
import { execInNode, type LabState } from '../../src/lab/lab.ts';

const START = `mkdir -p www
printf 'hello %s %s\\n' "$GRIM_RELEASE" "$GREETING" > www/index.html
exec busybox httpd -f -p "$PORT" -h www
`;
const ADMIN = 'sigkill-admin-password';

/** What a node really runs: instance dirs, supervisors and instance processes by id, ports in grim's range. */
async function nodeTruth(lab: LabState, index: number) {
  const r = await execInNode(
    lab,
    index,
    `ls /var/lib/grim/apps 2>/dev/null | tr '\\n' ' '; echo
for p in /proc/[0-9]*; do
  id=$(tr '\\0' '\\n' <$p/environ 2>/dev/null | sed -n 's/^GRIM_INSTANCE=//p')
  [ -n "$id" ] || continue
  if tr '\\0' ' ' <$p/cmdline 2>/dev/null | grep -q supervisor.sh; then echo "sup $id"; else echo "proc $id"; fi
done
echo ports $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { split($2, a, ":"); print a[2] }' | while read -r h; do printf '%d ' 0x$h; done)`,
    { allowFailure: true },
  );
  const lines = r.stdout.split('\n');
  const dirs = lines[0].trim().split(/\s+/).filter(Boolean).sort();
  const sups = lines.filter((l) => l.startsWith('sup ')).map((l) => l.slice(4));
  const procs = lines.filter((l) => l.startsWith('proc ')).map((l) => l.slice(5));
  const ports = (lines.find((l) => l.startsWith('ports')) ?? '')
    .split(/\s+/)
    .slice(1)
    .map(Number)
    .filter((p) => p >= 20000 && p <= 29999)
    .sort();
  return { dirs, sups, procs, ports };
}

test(
  'SIGKILL during rolling deploys leaves a consistent state after restart',
  { timeout: 1_200_000 },
  async (t) => {
    const lab = await withLab(t, { nodes: 3, os: 'debian' });
    if (!lab) return;
    const dataDir = mkdtempSync(join(tmpdir(), 'grim-sigkill-'));
    const env = { GRIM_ADMIN_PASSWORD: ADMIN, GRIM_RECONCILE_MS: '3000' };
    let srv: GrimServer = await startGrimServer(env, { dataDir });
    t.after(async () => {
      await srv.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });
    const cli = cliEnv();
    const login = await grim(
      ['login', '--server', srv.url, '--username', 'admin', '--password-stdin'],
      cli,
      ADMIN,
    );
    assert.equal(login.code, 0, login.stderr);
    const tok = await grim(['token', 'create', '--name', 'test', '--role', 'admin', '--json'], cli);
    const token = JSON.parse(tok.stdout).secret as string;
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(srv.url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, json: (await r.json()) as any };
    };
    assert.equal((await api('POST', '/api/environments', { name: 'lab' })).status, 201);
    const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
    for (const n of lab.nodes) {
      const r = await api('POST', '/api/nodes', {
        name: n.name,
        environment: 'lab',
        address: n.address,
        hostKeyFingerprint: n.hostKeyFingerprint,
        credential: { privateKey },
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    assert.equal(
      (await api('POST', '/api/groups', { name: 'g', environment: 'lab', nodes: ['n1', 'n2', 'n3'] })).status,
      201,
    );
    const startFile = join(dataDir, 'start.sh');
    writeFileSync(startFile, START);
    const created = await grim(
      [
        'app',
        'create',
        'kv',
        '--environment',
        'lab',
        '--group',
        'g',
        '--replicas',
        '3',
        '--size',
        'xs',
        '--start',
        startFile,
        '--port',
        'http:8080',
        '--env',
        'GREETING=v0',
        '--health',
        'http:/',
        '--health-interval',
        '1',
        '--health-retries',
        '30',
      ],
      { ...cli },
    );
    assert.equal(created.code, 0, created.stderr);

    const waitSettled = async () => {
      const end = Date.now() + 300_000;
      for (;;) {
        const a = (await api('GET', '/api/apps/kv')).json.app;
        if (
          a.rollout &&
          a.rollout.status !== 'running' &&
          a.instances.every((i: any) => i.state === 'running')
        )
          return a;
        if (Date.now() > end) throw new Error(`kv did not settle: ${JSON.stringify(a)}`);
        await delay(500);
      }
    };

    const check = async (round: number) => {
      const a = await waitSettled();
      assert.equal(a.instances.length, 3, `round ${round}: ${JSON.stringify(a.instances)}`);
      assert.deepEqual(
        a.instances.map((i: any) => i.node).sort(),
        ['n1', 'n2', 'n3'],
        `round ${round}: one per node`,
      );
      assert.ok(
        a.instances.every((i: any) => i.release === a.currentRelease),
        `round ${round}: one release`,
      );
      for (const n of lab.nodes) {
        const mine = a.instances.filter((i: any) => i.node === n.name);
        const truth = await nodeTruth(lab, n.index);
        const ids = mine.map((i: any) => i.id).sort();
        assert.deepEqual(truth.dirs, ids, `round ${round} ${n.name}: instance dirs = DB`);
        assert.deepEqual([...new Set(truth.sups)].sort(), ids, `round ${round} ${n.name}: supervisors = DB`);
        assert.equal(truth.sups.length, ids.length, `round ${round} ${n.name}: one supervisor each`);
        assert.ok(
          truth.procs.every((p) => ids.includes(p)),
          `round ${round} ${n.name}: no orphaned processes ${truth.procs}`,
        );
        assert.deepEqual(
          truth.ports,
          mine.map((i: any) => i.ports.http).sort(),
          `round ${round} ${n.name}: no leaked ports`,
        );
        for (const i of mine) {
          const body = await (await fetch(`http://${i.address}:${i.ports.http}/`)).text();
          assert.match(body, new RegExp(`^hello ${a.currentRelease} `));
        }
      }
      return a;
    };

    const first = await grim(['app', 'deploy', 'kv'], cli);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    await check(0);

    const rounds = Number(process.env.GRIM_SIGKILL_ROUNDS ?? 4);
    const kills: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const d = await api('POST', '/api/apps/kv/deploy', { env: { GREETING: `v${round}` } });
      assert.equal(d.status, 202, JSON.stringify(d.json));
      const after = 200 + Math.floor(Math.random() * 6000);
      kills.push(after);
      await delay(after);
      await srv.stop('SIGKILL');
      srv = await startGrimServer(env, { dataDir });
      const a = await check(round);
      const jobs = (await api('GET', '/api/jobs?limit=200')).json.jobs;
      const killed = jobs.find((j: any) => j.id === d.json.jobId);
      // Killed mid-roll: the old job is interrupted and a resumed job finished it; killed after the end: it succeeded.
      assert.ok(['interrupted', 'succeeded', 'failed'].includes(killed.status), killed.status);
      if (killed.status === 'interrupted')
        assert.ok(
          jobs.some((j: any) => j.spec.resumeOf === killed.id && j.status !== 'running'),
          'a resumed job finished it',
        );
      console.log(
        `# round ${round}: killed after ${after} ms (job ${killed.status}); release ${a.currentRelease}`,
      );
    }
    const status = await grim(['app', 'status', 'kv'], { ...cli, GRIM_SERVER: srv.url });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /kv \(lab\/g\): script, 3 x xs/);
  },
);
