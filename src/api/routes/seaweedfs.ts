import Type from 'typebox';
import { route } from '../route.ts';
import { Name, Ok, Timestamp } from '../common.ts';

/** Free-form strings with only a length bound: the storage domain checks them and lists every problem. */
const Loose = (max: number) => Type.String({ maxLength: max });
const EnvParams = Type.Object({ environment: Name }, { additionalProperties: false });
const NodeList = Type.Array(Loose(63), { maxItems: 100 });

const Release = Type.Object({
  version: Type.String(),
  sha256: Type.String(),
  sizeBytes: Type.Integer(),
  source: Type.String(),
  recordedAt: Timestamp,
});

const Health = Type.Object(
  {},
  { additionalProperties: true, description: 'see domain/seaweedfs/health.ts SeaweedHealth' },
);

export const StorageClusterView = Type.Object({
  environment: Type.String(),
  state: Type.String({ description: 'provisioning, ready, upgrading or failed' }),
  stateReason: Type.String(),
  version: Type.String(),
  spec: Type.Object({}, { additionalProperties: true }),
  replicationExplained: Type.String(),
  services: Type.Array(
    Type.Object({ node: Type.String(), role: Type.String(), id: Type.String(), address: Type.String() }),
  ),
  s3Endpoints: Type.Array(Type.String()),
  provisionMs: Type.Union([Type.Integer(), Type.Null()]),
  health: Type.Union([Health, Type.Null()]),
  healthAt: Type.Union([Timestamp, Type.Null()]),
  buckets: Type.Array(
    Type.Object({
      name: Type.String(),
      quotaMB: Type.Union([Type.Integer(), Type.Null()]),
      createdAt: Timestamp,
    }),
  ),
  keys: Type.Array(
    Type.Object({
      name: Type.String(),
      accessKey: Type.String(),
      bucket: Type.String(),
      actions: Type.Array(Type.String()),
      status: Type.String(),
      createdAt: Timestamp,
    }),
  ),
  mounts: Type.Array(
    Type.Object({
      name: Type.String(),
      node: Type.String(),
      path: Type.String(),
      dir: Type.String(),
      createdAt: Timestamp,
    }),
  ),
  createdAt: Timestamp,
});

const Postgres = Type.Object(
  {
    host: Loose(253),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    database: Loose(63),
    user: Loose(63),
    password: Loose(256),
    sslmode: Type.Union([Type.Literal('disable'), Type.Literal('require'), Type.Literal('verify-full')]),
  },
  { additionalProperties: false },
);

