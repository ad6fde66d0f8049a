/** One line of a chart: points are [timestamp in ms, value]. */
export interface ChartSeries {
  name: string;
  points: Array<[number, number]>;
}

export const RANGES = [
  { id: '1h', label: '1 hour', ms: 3_600_000 },
  { id: '6h', label: '6 hours', ms: 6 * 3_600_000 },
  { id: '24h', label: '24 hours', ms: 24 * 3_600_000 },
  { id: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: '30 days', ms: 30 * 86_400_000 },
] as const;
export type RangeId = (typeof RANGES)[number]['id'];

export function rangeMs(id: RangeId): number {
  return RANGES.find((r) => r.id === id)!.ms;
}

/**
 * uPlot wants one shared x array (seconds) and one y array per series, null where a series has no point.
 * Only points inside [from, to] (ms) are kept.
 */
export function alignSeries(
  series: ChartSeries[],
  from: number,
  to: number,
): { xs: number[]; ys: Array<Array<number | null>>; points: number } {
  const stamps = new Set<number>();
  for (const s of series) for (const [t] of s.points) if (t >= from && t <= to) stamps.add(t);
  const xsMs = [...stamps].sort((a, b) => a - b);
  const index = new Map(xsMs.map((t, i) => [t, i]));
  let points = 0;
  const ys = series.map((s) => {
    const col: Array<number | null> = new Array(xsMs.length).fill(null);
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i !== undefined && Number.isFinite(v)) {
        col[i] = v;
        points++;
      }
    }
    return col;
  });
  return { xs: xsMs.map((t) => t / 1000), ys, points };
}
