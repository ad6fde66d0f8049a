import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { byName, formatBytes, formatCpu } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { ChainStatus } from '../audit/ChainStatus.tsx';
import { AuditTable } from '../audit/AuditTable.tsx';
import { NoNodes, NO_NODES_TITLE } from '../nodes/NoNodes.tsx';
import { NodeCapacity } from '../nodes/NodeCapacity.tsx';
import { ControlPlane } from './ControlPlane.tsx';
import type { Environment, Group, NodeCapacityView, NodeView } from '../../types.ts';

function RecentActivity() {
  const q = useQuery((signal) => call('listAudit', { query: { limit: 8 } }, signal), []);
  if (q.error) return <ErrorMessage error={q.error} title="Could not load recent activity." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  if (q.data.entries.length === 0) return <EmptyState title="No activity yet" />;
  return <AuditTable entries={q.data.entries} compact />;
}

function Health({ nodes }: { nodes: NodeView[] }) {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.state, (counts.get(n.state) ?? 0) + 1);
  const cpu = nodes.reduce((s, n) => s + n.allocatable.cpuMillis, 0);
  const mem = nodes.reduce((s, n) => s + n.allocatable.memoryBytes, 0);
  return (
    <span className="health">
      {[...counts].map(([state, count]) => (
        <span key={state} className="health-item">
          {count} <StateBadge state={state} />
        </span>
      ))}
      <span className="muted small">
        {formatCpu(cpu)}, {formatBytes(mem)} allocatable
      </span>
    </span>
  );
}

function NodeCards({ nodes, capacity }: { nodes: NodeView[]; capacity: Map<string, NodeCapacityView> }) {
  if (nodes.length === 0) return <p className="muted small">No nodes.</p>;
  return (
    <ul className="node-cards">
      {nodes.map((n) => (
        <li key={n.name} className="node-card" data-node={n.name}>
          <div className="node-card-head">
            <Link to={`/nodes/${encodeURIComponent(n.name)}`}>{n.name}</Link>
            <StateBadge state={n.state} title={n.stateReason} />
          </div>
          <NodeCapacity node={n} capacity={capacity.get(n.name)} compact />
        </li>
      ))}
    </ul>
  );
}

function EnvironmentTree({
  env,
  groups,
  nodes,
  capacity,
}: {
  env: Environment;
  groups: Group[];
  nodes: NodeView[];
  capacity: Map<string, NodeCapacityView>;
}) {
  const envNodes = nodes.filter((n) => n.environment === env.name);
  const nodeByName = new Map(envNodes.map((n) => [n.name, n]));
  const envGroups = groups.filter((g) => g.environment === env.name);
  const grouped = new Set(envGroups.flatMap((g) => g.nodes));
  const ungrouped = envNodes.filter((n) => !grouped.has(n.name));
  return (
    <section className="env" aria-labelledby={`env-${env.name}`}>
      <div className="env-head">
        <h3 id={`env-${env.name}`}>{env.name}</h3>
        <Health nodes={envNodes} />
      </div>
      {envGroups.map((g) => {
        const members = byName(g.nodes.map((name) => nodeByName.get(name)).filter((n): n is NodeView => !!n));
        return (
          <details key={g.name} className="group" open>
            <summary>
              <span className="group-name">{g.name}</span> <Health nodes={members} />
            </summary>
            <NodeCards nodes={members} capacity={capacity} />
          </details>
        );
      })}
      {ungrouped.length > 0 && (
        <details className="group" open>
          <summary>
            <span className="group-name muted">not in a group</span> <Health nodes={ungrouped} />
          </summary>
          <NodeCards nodes={ungrouped} capacity={capacity} />
        </details>
      )}
    </section>
  );
}

function Inventory() {
  const q = useQuery(async (signal) => {
    const [e, g, n, c] = await Promise.all([
      call('listEnvironments', {}, signal),
      call('listGroups', {}, signal),
      call('listNodes', {}, signal),
      call('getCapacity', {}, signal),
    ]);
    return {
      envs: byName(e.environments),
      groups: byName(g.groups),
      nodes: byName(n.nodes),
      capacity: new Map(c.nodes.map((x) => [x.node, x])),
    };
  }, []);
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the inventory." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  if (q.data.nodes.length === 0)
    return (
      <EmptyState title={NO_NODES_TITLE}>
        <NoNodes />
      </EmptyState>
    );
  return (
    <>
      {[...q.data.capacity.values()].every((c) => c.used.cpuMillis === null) && (
        <p className="muted small">
          Usage not collected yet: the used bars fill in once usage metrics arrive.
        </p>
      )}
      {q.data.envs.map((env) => (
        <EnvironmentTree
          key={env.name}
          env={env}
          groups={q.data!.groups}
          nodes={q.data!.nodes}
          capacity={q.data!.capacity}
        />
      ))}
    </>
  );
}

export function OverviewPage() {
  return (
    <Page title="Overview">
      <section className="panel" aria-labelledby="ov-nodes">
        <div className="panel-head">
          <h2 id="ov-nodes">Environments, groups and nodes</h2>
          <Link to="/nodes">All nodes</Link>
        </div>
        <Inventory />
      </section>
      <section className="panel" aria-labelledby="ov-activity">
        <div className="panel-head">
          <h2 id="ov-activity">Recent activity</h2>
          <Link to="/audit">Audit log</Link>
        </div>
        <ChainStatus />
        <RecentActivity />
      </section>
      <section className="panel" aria-labelledby="ov-control-plane">
        <div className="panel-head">
          <h2 id="ov-control-plane">Control plane: instances and leases</h2>
        </div>
        <ControlPlane />
      </section>
    </Page>
  );
}
