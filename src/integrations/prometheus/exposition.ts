/**
 * Prometheus text exposition format 0.0.4 of the latest node and instance samples:
 * one family per metric (# HELP, # TYPE gauge, then its samples), stable label order.
 */
import { METRICS, type MetricName } from '../../domain/metrics/catalog.ts';
import { PROM_NAMES, pointLabels, type LabelledPoints } from './names.ts';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label value escaping: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escaping: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderExposition(entities: readonly LabelledPoints[]): string {
  const families = new Map<MetricName, string[]>();
  for (const e of entities) {
    for (const p of e.points) {
      if (METRICS[p.metric].kind !== e.kind) continue;
      const labels = pointLabels(e.labels, p.metric, p.dim)
        .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
        .join(',');
      const line = `${PROM_NAMES[p.metric]}${labels ? `{${labels}}` : ''} ${formatValue(p.value)}`;
      const lines = families.get(p.metric) ?? [];
      lines.push(line);
      families.set(p.metric, lines);
    }
  }
  let out = '';
  for (const metric of Object.keys(METRICS) as MetricName[]) {
    const lines = families.get(metric);
    if (!lines) continue;
    const name = PROM_NAMES[metric];
    out += `# HELP ${name} ${escapeHelp(METRICS[metric].help)}\n# TYPE ${name} gauge\n${lines.join('\n')}\n`;
  }
  return out;
}
