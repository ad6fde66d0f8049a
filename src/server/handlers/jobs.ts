import type { HandlerMap } from '../handler.ts';

export const jobHandlers: HandlerMap<'createRun' | 'planUpdate' | 'createUpdate' | 'listJobs' | 'getJob'> = {
  async createRun({ body, principal, services, req }) {
    req.auditDetails = { command: body.command, target: body.target };
    const { id } = await services.runs.start(
      body.target,
      body.command,
      body.timeoutSec ?? 300,
      principal.username,
    );
    req.auditDetails.job = id;
    return { job: await services.jobs.get(id) };
  },
  async planUpdate({ body, services }) {
    return services.updates.plan(body.target, body);
  },
  async createUpdate({ body, principal, services, req }) {
    req.auditDetails = { target: body.target, parallel: body.parallel ?? 1 };
    const { id } = await services.updates.start(body.target, body, principal.username);
    req.auditDetails.job = id;
    return { job: await services.jobs.get(id) };
  },
  listJobs: async ({ query, services }) => ({
    jobs: await services.jobs.list(query?.limit ?? 50, query?.kind),
  }),
  getJob: async ({ params, services }) => ({ job: await services.jobs.get(params.id) }),
};
