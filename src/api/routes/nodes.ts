import Type, { type Static } from 'typebox';
import { route } from '../route.ts';
import { Name, NameParams, Ok, Timestamp, type SameValues } from '../common.ts';
import { NODE_ROLES, NODE_STATES, type NodeRole, type NodeState } from '../../domain/nodes.ts';

const Fingerprint = Type.String({
  pattern: '^SHA256:[A-Za-z0-9+/]{43}$',
  description: 'as `ssh-keygen -lf` prints it',
});
const Address = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9.:-]+$',
  description: 'IPv4 address or DNS name',
});
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const SshUser = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z_][a-z0-9_-]*$' });
const Labels = Type.Record(Type.String({ maxLength: 63 }), Type.String({ maxLength: 63 }), {
  maxProperties: 64,
});
/** Node roles and states, from the domain's lists (src/domain/nodes.ts), checked both ways at compile time. */
const NodeRoleSchema = Type.Enum([...NODE_ROLES]);
const NodeStateSchema = Type.Enum([...NODE_STATES]);
export const _nodeRolesMatch: SameValues<NodeRole, Static<typeof NodeRoleSchema>> = true;
export const _nodeStatesMatch: SameValues<NodeState, Static<typeof NodeStateSchema>> = true;
const Quantity = Type.String({ minLength: 1, maxLength: 32, description: 'e.g. 500m, 1, 512Mi, 2Gi' });

export const Reserve = Type.Object(
  { cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) },
  { additionalProperties: false },
);

export const NodeView = Type.Object({
  name: Type.String(),
  environment: Type.String(),
  address: Type.String(),
  port: Type.Integer(),
  user: Type.String(),
  roles: Type.Array(NodeRoleSchema),
  labels: Type.Record(Type.String(), Type.String()),
  groups: Type.Array(Type.String()),
  hostKeyFingerprint: Type.String(),
  state: NodeStateSchema,
  stateReason: Type.String(),
  maintenance: Type.Boolean(),
  reserve: Type.Object({ cpuMillis: Type.Integer(), memoryBytes: Type.Integer() }),
  allocatable: Type.Object({ cpuMillis: Type.Integer(), memoryBytes: Type.Integer() }),
  facts: Type.Record(Type.String(), Type.Unknown()),
  factsAt: Type.Union([Timestamp, Type.Null()]),
  lastSeenAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
});

const Credential = Type.Union([
  Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
  Type.Object(
    {
      privateKey: Type.String({ minLength: 1, maxLength: 16384 }),
      passphrase: Type.Optional(Type.String({ maxLength: 1024 })),
    },
    { additionalProperties: false },
  ),
]);

