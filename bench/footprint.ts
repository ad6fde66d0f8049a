// Server footprint (run as root): npm run bench:footprint
// Two real `grim server` processes side by side, each on its own SQLite (heartbeats every 15 s, metrics every
// 15 s, reconciler), both registering the same 10, then 50, then 100 lab nodes, in one run: grim as shipped
// (small V8 young generation, src/cli/server-memory.ts) and the same server with V8's defaults
// (GRIM_SERVER_V8_DEFAULTS=1). After each step it lets two heartbeat/metrics rounds pass, then reads each
// server's resident memory (VmRSS, peak in the window) and CPU from /proc/<pid>, and grim's own breakdown from
// /metrics (V8 heap, external = buffers + wasm, the rest = code pages of the node binary and malloc).
// Peers measured first, in the same run: an idle bare Node 24, and Node 24 with the server's dependencies loaded
// (plain JS, and from a .ts file so Node's type stripper is loaded too, as grim runs from its .ts sources).
// Goal: <= 150 MiB RSS with 100 nodes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labUp } from '../src/lab/lab.ts';
import { uniqueLabName } from '../test/helpers/lab.ts';
import { startGrimServer, type GrimServer } from '../test/helpers/grim-process.ts';

const STEPS = (process.env.FOOTPRINT_STEPS ?? '10,50,100').split(',').map(Number);
const SETTLE_MS = Number(process.env.FOOTPRINT_SETTLE_MS ?? 35_000);
const WINDOW_MS = Number(process.env.FOOTPRINT_WINDOW_MS ?? 60_000);
const PEER_SETTLE_MS = 5_000;
const PASSWORD = 'footprint-bench-password';
const TICKS = 100; // USER_HZ on Linux
const SERVER_DEPENDENCIES = [
  'fastify',
  '@fastify/cookie',
  '@fastify/helmet',
  '@fastify/static',
  '@fastify/swagger',
  '@fastify/websocket',
  'ajv-formats',
  'commander',
  'pg',
  'ssh2',
  'typebox',
];
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function procStatus(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** RSS at the end of the window, its peak, and CPU over it, for several processes measured together. */
async function measure(pids: number[]) {
  const t0 = pids.map(cpuTicks);
  const start = performance.now();
  const peak = pids.map(() => 0);
  while (performance.now() - start < WINDOW_MS) {
    pids.forEach((p, i) => (peak[i] = Math.max(peak[i], procStatus(p).rss)));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const secs = (performance.now() - start) / 1000;
  return pids.map((p, i) => ({
    rss: procStatus(p).rss,
    peak: peak[i],
    cpuPct: ((cpuTicks(p) - t0[i]) / TICKS / secs) * 100,
  }));
}

/** An idle Node process that first imports `modules` (absolute file URLs), from a .mjs or a .ts file. */
async function peerRss(dir: string, name: string, modules: string[], ext: 'mjs' | 'ts'): Promise<number> {
  const file = join(dir, `${name}.${ext}`);
  const body = modules.map((m) => `await import(${JSON.stringify(m)});`).join('\n');
  writeFileSync(file, `${body}\nsetInterval(() => {}, 60_000);\n`);
  const child = spawn(process.execPath, [file], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, PEER_SETTLE_MS));
    if (child.exitCode !== null) throw new Error(`peer ${name} exited with ${child.exitCode}`);
    return procStatus(child.pid as number).rss;
  } finally {
    child.kill('SIGKILL');
  }
}

/** grim's own view of its memory (grim_process_memory_bytes on /metrics). */
async function breakdown(s: Session): Promise<string> {
  const r = await fetch(`${s.server.url}/metrics`, { headers: { cookie: s.cookie } });
  const text = await r.text();
  const v = (kind: string) =>
    Number(new RegExp(`^grim_process_memory_bytes\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  const rest = v('rss') - v('heap_total') - v('external');
  return `heap ${mib(v('heap_total'))} (used ${mib(v('heap_used'))}), external ${mib(v('external'))}, rest ${mib(rest)}`;
}

/**
 * Where the peak comes from: grim's RSS sampled every 250 ms over the whole run, each sample labelled with what
 * the run was doing (registering, settling, measuring), and grim's own breakdown read right after each new peak.
 */
function peakTracker(s: Session) {
  const pid = s.server.proc.pid as number;
  let phase = 'starting';
  let peak = { rss: 0, phase, at: 0, breakdown: '' };
  const phasePeaks = new Map<string, number>();
  const started = performance.now();
  let reading = false;
  const timer = setInterval(() => {
    const rss = procStatus(pid).rss;
    phasePeaks.set(phase, Math.max(phasePeaks.get(phase) ?? 0, rss));
    if (rss <= peak.rss) return;
    peak = { rss, phase, at: (performance.now() - started) / 1000, breakdown: peak.breakdown };
    if (reading) return;
    reading = true;
    void breakdown(s)
      .then((b) => (peak.breakdown = b))
      .catch(() => undefined)
      .finally(() => (reading = false));
  }, 250);
  return {
    setPhase: (p: string) => (phase = p),
    stop: () => clearInterval(timer),
    report: () => [
      `grim's peak RSS ${mib(peak.rss)} at ${peak.at.toFixed(0)} s, while ${peak.phase} (${peak.breakdown || 'no breakdown'})`,
      `grim's peak RSS per phase: ${[...phasePeaks].map(([p, r]) => `${p} ${mib(r)}`).join('; ')}`,
    ],
  };
}

