import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';

/** Storage → clusters: one SeaweedFS cluster per environment. */
export function StorageClustersPage() {
  const q = useQuery(async (signal) => (await call('listStorageClusters', {}, signal)).clusters, []);
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the storage clusters." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.length === 0)
    body = (
      <EmptyState title="No storage cluster yet">
        <p>
          SeaweedFS runs on nodes with the storage role. Record a release and create a cluster with{' '}
          <code>grim storage cluster create</code>.
        </p>
      </EmptyState>
    );
  else
    body = (
      <table className="table">
        <caption className="visually-hidden">Storage clusters</caption>
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">State</th>
            <th scope="col">Version</th>
            <th scope="col">Replication</th>
            <th scope="col" className="num">
              Problems
            </th>
          </tr>
        </thead>
        <tbody>
          {q.data.map((c) => (
            <tr key={c.environment}>
              <td>
                <Link to={`/storage-clusters/${c.environment}`}>{c.environment}</Link>
              </td>
              <td>
                <StateBadge state={c.state} title={c.stateReason} />
              </td>
              <td>{c.version}</td>
              <td>{String((c.spec as { replication?: string }).replication ?? '')}</td>
              <td className="num">
                {(c.health as { problems?: unknown[] } | null)?.problems?.length ?? '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <Page title="Storage clusters">
      <section className="panel">{body}</section>
    </Page>
  );
}
