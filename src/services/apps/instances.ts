/** Turning stored rows into what a driver needs: the instance spec (secrets opened only here) and its handle. */
import { instanceEnv, type AppSpec } from '../../domain/apps/model.ts';
import { listensOnHostPorts } from '../../domain/runtimes.ts';
import type { InstanceHandle, InstanceSpec, OpCtx, RuntimeDriver } from '../../drivers/driver.ts';
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
  const onHost = listensOnHostPorts(spec.runtime);
  const listenPorts = onHost ? hostPorts : Object.fromEntries(spec.ports.map((p) => [p.name, p.port]));
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
      port: onHost ? hostPorts[p.name] : p.port,
      hostPort: hostPorts[p.name],
      protocol: 'tcp' as const,
    })),
    source: spec.source,
  };
}

/**
 * The instance's handle: the stored one, else what the driver recovers from the node (a row whose handle was
 * never stored, e.g. grim stopped between create and the write), else a bare one (nothing left on the node).
 */
export async function handleFor(
  inst: InstanceRow,
  driver: RuntimeDriver,
  ctx: OpCtx,
): Promise<InstanceHandle> {
  return instanceHandle(inst) ?? (await recoveredHandle(inst.id, driver, ctx));
}

/** An instance grim has no row or handle of (a stray, a leftover): the driver's handle from the node, or a bare one. */
export async function recoveredHandle(
  id: string,
  driver: RuntimeDriver,
  ctx: OpCtx,
): Promise<InstanceHandle> {
  return (await driver.recover(id, ctx)) ?? { driver: driver.kind, instanceId: id, node: ctx.node, data: {} };
}
