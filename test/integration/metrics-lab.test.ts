// Usage metrics end to end on lab nodes: the collector samples every node over SSH; a CPU burner on
// one node shows in its series and not in the others'; instance cgroups become instance series; a
// reboot leaves no negative or absurd rate; /metrics/federate passes promtool; a real Prometheus
// receives the remote writes; `grim node top --once` prints the table.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLab } from '../helpers/lab.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { cliEnv, freePort, grim } from '../helpers/grim-process.ts';
import { execInNode, rebootNode } from '../../src/lab/node-control.ts';
import type { LabState } from '../../src/lab/lab.ts';
import { startMetricsCollector } from '../../src/services/metrics/collector.ts';
import { nodeInitPid, supervisorPid } from '../../src/lab/processes.ts';

const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

async function addLabNodes(a: TestApp, lab: LabState) {
  const call = async (method: string, url: string, body: unknown, status: number) => {
    const r = await a.call(method, url, { token: a.adminToken, body });
    assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.json)}`);
    return r.json;
  };
  await call('POST', '/api/environments', { name: 'lab' }, 201);
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const n of lab.nodes) {
    const scan = await call('POST', '/api/nodes/scan', { address: n.address }, 200);
    assert.equal(scan.fingerprint, n.hostKeyFingerprint);
    await call(
      'POST',
      '/api/nodes',
      {
        name: n.name,
        environment: 'lab',
        address: n.address,
        hostKeyFingerprint: scan.fingerprint,
        credential: { privateKey },
      },
      201,
    );
  }
  await call('POST', '/api/groups', { name: 'web', environment: 'lab', nodes: ['n1', 'n2'] }, 201);
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function startPrometheus(t: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'grim-prom-'));
  const log = join(dir, 'prometheus.log');
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  const out = openSync(log, 'a');
  const proc: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  t.after(async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  await until('prometheus ready', 60_000, async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited: ${readFileSync(log, 'utf8')}`);
    return (await fetch(`${base}/-/ready`)).ok ? true : undefined;
  });
  return base;
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(base: string, q: string): Promise<PromSample[]> {
  const body = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
    status: string;
    data: { result: PromSample[] };
  };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

