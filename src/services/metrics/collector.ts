/**
 * The usage collector: every interval, one metrics.sh round trip per node over the existing SSH pool
 * (no agent, no new port). The previous raw sample of each node stays in memory so counters become
 * rates on the control node (src/domain/metrics/normalize.ts). Rows are stamped with the control
 * node's receive time, so a node with a wrong clock can neither vanish under retention nor send
 * out-of-order samples to Prometheus. Every `rollupEveryMs` the store rolls up and enforces retention.
 * With a remote-write URL, each round's samples are pushed too (failures are logged, never thrown).
 */
import type { Db } from '../../store/db.ts';
import { listNodeRows, nodeGroups, type NodeRow } from '../../store/nodes-repo.ts';
import { enforceRetention, insertSamples, rollUp } from '../../store/metrics-repo.ts';
import { parseRawSample, type RawSample } from '../../domain/metrics/raw-sample.ts';
import { normalizeSample, type NormalizedSample } from '../../domain/metrics/normalize.ts';
import { toSeriesRows, type SeriesRow } from '../../domain/metrics/series-rows.ts';
import { assertSucceeded, type SshPool } from '../../ssh/index.ts';
import type { ScriptCommand } from '../../ssh/command.ts';
import { scriptCommand } from '../../scripts/loader.ts';
import { pushRemoteWrite, toTimeSeries } from '../../integrations/prometheus/remote-write.ts';
import type { LabelledPoints } from '../../integrations/prometheus/names.ts';
import type { TimeSeries } from '../../integrations/prometheus/protobuf.ts';
import { targetOf } from '../nodes.ts';
import { instanceLabels, nodeLabels, type NodeIdentity } from './labels.ts';
import type { MetricsProviders } from './providers.ts';
import { VmmMetricsTracker } from './vmm-tracker.ts';

export const DEFAULT_INTERVAL_MS = 15_000;
export const DEFAULT_ROLLUP_EVERY_MS = 60_000;

export interface CollectorOptions {
  intervalMs?: number;
  /** How often rollups and retention run (default 60 s). */
  rollupEveryMs?: number;
  /** Prometheus remote-write endpoint, e.g. http://prom:9090/api/v1/write. */
  remoteWriteUrl?: string;
  remoteWriteHeaders?: Record<string, string>;
  /** Per-node timeout of one sample (default: the interval, between 5 and 10 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface CollectorDeps {
  db: Db;
  pool: SshPool;
  providers: () => MetricsProviders;
  /** Told where each instance was last seen (for the `node` label of instance samples). */
  onInstancesSeen?: (node: string, instanceIds: readonly string[]) => void;
}

export interface NodeCollection {
  node: string;
  receivedAt: number;
  /** Bytes of the script's output (the raw sample on the wire, before SSH framing). */
  bytes: number;
  sample: NormalizedSample;
  rows: SeriesRow[];
}

export interface RoundResult {
  at: number;
  collected: NodeCollection[];
  failed: { node: string; error: string }[];
  skipped: { node: string; reason: string }[];
  rowsWritten: number;
}

export interface CollectorStats {
  rounds: number;
  samples: number;
  rowsWritten: number;
  failures: number;
  lastRound: { at: number; nodes: number; failed: number; durationMs: number } | null;
  remoteWrite: { pushed: number; failed: number; dropped: number; lastError: string | null };
}

/** The metrics.sh command with the instance cgroups to report. */
export function metricsCommand(cgroupPaths: readonly string[], vmmMetrics = ''): ScriptCommand {
  const env: Record<string, string> = cgroupPaths.length ? { INSTANCE_CGROUPS: cgroupPaths.join('\n') } : {};
  if (vmmMetrics !== '') env.VMM_METRICS = vmmMetrics;
  return scriptCommand('metrics', env);
}