interface Session {
  label: string;
  server: GrimServer;
  cookie: string;
  call(path: string, body: unknown): Promise<void>;
}

async function session(label: string, env: Record<string, string>): Promise<Session> {
  const server = await startGrimServer({ GRIM_ADMIN_PASSWORD: PASSWORD, GRIM_LOG_LEVEL: 'warn', ...env });
  const login = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
  const call = async (path: string, body: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${label} ${path}: ${r.status} ${await r.text()}`);
  };
  await call('/api/environments', { name: 'bench' });
  return { label, server, cookie, call };
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'grim-footprint-'));
  const deps = SERVER_DEPENDENCIES.map((d) => import.meta.resolve(d));
  console.error('peers: bare Node 24, and Node 24 with the server dependencies loaded');
  const peers = [
    ['bare Node 24, idle', await peerRss(tmp, 'bare', [], 'mjs')],
    [
      `Node 24 + the server's dependencies (${SERVER_DEPENDENCIES.length}), JS`,
      await peerRss(tmp, 'deps', deps, 'mjs'),
    ],
    ['the same, loaded from a .ts file (type stripper loaded)', await peerRss(tmp, 'deps-ts', deps, 'ts')],
  ] as const;

  const max = Math.max(...STEPS);
  const name = uniqueLabName();
  console.error(`lab ${name}: ${max} nodes`);
  const lab = await labUp({ name, nodes: max, os: 'debian' });
  const sessions: Session[] = [];
  try {
    sessions.push(await session('grim', {}));
    sessions.push(await session('grim, V8 defaults', { GRIM_SERVER_V8_DEFAULTS: '1' }));
    const pids = sessions.map((s) => s.server.proc.pid as number);
    const peaks = peakTracker(sessions[0]);
    // start-up and one login (a 32 MiB scrypt hash, src/services/passwords.ts), before any node is registered
    const startHwm = pids.map((p) => mib(procStatus(p).hwm));
    const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
    const rows: string[] = [];
    const row = async (nodes: string) => {
      peaks.setPhase(`measuring at ${nodes} nodes`);
      const m = await measure(pids);
      const cells = m.map((x) => `${mib(x.rss)} (peak ${mib(x.peak)}), ${x.cpuPct.toFixed(2)} %`);
      rows.push(`| ${nodes} | ${cells.join(' | ')} | ${await breakdown(sessions[0])} |`);
      console.error(rows.at(-1));
    };
    await row('0');
    let registered = 0;
    for (const step of STEPS) {
      const todo = lab.nodes.slice(registered, step);
      peaks.setPhase(`registering nodes ${registered + 1}-${step}`);
      for (const s of sessions)
        for (let i = 0; i < todo.length; i += 8)
          await Promise.all(
            todo.slice(i, i + 8).map((n) =>
              s.call('/api/nodes', {
                name: n.name,
                environment: 'bench',
                address: n.address,
                hostKeyFingerprint: n.hostKeyFingerprint,
                credential: { privateKey },
              }),
            ),
          );
      registered = step;
      console.error(
        `${step} nodes registered; settling ${SETTLE_MS / 1000} s, then measuring ${WINDOW_MS / 1000} s`,
      );
      peaks.setPhase(`settling at ${step} nodes (first heartbeat and metrics rounds)`);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await row(String(step));
    }
    const hwm = pids.map((p) => mib(procStatus(p).hwm));
    peaks.stop();
    console.log(
      `\n## grim server footprint (${new Date().toISOString()}, SQLite, heartbeats + metrics every 15 s)\n`,
    );
    console.log('| peer (no grim) | RSS |');
    console.log('|---|---|');
    for (const [label, rss] of peers) console.log(`| ${label} | ${mib(rss)} |`);
    console.log(
      `\n| lab nodes registered | ${sessions.map((s) => `${s.label}: RSS, CPU (one core)`).join(' | ')} | grim's breakdown |`,
    );
    console.log(`|---|${sessions.map(() => '---|').join('')}---|`);
    for (const r of rows) console.log(r);
    console.log(`\nVmHWM (peak RSS over the whole run, registration included): ${hwm.join(' / ')}`);
    console.log(`VmHWM right after start-up and one login, before any node: ${startHwm.join(' / ')}`);
    for (const line of peaks.report()) console.log(line);
  } finally {
    for (const s of sessions) await s.server.stop();
    await labDown(name).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
