import type { HandlerMap } from '../handler.ts';
import { replicateAsJob } from '../../services/storage/replication.ts';
import { createOnNodes, planOnNodes } from '../../services/storage/multi-node-pools.ts';

type Ops =
  | 'listStorageNodes'
  | 'getStorageNode'
  | 'checkStorageNode'
  | 'planPool'
  | 'createPool'
  | 'planPools'
  | 'createPools'
  | 'destroyPool'
  | 'importPool'
  | 'scrubPool'
  | 'setScrubSchedule'
  | 'poolDevice'
  | 'createDataset'
  | 'destroyDataset'
  | 'snapshotAction'
  | 'setSnapshotPolicy'
  | 'replicateDataset'
  | 'storageEvents';

export const storageHandlers: HandlerMap<Ops> = {
  listStorageNodes: async ({ services }) => ({ nodes: await services.storage.list() }),
  getStorageNode: async ({ params, query, services }) =>
    services.storage.get(params.node, query?.refresh === true),
  checkStorageNode: async ({ params, services }) => {
    await services.storageHealth.checkNode(params.node);
    await services.storage.refresh(params.node);
    return services.storage.get(params.node);
  },
  planPool: async ({ params, body, services }) => services.storage.plan(params.node, body),
  createPool: async ({ params, body, services }) => {
    const r = await services.storage.createPool(params.node, body.pool, body.confirm === true);
    return { plan: r.plan, ran: r.ran, ...('pool' in r ? { pool: r.pool, health: r.health } : {}) };
  },
  planPools: async ({ body, services }) => ({
    nodes: await planOnNodes(services.storage, body.nodes, body.pool),
  }),
  createPools: async ({ body, services }) => ({
    nodes: await createOnNodes(services.storage, body.nodes, body.pool, body.confirm === true),
  }),
  destroyPool: async ({ params, body, services }) =>
    services.storage.destroyPool(params.node, params.pool, body.confirm),
  importPool: async ({ params, body, services }) =>
    services.storage.importPool(params.node, body.pool, body.dir),
  scrubPool: async ({ params, body, services }) =>
    services.storage.scrub(params.node, params.pool, body.stop === true),
  setScrubSchedule: async ({ params, body, services }) =>
    services.storage.setScrubSchedule(params.node, params.pool, body.every, body.next),
  poolDevice: async ({ params, body, services }) =>
    services.storage.device(
      params.node,
      params.pool,
      body.action,
      body.device,
      body.newDevice,
      body.confirm === true,
    ),
  createDataset: async ({ params, body, services }) => {
    const { dryRun, ...req } = body;
    return services.storage.createDataset(params.node, req, dryRun !== true);
  },
  destroyDataset: async ({ params, body, services }) =>
    services.storage.destroyDataset(params.node, body.name, body.confirm),
  snapshotAction: async ({ params, body, services }) =>
    services.storage.snapshot(params.node, body.action, body.name, {
      recursive: body.recursive,
      destroyNewer: body.destroyNewer,
    }),
  setSnapshotPolicy: async ({ params, body, services }) =>
    services.storage.setSnapshotPolicy(params.node, body.dataset, body.label, body.keep, body.every),
  replicateDataset: async ({ body, services, principal }) => {
    const { wait, ...request } = body;
    return replicateAsJob(services.storage, services.jobs, request, principal.username, wait !== false);
  },
  storageEvents: async ({ query, services }) => ({
    events: await services.storage.events(query?.node, query?.limit ?? 100),
  }),
};
