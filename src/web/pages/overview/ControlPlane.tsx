import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { formatDuration, formatTime } from '../../format.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';

/** The grim instances on this database and which one holds each lease (background loops, rollouts). */
export function ControlPlane() {
  const q = useQuery((signal) => call('getControlPlane', {}, signal), []);
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the control plane." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  const { self, dialect, instances, leases } = q.data;
  const live = instances.filter((i) => i.alive);
  const now = Date.now();
  return (
    <>
      <p className="muted small">
        {dialect === 'postgres' ? 'PostgreSQL' : 'SQLite (single instance)'}: {live.length} live instance
        {live.length === 1 ? '' : 's'}; this page is served by <code>{self}</code>.
      </p>
      <table className="table" aria-label="Instances">
        <thead>
          <tr>
            <th>Instance</th>
            <th>Host</th>
            <th>Version</th>
            <th>Started</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {instances.map((i) => (
            <tr key={i.id} data-instance={i.id}>
              <td>
                <code>{i.id}</code> {i.id === self && <span className="muted small">(this one)</span>}
              </td>
              <td>
                {i.hostname} pid {i.pid}, {i.listen}
              </td>
              <td>{i.version}</td>
              <td>{formatTime(i.startedAt)}</td>
              <td>
                <StateBadge state={i.alive ? 'running' : 'stopped'} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="table" aria-label="Leases">
        <thead>
          <tr>
            <th>Lease</th>
            <th>Holder</th>
            <th>Token</th>
            <th>Expires</th>
          </tr>
        </thead>
        <tbody>
          {leases.map((l) => (
            <tr key={l.name} data-lease={l.name} data-holder={l.expired ? '' : l.holder}>
              <td>
                <code>{l.name}</code>
              </td>
              <td>{l.expired ? <span className="muted">nobody (expired)</span> : <code>{l.holder}</code>}</td>
              <td>{l.token}</td>
              <td>{l.expired ? '-' : `in ${formatDuration(Math.max(0, l.expiresAt - now))}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
