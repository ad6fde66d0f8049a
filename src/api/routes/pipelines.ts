import Type from 'typebox';
import { route } from '../route.ts';
import { Ok, Timestamp } from '../common.ts';

const PipelineName = Type.String({ minLength: 1, maxLength: 64 });
const Params = Type.Object({ name: PipelineName }, { additionalProperties: false });
const Build = Type.Union([
  Type.Object(
    { kind: Type.Literal('dockerfile'), dockerfile: Type.String({ maxLength: 1024 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('tarball'),
      runtime: Type.String({ maxLength: 128 }),
      command: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 64 }),
    },
    { additionalProperties: false },
  ),
]);
const Provider = Type.Union([Type.Literal('github'), Type.Literal('gitea'), Type.Literal('gitlab')]);

export const PipelineView = Type.Object({
  name: Type.String(),
  app: Type.String(),
  repo: Type.String(),
  branch: Type.String(),
  build: Build,
  buildArgs: Type.Record(Type.String(), Type.String()),
  testCommand: Type.Union([Type.String(), Type.Null()]),
  pollSeconds: Type.Integer(),
  webhook: Type.Union([Type.Object({ provider: Provider, url: Type.String() }), Type.Null()]),
  createdBy: Type.String(),
  createdAt: Timestamp,
});

const BuildState = Type.Union([
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
  Type.Literal('error'),
  Type.Literal('pending'),
]);
export const PipelineBuild = Type.Object({
  number: Type.Integer(),
  state: BuildState,
  summary: Type.String(),
  commit: Type.Union([Type.String(), Type.Null()]),
  digest: Type.Union([Type.String(), Type.Null()]),
  worker: Type.Union([Type.String(), Type.Null()], {
    description: "the Buildbot worker that ran it (node-<node> on worker nodes, local on grim's own)",
  }),
  startedAt: Type.Union([Timestamp, Type.Null()]),
  finishedAt: Type.Union([Timestamp, Type.Null()]),
  release: Type.Union([Type.Integer(), Type.Null()], { description: 'the app release this build deployed' }),
});

const RegistryStorage = Type.Union([
  Type.Object({ kind: Type.Literal('directory') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('volume') }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('s3'),
      environment: Type.String({ minLength: 1, maxLength: 64 }),
      bucket: Type.String({ maxLength: 63 }),
    },
    { additionalProperties: false },
  ),
]);
export const BuildSettings = Type.Object(
  {
    workerNodes: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
      maxItems: 32,
      description: "nodes that run a Buildbot worker (image builds run there); empty: grim's own worker",
    }),
    registryStorage: RegistryStorage,
  },
  { additionalProperties: false },
);

