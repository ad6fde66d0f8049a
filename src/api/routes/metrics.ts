import Type from 'typebox';
import { route } from '../route.ts';
import { Name, Timestamp } from '../common.ts';

const Resources = Type.Object({ cpuMillis: Type.Number(), memoryBytes: Type.Number() });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Scope = Type.Union([
  Type.Literal('node'),
  Type.Literal('instance'),
  Type.Literal('app'),
  Type.Literal('group'),
]);

export const SeriesView = Type.Object({
  scope: Scope,
  name: Type.String(),
  metric: Type.String(),
  dim: Type.String(),
  unit: Type.String(),
  from: Timestamp,
  to: Timestamp,
  resolution: Type.Union([Type.Literal('raw'), Type.Literal('1m'), Type.Literal('15m')]),
  stepMs: Type.Integer({ description: 'bucket width; 0 for raw samples' }),
  fn: Type.Union([Type.Literal('sum'), Type.Literal('avg'), Type.Null()], {
    description: 'how a group or app combines its members',
  }),
  points: Type.Array(
    Type.Object({
      ts: Timestamp,
      value: Type.Number(),
      max: Type.Optional(Type.Number({ description: 'bucket maximum (rollups)' })),
      entities: Type.Optional(Type.Integer({ description: 'members with data in this bucket' })),
    }),
  ),
});

export const NodeCapacityView = Type.Object({
  node: Type.String(),
  state: Type.String(),
  cores: Type.Number(),
  allocatable: Resources,
  requested: Resources,
  used: Type.Object({ cpuMillis: NullableNumber, memoryBytes: NullableNumber, at: NullableNumber }),
});

export const GroupCapacityView = Type.Object({
  group: Type.String(),
  environment: Type.String(),
  nodes: Type.Array(Type.String()),
  allocatable: Resources,
  requested: Resources,
  used: Type.Object({
    cpuMillis: Type.Number(),
    memoryBytes: Type.Number(),
    nodesWithUsage: Type.Integer(),
  }),
});

export const NodeTopView = Type.Object({
  node: Type.String(),
  environment: Type.String(),
  state: Type.String(),
  at: NullableNumber,
  cpuBusyPct: NullableNumber,
  load1: NullableNumber,
  memUsedBytes: NullableNumber,
  memTotalBytes: NullableNumber,
  netRxBytesPerS: NullableNumber,
  netTxBytesPerS: NullableNumber,
  diskReadBytesPerS: NullableNumber,
  diskWriteBytesPerS: NullableNumber,
  fsUsedPct: NullableNumber,
});

export const metricRoutes = {
  getMetricSeries: route({
    method: 'GET',
    path: '/api/metrics/series',
    summary:
      'A usage time series of a node, instance, app or group; the server picks the step from the range',
    tag: 'metrics',
    role: 'viewer',
    query: Type.Object(
      {
        scope: Scope,
        name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
        metric: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_]+$' }),
        dim: Type.Optional(
          Type.String({ maxLength: 256, description: 'core, mountpoint, device or interface' }),
        ),
        from: Type.Optional(Timestamp),
        to: Type.Optional(Timestamp),
        fn: Type.Optional(Type.Union([Type.Literal('sum'), Type.Literal('avg')])),
      },
      { additionalProperties: false },
    ),
    response: SeriesView,
  }),
  getCapacity: route({
    method: 'GET',
    path: '/api/metrics/capacity',
    summary: 'Requested vs allocatable vs actually used, per node and per group',
    tag: 'metrics',
    role: 'viewer',
    query: Type.Object(
      { node: Type.Optional(Name), group: Type.Optional(Name), environment: Type.Optional(Name) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      nodes: Type.Array(NodeCapacityView),
      groups: Type.Array(GroupCapacityView),
      windowMs: Type.Integer({ description: 'used CPU is averaged over this window' }),
    }),
  }),
  getNodeTop: route({
    method: 'GET',
    path: '/api/metrics/top/nodes',
    summary: 'The latest usage of every node (grim node top)',
    tag: 'metrics',
    role: 'viewer',
    query: Type.Object(
      { group: Type.Optional(Name), environment: Type.Optional(Name) },
      { additionalProperties: false },
    ),
    response: Type.Object({ nodes: Type.Array(NodeTopView) }),
  }),
};
