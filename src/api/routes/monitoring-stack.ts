import Type from 'typebox';
import { route } from '../route.ts';
import { Name, Ok, Timestamp } from '../common.ts';

/** Free-form strings with only a length bound: the monitoring service checks them and lists every problem. */
const Loose = (max: number) => Type.String({ maxLength: max });

const StackRelease = Type.Object({
  component: Type.String(),
  version: Type.String(),
  sha256: Type.String(),
  sizeBytes: Type.Integer(),
  kind: Type.String({ description: 'binary or tarball' }),
  entry: Type.String({ description: 'the executable, relative to the unpacked release' }),
  source: Type.String(),
  recordedAt: Timestamp,
});

const Endpoints = Type.Object({
  remoteWriteUrl: Type.Union([Type.String(), Type.Null()]),
  cortexQueryUrl: Type.Union([Type.String(), Type.Null()]),
  lokiUrl: Type.Union([Type.String(), Type.Null()]),
  otlpEndpoint: Type.Union([Type.String(), Type.Null()]),
  grafanaUrl: Type.Union([Type.String(), Type.Null()]),
  tenant: Type.String(),
});

const PlannedComponent = Type.Object({
  component: Type.String(),
  id: Type.String(),
  release: Type.Object({ version: Type.String(), sha256: Type.String(), entry: Type.String() }),
  ports: Type.Record(Type.String(), Type.Integer()),
  args: Type.Array(Type.String()),
  files: Type.Array(Type.Object({ name: Type.String(), content: Type.String(), secret: Type.Boolean() })),
  env: Type.Record(Type.String(), Type.String()),
  workdir: Type.String(),
  dirs: Type.Array(Type.String()),
  storage: Type.String({ description: 's3 (own bucket and key on the SeaweedFS cluster) or local' }),
  bucket: Type.Union([Type.String(), Type.Null()]),
  readyUrl: Type.String(),
});

const StackPlanView = Type.Object({
  environment: Type.String(),
  plan: Type.Object({
    node: Type.String(),
    address: Type.String(),
    components: Type.Array(PlannedComponent),
    endpoints: Endpoints,
    problems: Type.Array(Type.String()),
  }),
});

export const MonitoringStackView = Type.Object({
  environment: Type.String(),
  group: Type.String(),
  node: Type.String(),
  tenant: Type.String(),
  versions: Type.Record(Type.String(), Type.String()),
  storage: Type.String(),
  s3AccessKeys: Type.Record(Type.String(), Type.String()),
  endpoints: Endpoints,
  state: Type.String({ description: 'deploying, ready or failed' }),
  stateReason: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const EnableBody = Type.Object(
  {
    group: Loose(63),
    node: Type.Optional(Loose(63)),
    tenant: Type.Optional(Loose(150)),
    components: Type.Optional(Type.Array(Loose(16), { maxItems: 8 })),
  },
  { additionalProperties: false },
);

export const monitoringStackRoutes = {
  listMonitoringReleases: route({
    method: 'GET',
    path: '/api/monitoring/releases',
    summary: 'Releases of Cortex, Loki, Tempo and Grafana grim may install (with the SHA-256 it checks)',
    tag: 'monitoring',
    role: 'viewer',
    response: Type.Object({ releases: Type.Array(StackRelease) }),
  }),
  addMonitoringRelease: route({
    method: 'POST',
    path: '/api/monitoring/releases',
    summary:
      'Record a release of a stack component: a binary or release tarball, by URL or a file on the control node',
    tag: 'monitoring',
    role: 'admin',
    body: Type.Object(
      {
        component: Loose(16),
        version: Loose(64),
        url: Type.Optional(Loose(2048)),
        path: Type.Optional(Loose(1024)),
        sha256: Type.Optional(Loose(64)),
        entry: Type.Optional(Loose(256)),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ release: StackRelease }),
  }),
  planMonitoring: route({
    method: 'POST',
    path: '/api/monitoring/plan',
    summary:
      'What enabling monitoring on a group would deploy: every generated config (secrets sealed), ports, storage',
    tag: 'monitoring',
    role: 'admin',
    body: EnableBody,
    response: StackPlanView,
  }),
  enableMonitoring: route({
    method: 'POST',
    path: '/api/monitoring/enable',
    summary:
      "Deploy Cortex, Loki, Tempo and Grafana on a group's node and point remote write, log shipping and traces at them",
    tag: 'monitoring',
    role: 'admin',
    body: EnableBody,
    response: StackPlanView,
  }),
  listMonitoringStacks: route({
    method: 'GET',
    path: '/api/monitoring/stacks',
    summary: 'The monitoring stacks grim deployed (one per environment), with their endpoints',
    tag: 'monitoring',
    role: 'viewer',
    response: Type.Object({ stacks: Type.Array(MonitoringStackView) }),
  }),
  disableMonitoring: route({
    method: 'DELETE',
    path: '/api/monitoring/stacks/:environment',
    summary: "Stop and remove an environment's monitoring stack (its data and buckets stay)",
    tag: 'monitoring',
    role: 'admin',
    params: Type.Object({ environment: Name }, { additionalProperties: false }),
    response: Ok,
  }),
};
