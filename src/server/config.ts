import { resolve } from 'node:path';
import { netboxSettingsFromEnv, type NetboxSettings } from '../integrations/netbox/settings.ts';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string; // postgres://... ; default: SQLite in dataDir
  tlsCert?: string;
  tlsKey?: string;
  /** Serve plain HTTP on a non-loopback address: only when the admin says so. */
  insecureHttp: boolean;
  logLevel: string;
  bodyLimit: number;
  secureCookies?: boolean;
  /** NetBox as the IPAM source of truth for bridged microVMs (GRIM_NETBOX_URL/_TOKEN/_TAG); the token prints redacted. */
  netbox?: NetboxSettings;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function configFromEnv(overrides: Partial<ServerConfig> = {}, env = process.env): ServerConfig {
  const listen = env.GRIM_LISTEN ?? '127.0.0.1:8080';
  const i = listen.lastIndexOf(':');
  return {
    host: listen.slice(0, i).replace(/^\[|\]$/g, ''),
    port: Number(listen.slice(i + 1)),
    dataDir: resolve(env.GRIM_DATA_DIR ?? './grim-data'),
    databaseUrl: env.GRIM_DATABASE_URL || undefined,
    tlsCert: env.GRIM_TLS_CERT || undefined,
    tlsKey: env.GRIM_TLS_KEY || undefined,
    insecureHttp: env.GRIM_INSECURE_HTTP === '1',
    logLevel: env.GRIM_LOG_LEVEL ?? 'info',
    bodyLimit: 1024 * 1024,
    netbox: 'netbox' in overrides ? overrides.netbox : netboxSettingsFromEnv(env),
    ...overrides,
  };
}
