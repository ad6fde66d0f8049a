// Usage-metrics benchmark: collection cost per node on a real lab (control-plane CPU via
// process.cpuUsage, bytes per sample), ingest rate and database size per node per day on SQLite and
// PostgreSQL, and query latency of 24 h / 30 d graphs of one node and of a 50-node group (30 days of
// rollups synthesised directly in the store).
// Run: npm run bench:metrics [-- nodes]   (the lab part needs root; PostgreSQL as in test/helpers/stores.ts)
// Goals: 50 nodes at 15 s < 2 % of one core; a 30-day group graph < 100 ms.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLabPrerequisites, labDown, labUp } from '../src/lab/lab.ts';
import { uniqueLabName } from '../test/helpers/lab.ts';
import { skipReason, storeCases } from '../test/helpers/stores.ts';
import { configFromEnv } from '../src/server/config.ts';
import { createServices } from '../src/server/start.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import type { Db, Queryable, SqlValue } from '../src/store/db.ts';
import { MetricsCollector } from '../src/services/metrics/collector.ts';
import { aggregateGroup, insertSamples, querySeries, rollUp } from '../src/store/metrics-repo.ts';
import type { SeriesRow } from '../src/domain/metrics/series-rows.ts';
import { bucketStart, DAY_MS, HOUR_MS, MINUTE_MS } from '../src/domain/metrics/rollup.ts';

