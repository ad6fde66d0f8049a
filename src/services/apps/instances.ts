/** Turning stored rows into what a driver needs: the instance spec (secrets opened only here) and its handle. */
import { instanceEnv, type AppSpec } from '../../domain/apps/model.ts';
import type { InstanceHandle, InstanceSpec, RuntimeKind } from '../../drivers/driver.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { appSpec, type AppRow, type ReleaseRow } from '../../store/apps-repo.ts';
import { instanceHandle, instancePorts, type InstanceRow } from '../../store/instances-repo.ts';

export const secretContext = (app: string) => `app-secrets:${app}`;

export function openSecrets(box: SecretBox, app: string, sealed: string): Record<string, string> {
  if (!sealed) return {};
  return JSON.parse(box.open(sealed, secretContext(app)).toString('utf8')) as Record<string, string>;
}

export function sealSecrets(box: SecretBox, app: string, secrets: Record<string, string>): string {
  return Object.keys(secrets).length ? box.seal(JSON.stringify(secrets), secretContext(app)) : '';
}

export function buildInstanceSpec(
  box: SecretBox,
  app: AppRow,
  release: ReleaseRow,
  inst: InstanceRow,
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the app (grim's tracing settings), if any. */
  otlpEndpoint?: string,
): InstanceSpec {
  const spec: AppSpec = appSpec(release);
  const hostPorts = instancePorts(inst);
  const listenPorts =
    spec.runtime === 'script' ? hostPorts : Object.fromEntries(spec.ports.map((p) => [p.name, p.port]));
  return {
    instanceId: inst.id,
    app: app.name,
    environment: app.environment,
    release: release.number,
    resources: spec.resources,
    env: instanceEnv(spec, openSecrets(box, app.name, release.secrets), {
      app: app.name,
      environment: app.environment,
      release: release.number,
      instanceId: inst.id,
      listenPorts,
      ...(otlpEndpoint ? { otlpEndpoint } : {}),
    }),
    ports: spec.ports.map((p) => ({
      name: p.name,
      port: spec.runtime === 'script' ? hostPorts[p.name] : p.port,
      hostPort: hostPorts[p.name],
      protocol: 'tcp' as const,
    })),
    source: spec.source,
  };
}

/** The stored handle, or one rebuilt from the row (enough for the supervision scripts to find the instance). */
export function handleOf(inst: InstanceRow, runtime: RuntimeKind): InstanceHandle {
  return instanceHandle(inst) ?? { driver: runtime, instanceId: inst.id, node: inst.node, data: {} };
}
