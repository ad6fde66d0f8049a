import type { HandlerMap } from '../handler.ts';
import { listAlerts, upsertAlerts } from '../../store/monitoring-repo.ts';
import { alertRowsFromWebhook } from '../../domain/alerts/webhook.ts';

type Ops = 'receiveAlerts' | 'listAlerts';

export const alertHandlers: HandlerMap<Ops> = {
  receiveAlerts: async ({ body, services, req }) => {
    const rows = alertRowsFromWebhook(body.alerts, Date.now());
    req.auditDetails = { alerts: rows.map((r) => `${r.name}:${r.status}`).slice(0, 20) };
    await upsertAlerts(services.db, rows);
    return { received: rows.length };
  },
  listAlerts: async ({ query, services }) => ({ alerts: await listAlerts(services.db, query?.status) }),
};