test('usage metrics on a 3-node lab: burner, instances, reboot, federate, remote write, top', async (t) => {
  const lab = await withLab(t, { nodes: 3, os: 'debian' });
  if (!lab) return;
  const a = await startTestApp(t);
  await addLabNodes(a, lab);
  const views = await NodeCpuViews.attach(t, lab);

  // Instance "web-1" of app "shop" is a cgroup under n1 (cgroup v1 cpuacct + memory, as on this host).
  const instanceCgroup = await views.instanceCgroup(1, 'web-1');
  a.services.metrics.setProviders({
    instanceCgroups: (node) => new Map(node === 'n1' ? [[instanceCgroup, 'web-1']] : []),
    instanceApp: (id) => (id === 'web-1' ? 'shop' : undefined),
    appInstances: (app) => (app === 'shop' ? ['web-1'] : null),
    requested: (node) =>
      node === 'n1' ? { cpuMillis: 1500, memoryBytes: 2 ** 30 } : { cpuMillis: 0, memoryBytes: 0 },
  });

  const prom = hasPrometheus ? await startPrometheus(t) : null;
  if (!prom)
    console.log('# prometheus not installed: the remote-write part is skipped (apt-get install prometheus)');
  const logs: string[] = [];
  const { collector, stop } = startMetricsCollector(a.services, {
    intervalMs: 1000,
    rollupEveryMs: 5000,
    remoteWriteUrl: prom ? `${prom}/api/v1/write` : undefined,
    log: (l) => logs.push(l),
  });
  t.after(stop);
  const viewer = await a.tokenFor('viewer');
  const series = async (scope: string, name: string, metric: string, from: number) =>
    (
      await a.call('GET', `/api/metrics/series?scope=${scope}&name=${name}&metric=${metric}&from=${from}`, {
        token: viewer,
      })
    ).json;
  const avg = (pts: { value: number }[]) => pts.reduce((s, p) => s + p.value, 0) / pts.length;

  // Everyone has samples before the burner starts.
  await until('samples of every node', 30_000, async () => {
    const top = (await a.call('GET', '/api/metrics/top/nodes', { token: viewer })).json.nodes;
    return top.every((n: { cpuBusyPct: number | null }) => n.cpuBusyPct !== null) ? top : undefined;
  });

  // The burner runs over grim's own SSH (so it lives in n1's cgroup), inside the instance cgroup.
  const burnStart = Date.now();
  const run = await a.call('POST', '/api/runs', {
    token: a.adminToken,
    body: {
      target: { nodes: ['n1'] },
      command: `for c in cpuacct memory; do echo $$ > /sys/fs/cgroup/$c${instanceCgroup}/cgroup.procs; done; timeout 20 sh -c 'while :; do :; done'; true`,
      timeoutSec: 60,
    },
  });
  assert.equal(run.status, 201, JSON.stringify(run.json));

  const burning = await until('n1 busy, n2 and n3 not', 30_000, async () => {
    const by: Record<string, number> = {};
    for (const n of ['n1', 'n2', 'n3']) {
      const pts = (await series('node', n, 'cpu_busy_pct', burnStart + 2000)).points;
      if (pts.length < 3) return undefined;
      by[n] = avg(pts.slice(-3));
    }
    return by.n1 > 8 && by.n1 > 4 * Math.max(by.n2, by.n3) ? by : undefined;
  });
  console.log(`# cpu busy % over the last 3 samples while burning: ${JSON.stringify(burning)}`);

  // The instance series shows the burner too (millicores, from the cgroup counter), and so does its app.
  const inst = await until('instance cpu', 20_000, async () => {
    const pts = (await series('instance', 'web-1', 'instance_cpu_millicores', burnStart + 2000)).points;
    return pts.length >= 2 && avg(pts.slice(-2)) > 150 ? pts : undefined;
  });
  assert.ok(inst.every((p: { value: number }) => p.value >= 0 && p.value <= 2000 * 1.01));
  const app = await series('app', 'shop', 'instance_cpu_millicores', burnStart);
  assert.equal(app.fn, 'sum');
  assert.ok(
    app.points.some((p: { value: number }) => p.value > 150),
    JSON.stringify(app.points),
  );
  const group = await series('group', 'web', 'cpu_busy_pct', burnStart);
  assert.equal(group.fn, 'avg');
  assert.ok(group.points.length > 0 && group.points.every((p: { entities: number }) => p.entities <= 2));

  // Capacity: n1 uses CPU and memory; requested comes from the provider; groups sum their nodes.
  const cap = (await a.call('GET', '/api/metrics/capacity?environment=lab', { token: viewer })).json;
  const c1 = cap.nodes.find((n: { node: string }) => n.node === 'n1');
  const c3 = cap.nodes.find((n: { node: string }) => n.node === 'n3');
  assert.equal(c1.requested.cpuMillis, 1500);
  assert.ok(c1.allocatable.cpuMillis > 0 && c1.used.memoryBytes > 0, JSON.stringify(c1));
  assert.ok(c1.used.cpuMillis > c3.used.cpuMillis, JSON.stringify(cap.nodes));
  const web = cap.groups.find((g: { group: string }) => g.group === 'web');
  assert.deepEqual(web.nodes, ['n1', 'n2']);
  assert.equal(web.requested.cpuMillis, 1500);
  assert.equal(web.allocatable.cpuMillis, c1.allocatable.cpuMillis * 2);

  // Federation: promtool accepts the text, and every sample carries the stable labels.
  const fed = await a.call('GET', '/metrics/federate', { token: viewer });
  assert.equal(fed.status, 200);
  assert.equal((await a.call('GET', '/metrics/federate')).status, 401);
  const text = String(fed.json);
  assert.match(text, /^grim_node_cpu_busy_percent\{env="lab",group="web",node="n1"\} [0-9.e+-]+$/m);
  assert.match(text, /^grim_node_cpu_busy_percent\{env="lab",node="n3"\} [0-9.e+-]+$/m);
  assert.match(
    text,
    /^grim_instance_cpu_millicores\{env="lab",group="web",node="n1",app="shop",instance="web-1"\} [0-9.e+-]+$/m,
  );
  if (hasPromtool) {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
  } else console.log('# promtool not installed: federate text not checked by it');

  // Remote write: Prometheus has the collector's samples with the same labels.
  if (prom) {
    const got = await until('samples in prometheus', 30_000, async () => {
      const r = await promQuery(prom, 'grim_node_cpu_busy_percent');
      return r.length === 3 ? r : undefined;
    });
    const n1 = got.find((r) => r.metric.node === 'n1')!;
    assert.deepEqual(n1.metric, {
      __name__: 'grim_node_cpu_busy_percent',
      env: 'lab',
      group: 'web',
      node: 'n1',
    });
    const i = await promQuery(prom, 'grim_instance_cpu_millicores{app="shop"}');
    assert.equal(i[0]?.metric.instance, 'web-1', JSON.stringify(i));
    assert.equal(collector.stats.remoteWrite.lastError, null);
    assert.ok(collector.stats.remoteWrite.pushed > 0);
  }

  // `grim node top --once` over a real listening server and the typed client.
  await a.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = a.app.server.address() as { port: number };
  const top = await grim(['node', 'top', '--once'], {
    ...cliEnv(),
    GRIM_SERVER: `http://127.0.0.1:${addr.port}`,
    GRIM_TOKEN: viewer,
  });
  assert.equal(top.code, 0, top.stderr);
  const lines = top.stdout.trim().split('\n');
  assert.match(lines[0], /^NODE\s+STATE\s+CPU\s+LOAD1\s+MEMORY/);
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(/\s+/)[0]),
    ['n1', 'n2', 'n3'],
  );
  assert.match(lines[1], /^n1\s+ready\s+\d+\.\d%/);

  // Reboot n2: its pooled connection dies, its uptime restarts (and, until the CPU view is mounted
  // again, its counters jump to the host's and back): no negative or absurd rate is stored.
  const rebootAt = Date.now();
  await rebootNode(lab, 2, { wait: true });
  await views.remount(2);
  await until('n2 sampled again after its reboot', 30_000, async () => {
    const pts = (await series('node', 'n2', 'cpu_busy_pct', rebootAt)).points;
    return pts.some((p: { ts: number }) => p.ts > rebootAt + 3000) ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 3000)); // a few more intervals after the view came back
  const limits: Record<string, [number, number]> = {
    cpu_busy_pct: [0, 100],
    cpu_core_busy_pct: [0, 100],
    disk_busy_pct: [0, 100],
    net_rx_bytes_per_s: [0, 1e9],
    net_tx_bytes_per_s: [0, 1e9],
    net_rx_packets_per_s: [0, 1e7],
    net_tx_packets_per_s: [0, 1e7],
    disk_read_bytes_per_s: [0, 1e10],
    disk_write_bytes_per_s: [0, 1e10],
  };
  for (const [metric, [lo, hi]] of Object.entries(limits)) {
    const rows = await a.services.db.all<{ dim: string; ts: number; value: number }>(
      "SELECT dim, ts, value FROM metrics_raw WHERE kind = 'node' AND entity_id = 'n2' AND metric = ? AND ts >= ?",
      [metric, rebootAt - 10_000],
    );
    for (const r of rows)
      assert.ok(
        r.value >= lo && r.value <= hi,
        `${metric}[${r.dim}] = ${r.value} at ${r.ts} after the reboot`,
      );
  }
  const after = (await series('node', 'n2', 'cpu_busy_pct', rebootAt)).points;
  assert.ok(after.length >= 3, `n2 has rates again after its reboot: ${JSON.stringify(after)}`);
  assert.ok(
    logs.every((l) => !/round failed/.test(l)),
    `no collection round failed: ${logs.join('\n')}`,
  );
});

