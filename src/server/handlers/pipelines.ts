import type { HandlerMap } from '../handler.ts';

type Ops =
  | 'listPipelines'
  | 'getPipeline'
  | 'createPipeline'
  | 'deletePipeline'
  | 'getBuildConfig'
  | 'applyBuildConfig'
  | 'listPipelineBuilds'
  | 'getPipelineBuildLog'
  | 'startPipelineBuild'
  | 'listReleaseBuilds'
  | 'getBuildSettings'
  | 'putBuildSettings'
  | 'backupBuildVolumes';

export const pipelineHandlers: HandlerMap<Ops> = {
  backupBuildVolumes: async ({ body, services }) => ({
    backups: await services.pipelines.backupVolumes(services.apps.backups, body.target),
  }),
  getBuildSettings: async ({ services }) => ({ settings: await services.pipelines.buildSettings() }),
  putBuildSettings: async ({ body, services, req }) => {
    req.auditDetails = { workerNodes: body.workerNodes, registryStorage: body.registryStorage };
    return services.pipelines.updateBuildSettings(body, services.seaweedAccess);
  },
  listPipelines: async ({ services }) => ({ pipelines: await services.pipelines.list() }),
  getPipeline: async ({ params, services }) => ({ pipeline: await services.pipelines.get(params.name) }),
  createPipeline: async ({ body, principal, services, req }) => {
    const { webhook, ...input } = body;
    req.auditDetails = {
      app: body.app,
      repo: body.repo,
      branch: body.branch ?? 'main',
      webhook: webhook ?? null,
    };
    return services.pipelines.create({ ...input, webhook }, principal);
  },
  deletePipeline: async ({ params, principal, services }) => {
    await services.pipelines.remove(params.name, principal);
    return { ok: true };
  },
  getBuildConfig: async ({ services }) => services.pipelines.configView(),
  applyBuildConfig: async ({ services }) => services.pipelines.apply(),
  listPipelineBuilds: async ({ params, services }) => ({
    builds: await services.pipelines.builds(params.name),
  }),
  getPipelineBuildLog: async ({ params, services }) => ({
    steps: await services.pipelines.buildLog(params.name, Number(params.number)),
  }),
  startPipelineBuild: async ({ params, body, principal, services }) =>
    services.pipelines.triggerBuild(params.name, body.revision, `started by ${principal.username} in grim`),
  listReleaseBuilds: async ({ params, services }) => ({
    builds: (await services.pipelines.releaseBuilds(params.name)).map((r) => ({
      release: Number(r.release),
      pipeline: r.pipeline,
      number: Number(r.build_number),
      commit: r.commit_id,
      digest: r.image_digest,
      createdAt: Number(r.created_at),
    })),
  }),
};
