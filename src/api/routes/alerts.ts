import Type from 'typebox';
import { route } from '../route.ts';

const Labels = Type.Record(Type.String({ maxLength: 1024 }), Type.String({ maxLength: 16384 }));

/** One alert of an Alertmanager webhook notification (payload version 4). */
const WebhookAlert = Type.Object({
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  labels: Labels,
  annotations: Labels,
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ maxLength: 64 }),
  generatorURL: Type.Optional(Type.String({ maxLength: 4096 })),
  fingerprint: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f]+$' }),
});

export const AlertView = Type.Object({
  fingerprint: Type.String(),
  name: Type.String(),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  severity: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  annotations: Type.Record(Type.String(), Type.String()),
  startsAt: Type.Integer(),
  endsAt: Type.Union([Type.Integer(), Type.Null()]),
  receivedAt: Type.Integer(),
});

export const alertRoutes = {
  receiveAlerts: route({
    method: 'POST',
    path: '/api/alerts/webhook',
    summary: "Alertmanager's webhook: firing and resolved alerts (send with an operator API token)",
    tag: 'monitoring',
    role: 'operator',
    body: Type.Object({
      version: Type.Literal('4'),
      status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
      receiver: Type.String({ maxLength: 256 }),
      groupKey: Type.Optional(Type.String({ maxLength: 16384 })),
      truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
      alerts: Type.Array(WebhookAlert, { maxItems: 1000 }),
    }),
    response: Type.Object({ received: Type.Integer() }),
    bodyLimit: 4 * 1024 * 1024,
  }),
  listAlerts: route({
    method: 'GET',
    path: '/api/alerts',
    summary: 'Alerts Alertmanager reported: firing, or recently resolved',
    tag: 'monitoring',
    role: 'viewer',
    query: Type.Object(
      { status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])) },
      { additionalProperties: false },
    ),
    response: Type.Object({ alerts: Type.Array(AlertView) }),
  }),
};
