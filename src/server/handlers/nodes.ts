import type { HandlerMap } from '../handler.ts';

type Ops =
  | 'listEnvironments'
  | 'createEnvironment'
  | 'deleteEnvironment'
  | 'listGroups'
  | 'createGroup'
  | 'setGroupNodes'
  | 'deleteGroup'
  | 'sshIdentity'
  | 'scanHostKey'
  | 'listNodes'
  | 'getNode'
  | 'createNode'
  | 'updateNode'
  | 'repinHostKey'
  | 'refreshNode'
  | 'deleteNode';

export const nodeHandlers: HandlerMap<Ops> = {
  listEnvironments: async ({ services }) => ({ environments: await services.inventory.listEnvironments() }),
  createEnvironment: async ({ body, services }) => (
    await services.inventory.createEnvironment(body.name, body.description),
    { ok: true }
  ),
  deleteEnvironment: async ({ params, services }) => (
    await services.inventory.deleteEnvironment(params.name),
    { ok: true }
  ),
  listGroups: async ({ query, services }) => ({
    groups: await services.inventory.listGroups(query?.environment),
  }),
  createGroup: async ({ body, services }) => (
    await services.inventory.createGroup(body.name, body.environment, body.description, body.nodes),
    { ok: true }
  ),
  setGroupNodes: async ({ params, body, services }) => (
    await services.inventory.setGroupNodes(params.name, body.nodes),
    { ok: true }
  ),
  deleteGroup: async ({ params, services }) => (
    await services.inventory.deleteGroup(params.name),
    { ok: true }
  ),
  sshIdentity: async ({ services }) => ({
    publicKey: services.identity.publicKey,
    fingerprint: services.identity.fingerprint,
  }),
  scanHostKey: async ({ body, services }) => services.nodes.scan(body.address, body.port),
  listNodes: async ({ query, services }) => ({ nodes: await services.nodes.list(query ?? {}) }),
  getNode: async ({ params, services }) => ({ node: await services.nodes.get(params.name) }),
  createNode: async ({ body, services, req }) => {
    req.auditDetails = {
      address: body.address,
      hostKeyFingerprint: body.hostKeyFingerprint,
      credential: body.credential ? Object.keys(body.credential)[0] : 'none',
    };
    return { node: await services.nodes.create(body) };
  },
  updateNode: async ({ params, body, services }) => ({
    node: await services.nodes.update(params.name, body),
  }),
  repinHostKey: async ({ params, body, services, req }) => {
    req.auditDetails = { fingerprint: body.fingerprint };
    return { node: await services.nodes.repin(params.name, body.fingerprint) };
  },
  refreshNode: async ({ params, services }) => ({ node: await services.nodes.probe(params.name, true) }),
  deleteNode: async ({ params, services }) => (await services.nodes.remove(params.name), { ok: true }),
};
