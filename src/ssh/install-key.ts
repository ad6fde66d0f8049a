// One-time bootstrap: log in with a password (or a private key the admin already has), with the
// host key pinned, and run scripts/node/install-key.sh to authorize grim's public key. Nothing of
// the password or the admin's key is kept: the connection is closed afterwards.

import { scriptCommand } from '../scripts/loader.ts';
import { runOnClient } from './channel-exec.ts';
import { prepareCommand } from './command.ts';
import { openClient, type SshAuth } from './connect.ts';
import { ConnectError } from './errors.ts';
import type { SshTarget } from './pool.ts';
import { assertSucceeded } from './run-script.ts';

export interface InstallKeyOptions {
  connectTimeoutMs?: number;
  timeoutMs?: number;
}

export interface InstallKeyResult {
  /** false when the key was already authorized. */
  added: boolean;
  path: string;
}

export async function installPublicKey(
  target: SshTarget,
  auth: SshAuth,
  publicKey: string,
  opts: InstallKeyOptions = {},
): Promise<InstallKeyResult> {
  const prepared = prepareCommand(scriptCommand('install-key', { GRIM_PUBLIC_KEY: publicKey }));
  const client = await openClient({
    endpoint: target,
    user: target.user,
    auth,
    hostKeyFingerprint: target.hostKeyFingerprint,
    readyTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    keepaliveIntervalMs: 5_000,
    keepaliveCountMax: 3,
  });
  try {
    const result = await runOnClient(
      client,
      prepared,
      { timeoutMs: opts.timeoutMs ?? 30_000 },
      64 * 1024,
    ).catch((err: Error) => {
      throw new ConnectError(target, 'closed', err.message, err);
    });
    assertSucceeded(target.nodeId, 'install-key', result);
    const json = result.json as { added?: unknown; path?: unknown } | undefined;
    if (typeof json?.added !== 'boolean' || typeof json.path !== 'string') {
      throw new Error(`node ${target.nodeId}: install-key returned no result: ${result.stdout.slice(-200)}`);
    }
    return { added: json.added, path: json.path };
  } finally {
    client.end();
  }
}

/** Install grim's key using the node user's password (used once; not stored). */
export function connectWithPassword(
  address: string,
  port: number,
  user: string,
  password: string,
  pinnedFingerprint: string,
  publicKey: string,
  opts?: InstallKeyOptions & { nodeId?: string },
): Promise<InstallKeyResult> {
  const target = {
    nodeId: opts?.nodeId ?? `${address}:${port}`,
    address,
    port,
    user,
    hostKeyFingerprint: pinnedFingerprint,
  };
  return installPublicKey(target, { password }, publicKey, opts);
}

/** Install grim's key using a private key the admin already has (used once; not stored). */
export function connectWithPrivateKey(
  address: string,
  port: number,
  user: string,
  privateKey: string,
  pinnedFingerprint: string,
  publicKey: string,
  opts?: InstallKeyOptions & { nodeId?: string; passphrase?: string },
): Promise<InstallKeyResult> {
  const target = {
    nodeId: opts?.nodeId ?? `${address}:${port}`,
    address,
    port,
    user,
    hostKeyFingerprint: pinnedFingerprint,
  };
  const auth: SshAuth =
    opts?.passphrase === undefined ? { privateKey } : { privateKey, passphrase: opts.passphrase };
  return installPublicKey(target, auth, publicKey, opts);
}

/**
 * Run one node script over a connection of its own with exactly `auth` (no pool, no other key), then close
 * it. `grim ssh rotate` uses it to prove the new key logs in before it removes the old one.
 */
export async function runScriptOnce(
  target: SshTarget,
  auth: SshAuth,
  script: string,
  env: Record<string, string>,
  opts: InstallKeyOptions = {},
): Promise<unknown> {
  const client = await openClient({
    endpoint: target,
    user: target.user,
    auth,
    hostKeyFingerprint: target.hostKeyFingerprint,
    readyTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    keepaliveIntervalMs: 5_000,
    keepaliveCountMax: 3,
  });
  try {
    const result = await runOnClient(
      client,
      prepareCommand(scriptCommand(script, env)),
      { timeoutMs: opts.timeoutMs ?? 30_000 },
      64 * 1024,
    ).catch((err: Error) => {
      throw new ConnectError(target, 'closed', err.message, err);
    });
    assertSucceeded(target.nodeId, script, result);
    return result.json;
  } finally {
    client.end();
  }
}
