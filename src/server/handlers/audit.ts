import type { HandlerMap } from '../handler.ts';

export const auditHandlers: HandlerMap<'listAudit' | 'verifyAudit'> = {
  async listAudit({ query, services }) {
    return { entries: await services.audit.list(query ?? {}) };
  },
  async verifyAudit({ services }) {
    return services.audit.verify();
  },
};
