/**
 * The monitoring stack grim deploys on one node of a group: Cortex (single process, blocks storage), Loki
 * (single binary, TSDB, schema v13), Tempo (single binary, OTLP receivers bound to the node's address) and
 * Grafana, each a supervised service on a fixed port, from a release the admin recorded. This file plans it:
 * ports, directories, each component's configuration files and arguments, the endpoints grim then feeds
 * (remote write, log push, OTLP) and the problems that stop it. Secrets arrive as values and leave as files
 * the plan marks secret, so a preview can show everything else.
 */
import {
  cortexAddressFlags,
  cortexConfig,
  cortexDirectories,
  type ObjectStorage,
} from '../../integrations/stack/cortex-config.ts';
import { lokiConfig, tempoConfig } from '../../integrations/stack/loki-tempo-config.ts';
import { grafanaDashboardProvider, grafanaDatasources } from '../../integrations/stack/grafana.ts';
import { grimDashboards } from '../../integrations/stack/dashboards.ts';
import { stringify } from 'yaml';

export const COMPONENTS = ['cortex', 'loki', 'tempo', 'grafana'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Fixed ports, so every config can name its peers before anything runs. */
export const STACK_PORTS = {
  cortex: { http: 9009, grpc: 9095 },
  loki: { http: 3100, grpc: 9096 },
  tempo: { http: 3200, grpc: 9097, otlpGrpc: 4317, otlpHttp: 4318 },
  grafana: { http: 3000 },
} as const;

/** How each component says it is ready (HTTP GET on its port answers 200). */
export const READY_PATH: Record<Component, string> = {
  cortex: '/ready',
  loki: '/ready',
  tempo: '/ready',
  grafana: '/api/health',
};

/** Buckets (and key names) on the environment's SeaweedFS; Grafana keeps its state on the node. */
export const BUCKETS: Partial<Record<Component, string>> = {
  cortex: 'grim-monitoring-cortex',
  loki: 'grim-monitoring-loki',
  tempo: 'grim-monitoring-tempo',
};

export const DEFAULT_NODE_DIR = '/var/lib/grim/monitoring';

/** Where things live on the node, under one base directory. */
export function stackLayout(base: string) {
  return {
    base,
    services: `${base}/services`,
    releases: (c: Component) => `${base}/releases/${c}`,
    config: (c: Component) => `${base}/${c}/config`,
    data: (c: Component) => `${base}/${c}/data`,
  };
}

export interface ReleaseRef {
  version: string;
  sha256: string;
  /** the executable, relative to the unpacked release */
  entry: string;
}

export interface StackInput {
  environment: string;
  node: { name: string; address: string };
  nodeDir: string;
  tenant: string;
  releases: Partial<Record<Component, ReleaseRef>>;
  /** per component: an S3 bucket with its key, or undefined for a local directory */
  s3: Partial<Record<Component, Extract<ObjectStorage, { kind: 's3' }>>>;
  grafanaAdminPassword: string;
  /** grim's own Alertmanager, for Cortex's ruler */
  alertmanagerUrl?: string;
  /** Loki's schema period start (YYYY-MM-DD): kept from the first enable */
  lokiSchemaFrom: string;
}

export interface PlannedFile {
  name: string;
  content: string;
  /** holds a secret: shown redacted in a preview */
  secret: boolean;
}

export interface PlannedComponent {
  component: Component;
  /** supervised service id on the node */
  id: string;
  release: ReleaseRef;
  ports: Record<string, number>;
  /** arguments, one per element (never a secret) */
  args: string[];
  files: PlannedFile[];
  /** environment of the process (secrets only go here or in files) */
  env: Record<string, string>;
  /** working directory, relative to the unpacked release */
  workdir: string;
  dirs: string[];
  storage: 's3' | 'local';
  bucket: string | null;
  readyUrl: string;
}

export interface StackEndpoints {
  remoteWriteUrl: string | null;
  cortexQueryUrl: string | null;
  lokiUrl: string | null;
  otlpEndpoint: string | null;
  grafanaUrl: string | null;
  tenant: string;
}

export interface StackPlan {
  node: string;
  address: string;
  components: PlannedComponent[];
  endpoints: StackEndpoints;
  problems: string[];
}

const yaml = (o: unknown) => stringify(o, { lineWidth: 0 });
const url = (addr: string, port: number, path = '') =>
  `http://${addr.includes(':') ? `[${addr}]` : addr}:${port}${path}`;

/** Problems of the input itself (a wrong tenant, an address that is not one). */
export function stackInputProblems(i: StackInput): string[] {
  const p: string[] = [];
  if (!/^[A-Za-z0-9_.-]{1,150}$/.test(i.tenant))
    p.push('tenant: 1 to 150 letters, digits, dots, dashes or underscores (X-Scope-OrgID)');
  if (!i.node.address || /^0\.0\.0\.0$|^::$/.test(i.node.address))
    p.push(`node ${i.node.name} has no usable address to bind the stack to`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(i.lokiSchemaFrom)) p.push('Loki schema start must be YYYY-MM-DD');
  if (!/^\/[A-Za-z0-9/_.-]+$/.test(i.nodeDir)) p.push('node directory must be an absolute plain path');
  if (!Object.keys(i.releases).length) p.push('no component to deploy');
  return p;
}

export function planStack(i: StackInput): StackPlan {
  const L = stackLayout(i.nodeDir);
  const addr = i.node.address;
  const has = (c: Component) => !!i.releases[c];
  const storageOf = (c: Component): ObjectStorage =>
    i.s3[c] ?? { kind: 'filesystem', dir: `${L.data(c)}/blocks` };
  const components: PlannedComponent[] = [];
  const add = (
    c: Component,
    p: Omit<PlannedComponent, 'component' | 'id' | 'release' | 'storage' | 'bucket'>,
  ) =>
    components.push({
      component: c,
      id: `grim-${c}`,
      release: i.releases[c]!,
      storage: i.s3[c] ? 's3' : 'local',
      bucket: i.s3[c]?.bucket ?? null,
      ...p,
    });
  const secretStorage = (c: Component) => !!i.s3[c];

  if (has('cortex')) {
    const P = STACK_PORTS.cortex;
    const dataDir = L.data('cortex');
    const cfg = cortexConfig({
      httpPort: P.http,
      grpcPort: P.grpc,
      dataDir,
      storage: storageOf('cortex'),
      ...(i.alertmanagerUrl ? { alertmanagerUrl: i.alertmanagerUrl } : {}),
    });
    const server = cfg.server as Record<string, unknown>;
    server.http_listen_address = addr;
    server.grpc_listen_address = addr;
    add('cortex', {
      ports: { ...P },
      args: [`-config.file=${L.config('cortex')}/cortex.yaml`, ...cortexAddressFlags(addr, P.grpc)],
      files: [{ name: 'cortex.yaml', content: yaml(cfg), secret: secretStorage('cortex') }],
      env: {},
      workdir: '.',
      dirs: [dataDir, ...cortexDirectories({ dataDir }), ...(i.s3.cortex ? [] : [`${dataDir}/blocks`])],
      readyUrl: url(addr, P.http, READY_PATH.cortex),
    });
  }
  if (has('loki')) {
    const P = STACK_PORTS.loki;
    const cfg = lokiConfig({
      httpPort: P.http,
      grpcPort: P.grpc,
      listenAddress: addr,
      dataDir: L.data('loki'),
      storage: storageOf('loki'),
      schemaFrom: i.lokiSchemaFrom,
    });
    add('loki', {
      ports: { ...P },
      args: [`-config.file=${L.config('loki')}/loki.yaml`],
      files: [{ name: 'loki.yaml', content: yaml(cfg), secret: secretStorage('loki') }],
      env: {},
      workdir: '.',
      dirs: [L.data('loki')],
      readyUrl: url(addr, P.http, READY_PATH.loki),
    });
  }
  if (has('tempo')) {
    const P = STACK_PORTS.tempo;
    const cfg = tempoConfig({
      httpPort: P.http,
      grpcPort: P.grpc,
      listenAddress: addr,
      otlpGrpcEndpoint: `${addr}:${P.otlpGrpc}`,
      otlpHttpEndpoint: `${addr}:${P.otlpHttp}`,
      dataDir: L.data('tempo'),
      storage: storageOf('tempo'),
    });
    add('tempo', {
      ports: { ...P },
      args: [`-config.file=${L.config('tempo')}/tempo.yaml`],
      files: [{ name: 'tempo.yaml', content: yaml(cfg), secret: secretStorage('tempo') }],
      env: {},
      workdir: '.',
      dirs: [L.data('tempo')],
      readyUrl: url(addr, P.http, READY_PATH.tempo),
    });
  }
  if (has('grafana')) {
    const P = STACK_PORTS.grafana;
    const conf = L.config('grafana');
    const settings = {
      cortexUrl: url(addr, STACK_PORTS.cortex.http),
      lokiUrl: url(addr, STACK_PORTS.loki.http),
      tempoUrl: url(addr, STACK_PORTS.tempo.http),
      tenant: i.tenant,
      dashboardsDir: `${conf}/dashboards`,
    };
    const dashboards = grimDashboards();
    add('grafana', {
      ports: { ...P },
      args: ['server', `--config=${conf}/grafana.ini`],
      files: [
        { name: 'grafana.ini', content: grafanaIni(addr, P.http, conf, L.data('grafana')), secret: false },
        {
          name: 'provisioning/datasources/grim.yaml',
          content: yaml(grafanaDatasources(settings)),
          secret: false,
        },
        {
          name: 'provisioning/dashboards/grim.yaml',
          content: yaml(grafanaDashboardProvider(settings)),
          secret: false,
        },
        ...dashboards.map((d) => ({
          name: `dashboards/${d.uid}.json`,
          content: JSON.stringify(d, null, 1),
          secret: false,
        })),
      ],
      // the admin password reaches Grafana through its environment file (0600), never an argument
      env: { GF_SECURITY_ADMIN_USER: 'admin', GF_SECURITY_ADMIN_PASSWORD: i.grafanaAdminPassword },
      workdir: grafanaHome(i.releases.grafana!.entry),
      dirs: [L.data('grafana'), `${L.data('grafana')}/plugins`],
      readyUrl: url(addr, P.http, READY_PATH.grafana),
    });
  }
  const endpoints: StackEndpoints = {
    remoteWriteUrl: has('cortex') ? url(addr, STACK_PORTS.cortex.http, '/api/v1/push') : null,
    cortexQueryUrl: has('cortex') ? url(addr, STACK_PORTS.cortex.http, '/prometheus') : null,
    lokiUrl: has('loki') ? url(addr, STACK_PORTS.loki.http) : null,
    otlpEndpoint: has('tempo') ? url(addr, STACK_PORTS.tempo.otlpHttp) : null,
    grafanaUrl: has('grafana') ? url(addr, STACK_PORTS.grafana.http) : null,
    tenant: i.tenant,
  };
  return {
    node: i.node.name,
    address: addr,
    components,
    endpoints,
    problems: [...stackInputProblems(i), ...components.flatMap(componentProblems)],
  };
}

/** Grafana's home (its public/ and conf/) is the release directory holding bin/grafana. */
export function grafanaHome(entry: string): string {
  const parts = entry.split('/');
  return parts.length >= 3 && parts.at(-2) === 'bin' ? parts.slice(0, -2).join('/') : '.';
}

function grafanaIni(addr: string, port: number, conf: string, data: string): string {
  return [
    '[server]',
    `http_addr = ${addr}`,
    `http_port = ${port}`,
    '[paths]',
    `data = ${data}`,
    `logs = ${data}/log`,
    `plugins = ${data}/plugins`,
    `provisioning = ${conf}/provisioning`,
    '[analytics]',
    'reporting_enabled = false',
    'check_for_updates = false',
    'check_for_plugin_updates = false',
    '[users]',
    'allow_sign_up = false',
    '',
  ].join('\n');
}

/** Structural checks of what was generated: explicit addresses, Loki's TSDB v13, no two services on one port. */
function componentProblems(c: PlannedComponent): string[] {
  const p: string[] = [];
  for (const f of c.files)
    if (!/^[a-z0-9][a-z0-9/_.-]*$/.test(f.name) || f.name.includes('..'))
      p.push(`${c.component}: file name ${f.name} is not a plain relative path`);
  if (/(^|\s)(0\.0\.0\.0|\[::\]):\d+/.test(c.files.map((f) => f.content).join('\n')))
    p.push(`${c.component}: a listener is bound to all interfaces`);
  if (c.component === 'loki' && !/schema: v13/.test(c.files[0].content))
    p.push('loki: the schema period is not v13');
  if (c.component === 'loki' && !/store: tsdb/.test(c.files[0].content))
    p.push('loki: the index store is not tsdb');
  return p;
}

/** A preview: every generated file, with secret values replaced. */
export function redactPlan(plan: StackPlan, secrets: string[]): StackPlan {
  const hide = (s: string) => secrets.filter(Boolean).reduce((t, v) => t.split(v).join('<sealed>'), s);
  return {
    ...plan,
    components: plan.components.map((c) => ({
      ...c,
      files: c.files.map((f) => ({ ...f, content: f.secret ? hide(f.content) : f.content })),
      env: Object.fromEntries(
        Object.entries(c.env).map(([k, v]) => [k, /PASSWORD|SECRET/.test(k) ? '<sealed>' : v]),
      ),
    })),
  };
}
