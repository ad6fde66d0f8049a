import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { byName } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';

export function AppsPage() {
  const isOperator = useCan('operator');
  const q = useQuery(async (signal) => byName((await call('listApps', {}, signal)).apps), []);
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the apps." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.length === 0)
    body = (
      <EmptyState title="No apps deployed yet">
        <p>Apps run on your nodes. Once a node is added, deploy an app to it from here or with the CLI.</p>
      </EmptyState>
    );
  else
    body = (
      <table className="table">
        <caption className="visually-hidden">Apps</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Where</th>
            <th scope="col">Runtime</th>
            <th scope="col">Size</th>
            <th scope="col" className="num">
              Running
            </th>
            <th scope="col">Release</th>
            <th scope="col">Last rollout</th>
          </tr>
        </thead>
        <tbody>
          {q.data.map((a) => {
            const running = a.instances.filter((i) => i.state === 'running').length;
            return (
              <tr key={a.name}>
                <td>
                  <Link to={`/apps/${a.name}`}>{a.name}</Link>
                </td>
                <td>
                  {a.environment} / {a.group}
                </td>
                <td>{a.runtime}</td>
                <td>{a.size ?? `${a.resources.cpu} CPU, ${a.resources.memory}`}</td>
                <td className="num">
                  {running} of {a.replicas}
                </td>
                <td>{a.currentRelease ?? '—'}</td>
                <td>{a.rollout ? <StateBadge state={a.rollout.status} title={a.rollout.message} /> : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    );
  return (
    <Page
      title="Apps"
      actions={
        isOperator && (
          <Link to="/apps/new" className="button button-primary">
            Deploy an app
          </Link>
        )
      }
    >
      <section className="panel">{body}</section>
    </Page>
  );
}
