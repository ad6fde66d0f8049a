import Type from 'typebox';
import { route } from '../route.ts';
import { Job } from './jobs.ts';

export const sshRoutes = {
  rotateSshKey: route({
    method: 'POST',
    path: '/api/ssh/rotate',
    summary:
      "Rotate grim's SSH key on every node (or report the rotation under way): new key in, checked, old key out; unreachable nodes finish when they return",
    tag: 'nodes',
    role: 'admin',
    status: 202,
    body: Type.Object({}, { additionalProperties: false }),
    response: Type.Object({
      job: Job,
      resumed: Type.Boolean(),
      waiting: Type.Array(Type.String()),
    }),
  }),
};
