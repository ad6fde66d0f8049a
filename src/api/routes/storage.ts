import Type from 'typebox';
import { route } from '../route.ts';
import { Limit, Name, Ok, Timestamp } from '../common.ts';

// Pool, dataset and snapshot names and disk paths are plain bounded strings here: the domain checks
// them against ZFS's naming rules and lists every problem (a schema pattern would name only one).
const ZfsName = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'checked against ZFS naming rules',
});
const DiskPath = Type.String({ minLength: 1, maxLength: 1024, description: 'a /dev/disk/by-id/... path' });
const Disks = Type.Array(DiskPath, { maxItems: 256 });
const ByteQuantity = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'e.g. 10Gi, 500M, 1073741824, or none',
});

export const LayoutSchema = Type.Union([
  Type.Literal('stripe'),
  Type.Literal('mirror'),
  Type.Literal('striped-mirrors'),
  Type.Literal('raidz1'),
  Type.Literal('raidz2'),
  Type.Literal('raidz3'),
  Type.Literal('draid1'),
  Type.Literal('draid2'),
  Type.Literal('draid3'),
]);

export const PoolRequest = Type.Object(
  {
    name: ZfsName,
    layout: LayoutSchema,
    disks: Disks,
    width: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: 'disks per mirror or raidz vdev' }),
    ),
    log: Type.Optional(Disks),
    cache: Type.Optional(Disks),
    special: Type.Optional(Disks),
    spares: Type.Optional(Disks),
    compression: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
    mountpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const DiskCount = Type.Integer({ minimum: 0, maximum: 256 });
