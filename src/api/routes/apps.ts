import Type, { type Static } from 'typebox';
import { route } from '../route.ts';
import { Name, NameParams, Ok, Timestamp, type SameValues } from '../common.ts';
import { RUNTIMES, type Runtime } from '../../domain/runtimes.ts';
import {
  FAILOVER_MODES,
  HEALTH_CHECK_TYPES,
  NETWORK_MODES,
  type AppSourceKind,
  type Failover,
  type HealthCheckType,
  type VmNetworkMode,
} from '../../domain/apps/sources.ts';

const AppName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' });
const AppParams = Type.Object({ name: AppName }, { additionalProperties: false });
const Quantity = Type.String({ minLength: 1, maxLength: 32 });
const Script = Type.String({ minLength: 1, maxLength: 65536 });
const EnvMap = Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 32768 }), {
  maxProperties: 256,
});

/** The runtimes, from the domain's one list. */
const RuntimeSchema = Type.Enum([...RUNTIMES]);
/** Compile-time check that the schema and the domain name the same runtimes, both ways. */
export const _runtimesMatch: [Runtime, Static<typeof RuntimeSchema>] extends [
  Static<typeof RuntimeSchema>,
  Runtime,
]
  ? true
  : never = true;

const Source = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('script'),
      start: Script,
      stop: Type.Optional(Script),
      status: Type.Optional(Script),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('image'), image: Type.String({ minLength: 1, maxLength: 512 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('tarball'),
      tarball: Type.String({ minLength: 1, maxLength: 2048 }),
      runtime: Type.String({ minLength: 1, maxLength: 512 }),
      command: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 64 }),
    },
    { additionalProperties: false },
  ),
]);
export const _sourcesMatch: SameValues<AppSourceKind, Static<typeof Source>['kind']> = true;
const NetworkSchema = Type.Enum([...NETWORK_MODES], {
  description: 'microVM runtimes: nat (private subnet, ports on the node) or bridged (LAN address from IPAM)',
});
export const _networksMatch: SameValues<VmNetworkMode, Static<typeof NetworkSchema>> = true;
const FailoverSchema = Type.Enum([...FAILOVER_MODES]);
export const _failoverMatch: SameValues<Failover, Static<typeof FailoverSchema>> = true;
const HealthTypeSchema = Type.Enum([...HEALTH_CHECK_TYPES]);
export const _healthTypesMatch: SameValues<HealthCheckType, Static<typeof HealthTypeSchema>> = true;
const Port = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 15 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);
const Seconds = Type.Integer({ minimum: 1, maximum: 3600 });
const Health = Type.Object(
  {
    type: HealthTypeSchema,
    port: Type.Optional(Type.String({ maxLength: 15 })),
    path: Type.Optional(Type.String({ maxLength: 1024 })),
    command: Type.Optional(Type.String({ maxLength: 4096 })),
    intervalSec: Type.Optional(Seconds),
    timeoutSec: Type.Optional(Seconds),
    retries: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

/** A persistent volume; its values are checked strictly by the domain (every problem listed). */
export const VolumeField = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    size: Type.String({ maxLength: 32, description: 'e.g. 10Gi' }),
    mount: Type.String({ maxLength: 256, description: 'absolute path where the app sees it' }),
    kind: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('shared')])),
    backup: Type.Optional(
      Type.Object(
        {
          schedule: Type.String({ maxLength: 16, description: 'an interval: 30m, 6h, 1d, 1w' }),
          keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          target: Type.Optional(Type.String({ maxLength: 32 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Fields an app is made of; every one optional in a deploy (only what changes). */
const AppFields = {
  replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
  size: Type.Optional(Type.String({ maxLength: 32 })),
  cpu: Type.Optional(Quantity),
  memory: Type.Optional(Quantity),
  disk: Type.Optional(Quantity),
  runtime: Type.Optional(RuntimeSchema),
  source: Type.Optional(Source),
  network: Type.Optional(NetworkSchema),
  ports: Type.Optional(Type.Array(Port, { maxItems: 32 })),
  env: Type.Optional(EnvMap),
  secrets: Type.Optional(
    Type.Record(
      Type.String({ maxLength: 128 }),
      Type.Union([Type.String({ maxLength: 32768 }), Type.Null()]),
      {
        maxProperties: 256,
        description: 'values are sealed at rest and never returned; null removes a secret',
      },
    ),
  ),
  health: Type.Optional(Type.Union([Health, Type.Null()])),
  failover: Type.Optional(FailoverSchema),
  maxParallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  volumes: Type.Optional(Type.Array(VolumeField, { maxItems: 64 })),
};

export const AppFieldsSchema = Type.Object(AppFields, { additionalProperties: false });
/** What create and deploy take besides their own fields: the typed body the CLI builds from its options. */
export type AppFieldsBody = Static<typeof AppFieldsSchema>;

export const AppView = Type.Object({
  name: Type.String(),
  environment: Type.String(),
  group: Type.String(),
  runtime: RuntimeSchema,
  replicas: Type.Integer(),
  size: Type.Union([Type.String(), Type.Null()]),
  resources: Type.Object({
    cpu: Type.String(),
    memory: Type.String(),
    disk: Type.String(),
    cpuMillis: Type.Integer(),
    memoryBytes: Type.Integer(),
    diskBytes: Type.Integer(),
  }),
  source: Type.Unknown(),
  ports: Type.Array(Type.Object({ name: Type.String(), port: Type.Integer() })),
  env: Type.Record(Type.String(), Type.String()),
  secrets: Type.Array(Type.String(), { description: 'names only' }),
  health: Type.Unknown(),
  failover: FailoverSchema,
  maxParallel: Type.Integer(),
  network: Type.Optional(NetworkSchema),
  volumes: Type.Optional(Type.Array(Type.Unknown())),
  currentRelease: Type.Union([Type.Integer(), Type.Null()]),
  deleting: Type.Boolean(),
  createdBy: Type.String(),
  createdAt: Timestamp,
  releases: Type.Array(
    Type.Object({
      number: Type.Integer(),
      kind: Type.String(),
      status: Type.String(),
      rollbackOf: Type.Union([Type.Integer(), Type.Null()]),
      createdBy: Type.String(),
      createdAt: Timestamp,
    }),
  ),
  instances: Type.Array(
    Type.Object({
      id: Type.String(),
      release: Type.Integer(),
      node: Type.String(),
      address: Type.String(),
      state: Type.String(),
      ports: Type.Record(Type.String(), Type.Integer()),
      restarts: Type.Integer(),
      message: Type.String(),
    }),
  ),
  rollout: Type.Union([
    Type.Object({
      id: Type.String(),
      jobId: Type.String(),
      kind: Type.String(),
      status: Type.String(),
      targetRelease: Type.Integer(),
      message: Type.String(),
    }),
    Type.Null(),
  ]),
});

const IpPoolView = Type.Object({
  id: Name,
  cidr: Type.String({ minLength: 9, maxLength: 18 }),
  gateway: Type.String({ minLength: 7, maxLength: 15 }),
  excluded: Type.Array(Type.String({ maxLength: 31 }), { maxItems: 256 }),
  scope: Type.Object(
    {
      kind: Type.Union([Type.Literal('environment'), Type.Literal('group'), Type.Literal('node')]),
      id: Type.String({ minLength: 1, maxLength: 63 }),
    },
    { additionalProperties: false },
  ),
});

/** What built a release (set by a pipeline's deploy step). */
export const BuildInfo = Type.Object(
  {
    pipeline: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' }),
    number: Type.Integer({ minimum: 0, maximum: 1e9 }),
    commit: Type.String({ pattern: '^([0-9a-f]{40}|[0-9a-f]{64})$' }),
    digest: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

const Started = Type.Object({
  jobId: Type.String(),
  release: Type.Integer(),
  warnings: Type.Array(Type.String()),
});
const Accept = Type.Optional(
  Type.Boolean({ description: 'go ahead although a node would be overcommitted (audited)' }),
);

export const appRoutes = {
  listApps: route({
    method: 'GET',
    path: '/api/apps',
    summary: 'List apps with their releases and instances',
    tag: 'apps',
    role: 'viewer',
    response: Type.Object({ apps: Type.Array(AppView) }),
  }),
  getApp: route({
    method: 'GET',
    path: '/api/apps/:name',
    summary: 'One app: spec (secret names only), releases, instances, last rollout',
    tag: 'apps',
    role: 'viewer',
    params: AppParams,
    response: Type.Object({ app: AppView }),
  }),
  createApp: route({
    method: 'POST',
    path: '/api/apps',
    summary: 'Define an app (nothing runs until it is deployed)',
    tag: 'apps',
    role: 'operator',
    status: 201,
    body: Type.Object(
      { name: AppName, environment: Name, group: Name, ...AppFields },
      { additionalProperties: false },
    ),
    response: Type.Object({ app: AppView }),
  }),
  deployApp: route({
    method: 'POST',
    path: '/api/apps/:name/deploy',
    summary:
      'Create a new release (the app plus these changes) and roll it out; 409 "held" on overcommit, 409 "conflict" ' +
      'when no node of the group can take it (each node named with the reason)',
    tag: 'apps',
    role: 'operator',
    deployer: true,
    status: 202,
    params: AppParams,
    body: Type.Object(
      { ...AppFields, acceptOvercommit: Accept, build: Type.Optional(BuildInfo) },
      { additionalProperties: false },
    ),
    response: Started,
  }),
  scaleApp: route({
    method: 'POST',
    path: '/api/apps/:name/scale',
    summary: 'Change the number of instances of the current release',
    tag: 'apps',
    role: 'operator',
    status: 202,
    params: AppParams,
    body: Type.Object(
      { replicas: Type.Integer({ minimum: 0, maximum: 10000 }), acceptOvercommit: Accept },
      { additionalProperties: false },
    ),
    response: Started,
  }),
  rollbackApp: route({
    method: 'POST',
    path: '/api/apps/:name/rollback',
    summary: 'Return to an earlier release (default: the one before the current), as a new release',
    tag: 'apps',
    role: 'operator',
    status: 202,
    params: AppParams,
    body: Type.Object(
      {
        release: Type.Optional(Type.Integer({ minimum: 1 })),
        acceptOvercommit: Accept,
        restoreVolumes: Type.Optional(
          Type.Boolean({
            description: 'also return local volumes to the snapshot taken when that release was left',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    response: Started,
  }),
  deleteApp: route({
    method: 'DELETE',
    path: '/api/apps/:name',
    summary:
      'Remove every instance of the app from its nodes, then the app (volumes are kept unless deleteVolumes)',
    tag: 'apps',
    role: 'operator',
    status: 202,
    params: AppParams,
    query: Type.Object({ deleteVolumes: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    response: Type.Object({ jobId: Type.String() }),
  }),
  appLogs: route({
    method: 'GET',
    path: '/api/apps/:name/logs',
    summary: "The tail of each instance's output",
    tag: 'apps',
    role: 'viewer',
    params: AppParams,
    query: Type.Object(
      {
        tail: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
        /** Where to read: the nodes' files, or Loki (the default when grim ships logs to Loki). */
        source: Type.Optional(Type.Union([Type.Literal('nodes'), Type.Literal('loki')])),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({
      source: Type.Optional(Type.Union([Type.Literal('nodes'), Type.Literal('loki')])),
      logs: Type.Array(
        Type.Object({
          instance: Type.String(),
          node: Type.String(),
          release: Type.Integer(),
          text: Type.String(),
          error: Type.String(),
        }),
      ),
    }),
  }),
  reconcileApps: route({
    method: 'POST',
    path: '/api/apps/reconcile',
    summary: 'Compare every node with the desired state now and repair drift',
    tag: 'apps',
    role: 'operator',
    response: Type.Object({
      nodes: Type.Integer(),
      unreachable: Type.Array(Type.String()),
      restarted: Type.Array(Type.String()),
      recreated: Type.Array(Type.String()),
      removed: Type.Array(Type.String()),
      lost: Type.Array(Type.String()),
      failover: Type.Array(Type.String()),
      errors: Type.Array(Type.String()),
    }),
  }),
  listIpPools: route({
    method: 'GET',
    path: '/api/ip-pools',
    summary: "IPAM pools for bridged microVMs (per environment or group) and nodes' nat subnets, with usage",
    tag: 'apps',
    role: 'viewer',
    response: Type.Object({
      pools: Type.Array(
        Type.Object({
          ...IpPoolView.properties,
          used: Type.Array(Type.Object({ address: Type.String(), owner: Type.String() })),
        }),
      ),
    }),
  }),
  putIpPool: route({
    method: 'PUT',
    path: '/api/ip-pools/:name',
    summary: 'Create or change an IPAM pool; a group pool wins over its environment pool',
    tag: 'apps',
    role: 'admin',
    params: NameParams,
    body: Type.Object(
      {
        cidr: IpPoolView.properties.cidr,
        gateway: IpPoolView.properties.gateway,
        excluded: Type.Optional(IpPoolView.properties.excluded),
        scope: IpPoolView.properties.scope,
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ pool: IpPoolView }),
  }),
  deleteIpPool: route({
    method: 'DELETE',
    path: '/api/ip-pools/:name',
    summary: 'Delete an IPAM pool; 409 while any of its addresses is in use (the holders are named)',
    tag: 'apps',
    role: 'admin',
    params: NameParams,
    response: Ok,
  }),
};
