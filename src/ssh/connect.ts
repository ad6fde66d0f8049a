// Opening one authenticated ssh2 connection with the host key pinned, and scanning a host key (TOFU).

import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig } from 'ssh2';
import { ConnectError, HostKeyMismatchError, type ConnectFailure } from './errors.ts';
import { fingerprintOfKeyBlob, isFingerprint, keyTypeOfBlob, publicKeyLineOfBlob } from './keys.ts';

const { Client } = ssh2;

export interface Endpoint {
  nodeId: string;
  address: string;
  port: number;
}

export type SshAuth = { privateKey: string | Buffer; passphrase?: string } | { password: string };

export interface OpenClientParams {
  endpoint: Endpoint;
  user: string;
  auth: SshAuth;
  /** Pinned `SHA256:...` fingerprint; any other host key is refused before authenticating. */
  hostKeyFingerprint: string;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Cancels an attempt still connecting (the pool closing). */
  signal?: AbortSignal;
}

interface Ssh2Error extends Error {
  level?: string;
  code?: string;
}

function classify(err: Ssh2Error): ConnectFailure {
  if (err.level === 'client-timeout') return 'timeout';
  if (err.level === 'client-authentication') return 'auth';
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'ETIMEDOUT') return 'timeout';
  if (
    err.code &&
    ['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(err.code)
  ) {
    return 'unreachable';
  }
  if (err.code === 'ECONNRESET') return 'closed';
  return 'protocol';
}

export function openClient(params: OpenClientParams): Promise<ClientType> {
  const { endpoint, hostKeyFingerprint } = params;
  if (!isFingerprint(hostKeyFingerprint)) {
    return Promise.reject(
      new ConnectError(
        endpoint,
        'protocol',
        `no valid pinned host key fingerprint (${hostKeyFingerprint || 'empty'})`,
      ),
    );
  }
  const client = new Client();
  let presented: string | undefined;
  const config: ConnectConfig = {
    host: endpoint.address,
    port: endpoint.port,
    username: params.user,
    readyTimeout: params.readyTimeoutMs,
    keepaliveInterval: params.keepaliveIntervalMs,
    keepaliveCountMax: params.keepaliveCountMax,
    hostVerifier: (key: Buffer) => {
      presented = fingerprintOfKeyBlob(key);
      return presented === hostKeyFingerprint;
    },
  };
  if ('password' in params.auth) {
    const password = params.auth.password;
    config.password = password;
    config.tryKeyboard = true;
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
      finish(prompts.map(() => password));
    });
  } else {
    config.privateKey = params.auth.privateKey;
    if (params.auth.passphrase !== undefined) config.passphrase = params.auth.passphrase;
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      client.destroy(); // nothing to flush; end() would leave a half-open TCP connect lingering for minutes
      if (presented !== undefined && presented !== hostKeyFingerprint) {
        reject(new HostKeyMismatchError(endpoint.nodeId, hostKeyFingerprint, presented));
      } else {
        reject(new ConnectError(endpoint, classify(err), err.message, err));
      }
    };
    // An error listener stays attached for the client's whole life: ssh2 emits 'error' on
    // keepalive timeouts and socket resets, and an unhandled 'error' would crash the process.
    client.on('error', (err: Ssh2Error) => fail(err));
    if (params.signal) {
      if (params.signal.aborted) fail(new Error('connection attempt cancelled'));
      else
        params.signal.addEventListener('abort', () => fail(new Error('connection attempt cancelled')), {
          once: true,
        });
    }
    client.once('close', () => fail(new Error('connection closed during handshake')));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    client.connect(config);
  });
}

export interface ScannedHostKey {
  fingerprint: string;
  keyType: string;
  /** `<type> <base64>` — what an admin compares with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub`. */
  publicKey: string;
}

/**
 * Connect, capture the host key the server presents, and disconnect before authenticating.
 * The only way grim talks to an unpinned host: the result is shown to the admin to confirm (TOFU).
 */
export function scanHostKey(address: string, port: number, timeoutMs = 10_000): Promise<ScannedHostKey> {
  const endpoint: Endpoint = { nodeId: `${address}:${port}`, address, port };
  const client = new Client();
  let scanned: ScannedHostKey | undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Ssh2Error): void => {
      if (settled) return;
      settled = true;
      client.end();
      if (scanned) resolve(scanned);
      else
        reject(
          new ConnectError(
            endpoint,
            err ? classify(err) : 'closed',
            err?.message ?? 'closed before a host key was seen',
            err,
          ),
        );
    };
    client.on('error', (err: Ssh2Error) => finish(err));
    client.once('close', () => finish());
    client.once('ready', () =>
      finish(new Error('server accepted an unauthenticated login; refusing to use it')),
    );
    client.connect({
      host: address,
      port,
      username: 'grim-host-key-scan',
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        scanned = {
          fingerprint: fingerprintOfKeyBlob(key),
          keyType: keyTypeOfBlob(key),
          publicKey: publicKeyLineOfBlob(key),
        };
        return false;
      },
    });
  });
}
