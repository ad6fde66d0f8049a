import type { HandlerMap } from '../handler.ts';

export const sshHandlers: HandlerMap<'rotateSshKey'> = {
  async rotateSshKey({ principal, services, req }) {
    const { jobId, resumed } = await services.sshRotation.start(principal.username);
    req.auditDetails = { job: jobId, resumed };
    // One pass now, so the answer says which nodes are done and which wait.
    const r = await services.sshRotation.pass();
    return { job: await services.jobs.get(jobId), resumed, waiting: r?.waiting ?? [] };
  },
};