export const seaweedRoutes = {
  listStorageReleases: route({
    method: 'GET',
    path: '/api/storage/releases',
    summary: 'SeaweedFS releases grim recorded (with the SHA-256 grim checks on every install)',
    tag: 'storage',
    role: 'viewer',
    response: Type.Object({ releases: Type.Array(Release) }),
  }),
  addStorageRelease: route({
    method: 'POST',
    path: '/api/storage/releases',
    summary: 'Record a SeaweedFS release: a release tarball URL or a weed binary on the control node',
    tag: 'storage',
    role: 'admin',
    body: Type.Object(
      {
        version: Loose(64),
        url: Type.Optional(Loose(2048)),
        path: Type.Optional(Loose(1024)),
        sha256: Type.Optional(Loose(64)),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ release: Release }),
  }),
  listStorageClusters: route({
    method: 'GET',
    path: '/api/storage/clusters',
    summary: 'SeaweedFS clusters, one per environment',
    tag: 'storage',
    role: 'viewer',
    response: Type.Object({ clusters: Type.Array(StorageClusterView) }),
  }),
  getStorageCluster: route({
    method: 'GET',
    path: '/api/storage/clusters/:environment',
    summary: "An environment's SeaweedFS cluster: services, health, buckets, keys (names only), mounts",
    tag: 'storage',
    role: 'viewer',
    params: EnvParams,
    response: Type.Object({ cluster: StorageClusterView }),
  }),
  createStorageCluster: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment',
    summary:
      'Set up SeaweedFS on storage nodes (masters, volume servers, filers, S3 gateways); provisions in the background',
    tag: 'storage',
    role: 'admin',
    params: EnvParams,
    body: Type.Object(
      {
        masters: NodeList,
        volumes: Type.Optional(NodeList),
        filers: NodeList,
        filerStore: Type.Optional(Type.Union([Type.Literal('leveldb2'), Type.Literal('postgres')])),
        postgres: Type.Optional(Postgres),
        s3: NodeList,
        replication: Type.Optional(Loose(8)),
        volumeSizeLimitMB: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
        maxVolumes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
        volumeQuotaMB: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 1_000_000_000,
            description:
              "refquota of each volume server's ZFS dataset (nodes with a pool); 0: 90% of the pool",
          }),
        ),
        version: Loose(64),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ cluster: StorageClusterView }),
  }),
  deleteStorageCluster: route({
    method: 'DELETE',
    path: '/api/storage/clusters/:environment',
    summary: 'Stop and remove every SeaweedFS service of the environment (data kept unless deleteData)',
    tag: 'storage',
    role: 'admin',
    params: EnvParams,
    query: Type.Object({ deleteData: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    response: Ok,
  }),
  pollSeaweedHealth: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/health',
    summary: 'Poll the cluster now (masters, volume servers, filers, S3 gateways) and return its health',
    tag: 'storage',
    role: 'operator',
    params: EnvParams,
    response: Type.Object({ health: Health }),
  }),
  listStorageBuckets: route({
    method: 'GET',
    path: '/api/storage/clusters/:environment/buckets',
    summary: 'Buckets with quota and size',
    tag: 'storage',
    role: 'viewer',
    params: EnvParams,
    response: Type.Object({
      buckets: Type.Array(
        Type.Object({
          name: Type.String(),
          quotaMB: Type.Union([Type.Integer(), Type.Null()]),
          sizeBytes: Type.Union([Type.Integer(), Type.Null()]),
          createdAt: Timestamp,
        }),
      ),
    }),
  }),
  createStorageBucket: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/buckets',
    summary: 'Create a bucket, optionally with a quota',
    tag: 'storage',
    role: 'operator',
    params: EnvParams,
    body: Type.Object(
      { name: Loose(256), quotaMB: Type.Optional(Type.Integer()) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      bucket: Type.Object({ name: Type.String(), quotaMB: Type.Union([Type.Integer(), Type.Null()]) }),
    }),
  }),
  deleteStorageBucket: route({
    method: 'DELETE',
    path: '/api/storage/clusters/:environment/buckets/:bucket',
    summary: 'Delete an empty bucket without active keys',
    tag: 'storage',
    role: 'operator',
    params: Type.Object({ environment: Name, bucket: Loose(256) }, { additionalProperties: false }),
    response: Ok,
  }),
  grantStorageBucket: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/buckets/:bucket/grant',
    summary:
      'Give an app a key limited to this bucket: deploys it with S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY secrets',
    tag: 'storage',
    role: 'operator',
    params: Type.Object({ environment: Name, bucket: Loose(256) }, { additionalProperties: false }),
    body: Type.Object(
      { app: Loose(63), actions: Type.Optional(Type.Array(Loose(16), { maxItems: 8 })) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      key: Type.Object({
        name: Type.String(),
        accessKey: Type.String(),
        bucket: Type.String(),
        actions: Type.Array(Type.String()),
      }),
      release: Type.Integer(),
      jobId: Type.String(),
    }),
  }),
  createStorageKey: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/keys',
    summary: 'Create an S3 key limited to one bucket; the secret is shown once',
    tag: 'storage',
    role: 'operator',
    params: EnvParams,
    body: Type.Object(
      { name: Loose(256), bucket: Loose(256), actions: Type.Array(Loose(16), { maxItems: 8 }) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      key: Type.Object({
        name: Type.String(),
        bucket: Type.String(),
        actions: Type.Array(Type.String()),
        accessKey: Type.String(),
        secretKey: Type.String(),
        endpoints: Type.Array(Type.String()),
      }),
    }),
  }),
  retireStorageKey: route({
    method: 'DELETE',
    path: '/api/storage/clusters/:environment/keys/:accessKey',
    summary: 'Retire a key: the gateways refuse it at once',
    tag: 'storage',
    role: 'operator',
    params: Type.Object({ environment: Name, accessKey: Loose(64) }, { additionalProperties: false }),
    response: Ok,
  }),
  createStorageMount: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/mounts',
    summary: 'Mount a filer path on a node (a supervised weed mount)',
    tag: 'storage',
    role: 'operator',
    params: EnvParams,
    body: Type.Object(
      { name: Loose(256), node: Loose(63), path: Loose(1024), dir: Loose(1024) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      mount: Type.Object({
        name: Type.String(),
        node: Type.String(),
        path: Type.String(),
        dir: Type.String(),
      }),
    }),
  }),
  deleteStorageMount: route({
    method: 'DELETE',
    path: '/api/storage/clusters/:environment/mounts/:mount',
    summary: 'Unmount and remove a mount service',
    tag: 'storage',
    role: 'operator',
    params: Type.Object({ environment: Name, mount: Loose(256) }, { additionalProperties: false }),
    response: Ok,
  }),
  repairStorage: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/repair',
    summary: 'volume.fix.replication (and balance): a preview, or with apply run under the shell lock',
    tag: 'storage',
    role: 'operator',
    params: EnvParams,
    body: Type.Object(
      { apply: Type.Optional(Type.Boolean()), balance: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      applied: Type.Boolean(),
      commands: Type.Array(Type.String()),
      output: Type.String(),
      underReplicated: Type.Union([Type.Integer(), Type.Null()]),
    }),
  }),
  rotateStorageKeys: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/rotate-keys',
    summary: 'New JWT signing keys on every node, reloaded with SIGHUP in one round',
    tag: 'storage',
    role: 'admin',
    params: EnvParams,
    response: Type.Object({ signalled: Type.Integer(), nodes: Type.Integer(), ms: Type.Integer() }),
  }),
  upgradeStorage: route({
    method: 'POST',
    path: '/api/storage/clusters/:environment/upgrade',
    summary:
      'Rolling upgrade (or rollback) to another recorded release, keeping quorum; stops at the first failure',
    tag: 'storage',
    role: 'admin',
    params: EnvParams,
    body: Type.Object(
      {
        version: Loose(64),
        includeGateways: Type.Optional(
          Type.Boolean({
            description: 'also restart a filer or S3 gateway that is the only one (S3 pauses)',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ from: Type.String(), to: Type.String() }),
  }),
};
