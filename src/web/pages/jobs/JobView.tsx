import { Link } from '../../router.tsx';
import { formatDuration, formatTime } from '../../format.ts';
import { StateBadge } from '../../components/StateBadge.tsx';
import { Meter } from '../../components/Meter.tsx';
import type { Job } from '../../types.ts';
import { useJobEvents } from './use-job-events.ts';

const FINISHED = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']);

export function jobProgress(job: Job): { done: number; total: number } {
  return { done: job.tasks.filter((t) => FINISHED.has(t.status)).length, total: job.tasks.length };
}

export function JobProgress({ job }: { job: Job }) {
  const { done, total } = jobProgress(job);
  return (
    <Meter
      kind="progress"
      label={`Progress of job ${job.id}`}
      value={done}
      max={total}
      text={`${done} of ${total} nodes`}
    />
  );
}

/** What a job ran (its spec), for the heading of the job view. */
function describe(job: Job): string {
  const s = job.spec;
  if (typeof s.command === 'string') return s.command;
  return job.summary || job.kind;
}

/** One job, live: overall progress, then one panel per node with its output, exit code and duration. */
export function JobView({ id, link = false }: { id: string; link?: boolean }) {
  const { job, reconnecting } = useJobEvents(id);
  if (!job) return <p className="muted">Loading job {id}…</p>;
  return (
    <section className="job" aria-label={`Job ${job.id}`} data-job-status={job.status}>
      <div className="job-head">
        <span>
          {link ? <Link to={`/jobs/${job.id}`}>Job {job.id}</Link> : <>Job {job.id}</>} · {job.kind} by{' '}
          {job.createdBy} · {formatTime(job.createdAt)}
        </span>
        <StateBadge state={job.status} />
      </div>
      <p className="job-what">
        <code>{describe(job)}</code>
      </p>
      <JobProgress job={job} />
      {job.summary && <p className="job-summary">{job.summary}</p>}
      {reconnecting && <p className="notice">The live stream dropped; reconnecting…</p>}
      <ul className="tasks">
        {job.tasks.map((t) => (
          <li key={t.node} className="task" data-node={t.node} data-status={t.status}>
            <div className="task-head">
              <strong>{t.node}</strong>
              <StateBadge state={t.status} />
              <span className="muted small">
                exit code <span className="task-exit">{t.exitCode ?? '—'}</span> ·{' '}
                {formatDuration(t.durationMs)}
              </span>
            </div>
            {t.error && <p className="task-error">{t.error}</p>}
            {t.output ? (
              <pre className="task-output" aria-label={`Output of ${t.node}`}>
                {t.output}
              </pre>
            ) : (
              <p className="muted small">{FINISHED.has(t.status) ? 'No output.' : 'Waiting for output…'}</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