// ---------------------------------------------------------------------------------------------
// Per-node CPU views. Lab nodes are namespaces of one kernel, so /proc/stat inside every node is the
// host's: a burner on n1 would show on all three. Like LXCFS in containers, each node gets its own
// /proc/stat here: all of the node's processes (supervisor and descendants, so later SSH sessions
// too) go into a cpuacct cgroup of their own, and a file rendered from that cgroup's per-CPU usage
// is bind-mounted over the node's /proc/stat. metrics.sh itself is unchanged.
// (A candidate for src/lab: the lab could offer this as a node option.)
const CGROUP_ROOT = '/sys/fs/cgroup';
const USER_HZ_NS = 1e7; // one USER_HZ tick (10 ms) in ns
const LINE_WIDTH = 160;

class NodeCpuView {
  readonly lab: LabState;
  readonly index: number;
  readonly cgroup: string; // relative to each controller's root, e.g. /grim-t1234-n1
  readonly t0 = Date.now();
  readonly lastIdle: number[] = [];
  fd: import('node:fs/promises').FileHandle | null = null;

  constructor(lab: LabState, index: number) {
    this.lab = lab;
    this.index = index;
    this.cgroup = `/grim-metrics-${lab.name}-n${index}`;
  }

  async render(): Promise<string> {
    const usage = (await readFile(`${CGROUP_ROOT}/cpuacct${this.cgroup}/cpuacct.usage_percpu`, 'utf8'))
      .trim()
      .split(/\s+/)
      .slice(0, cpus().length)
      .map(Number);
    const elapsed = Math.floor((Date.now() - this.t0) / 10);
    const cores = usage.map((ns, i) => {
      const busy = Math.floor(ns / USER_HZ_NS);
      const idle = Math.max(this.lastIdle[i] ?? 0, elapsed - busy);
      this.lastIdle[i] = idle;
      return [busy, 0, 0, idle, 0, 0, 0, 0, 0, 0];
    });
    const total = cores.reduce((acc, c) => acc.map((v, i) => v + c[i]));
    const line = (name: string, f: number[]) => `${name} ${f.join(' ')}`.padEnd(LINE_WIDTH, ' ');
    return [line('cpu ', total), ...cores.map((c, i) => line(`cpu${i}`, c))].join('\n') + '\n';
  }

