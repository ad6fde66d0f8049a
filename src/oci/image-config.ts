/** Runtime-relevant settings from an image configuration, normalized. */
import type { ImageConfig } from './types.ts';

export interface ExposedPort {
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface RuntimeConfig {
  entrypoint: string[];
  cmd: string[];
  /** Entrypoint followed by Cmd: what a runtime executes by default. */
  argv: string[];
  /** Env in image order; later duplicates win in `envMap`. */
  env: string[];
  envMap: Record<string, string>;
  workingDir: string;
  /** `user`, `uid`, `user:group`, `uid:gid` as written in the image; empty means root. */
  user: string;
  exposedPorts: ExposedPort[];
  labels: Record<string, string>;
  stopSignal?: string;
  os?: string;
  architecture?: string;
}

function stringArray(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`image config: ${field} must be an array of strings`);
  }
  return value;
}

/** Parses `80/tcp`, `53/udp`, `8080` (tcp implied). */
export function parseExposedPort(key: string): ExposedPort {
  const match = /^([0-9]{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(key.trim());
  const port = match ? Number(match[1]) : NaN;
  if (!match || port < 1 || port > 65535)
    throw new Error(`image config: invalid exposed port ${JSON.stringify(key)}`);
  return { port, protocol: (match[2]?.toLowerCase() ?? 'tcp') as ExposedPort['protocol'] };
}

export function extractRuntimeConfig(image: ImageConfig): RuntimeConfig {
  const c = image.config ?? {};
  const entrypoint = stringArray(c.Entrypoint, 'Entrypoint');
  const cmd = stringArray(c.Cmd, 'Cmd');
  const env = stringArray(c.Env, 'Env');
  const envMap: Record<string, string> = {};
  for (const item of env) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`image config: Env entry ${JSON.stringify(item)} is not NAME=value`);
    envMap[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const exposedPorts = Object.keys(c.ExposedPorts ?? {})
    .map(parseExposedPort)
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  const out: RuntimeConfig = {
    entrypoint,
    cmd,
    argv: [...entrypoint, ...cmd],
    env,
    envMap,
    workingDir: c.WorkingDir || '/',
    user: c.User ?? '',
    exposedPorts,
    labels: { ...(c.Labels ?? {}) },
  };
  if (c.StopSignal) out.stopSignal = c.StopSignal;
  if (image.os) out.os = image.os;
  if (image.architecture) out.architecture = image.architecture;
  return out;
}
