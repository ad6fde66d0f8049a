/** Flattens a normalized sample into storable rows, mapping instance cgroups to instance ids. */
import type { MetricName, SeriesKind } from './catalog.ts';
import type { NormalizedSample } from './normalize.ts';

export interface SeriesRow {
  kind: SeriesKind;
  entityId: string;
  metric: MetricName;
  dim: string;
  ts: number;
  value: number;
}

/**
 * @param instanceByCgroup cgroup path (as passed in INSTANCE_CGROUPS) -> instance id; cgroups not in the
 *   map are ignored.
 */
export function toSeriesRows(
  sample: NormalizedSample,
  nodeId: string,
  instanceByCgroup: ReadonlyMap<string, string> = new Map(),
): SeriesRow[] {
  const rows: SeriesRow[] = sample.node.map((p) => ({
    kind: 'node',
    entityId: nodeId,
    metric: p.metric,
    dim: p.dim,
    ts: sample.ts,
    value: p.value,
  }));
  for (const c of sample.cgroups) {
    const id = instanceByCgroup.get(c.path);
    if (id === undefined) continue;
    for (const p of c.points) {
      rows.push({
        kind: 'instance',
        entityId: id,
        metric: p.metric,
        dim: p.dim,
        ts: sample.ts,
        value: p.value,
      });
    }
  }
  return rows;
}
