import { useState } from 'react';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { TimeSeriesChart, type ChartSeries, type RangeId } from '../../components/TimeSeriesChart.tsx';
import { rangeMs } from '../../components/chart/align.ts';

const MiB = 1024 * 1024;

interface Graph {
  title: string;
  unit: string;
  lines: Array<{ name: string; metric: string; dim?: string; scale?: number }>;
}

function graphs(iface: string): Graph[] {
  return [
    { title: 'CPU busy', unit: '%', lines: [{ name: 'busy', metric: 'cpu_busy_pct' }] },
    {
      title: 'Memory',
      unit: 'MiB',
      lines: [
        { name: 'used', metric: 'mem_used_bytes', scale: 1 / MiB },
        { name: 'total', metric: 'mem_total_bytes', scale: 1 / MiB },
      ],
    },
    {
      title: 'Disk (/ filesystem)',
      unit: 'MiB',
      lines: [
        { name: 'used', metric: 'fs_used_bytes', dim: '/', scale: 1 / MiB },
        { name: 'size', metric: 'fs_size_bytes', dim: '/', scale: 1 / MiB },
      ],
    },
    {
      title: `Network (${iface})`,
      unit: 'KiB/s',
      lines: [
        { name: 'received', metric: 'net_rx_bytes_per_s', dim: iface, scale: 1 / 1024 },
        { name: 'sent', metric: 'net_tx_bytes_per_s', dim: iface, scale: 1 / 1024 },
      ],
    },
  ];
}

function UsageGraph({
  node,
  graph,
  range,
  onRange,
}: {
  node: string;
  graph: Graph;
  range: RangeId;
  onRange(r: RangeId): void;
}) {
  const q = useQuery(
    async (signal) => {
      const to = Date.now();
      const from = to - rangeMs(range);
      return Promise.all(
        graph.lines.map(async (l): Promise<ChartSeries> => {
          const s = await call(
            'getMetricSeries',
            {
              query: {
                scope: 'node',
                name: node,
                metric: l.metric,
                from,
                to,
                ...(l.dim ? { dim: l.dim } : {}),
              },
            },
            signal,
          );
          return { name: l.name, points: s.points.map((p) => [p.ts, p.value * (l.scale ?? 1)]) };
        }),
      );
    },
    [node, range, JSON.stringify(graph)],
  );
  if (q.error) return <ErrorMessage error={q.error} title={`Could not load ${graph.title}.`} />;
  return (
    <TimeSeriesChart
      title={graph.title}
      unit={graph.unit}
      series={q.data ?? []}
      range={range}
      onRangeChange={onRange}
    />
  );
}

/** Usage graphs of one node (CPU, memory, disk, network) with one range picker shared by all. */
export function NodeUsage({ node }: { node: string }) {
  const [range, setRange] = useState<RangeId>('1h');
  const [iface, setIface] = useState('eth0');
  return (
    <>
      <div className="field field-narrow">
        <label htmlFor="usage-iface">Network interface</label>
        <input
          id="usage-iface"
          maxLength={64}
          value={iface}
          onChange={(e) => setIface(e.target.value.trim() || 'eth0')}
        />
      </div>
      <div className="usage-graphs">
        {graphs(iface).map((g) => (
          <UsageGraph key={g.title} node={node} graph={g} range={range} onRange={setRange} />
        ))}
      </div>
    </>
  );
}
