// Log shipping from many nodes (run as root): npm run bench:logs
// A Debian lab of LOGS_BENCH_NODES (default 50) namespace nodes, each with its own sshd. The bench writes
// /var/log/bench.log on every node (through /proc/<node init>/root, so writing costs the nodes nothing) and two
// consumers, each its own process, move the lines to this machine one after the other, in the same run:
//   grim - grim's LogShipper: logs-read.sh about once a second per node over pooled SSH connections, (inode,
//          offset) cursors in SQLite written after each acknowledged push, protobuf + snappy pushes of ≤ 1 MB / 1 s
//          to a Loki push endpoint (the protocol double of the tests, which checks every push against push.proto);
//   peer - `tail -n +1 -F` on every node over the same pooled SSH connections (SshPool.stream), appended to a
//          local file: the raw cost of the same bytes crossing the same links, with no batching, encoding,
//          cursors or HTTP (and no restart safety).
// Two phases per consumer: steady (LOGS_BENCH_RATE lines/s per node, default 100, for LOGS_BENCH_SECONDS, default
// 30): lag from write to arrival (grim: the push reaching Loki; peer: the line reaching the local process), median
// and p99; then a burst (LOGS_BENCH_BURST_KIB per node, default 512, written at once): throughput until the last
// line arrived. CPU of each consumer process (utime + stime from /proc) per MB shipped, in both phases.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { withBenchLab, targetsOf } from './lib/fanout-lab.ts';
import { nodeInitPid } from '../src/lab/processes.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import { migrate } from '../src/store/migrate.ts';
import { seedNodes } from '../test/helpers/fake-engine.ts';
import { pushProtoMissing, startLokiPushDouble } from '../test/helpers/loki-push-double.ts';
import type { LabState } from '../src/lab/state.ts';

const NODES = Number(process.env.LOGS_BENCH_NODES ?? 50);
const RATE = Number(process.env.LOGS_BENCH_RATE ?? 100);
const SECONDS = Number(process.env.LOGS_BENCH_SECONDS ?? 30);
const BURST = Number(process.env.LOGS_BENCH_BURST_KIB ?? 512) * 1024;
const TICK_MS = 100;
const TICKS = 100; // USER_HZ
const CONSUMER = join(import.meta.dirname, 'lib/logs-consumer.ts');
const PAD = 'x'.repeat(80);

interface PhaseResult {
  bytes: number;
  lines: number;
  seconds: number;
  cpuSeconds: number;
  lags: number[];
}

const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const nowMs = () => performance.timeOrigin + performance.now();

/** Appends bench lines to every node's file: "S<seq> <write time ms> <node> <padding>". */
class Writer {
  bytes = 0;
  lines = 0;
  seq = 0;
  readonly files: string[];
  constructor(files: string[]) {
    this.files = files;
  }
  reset() {
    for (const f of this.files) writeFileSync(f, '');
    this.bytes = this.lines = 0;
  }
  write(kind: 'S' | 'B', perNode: number) {
    this.files.forEach((f, i) => {
      const t = nowMs().toFixed(3);
      let text = '';
      for (let k = 0; k < perNode; k++) text += `${kind}${++this.seq} ${t} n${i + 1} ${PAD}\n`;
      appendFileSync(f, text);
      this.bytes += Buffer.byteLength(text);
      this.lines += perNode;
    });
  }
}

async function waitFor(what: string, done: () => boolean, ms: number) {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

async function startConsumer(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CONSUMER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`consumer exited with ${c}`)));
  });
  return child;
}

async function stopConsumer(child: ChildProcess) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Steady then burst load while `arrived()` says how many bytes of bench lines reached the consumer. */
async function phases(
  w: Writer,
  pid: number,
  arrived: () => number,
  steadyLags: () => number[],
): Promise<{ steady: PhaseResult; burst: PhaseResult }> {
  await delay(3000); // connections open, first reads done
  const c0 = cpuTicks(pid);
  const t0 = nowMs();
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
  for (let i = 0; i < (SECONDS * 1000) / TICK_MS; i++) {
    const next = t0 + (i + 1) * TICK_MS;
    w.write('S', perTick);
    await delay(Math.max(0, next - nowMs()));
  }
  await waitFor('the steady lines', () => arrived() >= w.bytes, 120_000);
  const t1 = nowMs();
  const c1 = cpuTicks(pid);
  const steady = {
    bytes: w.bytes,
    lines: w.lines,
    seconds: (t1 - t0) / 1000,
    cpuSeconds: (c1 - c0) / TICKS,
    lags: steadyLags(),
  };
  const before = w.bytes;
  const linesBefore = w.lines;
  const perNode = Math.ceil(BURST / (PAD.length + 30));
  const t2 = nowMs();
  w.write('B', perNode);
  await waitFor('the burst', () => arrived() >= w.bytes, 300_000);
  const t3 = nowMs();
  const burst = {
    bytes: w.bytes - before,
    lines: w.lines - linesBefore,
    seconds: (t3 - t2) / 1000,
    cpuSeconds: (cpuTicks(pid) - c1) / TICKS,
    lags: [],
  };
  return { steady, burst };
}

