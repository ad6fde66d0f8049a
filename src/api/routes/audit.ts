import Type from 'typebox';
import { route } from '../route.ts';
import { Limit, Timestamp } from '../common.ts';

export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  ts: Timestamp,
  actor: Type.String(),
  actorKind: Type.String(),
  action: Type.String(),
  target: Type.String(),
  outcome: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  ip: Type.String(),
  hash: Type.String(),
});

export const auditRoutes = {
  listAudit: route({
    method: 'GET',
    path: '/api/audit',
    summary: 'Query the audit log, newest first',
    tag: 'audit',
    role: 'viewer',
    query: Type.Object(
      {
        actor: Type.Optional(Type.String({ maxLength: 64 })),
        action: Type.Optional(Type.String({ maxLength: 128 })),
        target: Type.Optional(Type.String({ maxLength: 256 })),
        outcome: Type.Optional(
          Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
        ),
        since: Type.Optional(Timestamp),
        until: Type.Optional(Timestamp),
        beforeSeq: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Optional(Limit),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ entries: Type.Array(AuditEntry) }),
  }),
  verifyAudit: route({
    method: 'GET',
    path: '/api/audit/verify',
    summary: 'Verify the audit hash chain; names the first broken entry',
    tag: 'audit',
    role: 'viewer',
    response: Type.Object({
      ok: Type.Boolean(),
      checked: Type.Integer(),
      firstBroken: Type.Optional(Type.Object({ seq: Type.Integer(), reason: Type.String() })),
    }),
  }),
};
