/**
 * The app model and its validation (pure). An app is what the user asked for; a release freezes one version
 * of it. Validation collects every problem with a path, so the API can answer with all of them at once.
 */
import { resolveResources, type Resources, type ResourceRequest, type Size } from '../sizes.ts';
import {
  checkVolumes,
  sharedHostPath,
  volumeEnvName,
  volumeHostPath,
  type VolumeInput,
  type VolumeSpec,
} from '../volumes/spec.ts';

import { RUNTIMES, VM_RUNTIMES, type Runtime } from '../runtimes.ts';
import { SOURCES_BY_RUNTIME, type AppSourceKind, type Failover, type VmNetworkMode } from './sources.ts';

export { VM_RUNTIMES };
export type { Failover, VmNetworkMode };
export const APP_RUNTIMES = RUNTIMES;
export type AppRuntime = Runtime;

export type HealthCheck =
  | { type: 'http'; port?: string; path: string; intervalSec: number; timeoutSec: number; retries: number }
  | { type: 'tcp'; port?: string; intervalSec: number; timeoutSec: number; retries: number }
  | { type: 'command'; command: string; intervalSec: number; timeoutSec: number; retries: number };

/** A port the app listens on. The host port is allocated per instance (several instances may share a node). */
export type AppPort = { name: string; port: number };

export type AppSourceSpec =
  | { kind: 'image'; image: string }
  | { kind: 'tarball'; tarball: string; runtime: string; command: string[] }
  | { kind: 'script'; start: string; stop?: string; status?: string };
/** Compile-time check that the source variants are exactly the declared kinds (src/domain/apps/sources.ts). */
export const _sourceKindsMatch: [AppSourceKind, AppSourceSpec['kind']] extends [
  AppSourceSpec['kind'],
  AppSourceKind,
]
  ? true
  : never = true;

/** Everything about an app that is not secret. Secrets travel sealed, next to it. */
export type AppSpec = {
  replicas: number;
  request: ResourceRequest;
  size: string | null;
  resources: Resources;
  runtime: AppRuntime;
  source: AppSourceSpec;
  ports: AppPort[];
  env: Record<string, string>;
  secretNames: string[];
  health: HealthCheck | null;
  failover: Failover;
  maxParallel: number;
  /** MicroVM runtimes only (default nat). */
  network?: VmNetworkMode;
  /** Persistent volumes (absent: none). */
  volumes?: VolumeSpec[];
};

/** What a user sends to create or change an app (text quantities, secrets in clear). */
export type AppInput = {
  replicas?: number;
  size?: string;
  cpu?: string;
  memory?: string;
  disk?: string;
  runtime?: string;
  source?: AppSourceSpec;
  ports?: AppPort[];
  env?: Record<string, string>;
  secrets?: Record<string, string | null>;
  health?: Partial<HealthCheck> | null;
  failover?: Failover;
  maxParallel?: number;
  network?: VmNetworkMode;
  volumes?: VolumeInput[];
};

export type Problem = { path: string; message: string };

export const APP_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables grim sets itself for every instance. */
const RESERVED_ENV = /^(GRIM_|PORT$|PORT_)/;
const MAX_SCRIPT = 64 * 1024;

export function checkAppName(name: string): string | undefined {
  return APP_NAME.test(name)
    ? undefined
    : `app name "${name}" is invalid: 1 to 32 lowercase letters, digits and "-", starting and ending with a letter or digit`;
}

function checkEnvMap(map: Record<string, unknown>, path: string, problems: Problem[]) {
  for (const [k, v] of Object.entries(map)) {
    if (!ENV_NAME.test(k))
      problems.push({ path: `${path}/${k}`, message: `"${k}" is not a valid variable name` });
    else if (RESERVED_ENV.test(k))
      problems.push({
        path: `${path}/${k}`,
        message: `"${k}" is reserved (grim sets GRIM_*, PORT and PORT_*)`,
      });
    if (v !== null && (typeof v !== 'string' || v.includes('\0')))
      problems.push({ path: `${path}/${k}`, message: 'must be a string without NUL bytes' });
  }
}

