import { useEffect, useState } from 'react';
import type { Job } from '../../types.ts';

export interface LiveJob {
  job: Job | null;
  /** The stream failed and the browser is retrying (it resumes with a fresh snapshot). */
  reconnecting: boolean;
}

type TaskEvent = {
  node: string;
  status: string;
  exitCode: number | null;
  durationMs: number | null;
  error: string;
};

function withTask(job: Job, node: string, change: (t: Job['tasks'][number]) => Job['tasks'][number]): Job {
  return { ...job, tasks: job.tasks.map((t) => (t.node === node ? change(t) : t)) };
}

/**
 * A job as it happens, from the server's event stream (GET /api/jobs/:id/events): a snapshot, then
 * output, task and done events. The stream is closed at `done` (EventSource would reconnect otherwise).
 */
export function useJobEvents(id: string): LiveJob {
  const [job, setJob] = useState<Job | null>(null);
  const [reconnecting, setReconnecting] = useState(false);
  useEffect(() => {
    setJob(null);
    const es = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
    const data = (e: Event) => JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>;
    es.addEventListener('open', () => setReconnecting(false));
    es.addEventListener('error', () => setReconnecting(es.readyState !== EventSource.CLOSED));
    es.addEventListener('snapshot', (e) => setJob(data(e) as unknown as Job));
    es.addEventListener('output', (e) => {
      const d = data(e) as { node: string; chunk: string };
      setJob(
        (j) =>
          j &&
          withTask(j, d.node, (t) => ({
            ...t,
            status: t.status === 'pending' ? 'running' : t.status,
            output: t.output + d.chunk,
          })),
      );
    });
    es.addEventListener('task', (e) => {
      const d = data(e) as unknown as TaskEvent;
      setJob(
        (j) =>
          j &&
          withTask(j, d.node, (t) => ({
            ...t,
            status: d.status,
            exitCode: d.exitCode,
            durationMs: d.durationMs,
            error: d.error,
          })),
      );
    });
    es.addEventListener('done', (e) => {
      const d = data(e) as { status: string; summary: string };
      es.close();
      setReconnecting(false);
      setJob(
        (j) => j && { ...j, status: d.status, summary: d.summary, finishedAt: j.finishedAt ?? Date.now() },
      );
    });
    return () => es.close();
  }, [id]);
  return { job, reconnecting };
}