const NODES = Number(process.argv[2] ?? process.env.BENCH_METRICS_NODES ?? 50);
const INTERVAL_MS = 15_000;
const GROUP = 50;
const out: [string, string, string][] = [];
const row = (what: string, value: string, note = '') => {
  out.push([what, value, note]);
  console.error(`  ${what}: ${value} ${note}`);
};
const ms = (v: number) => `${v.toFixed(1)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One real sample's rows (from the lab) or a synthetic sample of the same shape. */
let templateRows: SeriesRow[] = [];

async function collectionCost(): Promise<void> {
  const missing = await checkLabPrerequisites();
  if (missing.length) {
    row('collection cost', 'not measured', `(lab unavailable: ${missing.join('; ')})`);
    return;
  }
  const name = uniqueLabName();
  const dataDir = mkdtempSync(join(tmpdir(), 'grim-bench-'));
  console.error(`lab ${name}: ${NODES} nodes`);
  const lab = await labUp({ name, nodes: NODES, os: 'debian' });
  const s = await createServices(configFromEnv({ dataDir }, {}), openSqlite(join(dataDir, 'grim.db')));
  try {
    await s.inventory.createEnvironment('bench');
    const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
    for (let i = 0; i < lab.nodes.length; i += 8)
      await Promise.all(
        lab.nodes.slice(i, i + 8).map((n) =>
          s.nodes.create({
            name: n.name,
            environment: 'bench',
            address: n.address,
            hostKeyFingerprint: n.hostKeyFingerprint,
            credential: { privateKey },
          }),
        ),
      );
    const c = new MetricsCollector(
      { db: s.db, pool: s.pool, providers: () => s.metrics.providers },
      { intervalMs: INTERVAL_MS, log: (l) => console.error(l) },
    );
    for (let i = 0; i < 3; i++) {
      await c.collectOnce(); // connections open, previous samples kept
      await new Promise((r) => setTimeout(r, 1000));
    }
    const rounds = 10;
    let bytes = 0;
    let samples = 0;
    let rows = 0;
    const wall: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < rounds; i++) {
      // Rounds 1.5 s apart (rates need >= 0.5 s of node uptime between samples); idle time costs no CPU.
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = performance.now();
      const r = await c.collectOnce();
      wall.push(performance.now() - t0);
      samples += r.collected.length;
      bytes += r.collected.reduce((a, x) => a + x.bytes, 0);
      rows += r.rowsWritten;
      for (const x of r.collected) if (x.rows.length > templateRows.length) templateRows = x.rows;
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const perNodeRound = cpuMs / samples;
    row('nodes sampled per round', `${samples / rounds} of ${NODES}`);
    row('control-plane CPU per node per sample', ms(perNodeRound), '(SSH, parse, rates, SQLite insert)');
    row(
      `CPU share, ${NODES} nodes every 15 s`,
      `${((perNodeRound * NODES * 100) / INTERVAL_MS).toFixed(3)} % of one core`,
      '(goal < 2 %)',
    );
    row('bytes per sample (script output)', `${Math.round(bytes / samples)} B`);
    row('rows per sample', `${(rows / samples).toFixed(1)}`);
    row(`round wall time, ${NODES} nodes`, `${ms(median(wall))} median, ${ms(Math.max(...wall))} max`);
  } finally {
    s.pool.close();
    await s.db.close();
    await labDown(name);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function syntheticTemplate(): SeriesRow[] {
  const metrics = ['cpu_busy_pct', 'load1', 'load5', 'load15', 'mem_total_bytes', 'mem_used_bytes'] as const;
  const r: SeriesRow[] = metrics.map((metric) => ({
    kind: 'node',
    entityId: 'x',
    metric,
    dim: '',
    ts: 0,
    value: 1,
  }));
  for (const core of ['0', '1'])
    r.push({ kind: 'node', entityId: 'x', metric: 'cpu_core_busy_pct', dim: core, ts: 0, value: 1 });
  return r;
}

/** `samples` samples of `nodes` nodes, 15 s apart, ending at `end`. */
function sampleRows(nodes: number, samples: number, end: number, first = 0): SeriesRow[] {
  const rows: SeriesRow[] = [];
  for (let s = first; s < first + samples; s++)
    for (let n = 0; n < nodes; n++)
      for (const t of templateRows)
        rows.push({ ...t, entityId: `b${n}`, ts: end - s * INTERVAL_MS, value: (s * 7 + n) % 100 });
  return rows;
}

async function tableBytes(db: Db): Promise<Record<string, number>> {
  const tables = ['metrics_raw', 'metrics_1m', 'metrics_15m'];
  const outB: Record<string, number> = {};
  for (const t of tables) {
    if (db.dialect === 'postgres') {
      const r = await db.get<{ b: unknown }>(`SELECT pg_total_relation_size('${t}') AS b`);
      outB[t] = Number(r?.b);
    } else {
      const r = await db.get<{ b: unknown }>(
        `SELECT SUM(pgsize) AS b FROM dbstat WHERE name = ? OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)`,
        [t, t],
      );
      outB[t] = Number(r?.b ?? 0);
    }
  }
  return outB;
}

async function ingestAndSize(db: Db, store: string): Promise<void> {
  const now = Date.now();
  // Ingest: rounds of GROUP nodes, one transaction per round (as the collector writes).
  const rounds = 20;
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < rounds; i++)
    n += await insertSamples(db, sampleRows(GROUP, 1, now - DAY_MS - HOUR_MS, i));
  const sec = (performance.now() - t0) / 1000;
  row(
    `${store}: ingest`,
    `${Math.round(n / sec)} rows/s`,
    `(${Math.round((rounds * GROUP) / sec)} node samples/s)`,
  );
  await db.run('DELETE FROM metrics_raw');

  // Size: one node, one day of 15 s samples, rolled up.
  const day = 5760;
  const end = bucketStart(now - 2 * MINUTE_MS, 15 * MINUTE_MS);
  for (let i = 0; i < day; i += 500) await insertSamples(db, sampleRows(1, Math.min(500, day - i), end, i));
  await rollUp(db, end + 20 * MINUTE_MS, { lateMs: 0 });
  if (db.dialect === 'postgres') await db.run('VACUUM ANALYZE');
  const b = await tableBytes(db);
  const kib = (x: number) => `${(x / 1024).toFixed(0)} KiB`;
  const perDay = b.metrics_raw + b.metrics_1m + b.metrics_15m;
  const steady = b.metrics_raw + 7 * b.metrics_1m + 90 * b.metrics_15m;
  row(
    `${store}: size per node per day`,
    kib(perDay),
    `(raw ${kib(b.metrics_raw)}, 1m ${kib(b.metrics_1m)}, 15m ${kib(b.metrics_15m)}; ${templateRows.length} series)`,
  );
  const perSeries = perDay / templateRows.length;
  row(`${store}: size per series per day`, `${(perSeries / 1024).toFixed(0)} KiB`, '(all resolutions)');
  row(
    `${store}: typical node, 40 series, per day`,
    `${((perSeries * 40) / 1024 / 1024).toFixed(1)} MiB`,
    `(8 cores, 3 filesystems, 2 disks, 2 interfaces; steady state ${(((steady / templateRows.length) * 40) / 1024 / 1024).toFixed(0)} MiB)`,
  );
  row(
    `${store}: steady state per node`,
    `${(steady / 1024 / 1024).toFixed(1)} MiB`,
    '(24 h raw + 7 d 1m + 90 d 15m)',
  );
  for (const t of ['metrics_raw', 'metrics_1m', 'metrics_15m', 'metrics_rollup_state'])
    await db.run(`DELETE FROM ${t}`);
}

async function insertRollups(
  db: Db,
  table: string,
  bucketMs: number,
  from: number,
  to: number,
): Promise<void> {
  const pending: SqlValue[][] = [];
  const flush = async (tx: Queryable) => {
    if (!pending.length) return;
    await tx.run(
      `INSERT INTO ${table} (kind, entity_id, metric, dim, ts, avg_value, max_value, n_samples) VALUES ${pending
        .map(() => '(?, ?, ?, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      pending.flat(),
    );
    pending.length = 0;
  };
  await db.transaction(async (tx) => {
    for (let ts = from; ts < to; ts += bucketMs)
      for (let n = 0; n < GROUP; n++)
        for (const metric of ['cpu_busy_pct', 'mem_used_bytes']) {
          const v = (ts / bucketMs + n) % 100;
          pending.push(['node', `b${n}`, metric, '', ts, v, v + 1, bucketMs / INTERVAL_MS]);
          if (pending.length >= 500) await flush(tx);
        }
    await flush(tx);
  });
}

