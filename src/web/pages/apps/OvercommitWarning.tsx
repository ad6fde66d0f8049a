import { ApiError } from '../../api.ts';
import { TimeSeriesChart } from '../../components/TimeSeriesChart.tsx';
import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';

/** The nodes a held deploy would overcommit, from the server's details ("nodes/<name>"). */
export function heldNodes(err: unknown): Array<{ node: string; numbers: string }> | null {
  if (!(err instanceof ApiError) || err.body.code !== 'held') return null;
  return (err.body.details ?? [])
    .filter((d) => d.path.startsWith('nodes/'))
    .map((d) => ({ node: d.path.slice('nodes/'.length), numbers: d.message }));
}

function NodeCpu({ node }: { node: string }) {
  const q = useQuery(
    async (signal) => {
      const to = Date.now();
      const s = await call(
        'getMetricSeries',
        { query: { scope: 'node', name: node, metric: 'cpu_busy_pct', from: to - 3_600_000, to } },
        signal,
      );
      return [{ name: 'CPU busy', points: s.points.map((p): [number, number] => [p.ts, p.value]) }];
    },
    [node],
  );
  return (
    <TimeSeriesChart title={`${node}: CPU busy now`} unit="%" series={q.data ?? []} range="1h" height={140} />
  );
}

/**
 * A deploy the server held because it would overcommit nodes: the server's per-node numbers, each
 * node's recent CPU use, and an explicit acceptance before anything is deployed.
 */
export function OvercommitWarning({
  error,
  accepted,
  onAccept,
}: {
  error: unknown;
  accepted: boolean;
  onAccept(v: boolean): void;
}) {
  const nodes = heldNodes(error);
  if (!nodes) return null;
  const message = error instanceof ApiError ? error.body.message : '';
  return (
    <section className="panel panel-warn" aria-labelledby="overcommit-title" role="alert">
      <h2 id="overcommit-title">
        This deploy would overcommit {nodes.length === 1 ? 'a node' : `${nodes.length} nodes`}
      </h2>
      <p>{message}</p>
      <ul className="overcommit-nodes">
        {nodes.map((n) => (
          <li key={n.node}>
            <strong>{n.node}</strong>: {n.numbers}
            <NodeCpu node={n.node} />
          </li>
        ))}
      </ul>
      <label className="check">
        <input type="checkbox" checked={accepted} onChange={(e) => onAccept(e.target.checked)} />
        <span>I accept overcommitting these nodes (this is audited)</span>
      </label>
    </section>
  );
}
