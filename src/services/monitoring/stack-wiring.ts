/**
 * Once grim deployed a monitoring stack, it is where grim's metrics (remote write to Cortex), logs (push to
 * Loki) and traces (OTLP to Tempo) go, each with the stack's tenant as X-Scope-OrgID. A setting the admin made
 * in the environment (GRIM_REMOTE_WRITE_URL, GRIM_LOKI_URL, GRIM_OTLP_ENDPOINT) wins over the stack.
 */
import type { StackEndpoints } from '../../domain/monitoring/stack.ts';

export function stackEnv(e: StackEndpoints | null, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  if (!e) return out;
  if (!env.GRIM_REMOTE_WRITE_URL && e.remoteWriteUrl) {
    out.GRIM_REMOTE_WRITE_URL = e.remoteWriteUrl;
    out.GRIM_REMOTE_WRITE_TENANT = e.tenant;
  }
  if (!env.GRIM_LOKI_URL && e.lokiUrl) {
    out.GRIM_LOKI_URL = e.lokiUrl;
    out.GRIM_LOKI_TENANT = e.tenant;
  }
  if (!env.GRIM_OTLP_ENDPOINT && e.otlpEndpoint) {
    out.GRIM_OTLP_ENDPOINT = e.otlpEndpoint;
    out.GRIM_OTLP_TENANT = e.tenant;
  }
  return out;
}
