import Type from 'typebox';
import { route } from '../route.ts';
import { Timestamp } from '../common.ts';

export const ControlInstance = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  pid: Type.Integer(),
  version: Type.String(),
  listen: Type.String(),
  startedAt: Timestamp,
  stoppedAt: Type.Union([Timestamp, Type.Null()]),
  alive: Type.Boolean(),
});
export const LeaseView = Type.Object({
  name: Type.String(),
  holder: Type.String(),
  token: Type.Integer(),
  acquiredAt: Timestamp,
  renewedAt: Timestamp,
  expiresAt: Timestamp,
  expired: Type.Boolean(),
});

export const controlPlaneRoutes = {
  getControlPlane: route({
    method: 'GET',
    path: '/api/control-plane',
    summary: 'The grim instances on this database and which one holds each lease (loops, rollouts)',
    tag: 'system',
    role: 'viewer',
    response: Type.Object({
      self: Type.String(),
      dialect: Type.String(),
      version: Type.String(),
      instances: Type.Array(ControlInstance),
      leases: Type.Array(LeaseView),
    }),
  }),
};
