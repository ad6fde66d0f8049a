/**
 * Usage metrics for people and for placement: time series of a node, an instance, an app or a group
 * (the store picks the step from the range), requested vs allocatable vs used capacity per node and
 * per group (the apps' overcommit warning calls `capacity`), the latest values for `grim node top`,
 * and the Prometheus federation text. Collection itself is in ./metrics/collector.ts.
 */
import type { Db } from '../store/db.ts';
import { aggregateGroup, latestPoints, querySeries, type LatestPoint } from '../store/metrics-repo.ts';
import { METRICS, isMetricName, type MetricName, type SeriesKind } from '../domain/metrics/catalog.ts';
import { HOUR_MS, MINUTE_MS, type Resolution } from '../domain/metrics/rollup.ts';
import { invalid, notFound } from '../domain/errors.ts';
import { renderExposition } from '../integrations/prometheus/exposition.ts';
import type { LabelledPoints } from '../integrations/prometheus/names.ts';
import type { InventoryService } from './inventory.ts';
import type { NodeService, NodeView } from './nodes.ts';
import { instanceLabels, nodeLabels } from './metrics/labels.ts';
import { DEFAULT_PROVIDERS, type MetricsProviders, type Resources } from './metrics/providers.ts';

export type { MetricsProviders, Resources } from './metrics/providers.ts';

export type SeriesScope = 'node' | 'instance' | 'app' | 'group';

export interface SeriesRequest {
  scope: SeriesScope;
  name: string;
  metric: string;
  dim?: string;
  from?: number;
  to?: number;
  /** How a group or app combines its members (default: avg for percent and load, else sum). */
  fn?: 'sum' | 'avg';
}

export interface SeriesView {
  scope: SeriesScope;
  name: string;
  metric: MetricName;
  dim: string;
  unit: string;
  from: number;
  to: number;
  resolution: Resolution;
  stepMs: number;
  fn: 'sum' | 'avg' | null;
  points: { ts: number; value: number; max?: number; entities?: number }[];
}

export interface UsedResources {
  /** Average CPU over the window: cpu_busy_pct x cores, in millicores. */
  cpuMillis: number | null;
  /** Latest memory in use. */
  memoryBytes: number | null;
  /** Newest sample used, unix ms. */
  at: number | null;
}

export interface NodeCapacity {
  node: string;
  state: string;
  cores: number;
  allocatable: Resources;
  requested: Resources;
  used: UsedResources;
}

export interface GroupCapacity {
  group: string;
  environment: string;
  nodes: string[];
  allocatable: Resources;
  requested: Resources;
  /** Sums over the member nodes that have recent samples (`nodesWithUsage` of them). */
  used: { cpuMillis: number; memoryBytes: number; nodesWithUsage: number };
}

export interface NodeTopRow {
  node: string;
  environment: string;
  state: string;
  at: number | null;
  cpuBusyPct: number | null;
  load1: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  netRxBytesPerS: number | null;
  netTxBytesPerS: number | null;
  diskReadBytesPerS: number | null;
  diskWriteBytesPerS: number | null;
  /** The fullest filesystem, percent used. */
  fsUsedPct: number | null;
}

/** How far back "used" CPU is averaged. */
export const USAGE_WINDOW_MS = 5 * MINUTE_MS;
/** Samples older than this are not "latest" (Prometheus' own staleness horizon). */
export const LATEST_MAX_AGE_MS = 5 * MINUTE_MS;
/** The longest range one series request may span. */
const MAX_RANGE_MS = 90 * 24 * HOUR_MS;

export interface MetricsServiceDeps {
  db: Db;
  nodes: NodeService;
  inventory: InventoryService;
}

export class MetricsService {
  readonly #d: MetricsServiceDeps;
  #providers: MetricsProviders = DEFAULT_PROVIDERS;
  /** instance id -> node it was last sampled on (filled by the collector). */
  readonly instanceNodes = new Map<string, string>();

  constructor(deps: MetricsServiceDeps) {
    this.#d = deps;
  }

  get providers(): MetricsProviders {
    return this.#providers;
  }

  /** The apps work plugs in instance cgroups, requested resources and app membership here. */
  setProviders(p: Partial<MetricsProviders>): void {
    this.#providers = { ...this.#providers, ...p };
  }

  recordInstances(node: string, instanceIds: readonly string[]): void {
    for (const id of instanceIds) this.instanceNodes.set(id, node);
  }

