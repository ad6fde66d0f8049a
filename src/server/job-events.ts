import type { FastifyInstance } from 'fastify';
import type { Services } from './services.ts';
import type { JobEvent } from '../services/jobs.ts';
import { sendError } from './errors.ts';
import { DomainError } from '../domain/errors.ts';

/**
 * Live job progress as Server-Sent Events: first a `snapshot` (the job as stored), then `output`,
 * `task` and `done` events as they happen. Authenticated like every other route (viewer).
 * A job this instance runs streams from its in-process bus; a job another grim instance runs is followed
 * through its rows in job_events, so the stream works through any instance behind a load balancer.
 */
export function registerJobEvents(app: FastifyInstance, services: Services) {
  app.get(
    '/api/jobs/:id/events',
    { config: { role: 'viewer' }, schema: { hide: true } },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return sendError(reply, 400, 'invalid', 'bad job id');
      let job;
      try {
        job = await services.jobs.get(id);
      } catch (err) {
        if (err instanceof DomainError) return sendError(reply, 404, 'not_found', err.message);
        throw err;
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      const aborted = new AbortController();
      let closed = false;
      let unsubscribe = () => undefined as void;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(ping);
        aborted.abort();
        unsubscribe();
        res.end();
      };
      req.raw.on('close', close);

      if (job.status === 'running' && !services.jobs.isLocal(id)) {
        // Another instance runs it: snapshot from the stored batches, then follow the rows after them.
        const { seq, output } = await services.jobs.storedProgress(id);
        const snapshot = await services.jobs.get(id);
        for (const t of snapshot.tasks)
          if (t.status === 'pending' || t.status === 'running') t.output = output.get(t.node) ?? '';
        send('snapshot', snapshot);
        await services.jobs
          .follow(
            id,
            seq,
            (e) => {
              if (!closed) send(e.type, e);
            },
            aborted.signal,
          )
          .catch(() => undefined);
        close();
        return;
      }

      // Events before the snapshot is read are already part of it (output so far is kept live in
      // memory): drop them, so nothing is shown twice, but remember a 'done'.
      let snapshotSent = false;
      let doneEarly = false;
      unsubscribe = services.jobs.subscribe(id, (e: JobEvent) => {
        if (!snapshotSent) {
          if (e.type === 'done') doneEarly = true;
          return;
        }
        send(e.type, e);
        if (e.type === 'done') close();
      });
      job = await services.jobs.get(id);
      send('snapshot', job);
      snapshotSent = true;
      if (job.status !== 'running' || doneEarly) {
        const final = doneEarly ? await services.jobs.get(id) : job;
        send('done', { type: 'done', status: final.status, summary: final.summary });
        close();
      }
    },
  );
}
