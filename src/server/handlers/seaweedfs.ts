import type { HandlerMap } from '../handler.ts';
import { grantBucketToApp } from '../../services/seaweedfs/app-grant.ts';

type Ops =
  | 'listStorageReleases'
  | 'addStorageRelease'
  | 'listStorageClusters'
  | 'getStorageCluster'
  | 'createStorageCluster'
  | 'deleteStorageCluster'
  | 'pollSeaweedHealth'
  | 'listStorageBuckets'
  | 'createStorageBucket'
  | 'deleteStorageBucket'
  | 'grantStorageBucket'
  | 'createStorageKey'
  | 'retireStorageKey'
  | 'createStorageMount'
  | 'deleteStorageMount'
  | 'repairStorage'
  | 'rotateStorageKeys'
  | 'upgradeStorage';

const releaseView = (r: {
  version: string;
  sha256: string;
  size_bytes: number;
  source: string;
  recorded_at: number;
}) => ({
  version: r.version,
  sha256: r.sha256,
  sizeBytes: r.size_bytes,
  source: r.source,
  recordedAt: r.recorded_at,
});

export const seaweedHandlers: HandlerMap<Ops> = {
  listStorageReleases: async ({ services }) => ({
    releases: (await services.seaweedfs.releases.list()).map(releaseView),
  }),
  addStorageRelease: async ({ body, services, req }) => {
    const release = releaseView(await services.seaweedfs.releases.record(body));
    req.auditDetails = { version: release.version, sha256: release.sha256, source: release.source };
    return { release };
  },
  listStorageClusters: async ({ services }) => ({ clusters: await services.seaweedfs.list() }),
  getStorageCluster: async ({ params, services }) => ({
    cluster: await services.seaweedfs.view(params.environment),
  }),
  createStorageCluster: async ({ params, body, services, principal, req }) => {
    const { postgres, ...rest } = body;
    req.auditDetails = {
      ...rest,
      postgres: postgres ? { host: postgres.host, database: postgres.database } : undefined,
    };
    return { cluster: await services.seaweedfs.create(params.environment, body, principal.username) };
  },
  deleteStorageCluster: async ({ params, query, services, principal }) =>
    services.seaweedfs.remove(params.environment, !!query?.deleteData, principal.username),
  pollSeaweedHealth: async ({ params, services }) => ({
    health: (await services.seaweedfs.pollOnce(params.environment)) as any,
  }),
  listStorageBuckets: async ({ params, services }) => ({
    buckets: await services.seaweedAccess.listBuckets(params.environment),
  }),
  createStorageBucket: async ({ params, body, services, req }) => {
    req.auditDetails = { bucket: body.name, quotaMB: body.quotaMB };
    return { bucket: await services.seaweedAccess.createBucket(params.environment, body) };
  },
  deleteStorageBucket: async ({ params, services, req }) => {
    req.auditDetails = { bucket: params.bucket };
    return services.seaweedAccess.deleteBucket(params.environment, params.bucket);
  },
  grantStorageBucket: async ({ params, body, services, principal, req }) => {
    const r = await grantBucketToApp(services.seaweedAccess, services.apps, {
      environment: params.environment,
      bucket: params.bucket,
      app: body.app,
      actions: body.actions ?? ['Read', 'Write'],
      by: principal.username,
    });
    req.auditDetails = { app: body.app, bucket: params.bucket, key: r.key.name, accessKey: r.key.accessKey };
    return r;
  },
  createStorageKey: async ({ params, body, services, req }) => {
    const key = await services.seaweedAccess.createKey(params.environment, body);
    // the audit entry names the key, never its secret
    req.auditDetails = { key: key.name, bucket: key.bucket, actions: key.actions, accessKey: key.accessKey };
    return { key };
  },
  retireStorageKey: async ({ params, services, req }) => {
    req.auditDetails = { accessKey: params.accessKey };
    return services.seaweedAccess.retireKey(params.environment, params.accessKey);
  },
  createStorageMount: async ({ params, body, services, req }) => {
    req.auditDetails = { ...body };
    return { mount: await services.seaweedAccess.createMount(params.environment, body) };
  },
  deleteStorageMount: async ({ params, services }) =>
    services.seaweedAccess.deleteMount(params.environment, params.mount),
  repairStorage: async ({ params, body, services, principal, req }) => {
    req.auditDetails = { apply: !!body.apply, balance: !!body.balance };
    return services.seaweedOps.repair(
      params.environment,
      { apply: !!body.apply, balance: !!body.balance },
      principal.username,
    );
  },
  rotateStorageKeys: async ({ params, services, principal }) =>
    services.seaweedOps.rotateKeys(params.environment, principal.username),
  upgradeStorage: async ({ params, body, services, principal, req }) => {
    req.auditDetails = { version: body.version };
    return services.seaweedOps.upgrade(
      params.environment,
      body.version,
      principal.username,
      !!body.includeGateways,
    );
  },
};