export const pipelineRoutes = {
  backupBuildVolumes: route({
    method: 'POST',
    path: '/api/build-settings/backups',
    summary:
      "restic backup of the Buildbot master's state volume (and the registry's, when it is on a volume) to a backup target",
    tag: 'pipelines',
    role: 'admin',
    body: Type.Object(
      { target: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      backups: Type.Array(
        Type.Object({
          volume: Type.String(),
          target: Type.String(),
          snapshotId: Type.String(),
          bytes: Type.Integer(),
          files: Type.Integer(),
          durationMs: Type.Integer(),
        }),
      ),
    }),
  }),
  getBuildSettings: route({
    method: 'GET',
    path: '/api/build-settings',
    summary: "Build settings: Buildbot's worker nodes and the build registry's storage",
    tag: 'pipelines',
    role: 'viewer',
    response: Type.Object({ settings: BuildSettings }),
  }),
  putBuildSettings: route({
    method: 'PUT',
    path: '/api/build-settings',
    summary:
      "Choose the worker nodes and the registry storage (directory, a control-node volume, or an S3 bucket on an environment's SeaweedFS cluster); applied at once when Buildbot runs",
    tag: 'pipelines',
    role: 'admin',
    body: BuildSettings,
    response: Type.Object({
      settings: BuildSettings,
      applied: Type.Boolean({ description: 'Buildbot was running and now runs with these settings' }),
      removedWorkers: Type.Array(Type.String(), { description: 'nodes whose worker was removed' }),
    }),
  }),
  listPipelines: route({
    method: 'GET',
    path: '/api/pipelines',
    summary: 'List pipelines (git → build → deploy)',
    tag: 'pipelines',
    role: 'viewer',
    response: Type.Object({ pipelines: Type.Array(PipelineView) }),
  }),
  getPipeline: route({
    method: 'GET',
    path: '/api/pipelines/:name',
    summary: 'One pipeline',
    tag: 'pipelines',
    role: 'viewer',
    params: Params,
    response: Type.Object({ pipeline: PipelineView }),
  }),
  createPipeline: route({
    method: 'POST',
    path: '/api/pipelines',
    summary:
      'Define a pipeline; creates its deployer token (this app only) and, with `webhook`, a webhook secret shown once. Applied with applyBuildConfig.',
    tag: 'pipelines',
    role: 'admin',
    status: 201,
    body: Type.Object(
      {
        name: PipelineName,
        repo: Type.String({ maxLength: 2048 }),
        branch: Type.Optional(Type.String({ maxLength: 512 })),
        app: Type.String({ maxLength: 64 }),
        build: Build,
        buildArgs: Type.Optional(
          Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 8192 }), {
            maxProperties: 128,
          }),
        ),
        testCommand: Type.Optional(Type.Union([Type.String({ maxLength: 8192 }), Type.Null()])),
        pollSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
        webhook: Type.Optional(Provider),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({
      pipeline: PipelineView,
      webhookSecret: Type.Union([Type.String(), Type.Null()], { description: 'shown once' }),
    }),
  }),
  deletePipeline: route({
    method: 'DELETE',
    path: '/api/pipelines/:name',
    summary: 'Remove a pipeline and revoke its deployer token (apply the configuration afterwards)',
    tag: 'pipelines',
    role: 'admin',
    params: Params,
    response: Ok,
  }),
  getBuildConfig: route({
    method: 'GET',
    path: '/api/build-config',
    summary: "Buildbot's master.cfg as grim generates it from the pipelines, and the one applied now",
    tag: 'pipelines',
    role: 'admin',
    response: Type.Object({
      generated: Type.String(),
      applied: Type.Union([Type.String(), Type.Null()]),
      pending: Type.Boolean(),
    }),
  }),
  applyBuildConfig: route({
    method: 'POST',
    path: '/api/build-config/apply',
    summary:
      'Check the generated master.cfg with `buildbot checkconfig`, then start Buildbot or reload it (running builds go on)',
    tag: 'pipelines',
    role: 'admin',
    response: Type.Object({ reloaded: Type.Boolean(), started: Type.Boolean() }),
  }),
  listPipelineBuilds: route({
    method: 'GET',
    path: '/api/pipelines/:name/builds',
    summary: "The pipeline's latest builds (from Buildbot's REST API) with the releases they deployed",
    tag: 'pipelines',
    role: 'viewer',
    params: Params,
    response: Type.Object({ builds: Type.Array(PipelineBuild) }),
  }),
  getPipelineBuildLog: route({
    method: 'GET',
    path: '/api/pipelines/:name/builds/:number',
    summary: 'Steps of one build with their logs',
    tag: 'pipelines',
    role: 'viewer',
    params: Type.Object(
      { name: PipelineName, number: Type.String({ pattern: '^[0-9]{1,9}$' }) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      steps: Type.Array(
        Type.Object({ name: Type.String(), state: BuildState, summary: Type.String(), log: Type.String() }),
      ),
    }),
  }),
  startPipelineBuild: route({
    method: 'POST',
    path: '/api/pipelines/:name/builds',
    summary: 'Build the branch head (or a given commit) now',
    tag: 'pipelines',
    role: 'operator',
    status: 202,
    params: Params,
    body: Type.Object(
      { revision: Type.Optional(Type.String({ pattern: '^([0-9a-f]{40}|[0-9a-f]{64})$' })) },
      { additionalProperties: false },
    ),
    response: Type.Object({ buildsetId: Type.Integer() }),
  }),
  listReleaseBuilds: route({
    method: 'GET',
    path: '/api/apps/:name/release-builds',
    summary: "What built each of an app's releases: pipeline, build number, commit, image digest",
    tag: 'pipelines',
    role: 'viewer',
    params: Params,
    response: Type.Object({
      builds: Type.Array(
        Type.Object({
          release: Type.Integer(),
          pipeline: Type.String(),
          number: Type.Integer(),
          commit: Type.String(),
          digest: Type.String(),
          createdAt: Timestamp,
        }),
      ),
    }),
  }),
};