  async series(r: SeriesRequest, now = Date.now()): Promise<SeriesView> {
    if (!isMetricName(r.metric))
      throw invalid('unknown metric', [
        { path: 'query/metric', message: `${r.metric} is not one of ${Object.keys(METRICS).join(', ')}` },
      ]);
    const metric = r.metric;
    const kind: SeriesKind = r.scope === 'node' || r.scope === 'group' ? 'node' : 'instance';
    if (METRICS[metric].kind !== kind)
      throw invalid(`${metric} is an ${METRICS[metric].kind} metric, not one of a ${r.scope}`, [
        { path: 'query/metric', message: `not available for scope ${r.scope}` },
      ]);
    const to = r.to ?? now;
    const from = r.from ?? to - HOUR_MS;
    if (from > to) throw invalid('from is after to', [{ path: 'query/from', message: 'must be <= to' }]);
    if (to - from > MAX_RANGE_MS)
      throw invalid('range too long', [{ path: 'query/from', message: 'at most 90 days before to' }]);
    const dim = r.dim ?? '';
    const base = { scope: r.scope, name: r.name, metric, dim, unit: METRICS[metric].unit, from, to };

    if (r.scope === 'node' || r.scope === 'instance') {
      if (r.scope === 'node') await this.#d.nodes.get(r.name); // 404 for an unknown node
      const s = await querySeries(this.#d.db, { kind, entityId: r.name, metric, dim, from, to }, now);
      return { ...base, resolution: s.resolution, stepMs: s.stepMs, fn: null, points: s.points };
    }
    const members = r.scope === 'group' ? await this.#groupNodes(r.name) : await this.#appInstances(r.name);
    const unit = METRICS[metric].unit;
    const fn = r.fn ?? (unit === 'percent' || unit === 'load' ? 'avg' : 'sum');
    const g = await aggregateGroup(this.#d.db, { kind, entityIds: members, metric, dim, from, to, fn }, now);
    return { ...base, resolution: g.resolution, stepMs: g.stepMs, fn, points: g.points };
  }

  async #groupNodes(group: string): Promise<string[]> {
    const g = (await this.#d.inventory.listGroups()).find((x) => x.name === group);
    if (!g) throw notFound(`group ${group}`);
    return g.nodes;
  }

  async #appInstances(app: string): Promise<string[]> {
    const ids = await this.#providers.appInstances(app);
    if (ids === null) throw notFound(`app ${app}`);
    return [...ids];
  }

  /** Requested vs allocatable vs used, per node (filtered) and per group of those nodes. */
  async capacity(
    f: { node?: string; group?: string; environment?: string } = {},
    now = Date.now(),
  ): Promise<{ nodes: NodeCapacity[]; groups: GroupCapacity[]; windowMs: number }> {
    const nodes = f.node
      ? [await this.#d.nodes.get(f.node)]
      : await this.#d.nodes.list({ environment: f.environment, group: f.group });
    if (f.group) await this.#groupNodes(f.group);
    const perNode = await Promise.all(nodes.map((n) => this.#nodeCapacity(n, now)));
    const byName = new Map(perNode.map((c) => [c.node, c]));
    const listed = new Set(nodes.map((n) => n.name));
    const groups = (await this.#d.inventory.listGroups(f.environment)).filter((g) =>
      f.group ? g.name === f.group : g.nodes.some((n) => listed.has(n)),
    );
    const groupCaps: GroupCapacity[] = [];
    for (const g of groups) {
      for (const n of g.nodes)
        if (!byName.has(n)) byName.set(n, await this.#nodeCapacity(await this.#d.nodes.get(n), now));
      const members = g.nodes.map((n) => byName.get(n) as NodeCapacity);
      const withUsage = members.filter((m) => m.used.at !== null);
      groupCaps.push({
        group: g.name,
        environment: g.environment,
        nodes: g.nodes,
        allocatable: sumResources(members.map((m) => m.allocatable)),
        requested: sumResources(members.map((m) => m.requested)),
        used: {
          cpuMillis: withUsage.reduce((a, m) => a + (m.used.cpuMillis ?? 0), 0),
          memoryBytes: withUsage.reduce((a, m) => a + (m.used.memoryBytes ?? 0), 0),
          nodesWithUsage: withUsage.length,
        },
      });
    }
    return { nodes: perNode, groups: groupCaps, windowMs: USAGE_WINDOW_MS };
  }

  async #nodeCapacity(n: NodeView, now: number): Promise<NodeCapacity> {
    const [used, requested] = await Promise.all([this.#usedOf(n, now), this.#providers.requested(n.name)]);
    return {
      node: n.name,
      state: n.state,
      cores: Number(n.facts.cpus ?? 0),
      allocatable: n.allocatable,
      requested: { cpuMillis: requested.cpuMillis, memoryBytes: requested.memoryBytes },
      used,
    };
  }

  /** Recent CPU (average over the usage window) and memory (latest) of one node. */
  async #usedOf(n: NodeView, now: number): Promise<NodeCapacity['used']> {
    const cores = Number(n.facts.cpus ?? 0);
    const window = { kind: 'node' as const, entityId: n.name, from: now - USAGE_WINDOW_MS, to: now };
    const [cpu, mem] = await Promise.all([
      querySeries(this.#d.db, { ...window, metric: 'cpu_busy_pct' }, now),
      querySeries(this.#d.db, { ...window, metric: 'mem_used_bytes' }, now),
    ]);
    const cpuAvg = cpu.points.length ? cpu.points.reduce((a, p) => a + p.value, 0) / cpu.points.length : null;
    const lastMem = mem.points.at(-1);
    const at = Math.max(cpu.points.at(-1)?.ts ?? -Infinity, lastMem?.ts ?? -Infinity);
    return {
      cpuMillis: cpuAvg === null ? null : Math.round((cpuAvg / 100) * cores * 1000),
      memoryBytes: lastMem ? lastMem.value : null,
      at: Number.isFinite(at) ? at : null,
    };
  }

  /** Recent use of the named nodes only (the apps planner's overcommit numbers): nodes without samples are left out. */
  async recentUsage(
    names: readonly string[],
    now = Date.now(),
  ): Promise<Map<string, { cpuMillis: number; memoryBytes: number }>> {
    const out = new Map<string, { cpuMillis: number; memoryBytes: number }>();
    await Promise.all(
      names.map(async (name) => {
        const u = await this.#usedOf(await this.#d.nodes.get(name), now);
        if (u.cpuMillis !== null && u.memoryBytes !== null)
          out.set(name, { cpuMillis: u.cpuMillis, memoryBytes: u.memoryBytes });
      }),
    );
    return out;
  }

  /** The newest values per node, for `grim node top`. */
  async nodeTop(f: { environment?: string; group?: string } = {}, now = Date.now()): Promise<NodeTopRow[]> {
    const nodes = await this.#d.nodes.list(f);
    const latest = await latestPoints(this.#d.db, 'node', now - LATEST_MAX_AGE_MS);
    const byNode = groupBy(latest, (p) => p.entityId);
    return nodes.map((n) => {
      const pts = byNode.get(n.name) ?? [];
      const one = (m: MetricName) => pts.find((p) => p.metric === m && p.dim === '')?.value ?? null;
      const sum = (m: MetricName) => {
        const v = pts.filter((p) => p.metric === m);
        return v.length ? v.reduce((a, p) => a + p.value, 0) : null;
      };
      const fsPct = pts
        .filter((p) => p.metric === 'fs_size_bytes' && p.value > 0)
        .map((size) => {
          const used = pts.find((p) => p.metric === 'fs_used_bytes' && p.dim === size.dim);
          return used ? (used.value / size.value) * 100 : 0;
        });
      return {
        node: n.name,
        environment: n.environment,
        state: n.state,
        at: pts.length ? Math.max(...pts.map((p) => p.ts)) : null,
        cpuBusyPct: one('cpu_busy_pct'),
        load1: one('load1'),
        memUsedBytes: one('mem_used_bytes'),
        memTotalBytes: one('mem_total_bytes'),
        netRxBytesPerS: sum('net_rx_bytes_per_s'),
        netTxBytesPerS: sum('net_tx_bytes_per_s'),
        diskReadBytesPerS: sum('disk_read_bytes_per_s'),
        diskWriteBytesPerS: sum('disk_write_bytes_per_s'),
        fsUsedPct: fsPct.length ? Math.max(...fsPct) : null,
      };
    });
  }

  /** The latest node and instance samples with their identity labels. */
  async latestLabelled(now = Date.now()): Promise<LabelledPoints[]> {
    const since = now - LATEST_MAX_AGE_MS;
    const [nodeRows, instanceRows, nodes] = await Promise.all([
      latestPoints(this.#d.db, 'node', since),
      latestPoints(this.#d.db, 'instance', since),
      this.#d.nodes.list(),
    ]);
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    const out: LabelledPoints[] = [];
    for (const [name, points] of groupBy(nodeRows, (p) => p.entityId)) {
      const n = nodeByName.get(name);
      if (n) out.push({ kind: 'node', labels: nodeLabels(n), points });
    }
    for (const [id, points] of groupBy(instanceRows, (p) => p.entityId)) {
      const node = nodeByName.get(this.instanceNodes.get(id) ?? '');
      out.push({
        kind: 'instance',
        labels: instanceLabels(id, node, await this.#providers.instanceApp(id)),
        points,
      });
    }
    return out;
  }

  /** /metrics/federate: Prometheus text format 0.0.4. */
  async federate(now = Date.now()): Promise<string> {
    return renderExposition(await this.latestLabelled(now));
  }
}

function sumResources(rs: readonly Resources[]): Resources {
  return {
    cpuMillis: rs.reduce((a, r) => a + r.cpuMillis, 0),
    memoryBytes: rs.reduce((a, r) => a + r.memoryBytes, 0),
  };
}

function groupBy(
  points: readonly LatestPoint[],
  key: (p: LatestPoint) => string,
): Map<string, LatestPoint[]> {
  const m = new Map<string, LatestPoint[]>();
  for (const p of points) {
    const k = key(p);
    const list = m.get(k);
    if (list) list.push(p);
    else m.set(k, [p]);
  }
  return m;
}
