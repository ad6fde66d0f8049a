import { resolve } from 'node:path';
import { netboxSettingsFromEnv, type NetboxSettings } from '../integrations/netbox/settings.ts';
import type { KeyExchangePreference } from '../ssh/connect.ts';

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
  /**
   * SSH key exchange grim prefers (GRIM_SSH_KEX): curve25519 (default) or ecdh-p256, which costs each
   * node's sshd about 2-4 ms less CPU per new connection (OpenSSL's P-256 vs OpenSSH's reference
   * curve25519); both are 128-bit, but some hardening policies flag NIST curves, so it is opt-in.
   */
  sshKeyExchange: KeyExchangePreference;
}

function sshKeyExchangeFromEnv(value: string | undefined): KeyExchangePreference {
  if (value === undefined || value === '' || value === 'curve25519') return 'curve25519';
  if (value === 'ecdh-p256') return value;
  throw new Error(`GRIM_SSH_KEX must be curve25519 or ecdh-p256, not ${JSON.stringify(value)}`);
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
    sshKeyExchange: sshKeyExchangeFromEnv(env.GRIM_SSH_KEX),
    ...overrides,
  };
}