export class MetricsCollector {
  readonly #d: CollectorDeps;
  readonly #intervalMs: number;
  readonly #rollupEveryMs: number;
  readonly #timeoutMs: number;
  #remoteWriteUrl: string | undefined;
  #remoteWriteHeaders: Record<string, string> | undefined;
  readonly #log: (line: string) => void;
  readonly #prev = new Map<string, RawSample>();
  readonly #vmm = new VmmMetricsTracker();
  readonly #lastError = new Map<string, string>();
  #lastMaintenance = 0;
  #pushing: Promise<void> | null = null;
  #round: Promise<RoundResult> | null = null;
  readonly stats: CollectorStats = {
    rounds: 0,
    samples: 0,
    rowsWritten: 0,
    failures: 0,
    lastRound: null,
    remoteWrite: { pushed: 0, failed: 0, dropped: 0, lastError: null },
  };

  constructor(deps: CollectorDeps, opts: CollectorOptions = {}) {
    this.#d = deps;
    this.#intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!(this.#intervalMs >= 100))
      throw new RangeError(`metrics interval ${this.#intervalMs} ms is too short`);
    this.#rollupEveryMs = opts.rollupEveryMs ?? DEFAULT_ROLLUP_EVERY_MS;
    this.#timeoutMs = opts.timeoutMs ?? Math.max(5_000, Math.min(this.#intervalMs, 10_000));
    this.#remoteWriteUrl = opts.remoteWriteUrl || undefined;
    this.#remoteWriteHeaders = opts.remoteWriteHeaders;
    this.#log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
  }