async function queryLatency(db: Db, store: string): Promise<void> {
  const now = Date.now();
  const done1m = bucketStart(now - MINUTE_MS, MINUTE_MS);
  const done15 = bucketStart(now - MINUTE_MS, 15 * MINUTE_MS);
  const t0 = performance.now();
  await insertRollups(
    db,
    'metrics_15m',
    15 * MINUTE_MS,
    bucketStart(now - 31 * DAY_MS, 15 * MINUTE_MS),
    done15,
  );
  await insertRollups(db, 'metrics_1m', MINUTE_MS, bucketStart(now - 7 * DAY_MS, MINUTE_MS), done1m);
  await insertSamples(
    db,
    sampleRows(GROUP, 240, now).filter((r) => r.metric === 'cpu_busy_pct' || r.metric === 'mem_used_bytes'),
  );
  for (const [res, until] of [
    ['1m', done1m],
    ['15m', done15],
  ] as const)
    await db.run('INSERT INTO metrics_rollup_state (resolution, done_until) VALUES (?, ?)', [res, until]);
  if (db.dialect === 'postgres') await db.run('VACUUM ANALYZE');
  console.error(
    `  ${store}: synthesised 30 d of rollups for ${GROUP} nodes in ${ms(performance.now() - t0)}`,
  );
  const ids = Array.from({ length: GROUP }, (_, i) => `b${i}`);
  const time = async (label: string, f: () => Promise<{ points: unknown[] }>) => {
    const xs: number[] = [];
    let points = 0;
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      points = (await f()).points.length;
      xs.push(performance.now() - t);
    }
    row(`${store}: ${label}`, `${ms(median(xs))} median`, `(max ${ms(Math.max(...xs))}, ${points} points)`);
  };
  const q = (from: number) => ({ kind: 'node' as const, metric: 'cpu_busy_pct' as const, from, to: now });
  await time('query 24 h, one node', () => querySeries(db, { ...q(now - DAY_MS), entityId: 'b0' }, now));
  await time('query 30 d, one node', () => querySeries(db, { ...q(now - 30 * DAY_MS), entityId: 'b0' }, now));
  await time(`query 24 h, ${GROUP}-node group`, () =>
    aggregateGroup(db, { ...q(now - DAY_MS), entityIds: ids, fn: 'avg' }, now),
  );
  await time(`query 30 d, ${GROUP}-node group (goal < 100 ms)`, () =>
    aggregateGroup(db, { ...q(now - 30 * DAY_MS), entityIds: ids, fn: 'avg' }, now),
  );
}

await collectionCost();
if (!templateRows.length) {
  templateRows = syntheticTemplate();
  console.error('  (store figures use a synthetic 8-series sample: no lab sample was taken)');
}
for (const c of storeCases) {
  const why = await skipReason(c).catch((e: Error) => e.message);
  if (why) {
    row(`${c.name}`, 'not measured', `(${why})`);
    continue;
  }
  const { db, cleanup } = await c.open();
  try {
    await ingestAndSize(db, c.name);
    await queryLatency(db, c.name);
  } finally {
    await cleanup();
  }
}

const w0 = Math.max(...out.map((r) => r[0].length));
const w1 = Math.max(...out.map((r) => r[1].length));
console.log(`\nusage metrics benchmark (${NODES} lab nodes, 15 s interval)`);
for (const [a, b, c] of out) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