  /** Puts the file in the node's /run and mounts it over /proc/stat (again after every boot). */
  async mount(): Promise<void> {
    const node = this.lab.nodes[this.index - 1];
    const pid = await until(`init of ${node.name}`, 30_000, () => nodeInitPid(node));
    await this.fd?.close().catch(() => undefined);
    this.fd = await open(`/proc/${pid}/root/run/grim-cpu-stat`, 'w+');
    await this.refresh();
    await execInNode(this.lab, this.index, 'mount --bind /run/grim-cpu-stat /proc/stat');
  }

  /** Rewrites the file in place, always the same length (no reader ever sees it empty). */
  async refresh(): Promise<void> {
    if (this.fd) await this.fd.write(await this.render(), 0);
  }
}

function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

function movePids(controllerDir: string, pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      writeFileSync(`${controllerDir}/cgroup.procs`, `${pid}\n`);
    } catch {
      // the process ended meanwhile
    }
  }
}

class NodeCpuViews {
  readonly views: NodeCpuView[];
  readonly made: string[] = [];
  constructor(views: NodeCpuView[]) {
    this.views = views;
  }

  static async attach(t: TestContext, lab: LabState): Promise<NodeCpuViews> {
    const all = new NodeCpuViews(lab.nodes.map((n) => new NodeCpuView(lab, n.index)));
    t.after(() => all.detach());
    for (const v of all.views) {
      const node = lab.nodes[v.index - 1];
      for (const c of ['cpuacct', 'memory']) all.mkdir(`${CGROUP_ROOT}/${c}${v.cgroup}`);
      const pids = processTree((await supervisorPid(node))!);
      for (const c of ['cpuacct', 'memory']) movePids(`${CGROUP_ROOT}/${c}${v.cgroup}`, pids);
      await v.mount();
      await all.mountCgroups(v.index);
    }
    const timer = setInterval(() => {
      for (const v of all.views) v.refresh().catch(() => undefined); // a rebooting node has no file
    }, 200);
    t.after(() => clearInterval(timer));
    return all;
  }

  mkdir(dir: string): void {
    mkdirSync(dir);
    this.made.push(dir);
  }

  /** cgroup v1 cpuacct and memory hierarchies inside the node (its /sys/fs/cgroup is empty). */
  async mountCgroups(index: number): Promise<void> {
    await execInNode(
      this.views[0].lab,
      index,
      'mount -t tmpfs -o size=64k,mode=755 cgroup /sys/fs/cgroup && for c in cpuacct memory; do ' +
        'mkdir /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c; done',
    );
  }

  /** A cgroup under the node's own (so the node's CPU includes it), as an instance would have. */
  async instanceCgroup(index: number, name: string): Promise<string> {
    const path = `${this.views[index - 1].cgroup}/${name}`;
    for (const c of ['cpuacct', 'memory']) this.mkdir(`${CGROUP_ROOT}/${c}${path}`);
    return path;
  }

  async remount(index: number): Promise<void> {
    await this.views[index - 1].mount();
    await this.mountCgroups(index);
  }

  /** Moves whatever still runs back to the root cgroups and removes ours (deepest first). */
  async detach(): Promise<void> {
    for (const v of this.views) await v.fd?.close().catch(() => undefined);
    for (const dir of [...this.made].reverse()) {
      try {
        const pids = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
        movePids(
          dir.startsWith(`${CGROUP_ROOT}/memory`) ? `${CGROUP_ROOT}/memory` : `${CGROUP_ROOT}/cpuacct`,
          pids,
        );
        rmdirSync(dir);
      } catch (err) {
        console.log(`# could not remove cgroup ${dir}: ${(err as Error).message}`);
      }
    }
  }
}