function checkSource(runtime: AppRuntime, source: AppSourceSpec | undefined, problems: Problem[]) {
  if (!source) return problems.push({ path: 'body/source', message: 'a source is required' });
  if (runtime === 'script') {
    if (source.kind !== 'script')
      return problems.push({ path: 'body/source', message: 'the script runtime needs a script source' });
    for (const k of ['start', 'stop', 'status'] as const) {
      const body = source[k];
      if (body === undefined) continue;
      if (typeof body !== 'string' || body.trim() === '' || body.length > MAX_SCRIPT || body.includes('\0'))
        problems.push({
          path: `body/source/${k}`,
          message: `must be a non-empty sh script of at most ${MAX_SCRIPT} bytes`,
        });
    }
  } else if (!(runtime in SOURCES_BY_RUNTIME)) {
    return; // an unknown runtime is reported on its own
  } else if (!SOURCES_BY_RUNTIME[runtime].includes(source.kind)) {
    problems.push({
      path: 'body/source',
      message: `the ${runtime} runtime needs ${SOURCES_BY_RUNTIME[runtime].map((k) => (k === 'image' ? 'an image' : `a ${k}`)).join(' or ')} source`,
    });
  } else if (source.kind === 'tarball' && VM_RUNTIMES.includes(runtime)) {
    if (!source.runtime.trim())
      problems.push({ path: 'body/source/runtime', message: 'a tarball app names its runtime image' });
    if (!Array.isArray(source.command) || source.command.length === 0 || source.command.some((c) => !c))
      problems.push({ path: 'body/source/command', message: 'a tarball app needs its start command' });
  }
}

function checkPorts(ports: AppPort[], problems: Problem[]) {
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (!/^[a-z][a-z0-9]{0,14}$/.test(p.name))
      problems.push({
        path: `body/ports/${i}/name`,
        message: 'port names are 1 to 15 lowercase letters and digits',
      });
    if (names.has(p.name))
      problems.push({ path: `body/ports/${i}/name`, message: `port "${p.name}" appears twice` });
    names.add(p.name);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
      problems.push({ path: `body/ports/${i}/port`, message: 'must be 1 to 65535' });
  });
}

function buildHealth(h: Partial<HealthCheck> | null | undefined, ports: AppPort[], problems: Problem[]) {
  if (!h) return null;
  const timing = {
    intervalSec: h.intervalSec ?? 2,
    timeoutSec: h.timeoutSec ?? 2,
    retries: h.retries ?? 15,
  };
  for (const [k, v] of Object.entries(timing))
    if (!Number.isInteger(v) || v < 1 || v > 3600)
      problems.push({ path: `body/health/${k}`, message: 'must be 1 to 3600' });
  if (h.type === 'command') {
    if (typeof h.command !== 'string' || !h.command.trim())
      problems.push({ path: 'body/health/command', message: 'a command health check needs a command' });
    return { type: 'command' as const, command: h.command ?? '', ...timing };
  }
  if (h.type !== 'http' && h.type !== 'tcp') {
    problems.push({ path: 'body/health/type', message: 'must be http, tcp or command' });
    return null;
  }
  const port = h.port ?? ports[0]?.name;
  if (!port || !ports.some((p) => p.name === port))
    problems.push({
      path: 'body/health/port',
      message: 'an http or tcp health check needs one of the app ports',
    });
  if (h.type === 'http') {
    const path = h.path ?? '/';
    if (!path.startsWith('/')) problems.push({ path: 'body/health/path', message: 'must start with /' });
    return { type: 'http' as const, port, path, ...timing };
  }
  return { type: 'tcp' as const, port, ...timing };
}

/**
 * Merge a change into an app's current spec (or build a new one when `current` is undefined) and check it.
 * Returns the new spec and the secrets after the change (null removes a secret).
 */