async function benchGrim(lab: LabState, w: Writer, dir: string, keyPath: string, targetsPath: string) {
  const dbPath = join(dir, 'grim.db');
  rmSync(dbPath, { force: true });
  const db = openSqlite(dbPath);
  await migrate(db);
  await seedNodes(db, lab.nodes.length);
  for (const n of lab.nodes)
    await db.run('UPDATE nodes SET address = ?, port = ?, host_key_fingerprint = ? WHERE name = ?', [
      n.address,
      n.port,
      n.hostKeyFingerprint,
      n.name,
    ]);
  await db.close();
  // acknowledged on arrival, checked after: the double's protobufjs decoding is not what is measured
  const loki = await startLokiPushDouble({ acknowledgeFirst: true });
  let bytes = 0;
  const lags: number[] = [];
  loki.onAccept = (entries, at) => {
    for (const { entry } of entries) {
      bytes += Buffer.byteLength(entry.line) + 1;
      if (entry.line.startsWith('S')) lags.push(at - Number(entry.line.split(' ', 2)[1]));
    }
    loki.streams.clear(); // only counts are kept (the double still checks every push)
  };
  w.reset();
  const child = await startConsumer(['grim', dbPath, keyPath, targetsPath, join(dir, 'grim.out'), loki.url]);
  try {
    const r = await phases(
      w,
      child.pid!,
      () => bytes,
      () => lags,
    );
    if (loki.violations.length)
      throw new Error(`push protocol violations: ${loki.violations.slice(0, 3).join('; ')}`);
    return { ...r, pushes: loki.requests.length };
  } finally {
    await stopConsumer(child);
    await loki.close();
  }
}

async function benchPeer(w: Writer, dir: string, keyPath: string, targetsPath: string) {
  const out = join(dir, 'peer.json');
  w.reset();
  const child = await startConsumer(['tail', '', keyPath, targetsPath, out]);
  const size = () => {
    try {
      return statSync(`${out}.data`).size;
    } catch {
      return 0;
    }
  };
  try {
    // the peer's lags are known only when it stops: measured again below from its own record
    return await phases(w, child.pid!, size, () => []);
  } finally {
    await stopConsumer(child);
  }
}

const missing = pushProtoMissing();
if (missing) throw new Error(missing);
if (process.getuid?.() !== 0) throw new Error('bench:logs builds a lab: run it as root');

const report = await withBenchLab(
  NODES,
  () => undefined,
  async (lab) => {
    const dir = mkdtempSync(join(tmpdir(), 'grim-bench-logs-'));
    try {
      const files: string[] = [];
      for (const n of lab.nodes) {
        const pid = await nodeInitPid(n);
        if (!pid) throw new Error(`node ${n.name} is not running`);
        files.push(`/proc/${pid}/root/var/log/bench.log`);
      }
      const w = new Writer(files);
      const keyPath = lab.clientKeyPath;
      const targetsPath = join(dir, 'targets.json');
      writeFileSync(targetsPath, JSON.stringify(targetsOf(lab)));
      console.log(
        `# ${NODES} lab nodes; steady ${RATE} lines/s per node for ${SECONDS} s, then ${BURST / 1024} KiB per node at once`,
      );
      const grim = await benchGrim(lab, w, dir, keyPath, targetsPath);
      console.log('# grim done');
      const peer = await benchPeer(w, dir, keyPath, targetsPath);
      const rec = JSON.parse(readFileSync(join(dir, 'peer.json'), 'utf8')) as { lags: number[] };
      // the peer recorded every line's lag; the steady ones are the first steady.lines of them
      peer.steady.lags = rec.lags.slice(0, peer.steady.lines);
      return { grim, peer };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

const mb = (b: number) => b / 1e6;
const row = (name: string, r: { steady: PhaseResult; burst: PhaseResult }) => ({
  name,
  steadyMBps: mb(r.steady.bytes) / SECONDS,
  lagP50: quantile(r.steady.lags, 0.5),
  lagP99: quantile(r.steady.lags, 0.99),
  steadyCpuPerMB: r.steady.cpuSeconds / mb(r.steady.bytes),
  burstMBps: mb(r.burst.bytes) / r.burst.seconds,
  burstCpuPerMB: r.burst.cpuSeconds / mb(r.burst.bytes),
  burstMB: mb(r.burst.bytes),
});
const g = row('grim LogShipper → Loki push', report.grim);
const p = row('peer: ssh tail -F, pooled', report.peer);
const f = (x: number, d = 2) => x.toFixed(d);
console.log(
  `\n${NODES} nodes, steady ${f(g.steadyMBps, 2)} MB/s offered (${RATE} lines/s/node), burst ${f(g.burstMB, 1)} MB`,
);
console.log('| consumer | lag p50 | lag p99 | CPU s/MB steady | burst MB/s | CPU s/MB burst |');
console.log('|---|---|---|---|---|---|');
for (const r of [g, p])
  console.log(
    `| ${r.name} | ${f(r.lagP50, 0)} ms | ${f(r.lagP99, 0)} ms | ${f(r.steadyCpuPerMB, 3)} | ${f(r.burstMBps, 2)} | ${f(r.burstCpuPerMB, 3)} |`,
  );
console.log(
  `| grim / peer | ${f(g.lagP50 / p.lagP50, 1)}× | ${f(g.lagP99 / p.lagP99, 1)}× | ${f(g.steadyCpuPerMB / p.steadyCpuPerMB, 1)}× | ${f(g.burstMBps / p.burstMBps, 2)}× | ${f(g.burstCpuPerMB / p.burstCpuPerMB, 1)}× |`,
);
console.log(
  `grim pushes: ${report.grim.pushes} (steady lines ${report.grim.steady.lines}, burst lines ${report.grim.burst.lines})`,
);
