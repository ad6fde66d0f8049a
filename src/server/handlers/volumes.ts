import type { HandlerMap } from '../handler.ts';
import { volumeCopies, liveNodeVolumes } from '../../services/volumes/views.ts';

type Ops =
  | 'listVolumes'
  | 'nodeVolumes'
  | 'deleteVolume'
  | 'backupVolume'
  | 'listBackups'
  | 'restoreVolume'
  | 'listBackupTargets'
  | 'putBackupTarget'
  | 'deleteBackupTarget';

export const volumeHandlers: HandlerMap<Ops> = {
  listVolumes: async ({ query, services }) => ({ volumes: await volumeCopies(services.db, query ?? {}) }),
  nodeVolumes: async ({ params, services }) => ({
    volumes: await liveNodeVolumes(services.db, services.apps.volumes, params.name),
  }),
  deleteVolume: async ({ params, query, services, req }) => {
    req.auditDetails = { node: query.node };
    await services.apps.volumes.deleteCopy(params.app, params.volume, query.node, () => undefined);
    return { ok: true };
  },
  backupVolume: async ({ params, body, principal, services, req }) => {
    const backup = await services.apps.backups.backup(
      params.app,
      params.volume,
      body ?? {},
      principal.username,
    );
    req.auditDetails = {
      node: backup.node,
      target: backup.target,
      status: backup.status,
      resticId: backup.resticId,
    };
    return { backup };
  },
  listBackups: async ({ params, services }) => ({
    backups: await services.apps.backups.backups(params.app, params.volume),
  }),
  restoreVolume: async ({ params, body, services, req }) => {
    req.auditDetails = { node: body.node, backup: body.backup ?? 'latest', replace: !!body.replace };
    const r = await services.apps.backups.restore(params.app, params.volume, body);
    req.auditDetails = { ...req.auditDetails, restored: r.backup, abandoned: r.abandoned };
    return r;
  },
  listBackupTargets: async ({ services }) => ({ targets: await services.apps.backups.targets() }),
  putBackupTarget: async ({ params, body, services, req }) => {
    req.auditDetails = { kind: body.kind, endpoint: body.endpoint, bucket: body.bucket, path: body.path };
    return { target: await services.apps.backups.putTarget({ name: params.name, ...body }) };
  },
  deleteBackupTarget: async ({ params, services }) => {
    await services.apps.backups.removeTarget(params.name);
    return { ok: true };
  },
};
