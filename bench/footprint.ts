// Server footprint (run as root): npm run bench:footprint
// A real `grim server` process (SQLite, heartbeats every 15 s, metrics every 15 s, reconciler) with 10, then 50,
// then 100 lab nodes registered, in one run. After each step it lets two heartbeat/metrics rounds pass, then
// reads the server's resident memory (VmRSS, and its peak VmHWM) and its CPU over a measuring window from
// /proc/<pid>. The peer in the same run is the server with no node at all.
// Goal: <= 150 MiB RSS with 100 nodes.
import { readFileSync } from 'node:fs';
import { labDown, labUp } from '../src/lab/lab.ts';
import { uniqueLabName } from '../test/helpers/lab.ts';
import { startGrimServer } from '../test/helpers/grim-process.ts';

const STEPS = (process.env.FOOTPRINT_STEPS ?? '10,50,100').split(',').map(Number);
const SETTLE_MS = Number(process.env.FOOTPRINT_SETTLE_MS ?? 35_000);
const WINDOW_MS = Number(process.env.FOOTPRINT_WINDOW_MS ?? 60_000);
const PASSWORD = 'footprint-bench-password';
const TICKS = 100; // USER_HZ on Linux

function procStatus(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function measure(pid: number) {
  const t0 = cpuTicks(pid);
  const start = performance.now();
  let peakRss = 0;
  while (performance.now() - start < WINDOW_MS) {
    peakRss = Math.max(peakRss, procStatus(pid).rss);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cpuPct = ((cpuTicks(pid) - t0) / TICKS / ((performance.now() - start) / 1000)) * 100;
  return { ...procStatus(pid), peakRss, cpuPct };
}

async function main() {
  const max = Math.max(...STEPS);
  const name = uniqueLabName();
  console.error(`lab ${name}: ${max} nodes`);
  const lab = await labUp({ name, nodes: max, os: 'debian' });
  const server = await startGrimServer({ GRIM_ADMIN_PASSWORD: PASSWORD, GRIM_LOG_LEVEL: 'warn' });
  const pid = server.proc.pid as number;
  try {
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
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    };
    await call('/api/environments', { name: 'bench' });
    const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
    const rows: string[] = [];
    const baseline = await measure(pid);
    rows.push(
      `| 0 (server alone) | ${baseline.rss.toFixed(0)} MiB | ${baseline.peakRss.toFixed(0)} MiB | ${baseline.cpuPct.toFixed(2)} % |`,
    );
    let registered = 0;
    for (const step of STEPS) {
      const todo = lab.nodes.slice(registered, step);
      for (let i = 0; i < todo.length; i += 8)
        await Promise.all(
          todo.slice(i, i + 8).map((n) =>
            call('/api/nodes', {
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
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const m = await measure(pid);
      rows.push(
        `| ${step} | ${m.rss.toFixed(0)} MiB | ${m.peakRss.toFixed(0)} MiB | ${m.cpuPct.toFixed(2)} % |`,
      );
      console.error(rows.at(-1));
    }
    const hwm = procStatus(pid).hwm;
    console.log(
      `\n## grim server footprint (${new Date().toISOString()}, SQLite, heartbeats + metrics every 15 s)\n`,
    );
    console.log(
      '| lab nodes registered | RSS at the end of the window | peak RSS in the window | CPU (one core) |',
    );
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`\nVmHWM (peak RSS over the whole run, registration included): ${hwm.toFixed(0)} MiB`);
  } finally {
    await server.stop();
    await labDown(name).catch(() => {});
  }
}

await main();
