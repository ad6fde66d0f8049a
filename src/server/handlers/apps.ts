import type { HandlerMap } from '../handler.ts';
import { sizeView } from '../../services/apps/sizes.ts';
import { DomainError } from '../../domain/errors.ts';
import { appLogsFromLoki } from '../../services/logs/read-back.ts';

type Ops =
  | 'listSizes'
  | 'putSize'
  | 'deleteSize'
  | 'listApps'
  | 'getApp'
  | 'createApp'
  | 'deployApp'
  | 'scaleApp'
  | 'rollbackApp'
  | 'deleteApp'
  | 'appLogs'
  | 'reconcileApps';

/** Names of the secrets in a request, never their values (for the audit entry). */
const secretNames = (s: Record<string, unknown> | undefined) => (s ? Object.keys(s) : undefined);
export const appHandlers: HandlerMap<Ops> = {
  listSizes: async ({ services }) => ({ sizes: (await services.apps.sizes.list()).map(sizeView) }),
  putSize: async ({ params, body, services, req }) => {
    req.auditDetails = { ...body };
    return { size: sizeView(await services.apps.sizes.put({ name: params.name, ...body })) };
  },
  deleteSize: async ({ params, services }) => (await services.apps.sizes.remove(params.name), { ok: true }),
  listApps: async ({ services }) => ({ apps: await services.apps.list() }),
  getApp: async ({ params, services }) => ({ app: await services.apps.get(params.name) }),
  createApp: async ({ body, principal, services, req }) => {
    req.auditDetails = {
      group: body.group,
      runtime: body.runtime ?? 'script',
      secrets: secretNames(body.secrets),
    };
    return { app: await services.apps.create(body, principal.username) };
  },
  deployApp: async ({ params, body, principal, services, req }) => {
    const { acceptOvercommit, build, ...changes } = body;
    req.auditDetails = {
      acceptOvercommit: !!acceptOvercommit,
      secrets: secretNames(changes.secrets),
      ...(build ? { build } : {}),
    };
    if (principal.role === 'deployer') {
      const extra = Object.keys(changes).filter((k) => k !== 'source');
      if (extra.length || acceptOvercommit)
        throw new DomainError(
          'forbidden',
          `a deployer token may change the source only, not ${[...extra, ...(acceptOvercommit ? ['acceptOvercommit'] : [])].join(', ')}`,
        );
    }
    if (build) await services.pipelines.checkBuild(params.name, build, principal);
    const r = await services.apps.deploy(params.name, { changes, acceptOvercommit }, principal.username);
    if (build) await services.pipelines.recordRelease(params.name, r.release, build);
    req.auditDetails = {
      ...req.auditDetails,
      release: r.release,
      job: r.jobId,
      overcommitAccepted: r.warnings,
    };
    return r;
  },
  scaleApp: async ({ params, body, principal, services, req }) => {
    req.auditDetails = { replicas: body.replicas, acceptOvercommit: !!body.acceptOvercommit };
    const r = await services.apps.scale(
      params.name,
      body.replicas,
      !!body.acceptOvercommit,
      principal.username,
    );
    req.auditDetails = { ...req.auditDetails, job: r.jobId, overcommitAccepted: r.warnings };
    return r;
  },
  rollbackApp: async ({ params, body, principal, services, req }) => {
    req.auditDetails = {
      to: body.release ?? 'previous',
      acceptOvercommit: !!body.acceptOvercommit,
      restoreVolumes: !!body.restoreVolumes,
    };
    const r = await services.apps.rollback(
      params.name,
      body.release,
      !!body.acceptOvercommit,
      principal.username,
      {
        restoreVolumes: !!body.restoreVolumes,
      },
    );
    req.auditDetails = {
      ...req.auditDetails,
      release: r.release,
      job: r.jobId,
      overcommitAccepted: r.warnings,
    };
    return r;
  },
  deleteApp: async ({ params, query, principal, services, req }) => {
    req.auditDetails = { deleteVolumes: !!query?.deleteVolumes };
    return services.apps.remove(params.name, principal.username, { deleteVolumes: !!query?.deleteVolumes });
  },
  appLogs: async ({ params, query, services }) => {
    const loki = services.logShipping?.target;
    if (query?.source === 'loki' || (query?.source !== 'nodes' && loki))
      return {
        source: 'loki' as const,
        logs: await appLogsFromLoki(services.db, loki, params.name, query?.tail ?? 100),
      };
    return { source: 'nodes' as const, logs: await services.apps.logs(params.name, query?.tail ?? 100) };
  },
  reconcileApps: async ({ services }) => services.apps.reconcile(),
};