export const nodeRoutes = {
  listEnvironments: route({
    method: 'GET',
    path: '/api/environments',
    summary: 'List environments',
    tag: 'inventory',
    role: 'viewer',
    response: Type.Object({
      environments: Type.Array(
        Type.Object({
          name: Type.String(),
          description: Type.String(),
          nodes: Type.Integer(),
          groups: Type.Integer(),
        }),
      ),
    }),
  }),
  createEnvironment: route({
    method: 'POST',
    path: '/api/environments',
    summary: 'Create an environment (e.g. prod, staging)',
    tag: 'inventory',
    role: 'admin',
    status: 201,
    body: Type.Object(
      { name: Name, description: Type.Optional(Type.String({ maxLength: 256 })) },
      { additionalProperties: false },
    ),
    response: Ok,
  }),
  deleteEnvironment: route({
    method: 'DELETE',
    path: '/api/environments/:name',
    summary: 'Delete an empty environment',
    tag: 'inventory',
    role: 'admin',
    params: NameParams,
    response: Ok,
  }),
  listGroups: route({
    method: 'GET',
    path: '/api/groups',
    summary: 'List groups',
    tag: 'inventory',
    role: 'viewer',
    query: Type.Object({ environment: Type.Optional(Name) }, { additionalProperties: false }),
    response: Type.Object({
      groups: Type.Array(
        Type.Object({
          name: Type.String(),
          environment: Type.String(),
          description: Type.String(),
          nodes: Type.Array(Type.String()),
        }),
      ),
    }),
  }),
  createGroup: route({
    method: 'POST',
    path: '/api/groups',
    summary: 'Create a group of nodes in an environment',
    tag: 'inventory',
    role: 'admin',
    status: 201,
    body: Type.Object(
      {
        name: Name,
        environment: Name,
        description: Type.Optional(Type.String({ maxLength: 256 })),
        nodes: Type.Optional(Type.Array(Name, { maxItems: 10000 })),
      },
      { additionalProperties: false },
    ),
    response: Ok,
  }),
  setGroupNodes: route({
    method: 'PUT',
    path: '/api/groups/:name/nodes',
    summary: "Set a group's nodes",
    tag: 'inventory',
    role: 'admin',
    params: NameParams,
    body: Type.Object({ nodes: Type.Array(Name, { maxItems: 10000 }) }, { additionalProperties: false }),
    response: Ok,
  }),
  deleteGroup: route({
    method: 'DELETE',
    path: '/api/groups/:name',
    summary: 'Delete a group (its nodes stay)',
    tag: 'inventory',
    role: 'admin',
    params: NameParams,
    response: Ok,
  }),
  sshIdentity: route({
    method: 'GET',
    path: '/api/ssh/identity',
    summary: "grim's SSH public key (what gets installed on nodes)",
    tag: 'nodes',
    role: 'viewer',
    response: Type.Object({ publicKey: Type.String(), fingerprint: Type.String() }),
  }),
  scanHostKey: route({
    method: 'POST',
    path: '/api/nodes/scan',
    summary: 'Fetch a host key fingerprint for confirmation (trust on first use)',
    tag: 'nodes',
    role: 'admin',
    body: Type.Object({ address: Address, port: Type.Optional(Port) }, { additionalProperties: false }),
    response: Type.Object({ fingerprint: Type.String(), keyType: Type.String(), publicKey: Type.String() }),
  }),
  listNodes: route({
    method: 'GET',
    path: '/api/nodes',
    summary: 'List nodes',
    tag: 'nodes',
    role: 'viewer',
    query: Type.Object(
      {
        environment: Type.Optional(Name),
        group: Type.Optional(Name),
        selector: Type.Optional(Type.String({ maxLength: 512 })),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ nodes: Type.Array(NodeView) }),
  }),
  getNode: route({
    method: 'GET',
    path: '/api/nodes/:name',
    summary: 'One node with its facts',
    tag: 'nodes',
    role: 'viewer',
    params: NameParams,
    response: Type.Object({ node: NodeView }),
  }),
  createNode: route({
    method: 'POST',
    path: '/api/nodes',
    summary: "Add a node: pin its confirmed host key, install grim's key, gather facts",
    tag: 'nodes',
    role: 'admin',
    status: 201,
    body: Type.Object(
      {
        name: Name,
        environment: Name,
        address: Address,
        port: Type.Optional(Port),
        user: Type.Optional(SshUser),
        roles: Type.Optional(Type.Array(NodeRoleSchema, { minItems: 1, maxItems: 2, uniqueItems: true })),
        labels: Type.Optional(Labels),
        groups: Type.Optional(Type.Array(Name, { maxItems: 64 })),
        hostKeyFingerprint: Fingerprint,
        credential: Type.Optional(Credential),
        reserve: Type.Optional(Reserve),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ node: NodeView }),
  }),
  updateNode: route({
    method: 'PATCH',
    path: '/api/nodes/:name',
    summary: 'Change labels, roles, reserve or maintenance',
    tag: 'nodes',
    role: 'operator',
    params: NameParams,
    body: Type.Object(
      {
        labels: Type.Optional(Labels),
        roles: Type.Optional(Type.Array(NodeRoleSchema, { minItems: 1, maxItems: 2, uniqueItems: true })),
        maintenance: Type.Optional(Type.Boolean()),
        reserve: Type.Optional(Reserve),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
    response: Type.Object({ node: NodeView }),
  }),
  repinHostKey: route({
    method: 'POST',
    path: '/api/nodes/:name/host-key',
    summary: "Re-pin a node's host key after a confirmed change",
    tag: 'nodes',
    role: 'admin',
    params: NameParams,
    body: Type.Object({ fingerprint: Fingerprint }, { additionalProperties: false }),
    response: Type.Object({ node: NodeView }),
  }),
  refreshNode: route({
    method: 'POST',
    path: '/api/nodes/:name/refresh',
    summary: 'Probe a node now and refresh its facts',
    tag: 'nodes',
    role: 'operator',
    params: NameParams,
    response: Type.Object({ node: NodeView }),
  }),
  deleteNode: route({
    method: 'DELETE',
    path: '/api/nodes/:name',
    summary: 'Forget a node (nothing is changed on it)',
    tag: 'nodes',
    role: 'admin',
    params: NameParams,
    response: Ok,
  }),
};

export const TargetSchema = Type.Object(
  {
    nodes: Type.Optional(Type.Array(Name, { maxItems: 10000 })),
    groups: Type.Optional(Type.Array(Name, { maxItems: 1000 })),
    selector: Type.Optional(Type.String({ maxLength: 512, description: 'key=value,key2=value2' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export { NodeStateSchema };
