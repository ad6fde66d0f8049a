import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { StateBadge } from '../../components/StateBadge.tsx';
import { JobProgress } from './JobView.tsx';

export function JobsPage() {
  const q = useQuery((signal) => call('listJobs', { query: { limit: 100 } }, signal), []);
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the jobs." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.jobs.length === 0)
    body = (
      <EmptyState title="No jobs yet">
        <p>Every command run and OS update becomes a job, with its output and outcome. None has run yet.</p>
      </EmptyState>
    );
  else
    body = (
      <table className="table">
        <caption className="visually-hidden">Jobs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">By</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
          </tr>
        </thead>
        <tbody>
          {q.data.jobs.map((j) => (
            <tr key={j.id}>
              <td>
                <Link to={`/jobs/${j.id}`}>{j.id}</Link>
              </td>
              <td>{j.kind}</td>
              <td>
                <StateBadge state={j.status} />
              </td>
              <td>
                <JobProgress job={j} />
              </td>
              <td>{j.createdBy}</td>
              <td className="nowrap">{formatTime(j.startedAt)}</td>
              <td className="nowrap">{formatTime(j.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <Page
      title="Jobs"
      actions={
        <button type="button" className="button" onClick={q.reload}>
          Refresh
        </button>
      }
    >
      <section className="panel">{body}</section>
    </Page>
  );
}
