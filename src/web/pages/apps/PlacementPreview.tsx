import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { formatBytes, formatCpu } from '../../format.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { place, NODE_STATES, type NodeState, type SnapshotNode } from '../../../domain/placement.ts';
import type { Group, Size } from '../../types.ts';

const asState = (s: string): NodeState =>
  (NODE_STATES as readonly string[]).includes(s) ? (s as NodeState) : 'unreachable';

/**
 * Where a new app's instances would go, computed live in the page with the same pure placement
 * function the server uses, on the group's current capacity. The server re-plans on deploy.
 */
export function PlacementPreview({
  app,
  group,
  size,
  replicas,
}: {
  app: string;
  group: Group | undefined;
  size: Size | undefined;
  replicas: number;
}) {
  const q = useQuery(
    async (signal) =>
      group ? (await call('getCapacity', { query: { group: group.name } }, signal)).nodes : [],
    [group?.name],
  );
  if (!group || !size)
    return <p className="muted">Pick a group and a size to see where the instances would go.</p>;
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the group's capacity." />;
  if (!q.data) return <p className="muted">Loading capacity…</p>;
  const members = new Set(group.nodes);
  const nodes: SnapshotNode[] = q.data
    .filter((n) => members.has(n.node))
    .map((n) => ({
      id: n.node,
      name: n.node,
      state: asState(n.state),
      allocatable: n.allocatable,
      requested: n.requested,
      ...(n.used.cpuMillis !== null && n.used.memoryBytes !== null
        ? { used: { cpuMillis: n.used.cpuMillis, memoryBytes: n.used.memoryBytes } }
        : {}),
      appInstances: 0,
    }));
  const r = place(
    { nodes },
    {
      app: app || 'new-app',
      replicas,
      resources: { cpuMillis: size.cpuMillis, memoryBytes: size.memoryBytes },
      acceptOvercommit: false,
    },
  );
  if (!r.ok) return <p className="notice">{r.message}</p>;
  const over = new Map(r.overcommit.nodes.map((o) => [o.nodeName, o]));
  const byNode = new Map(r.proposed.map((p) => [p.nodeName, p.add]));
  return (
    <div className="placement-preview" aria-live="polite">
      <table className="table">
        <caption>
          Placement preview ({replicas} instances of {size.name})
        </caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col" className="num">
              New instances
            </th>
            <th scope="col">CPU requested after / allocatable</th>
            <th scope="col">Memory requested after / allocatable</th>
            <th scope="col">Overcommit</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => {
            const add = byNode.get(n.name) ?? 0;
            const o = over.get(n.name);
            return (
              <tr key={n.name} data-overcommit={o ? 'yes' : 'no'}>
                <td>{n.name}</td>
                <td className="num">{n.state === 'ready' ? add : `— (${n.state})`}</td>
                <td>
                  {formatCpu(n.requested.cpuMillis + add * size.cpuMillis)} /{' '}
                  {formatCpu(n.allocatable.cpuMillis)}
                </td>
                <td>
                  {formatBytes(n.requested.memoryBytes + add * size.memoryBytes)} /{' '}
                  {formatBytes(n.allocatable.memoryBytes)}
                </td>
                <td>
                  {o ? <span className="state state-failed">exceeds {o.exceeds.join(' and ')}</span> : 'no'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {r.held && (
        <p className="notice">
          {r.overcommit.nodes.length} node(s) would be overcommitted: the server will hold the deploy until
          you accept.
        </p>
      )}
    </div>
  );
}
