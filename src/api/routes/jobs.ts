import Type from 'typebox';
import { route } from '../route.ts';
import { IdParams, Limit, Timestamp } from '../common.ts';
import { TargetSchema } from './nodes.ts';

export const JobTask = Type.Object({
  node: Type.String(),
  seq: Type.Integer(),
  status: Type.String(),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  output: Type.String(),
  error: Type.String(),
  result: Type.Unknown(),
});
export const Job = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  spec: Type.Record(Type.String(), Type.Unknown()),
  createdBy: Type.String(),
  /** The grim instance running the job. */
  owner: Type.Optional(Type.String()),
  createdAt: Timestamp,
  startedAt: Type.Union([Timestamp, Type.Null()]),
  finishedAt: Type.Union([Timestamp, Type.Null()]),
  summary: Type.String(),
  tasks: Type.Array(JobTask),
});

export const jobRoutes = {
  createRun: route({
    method: 'POST',
    path: '/api/runs',
    summary: 'Run a shell command on nodes, groups or a label selector',
    tag: 'jobs',
    role: 'operator',
    status: 201,
    body: Type.Object(
      {
        target: TargetSchema,
        command: Type.String({ minLength: 1, maxLength: 65536 }),
        timeoutSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ job: Job }),
  }),
  planUpdate: route({
    method: 'POST',
    path: '/api/updates/plan',
    summary: 'Dry run of a rolling OS update: the nodes in order and the exact script',
    tag: 'jobs',
    role: 'operator',
    body: Type.Object(
      {
        target: TargetSchema,
        parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        refresh: Type.Optional(Type.Boolean()),
        reboot: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({
      nodes: Type.Array(Type.Object({ name: Type.String(), os: Type.String() })),
      parallel: Type.Integer(),
      script: Type.String(),
      env: Type.Record(Type.String(), Type.String()),
    }),
  }),
  createUpdate: route({
    method: 'POST',
    path: '/api/updates',
    summary: 'Rolling OS update (apk/apt), one node at a time, stopping at the first failure',
    tag: 'jobs',
    role: 'operator',
    status: 201,
    body: Type.Object(
      {
        target: TargetSchema,
        parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        refresh: Type.Optional(Type.Boolean()),
        reboot: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ job: Job }),
  }),
  listJobs: route({
    method: 'GET',
    path: '/api/jobs',
    summary: 'Recent jobs',
    tag: 'jobs',
    role: 'viewer',
    query: Type.Object(
      { limit: Type.Optional(Limit), kind: Type.Optional(Type.String({ maxLength: 32 })) },
      { additionalProperties: false },
    ),
    response: Type.Object({ jobs: Type.Array(Job) }),
  }),
  getJob: route({
    method: 'GET',
    path: '/api/jobs/:id',
    summary: 'A job with per-node status and output',
    tag: 'jobs',
    role: 'viewer',
    params: IdParams,
    response: Type.Object({ job: Job }),
  }),
};