  /** Remote write to another receiver from the next round on (a monitoring stack was enabled). */
  retarget(opts: Pick<CollectorOptions, 'remoteWriteUrl' | 'remoteWriteHeaders'>): void {
    this.#remoteWriteUrl = opts.remoteWriteUrl || undefined;
    this.#remoteWriteHeaders = opts.remoteWriteHeaders;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** One round over every node; a round already running is joined, not doubled. */
  collectOnce(): Promise<RoundResult> {
    this.#round ??= this.#collect().finally(() => (this.#round = null));
    return this.#round;
  }

  async #collect(): Promise<RoundResult> {
    const started = Date.now();
    const [rows, groups] = await Promise.all([listNodeRows(this.#d.db), nodeGroups(this.#d.db)]);
    for (const name of this.#prev.keys())
      if (!rows.some((r) => r.name === name)) {
        this.#prev.delete(name);
        this.#vmm.forgetNode(name);
      }
    const result: RoundResult = { at: started, collected: [], failed: [], skipped: [], rowsWritten: 0 };
    const identities = new Map<string, NodeIdentity>();
    await Promise.all(
      rows.map(async (row) => {
        identities.set(row.name, {
          name: row.name,
          environment: row.environment,
          groups: groups.get(row.name) ?? [],
        });
        if (row.state === 'host-key-mismatch') {
          result.skipped.push({ node: row.name, reason: 'host key mismatch' });
          return;
        }
        try {
          result.collected.push(await this.#collectNode(row));
          if (this.#lastError.delete(row.name)) this.#log(`metrics: ${row.name} answers again`);
        } catch (err) {
          const message = (err as Error).message;
          result.failed.push({ node: row.name, error: message });
          if (this.#lastError.get(row.name) !== message)
            this.#log(`metrics: cannot sample ${row.name}: ${message}`);
          this.#lastError.set(row.name, message);
        }
      }),
    );
    const all = result.collected.flatMap((c) => c.rows);
    result.rowsWritten = await insertSamples(this.#d.db, all);
    this.stats.rounds++;
    this.stats.samples += result.collected.length;
    this.stats.rowsWritten += result.rowsWritten;
    this.stats.failures += result.failed.length;
    this.stats.lastRound = {
      at: started,
      nodes: result.collected.length,
      failed: result.failed.length,
      durationMs: Date.now() - started,
    };
    if (this.#remoteWriteUrl && result.collected.length)
      this.#push(await this.#timeSeries(result.collected, identities));
    return result;
  }

  async #collectNode(row: NodeRow): Promise<NodeCollection> {
    const cgroups = new Map<string, string>();
    for (const [path, id] of await this.#d.providers().instanceCgroups(row.name)) {
      if (path.includes('\n')) this.#log(`metrics: ignoring cgroup path with a newline for instance ${id}`);
      else cgroups.set(path, id);
    }
    const vmmFiles = new Map<string, string>();
    for (const [path, id] of await this.#d.providers().instanceVmmMetrics(row.name)) {
      if (/^[A-Za-z0-9/_.-]+$/.test(path)) vmmFiles.set(path, id);
      else this.#log(`metrics: ignoring VMM metrics path ${JSON.stringify(path)} of instance ${id}`);
    }
    const res = await this.#d.pool.exec(
      targetOf(row),
      metricsCommand([...cgroups.keys()], this.#vmm.request(row.name, vmmFiles)),
      { timeoutMs: this.#timeoutMs },
    );
    assertSucceeded(row.name, 'metrics', res);
    const raw = parseRawSample(res.stdout);
    const receivedAt = Date.now();
    const prev = this.#prev.get(row.name);
    this.#prev.set(row.name, raw);
    const sample = { ...normalizeSample(prev, raw), ts: receivedAt };
    this.#d.onInstancesSeen?.(row.name, [...cgroups.values()]);
    return {
      node: row.name,
      receivedAt,
      bytes: Buffer.byteLength(res.stdout),
      sample,
      rows: [
        ...toSeriesRows(sample, row.name, cgroups),
        ...this.#vmm.ingest(row.name, raw.vmm, vmmFiles, receivedAt),
      ],
    };
  }

  async #timeSeries(
    collected: readonly NodeCollection[],
    identities: ReadonlyMap<string, NodeIdentity>,
  ): Promise<TimeSeries[]> {
    const providers = this.#d.providers();
    const out: TimeSeries[] = [];
    for (const c of collected) {
      const id = identities.get(c.node);
      const entities: LabelledPoints[] = [
        { kind: 'node', labels: id ? nodeLabels(id) : { node: c.node }, points: c.sample.node },
      ];
      const byInstance = new Map<string, SeriesRow[]>();
      for (const r of c.rows)
        if (r.kind === 'instance') byInstance.set(r.entityId, [...(byInstance.get(r.entityId) ?? []), r]);
      for (const [instance, rows] of byInstance)
        entities.push({
          kind: 'instance',
          labels: instanceLabels(instance, id, await providers.instanceApp(instance)),
          points: rows,
        });
      out.push(...toTimeSeries(entities, c.receivedAt));
    }
    return out;
  }

  /** At most one push in flight: a round finishing while the previous push still retries is dropped. */
  #push(series: TimeSeries[]): void {
    if (this.#pushing) {
      this.stats.remoteWrite.dropped++;
      return;
    }
    const url = this.#remoteWriteUrl as string;
    this.#pushing = pushRemoteWrite(url, series, {
      attempts: 3,
      timeoutMs: Math.max(2_000, Math.min(this.#intervalMs, 10_000)),
      maxDelayMs: 2_000,
      headers: this.#remoteWriteHeaders,
    })
      .then(() => {
        this.stats.remoteWrite.pushed++;
        if (this.stats.remoteWrite.lastError !== null)
          this.#log(`metrics: remote write to ${url} works again`);
        this.stats.remoteWrite.lastError = null;
      })
      .catch((err: Error) => {
        this.stats.remoteWrite.failed++;
        if (this.stats.remoteWrite.lastError !== err.message) this.#log(`metrics: ${err.message}`);
        this.stats.remoteWrite.lastError = err.message;
      })
      .finally(() => (this.#pushing = null));
  }

  /** Rollups and retention (also run by the timer every rollupEveryMs). */
  async maintain(now = Date.now()): Promise<void> {
    this.#lastMaintenance = now;
    await rollUp(this.#d.db, now);
    await enforceRetention(this.#d.db, now);
  }

  /** Rollups and retention when rollupEveryMs has passed since the last time. */
  async maintainIfDue(now = Date.now()): Promise<void> {
    if (now - this.#lastMaintenance >= this.#rollupEveryMs) await this.maintain(now);
  }

  /** Waits for a remote-write push in flight (on shutdown). */
  async drain(): Promise<void> {
    await this.#round;
    await this.#pushing;
  }

  /** Starts the timers; the returned stop waits for the round (and push) in progress. */
  start(): () => Promise<void> {
    let stopped = false;
    let busy: Promise<void> | null = null;
    const work = async () => {
      try {
        await this.collectOnce();
        if (!stopped && Date.now() - this.#lastMaintenance >= this.#rollupEveryMs) await this.maintain();
      } catch (err) {
        this.#log(`metrics: collection round failed: ${(err as Error).message}`);
      }
    };
    const tick = () => {
      if (stopped || busy) return;
      busy = work().finally(() => (busy = null));
    };
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, this.#intervalMs);
    first.unref();
    timer.unref();
    return async () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await busy;
      await this.#pushing;
    };
  }
}

/**
 * Collector settings from the environment: GRIM_METRICS_INTERVAL (seconds, default 15),
 * GRIM_REMOTE_WRITE_URL and, for receivers behind auth, GRIM_REMOTE_WRITE_BEARER_TOKEN; GRIM_REMOTE_WRITE_TENANT
 * sends X-Scope-OrgID (Cortex with auth enabled).
 */
export function metricsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): CollectorOptions {
  const opts: CollectorOptions = {};
  if (env.GRIM_METRICS_INTERVAL) {
    const s = Number(env.GRIM_METRICS_INTERVAL);
    if (!(s >= 0.1 && s <= 3600))
      throw new Error(
        `GRIM_METRICS_INTERVAL must be seconds between 0.1 and 3600, got ${env.GRIM_METRICS_INTERVAL}`,
      );
    opts.intervalMs = Math.round(s * 1000);
  }
  if (env.GRIM_REMOTE_WRITE_URL) {
    const url = new URL(env.GRIM_REMOTE_WRITE_URL); // throws a clear "Invalid URL" at startup
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`GRIM_REMOTE_WRITE_URL must be http(s), got ${url.protocol}`);
    opts.remoteWriteUrl = url.toString();
  }
  if (env.GRIM_REMOTE_WRITE_BEARER_TOKEN)
    opts.remoteWriteHeaders = { Authorization: `Bearer ${env.GRIM_REMOTE_WRITE_BEARER_TOKEN}` };
  if (env.GRIM_REMOTE_WRITE_TENANT)
    opts.remoteWriteHeaders = { ...opts.remoteWriteHeaders, 'X-Scope-OrgID': env.GRIM_REMOTE_WRITE_TENANT };
  return opts;
}

/** A collector for the server's services, not started: the server runs its rounds under the `loop:metrics` lease. */
export function createMetricsCollector(
  s: {
    db: Db;
    pool: SshPool;
    metrics: { providers: MetricsProviders; recordInstances(node: string, ids: readonly string[]): void };
  },
  opts: CollectorOptions = {},
): MetricsCollector {
  return new MetricsCollector(
    {
      db: s.db,
      pool: s.pool,
      providers: () => s.metrics.providers,
      onInstancesSeen: (node, ids) => s.metrics.recordInstances(node, ids),
    },
    opts,
  );
}

/** Starts collecting for the server's services; returns the stop function (awaits the round in progress). */
export function startMetricsCollector(
  s: {
    db: Db;
    pool: SshPool;
    metrics: {
      providers: MetricsProviders;
      recordInstances(node: string, ids: readonly string[]): void;
    };
  },
  opts: CollectorOptions = {},
): { collector: MetricsCollector; stop: () => Promise<void> } {
  const collector = new MetricsCollector(
    {
      db: s.db,
      pool: s.pool,
      providers: () => s.metrics.providers,
      onInstancesSeen: (node, ids) => s.metrics.recordInstances(node, ids),
    },
    opts,
  );
  return { collector, stop: collector.start() };
}
