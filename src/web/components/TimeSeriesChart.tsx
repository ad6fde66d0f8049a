import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, RANGES, rangeMs, type ChartSeries, type RangeId } from './chart/align.ts';

export type { ChartSeries, RangeId };

const COLOURS = ['#2f5d8a', '#c2571a', '#2e8540', '#8a3f9e', '#b58900', '#5f6b7a'];

interface Props {
  title: string;
  series: ChartSeries[];
  /** Unit shown on the y axis, e.g. '%' or 'MiB'. */
  unit?: string;
  /** The range shown; uncontrolled (starting at 24h) when left out. */
  range?: RangeId;
  /** Called when the user picks a range (e.g. to fetch that range's data). */
  onRangeChange?(range: RangeId): void;
  height?: number;
  /** "Now" in ms, for tests; defaults to the current time. */
  now?: number;
}

/** A usage graph on uPlot, with 1h/6h/24h/7d/30d range buttons. Styles come from CSS classes only. */
export function TimeSeriesChart({ title, series, unit, range, onRangeChange, height = 220, now }: Props) {
  const [ownRange, setOwnRange] = useState<RangeId>('24h');
  const current = range ?? ownRange;
  const box = useRef<HTMLDivElement>(null);
  // The window ends at "now" as of the last data or range change, so re-renders do not redraw.
  const to = useMemo(() => now ?? Date.now(), [now, series, current]);
  const from = to - rangeMs(current);
  const { xs, ys, points } = alignSeries(series, from, to);

  useEffect(() => {
    const el = box.current;
    if (!el || points === 0) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: { x: { time: true, range: () => [from / 1000, to / 1000] } },
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          spanGaps: false,
        })),
      ],
      axes: [{}, { label: unit, size: 60 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    const plot = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
    // Redraw when the data or the window changes (xs and ys derive from these).
  }, [series, from, to, height, unit, points]);

  const pick = (r: RangeId) => {
    setOwnRange(r);
    onRangeChange?.(r);
  };
  const rangeLabel = RANGES.find((r) => r.id === current)!.label;
  return (
    <figure className="chart">
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-ranges" role="group" aria-label={`Time range for ${title}`}>
          {RANGES.map((r) => (
            <button
              key={r.id}
              type="button"
              className="chart-range"
              aria-pressed={r.id === current}
              aria-label={`Last ${r.label}`}
              onClick={() => pick(r.id)}
            >
              {r.id}
            </button>
          ))}
        </span>
      </figcaption>
      {points === 0 ? (
        <p className="chart-empty">No data in the last {rangeLabel}.</p>
      ) : (
        <div
          ref={box}
          className="chart-plot"
          role="img"
          aria-label={`${title}, last ${rangeLabel}: ${series.map((s) => s.name).join(', ')}`}
        />
      )}
    </figure>
  );
}
