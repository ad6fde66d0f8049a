/** Job events as rows, in batches, so any grim instance can follow a job another instance runs. */
import type { Db } from './db.ts';

export async function appendJobEvents(db: Db, jobId: string, seq: number, events: unknown[]): Promise<void> {
  await db.run('INSERT INTO job_events (job_id, seq, at, event) VALUES (?, ?, ?, ?)', [
    jobId,
    seq,
    Date.now(),
    JSON.stringify(events),
  ]);
}

export async function jobEventsAfter(
  db: Db,
  jobId: string,
  afterSeq: number,
): Promise<Array<{ seq: number; events: unknown[] }>> {
  const rows = await db.all<{ seq: number; event: string }>(
    'SELECT seq, event FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq',
    [jobId, afterSeq],
  );
  return rows.map((r) => ({ seq: Number(r.seq), events: JSON.parse(r.event) as unknown[] }));
}

/** Events of jobs finished before `before` are no longer needed: their tasks hold the output. */
export async function pruneJobEvents(db: Db, before: number): Promise<number> {
  const r = await db.run(
    "DELETE FROM job_events WHERE job_id IN (SELECT id FROM jobs WHERE status <> 'running' AND finished_at < ?)",
    [before],
  );
  return r.changes;
}