export function applyAppInput(
  input: AppInput,
  sizes: readonly Size[],
  current?: { spec: AppSpec; secrets: Record<string, string> },
): { ok: true; spec: AppSpec; secrets: Record<string, string> } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const cur = current?.spec;
  const runtime = (input.runtime ?? cur?.runtime ?? 'script') as AppRuntime;
  if (!APP_RUNTIMES.includes(runtime))
    problems.push({
      path: 'body/runtime',
      message: `runtime must be one of ${APP_RUNTIMES.join(', ')}`,
    });
  const replicas = input.replicas ?? cur?.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 10_000)
    problems.push({ path: 'body/replicas', message: 'must be a whole number from 0 to 10000' });
  const maxParallel = input.maxParallel ?? cur?.maxParallel ?? 1;
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 100)
    problems.push({ path: 'body/maxParallel', message: 'must be 1 to 100' });

  const resourceChange = ['size', 'cpu', 'memory', 'disk'].some(
    (k) => input[k as keyof AppInput] !== undefined,
  );
  const request: ResourceRequest = resourceChange
    ? Object.fromEntries(
        (['size', 'cpu', 'memory', 'disk'] as const)
          .filter((k) => input[k] !== undefined)
          .map((k) => [k, input[k]]),
      )
    : (cur?.request ?? {});
  const resolved = resolveResources(request, sizes);
  if (!resolved.ok)
    for (const p of resolved.problems) problems.push({ path: `body/${p.field}`, message: p.message });

  const source = input.source ?? cur?.source;
  checkSource(runtime, source, problems);
  const ports = input.ports ?? cur?.ports ?? [];
  checkPorts(ports, problems);
  const env = input.env ?? cur?.env ?? {};
  checkEnvMap(env, 'body/env', problems);
  const secrets = { ...(current?.secrets ?? {}) };
  if (input.secrets) {
    checkEnvMap(input.secrets, 'body/secrets', problems);
    for (const [k, v] of Object.entries(input.secrets)) {
      if (v === null) delete secrets[k];
      else secrets[k] = v;
      if (k in env)
        problems.push({ path: `body/secrets/${k}`, message: `"${k}" is also a plain env variable` });
    }
  }
  const health = buildHealth(input.health === undefined ? cur?.health : input.health, ports, problems);
  const failover = input.failover ?? cur?.failover ?? 'report';
  if (failover !== 'report' && failover !== 'reschedule')
    problems.push({ path: 'body/failover', message: 'must be report or reschedule' });
  const network = VM_RUNTIMES.includes(runtime) ? (input.network ?? cur?.network ?? 'nat') : undefined;
  if (network !== undefined && network !== 'nat' && network !== 'bridged')
    problems.push({ path: 'body/network', message: 'must be nat or bridged' });
  if (input.network !== undefined && network === undefined)
    problems.push({ path: 'body/network', message: 'a network mode applies to microVM runtimes only' });
  const vols = checkVolumes(input.volumes ?? cur?.volumes, runtime);
  problems.push(...vols.problems);
  if (problems.length > 0 || !resolved.ok) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      replicas,
      request,
      size: resolved.size,
      resources: resolved.resources,
      runtime,
      source: source as AppSourceSpec,
      ports,
      env,
      secretNames: Object.keys(secrets).sort(),
      health,
      failover,
      maxParallel,
      ...(network ? { network } : {}),
      ...(vols.volumes.length ? { volumes: vols.volumes } : {}),
    },
    secrets,
  };
}

/**
 * The environment an instance sees: the app's env, its secrets, and grim's own variables. PORT (first port) and
 * PORT_<NAME> hold the port to listen on: the allocated host port for `script`, the declared port in a container.
 */
export function instanceEnv(
  spec: AppSpec,
  secrets: Record<string, string>,
  facts: {
    app: string;
    environment: string;
    release: number;
    instanceId: string;
    listenPorts: Record<string, number>;
    /** Where the app sends its traces (OTLP/HTTP base URL); the app's own OTEL_* settings win. */
    otlpEndpoint?: string;
  },
): Record<string, string> {
  const env: Record<string, string> = { ...spec.env, ...secrets };
  if (facts.otlpEndpoint) {
    env.OTEL_EXPORTER_OTLP_ENDPOINT ??= facts.otlpEndpoint;
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??= 'http/protobuf';
    env.OTEL_SERVICE_NAME ??= facts.app;
    env.OTEL_RESOURCE_ATTRIBUTES ??= `deployment.environment=${facts.environment},service.version=${facts.release},service.instance.id=${facts.instanceId}`;
  }
  env.GRIM_APP = facts.app;
  env.GRIM_ENVIRONMENT = facts.environment;
  env.GRIM_RELEASE = String(facts.release);
  env.GRIM_INSTANCE = facts.instanceId;
  spec.ports.forEach((p, i) => {
    const port = facts.listenPorts[p.name];
    if (i === 0) env.PORT = String(port);
    env[`PORT_${p.name.toUpperCase()}`] = String(port);
  });
  // Where each volume is, as the app sees it: the node path for script apps, the mount point elsewhere.
  for (const v of spec.volumes ?? [])
    env[volumeEnvName(v.name)] =
      spec.runtime !== 'script'
        ? v.mount
        : v.kind === 'local'
          ? volumeHostPath(facts.app, v.name)
          : sharedHostPath(facts.environment, facts.app, v.name);
  return env;
}
