/**
 * Grafana dashboards generated from grim's metric catalog (src/domain/metrics/catalog.ts and the names
 * grim exports on /metrics and /metrics/federate): fleet, node, app, storage (ZFS pools, SMART) and grim itself.
 * Every query names only metrics grim exports; the tests check them against a live grim.
 */
import { METRICS, type MetricName } from '../../domain/metrics/catalog.ts';
import { PROM_NAMES } from '../prometheus/names.ts';
import { DATASOURCE_UIDS } from './grafana.ts';

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'table';
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: 'prometheus'; uid: string };
  fieldConfig: { defaults: { unit: string }; overrides: [] };
  targets: { refId: string; expr: string; legendFormat: string }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  time: { from: string; to: string };
  refresh: string;
  templating: { list: Record<string, unknown>[] };
  panels: Panel[];
}

const ds = { type: 'prometheus' as const, uid: DATASOURCE_UIDS.cortex };
const GRAFANA_UNITS: Record<string, string> = {
  percent: 'percent',
  bytes: 'bytes',
  bytes_per_second: 'Bps',
  packets_per_second: 'pps',
  millicores: 'none',
  load: 'none',
};

function panels(
  specs: { title: string; expr: string; legend: string; unit?: string; type?: Panel['type'] }[],
): Panel[] {
  return specs.map((p, i) => ({
    id: i + 1,
    type: p.type ?? 'timeseries',
    title: p.title,
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
    datasource: ds,
    fieldConfig: { defaults: { unit: p.unit ?? 'none' }, overrides: [] },
    targets: [{ refId: 'A', expr: p.expr, legendFormat: p.legend }],
  }));
}

function variable(name: string, metric: string, label: string): Record<string, unknown> {
  return {
    name,
    type: 'query',
    datasource: ds,
    query: { query: `label_values(${metric}, ${label})`, refId: `${name}-values` },
    refresh: 2,
    includeAll: false,
  };
}

function dashboard(uid: string, title: string, list: Record<string, unknown>[], p: Panel[]): Dashboard {
  return {
    uid,
    title,
    tags: ['grim'],
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: { list },
    panels: p,
  };
}

const catalogPanels = (kind: 'node' | 'instance', selector: string, legend: string) =>
  (Object.keys(METRICS) as MetricName[])
    .filter((m) => METRICS[m].kind === kind)
    .map((m) => ({
      title: METRICS[m].help.replace(/\.$/, ''),
      expr: `${PROM_NAMES[m]}{${selector}}`,
      legend: METRICS[m].dim ? `${legend} {{${METRICS[m].dim}}}` : legend,
      unit: GRAFANA_UNITS[METRICS[m].unit],
    }));

export function grimDashboards(): Dashboard[] {
  return [
    dashboard(
      'grim-fleet',
      'grim / fleet',
      [],
      panels([
        { title: 'Nodes up', expr: 'sum(grim_node_up)', legend: 'up', type: 'stat' },
        {
          title: 'Nodes unreachable',
          expr: 'count(grim_node_up == 0) or vector(0)',
          legend: 'unreachable',
          type: 'stat',
        },
        { title: 'Instances by state', expr: 'sum by (state) (grim_app_instances)', legend: '{{state}}' },
        {
          title: 'CPU busy by node',
          expr: 'grim_node_cpu_busy_percent',
          legend: '{{node}}',
          unit: 'percent',
        },
        {
          title: 'Memory used by node',
          expr: 'grim_node_memory_used_bytes',
          legend: '{{node}}',
          unit: 'bytes',
        },
        { title: 'Load (1 min) by node', expr: 'grim_node_load1', legend: '{{node}}' },
      ]),
    ),
    dashboard(
      'grim-node',
      'grim / node',
      [variable('node', 'grim_node_up', 'node')],
      panels(catalogPanels('node', 'node="$node"', '{{node}}')),
    ),
    dashboard(
      'grim-app',
      'grim / app',
      [variable('app', 'grim_app_instances', 'app')],
      panels([
        { title: 'Instances by state', expr: 'grim_app_instances{app="$app"}', legend: '{{state}}' },
        ...catalogPanels('instance', 'app="$app"', '{{instance}}'),
      ]),
    ),
    dashboard(
      'grim-storage',
      'grim / storage',
      [],
      panels([
        {
          title: 'Pool fullness',
          expr: 'grim_zpool_capacity_ratio',
          legend: '{{node}} {{pool}}',
          unit: 'percentunit',
        },
        {
          title: 'Pools not ONLINE',
          expr: 'grim_zpool_health{state!="ONLINE"} == 1',
          legend: '{{node}} {{pool}} {{state}}',
          type: 'table',
        },
        { title: 'Pool errors', expr: 'grim_zpool_errors', legend: '{{node}} {{pool}}' },
        { title: 'Unhealthy vdevs', expr: 'grim_zpool_vdevs_unhealthy', legend: '{{node}} {{pool}}' },
        {
          title: 'Disks failing SMART',
          expr: 'grim_disk_smart_passed == 0',
          legend: '{{node}} {{disk}}',
          type: 'table',
        },
        { title: 'Storage nodes answering', expr: 'grim_storage_node_up', legend: '{{node}}' },
      ]),
    ),
    dashboard(
      'grim-self',
      'grim / control plane',
      [],
      panels([
        {
          title: 'API requests per second',
          expr: 'sum by (route) (rate(grim_http_requests_total[5m]))',
          legend: '{{route}}',
          unit: 'reqps',
        },
        {
          title: 'API latency p99',
          expr: 'histogram_quantile(0.99, sum by (le) (rate(grim_http_request_duration_seconds_bucket[5m])))',
          legend: 'p99',
          unit: 's',
        },
        { title: 'Database connections', expr: 'grim_db_pool_connections', legend: '{{state}}' },
        {
          title: 'Log lines shipped per second',
          expr: 'rate(grim_log_shipper_lines_total[5m])',
          legend: 'lines',
          unit: 'none',
        },
        {
          title: 'Log pushes refused by Loki',
          expr: 'increase(grim_log_shipper_rejected_batches_total[1h])',
          legend: 'rejected',
        },
        {
          title: 'Log pushes rate-limited',
          expr: 'increase(grim_log_shipper_rate_limited_total[1h])',
          legend: '429',
        },
      ]),
    ),
  ];
}

const PROMQL_WORDS = new Set(
  `sum avg max min count rate irate increase by without on ignoring group_left group_right or and unless
   histogram_quantile label_values vector time bool offset topk bottomk abs`.split(/\s+/),
);

/** Metric names a PromQL expression reads (label matchers, groupings, durations and strings removed). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/label_values\(([^,]+),[^)]*\)/g, '$1');
  const names = stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n)))];
}
