import { Link } from '../../router.tsx';
import { formatBytes } from '../../format.ts';
import { StateBadge } from '../../components/StateBadge.tsx';
import type { NodeView } from '../../types.ts';
import { nodeFacts } from './node-facts.ts';

export function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <span className="labels">
      {entries.map(([k, v]) => (
        <code key={k} className="label">
          {k}={v}
        </code>
      ))}
    </span>
  );
}

/** The node list: state first (what needs attention), then where it is and what it has. */
export function NodeTable({ nodes, caption }: { nodes: NodeView[]; caption: string }) {
  return (
    <table className="table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">State</th>
          <th scope="col">Environment</th>
          <th scope="col">Address</th>
          <th scope="col">OS</th>
          <th scope="col" className="num">
            CPUs
          </th>
          <th scope="col" className="num">
            Memory
          </th>
          <th scope="col">Groups</th>
          <th scope="col">Labels</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => {
          const f = nodeFacts(n);
          return (
            <tr key={n.name} data-node={n.name}>
              <td>
                <Link to={`/nodes/${encodeURIComponent(n.name)}`}>{n.name}</Link>
              </td>
              <td>
                <StateBadge state={n.state} title={n.stateReason} />
              </td>
              <td>{n.environment}</td>
              <td className="nowrap">
                {n.address}
                {n.port !== 22 && `:${n.port}`}
              </td>
              <td>{f.os || '—'}</td>
              <td className="num">{f.cpus ?? '—'}</td>
              <td className="num nowrap">{formatBytes(f.memoryBytes)}</td>
              <td>{n.groups.join(', ') || '—'}</td>
              <td>
                <Labels labels={n.labels} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
