import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { Link, navigate } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { formatBytes, formatCpu, formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import type { PageProps } from '../registry.ts';
import type { NodeView } from '../../types.ts';
import { kvmText, nodeFacts } from './node-facts.ts';
import { Labels } from './NodeTable.tsx';
import { RepinHostKey } from './RepinHostKey.tsx';
import { NodeCapacity } from './NodeCapacity.tsx';
import { NodeUsage } from './NodeUsage.tsx';

function Facts({ node }: { node: NodeView }) {
  const f = nodeFacts(node);
  const tools = Object.entries(f.tools)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return (
    <dl className="facts">
      <dt>Hostname</dt>
      <dd>{f.hostname || '—'}</dd>
      <dt>OS</dt>
      <dd>{f.os || '—'}</dd>
      <dt>Kernel</dt>
      <dd>
        {f.kernel || '—'} {f.arch && <span className="muted">({f.arch})</span>}
      </dd>
      <dt>CPUs</dt>
      <dd>{f.cpus ?? '—'}</dd>
      <dt>Memory</dt>
      <dd>{formatBytes(f.memoryBytes)}</dd>
      <dt>KVM</dt>
      <dd>{kvmText(f)}</dd>
      <dt>cgroup / init</dt>
      <dd>
        {f.cgroup || '—'} / {f.init || '—'}
      </dd>
      <dt>Runtime tools</dt>
      <dd>{tools.join(', ') || 'none found'}</dd>
      <dt>Facts gathered</dt>
      <dd>{formatTime(node.factsAt)}</dd>
    </dl>
  );
}

function Disks({ node }: { node: NodeView }) {
  const { disks } = nodeFacts(node);
  if (disks.length === 0) return <p className="muted">No block devices reported.</p>;
  return (
    <table className="table">
      <caption className="visually-hidden">Disks of {node.name}</caption>
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col">Type</th>
          <th scope="col">Model</th>
          <th scope="col">Serial</th>
        </tr>
      </thead>
      <tbody>
        {disks.map((d) => (
          <tr key={d.name}>
            <td>
              <code>{d.name}</code>
            </td>
            <td className="num">{formatBytes(d.sizeBytes)}</td>
            <td>{d.rotational ? 'HDD' : 'SSD / virtual'}</td>
            <td>{d.model || '—'}</td>
            <td>{d.serial || '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Actions({ node, onChange }: { node: NodeView; onChange(n: NodeView): void }) {
  const isOperator = useCan('operator');
  const isAdmin = useCan('admin');
  const act = useAction();
  if (!isOperator) return null;
  const name = node.name;
  return (
    <div className="row-actions">
      <button
        type="button"
        className="button"
        disabled={act.busy}
        onClick={async () => {
          const r = await act.run(() => call('refreshNode', { params: { name } }));
          if (r) onChange(r.node);
        }}
      >
        Refresh facts
      </button>
      <button
        type="button"
        className="button"
        disabled={act.busy}
        onClick={async () => {
          const r = await act.run(() =>
            call('updateNode', { params: { name }, body: { maintenance: !node.maintenance } }),
          );
          if (r) onChange(r.node);
        }}
      >
        {node.maintenance ? 'End maintenance' : 'Start maintenance'}
      </button>
      {isAdmin && (
        <Link to={`/nodes/${encodeURIComponent(name)}/terminal`} className="button">
          Open terminal
        </Link>
      )}
      {isAdmin && (
        <ConfirmButton
          label="Forget node"
          danger
          question={`Forget ${name}? Nothing is changed on the node.`}
          busy={act.busy}
          onConfirm={async () => {
            const r = await act.run(() => call('deleteNode', { params: { name } }));
            if (r) navigate('/nodes');
          }}
        />
      )}
      <ErrorMessage error={act.error} title="The action failed." />
    </div>
  );
}

export function NodePage({ params }: PageProps) {
  const q = useQuery(
    async (signal) => {
      const [n, c] = await Promise.all([
        call('getNode', { params: { name: params.name } }, signal),
        call('getCapacity', { query: { node: params.name } }, signal),
      ]);
      return { node: n.node, capacity: c.nodes.find((x) => x.node === params.name) };
    },
    [params.name],
  );
  const isAdmin = useCan('admin');
  if (q.error)
    return (
      <Page title={`Node ${params.name}`} actions={<Link to="/nodes">All nodes</Link>}>
        <ErrorMessage error={q.error} title="Could not load the node." />
      </Page>
    );
  if (!q.data) return <p className="muted">Loading…</p>;
  const node = q.data.node;
  const replace = () => q.reload();
  return (
    <Page title={`Node ${node.name}`} actions={<Link to="/nodes">All nodes</Link>}>
      <section className="panel" aria-labelledby="node-status">
        <div className="panel-head">
          <h2 id="node-status">
            Status <StateBadge state={node.state} />
          </h2>
        </div>
        {node.stateReason && <p className="state-reason">{node.stateReason}</p>}
        <dl className="facts">
          <dt>Address</dt>
          <dd>
            {node.user}@{node.address}:{node.port}
          </dd>
          <dt>Environment</dt>
          <dd>{node.environment}</dd>
          <dt>Roles</dt>
          <dd>{node.roles.join(', ')}</dd>
          <dt>Groups</dt>
          <dd>{node.groups.join(', ') || '—'}</dd>
          <dt>Labels</dt>
          <dd>
            <Labels labels={node.labels} />
          </dd>
          <dt>Host key</dt>
          <dd>
            <code className="fingerprint-inline">{node.hostKeyFingerprint}</code>
          </dd>
          <dt>Last seen</dt>
          <dd>{formatTime(node.lastSeenAt)}</dd>
          <dt>Added</dt>
          <dd>{formatTime(node.createdAt)}</dd>
        </dl>
        <Actions node={node} onChange={replace} />
      </section>
      {node.state === 'host-key-mismatch' && isAdmin && <RepinHostKey node={node} onDone={replace} />}
      <section className="panel" aria-labelledby="node-capacity">
        <h2 id="node-capacity">Capacity</h2>
        <NodeCapacity node={node} capacity={q.data.capacity} />
        <p className="muted small">
          Reserved for the system: {formatCpu(node.reserve.cpuMillis)},{' '}
          {formatBytes(node.reserve.memoryBytes)}.
        </p>
      </section>
      <section className="panel" aria-labelledby="node-usage">
        <h2 id="node-usage">Usage</h2>
        <NodeUsage node={node.name} />
      </section>
      <section className="panel" aria-labelledby="node-facts">
        <h2 id="node-facts">Facts</h2>
        <Facts node={node} />
      </section>
      <section className="panel" aria-labelledby="node-disks">
        <h2 id="node-disks">Disks</h2>
        <Disks node={node} />
      </section>
    </Page>
  );
}