/** The same layout for several nodes: disks by path (the same on each) or by role and count (`take`). */
export const MultiPoolRequest = Type.Object(
  {
    ...PoolRequest.properties,
    disks: Type.Optional(Disks),
    take: Type.Optional(
      Type.Object(
        {
          data: Type.Optional({
            ...DiskCount,
            description: 'data disks per node; 0 or absent: all free ones left',
          }),
          log: Type.Optional(DiskCount),
          cache: Type.Optional(DiskCount),
          special: Type.Optional(DiskCount),
          spares: Type.Optional(DiskCount),
        },
        {
          additionalProperties: false,
          description: "each node's own free disks by role and count (log/special/cache take SSDs first)",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const MultiPoolBody = Type.Object(
  {
    nodes: Type.Array(Name, { minItems: 1, maxItems: 64 }),
    pool: MultiPoolRequest,
    confirm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const PlanView = Type.Object({
  name: Type.String(),
  layout: Type.String(),
  vdevs: Type.Array(Type.Object({ kind: Type.String(), disks: Type.Array(Type.String()) })),
  rawBytes: Type.Integer(),
  usableBytes: Type.Integer(),
  wastedBytes: Type.Integer(),
  faultTolerance: Type.Object({
    perVdev: Type.Integer(),
    guaranteed: Type.Integer(),
    bestCase: Type.Integer(),
    description: Type.String(),
  }),
  warnings: Type.Array(Type.String()),
  argv: Type.Array(Type.String()),
  commandLine: Type.String(),
});

const ActionView = Type.Object({
  command: Type.String(),
  ran: Type.Boolean(),
  result: Type.Optional(Type.Unknown()),
});
const NodeParams = Type.Object({ node: Name }, { additionalProperties: false });
const PoolParams = Type.Object({ node: Name, pool: ZfsName }, { additionalProperties: false });

const StorageNodeView = Type.Object({
  node: Type.String(),
  capabilities: Type.Unknown(),
  disks: Type.Array(Type.Unknown()),
  pools: Type.Array(Type.Unknown()),
  health: Type.Array(Type.Unknown()),
  datasets: Type.Array(Type.Unknown()),
  error: Type.String(),
  checkedAt: Timestamp,
  schedules: Type.Array(
    Type.Object({
      target: Type.String(),
      kind: Type.String(),
      label: Type.String(),
      everySeconds: Type.Integer(),
      keep: Type.Integer(),
      lastRunAt: Timestamp,
      nextRunAt: Timestamp,
      lastResult: Type.String(),
    }),
  ),
});

const tag = 'storage';

export const storageRoutes = {
  listStorageNodes: route({
    method: 'GET',
    path: '/api/storage/nodes',
    summary: 'Storage nodes grim has read, with pool health',
    tag,
    role: 'viewer',
    response: Type.Object({
      nodes: Type.Array(
        Type.Object({
          node: Type.String(),
          capabilities: Type.Unknown(),
          health: Type.Array(Type.Unknown()),
          disks: Type.Integer(),
          error: Type.String(),
          checkedAt: Timestamp,
        }),
      ),
    }),
  }),
  getStorageNode: route({
    method: 'GET',
    path: '/api/storage/nodes/:node',
    summary: "A node's disks, pools (vdev trees, scans), datasets, snapshots and schedules",
    tag,
    role: 'viewer',
    params: NodeParams,
    query: Type.Object({ refresh: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    response: StorageNodeView,
  }),
  checkStorageNode: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/check',
    summary: 'Read the node now: inventory, pool health (events are recorded like the minute loop does)',
    tag,
    role: 'operator',
    params: NodeParams,
    response: StorageNodeView,
  }),
  planPool: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/pool-plan',
    summary:
      'The pool wizard: capacity, fault tolerance, warnings and the exact zpool create command. Nothing runs.',
    tag,
    role: 'viewer',
    params: NodeParams,
    body: PoolRequest,
    response: PlanView,
  }),
  createPool: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/pools',
    summary: 'Create a pool; without confirm:true only the plan is returned',
    tag,
    role: 'admin',
    params: NodeParams,
    body: Type.Object(
      { pool: PoolRequest, confirm: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      plan: PlanView,
      ran: Type.Boolean(),
      pool: Type.Optional(Type.Unknown()),
      health: Type.Optional(Type.Unknown()),
    }),
  }),
  planPools: route({
    method: 'POST',
    path: '/api/storage/pool-plans',
    summary:
      'The pool wizard on several nodes (the same layout on each): every node planned, every problem of every node listed. Nothing runs.',
    tag,
    role: 'viewer',
    body: MultiPoolBody,
    response: Type.Object({ nodes: Type.Array(Type.Object({ node: Type.String(), plan: PlanView })) }),
  }),
  createPools: route({
    method: 'POST',
    path: '/api/storage/pools',
    summary:
      'Create the same layout on several nodes: nothing is created unless every node plan holds; without confirm:true only the plans are returned',
    tag,
    role: 'admin',
    body: MultiPoolBody,
    response: Type.Object({
      nodes: Type.Array(
        Type.Object({
          node: Type.String(),
          plan: PlanView,
          ran: Type.Boolean(),
          pool: Type.Optional(Type.Unknown()),
          health: Type.Optional(Type.Unknown()),
          error: Type.Optional(Type.String({ description: 'why creating failed on this node' })),
        }),
      ),
    }),
  }),
  destroyPool: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/pools/:pool/destroy',
    summary: "Destroy a pool: confirm must be the pool's name (without it, only the command is shown)",
    tag,
    role: 'admin',
    params: PoolParams,
    body: Type.Object(
      { confirm: Type.Optional(Type.String({ maxLength: 1024 })) },
      { additionalProperties: false },
    ),
    response: ActionView,
  }),
  importPool: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/pools/import',
    summary: 'List importable pools, or import (adopt) one',
    tag,
    role: 'admin',
    params: NodeParams,
    body: Type.Object(
      { pool: Type.Optional(ZfsName), dir: Type.Optional(DiskPath) },
      { additionalProperties: false },
    ),
    response: ActionView,
  }),
  scrubPool: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/pools/:pool/scrub',
    summary: 'Start (or stop) a scrub now',
    tag,
    role: 'operator',
    params: PoolParams,
    body: Type.Object({ stop: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    response: ActionView,
  }),
  setScrubSchedule: route({
    method: 'PUT',
    path: '/api/storage/nodes/:node/pools/:pool/scrub-schedule',
    summary: 'How often the pool is scrubbed (default every 30 days)',
    tag,
    role: 'admin',
    params: PoolParams,
    body: Type.Object(
      {
        every: Type.String({ minLength: 1, maxLength: 16, description: 'e.g. 30d, 7d, 12h' }),
        next: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 40,
            description: 'when the next scrub starts: "now" or a date-time like 2027-01-01T03:00Z',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    response: Ok,
  }),
  poolDevice: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/pools/:pool/devices',
    summary:
      'Offline, online or clear a device, or replace it (replace shows its command until confirm:true)',
    tag,
    role: 'admin',
    params: PoolParams,
    body: Type.Object(
      {
        action: Type.Union([
          Type.Literal('offline'),
          Type.Literal('online'),
          Type.Literal('clear'),
          Type.Literal('replace'),
        ]),
        device: Type.Optional(DiskPath),
        newDevice: Type.Optional(DiskPath),
        confirm: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: ActionView,
  }),
  createDataset: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/datasets',
    summary:
      'Create a dataset (or set its properties): quota, refquota, reservation, compression, recordsize',
    tag,
    role: 'operator',
    params: NodeParams,
    body: Type.Object(
      {
        name: ZfsName,
        quota: Type.Optional(ByteQuantity),
        refquota: Type.Optional(ByteQuantity),
        reservation: Type.Optional(ByteQuantity),
        compression: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
        recordsize: Type.Optional(ByteQuantity),
        dryRun: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: ActionView,
  }),
  destroyDataset: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/datasets/destroy',
    summary: 'Destroy a dataset with its children and snapshots: confirm must be its name',
    tag,
    role: 'admin',
    params: NodeParams,
    body: Type.Object(
      { name: ZfsName, confirm: Type.Optional(Type.String({ maxLength: 1024 })) },
      { additionalProperties: false },
    ),
    response: ActionView,
  }),
  snapshotAction: route({
    method: 'POST',
    path: '/api/storage/nodes/:node/snapshots',
    summary: 'Take, destroy or roll back to a snapshot (pool/dataset@name)',
    tag,
    role: 'operator',
    params: NodeParams,
    body: Type.Object(
      {
        action: Type.Union([Type.Literal('create'), Type.Literal('destroy'), Type.Literal('rollback')]),
        name: ZfsName,
        recursive: Type.Optional(Type.Boolean()),
        destroyNewer: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: ActionView,
  }),
  setSnapshotPolicy: route({
    method: 'PUT',
    path: '/api/storage/nodes/:node/snapshot-policies',
    summary: 'Keep the newest N hourly, daily or weekly snapshots of a dataset (run by the scheduler)',
    tag,
    role: 'admin',
    params: NodeParams,
    body: Type.Object(
      {
        dataset: ZfsName,
        label: Type.Union([Type.Literal('hourly'), Type.Literal('daily'), Type.Literal('weekly')]),
        keep: Type.Integer({ minimum: 1, maximum: 1000 }),
        every: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
      },
      { additionalProperties: false },
    ),
    response: Ok,
  }),
  replicateDataset: route({
    method: 'POST',
    path: '/api/storage/replications',
    summary:
      'Send a snapshot to another storage node (incremental with from), relayed by grim; progress in its job',
    tag,
    role: 'admin',
    body: Type.Object(
      {
        sourceNode: Name,
        snapshot: ZfsName,
        targetNode: Name,
        targetDataset: ZfsName,
        from: Type.Optional(ZfsName),
        wait: Type.Optional(
          Type.Boolean({
            description:
              'false: answer at once with the job id; the job shows the bytes sent so far and the outcome',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({
      running: Type.Optional(Type.Boolean({ description: 'true when answered before the stream ended' })),
      jobId: Type.Optional(
        Type.String({ description: 'the job with the progress lines (bytes sent, rate) and the outcome' }),
      ),
      command: Type.String(),
      bytes: Type.Integer(),
      seconds: Type.Number(),
      incremental: Type.Boolean(),
      received: Type.Unknown(),
    }),
  }),
  storageEvents: route({
    method: 'GET',
    path: '/api/storage/events',
    summary: 'Pool health events (state changes, errors, scrubs, capacity)',
    tag,
    role: 'viewer',
    query: Type.Object(
      { node: Type.Optional(Name), limit: Type.Optional(Limit) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      events: Type.Array(
        Type.Object({
          id: Type.String(),
          at: Timestamp,
          node: Type.String(),
          pool: Type.String(),
          kind: Type.String(),
          severity: Type.String(),
          message: Type.String(),
        }),
      ),
    }),
  }),
};
