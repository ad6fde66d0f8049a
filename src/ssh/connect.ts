// Opening one authenticated ssh2 connection with the host key pinned, and scanning a host key (TOFU).

import { createSecretKey } from 'node:crypto';
import { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig, KexAlgorithm, ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import { ConnectError, HostKeyMismatchError, type ConnectFailure } from './errors.ts';
import { fingerprintOfKeyBlob, isFingerprint, keyTypeOfBlob, publicKeyLineOfBlob } from './keys.ts';

const { Client } = ssh2;

export interface Endpoint {
  nodeId: string;
  address: string;
  port: number;
}

/** A private key as text, or parsed once with parsePrivateKey (saves parsing it on every connect). */
export type PrivateKeyInput = string | Buffer | ParsedKey;

/** `extraKeys`: more keys tried in the same connection after the first (during `grim ssh rotate`). */
export type SshAuth =
  { privateKey: PrivateKeyInput; passphrase?: string; extraKeys?: PrivateKeyInput[] } | { password: string };

/**
 * Parses an unencrypted private key once, for many connections. A key that does not parse is
 * returned unchanged, so each connect reports the error as before.
 */
export function parsePrivateKey(key: string | Buffer): PrivateKeyInput {
  const parsed: ParsedKey | ParsedKey[] | Error = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) return key;
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  return first && first.isPrivateKey() ? first : key;
}

/**
 * Makes a connected (or connecting) socket hand everything written within one tick to the kernel
 * in one writev: ssh2 writes each SSH packet in three or four pieces (length, body, MAC), which
 * would otherwise be separate syscalls and TCP segments, each waking the peer's sshd. Installed
 * after socket.connect(), which resets an overridden write.
 */
function coalesceWrites(sock: Socket): void {
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    sock.uncork();
  };
  sock.write = ((...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket['write'];
}

/** Private fields of ssh2's pure-JS ciphers (lib/protocol/crypto.js) that hold per-packet keys. */
const PER_PACKET_KEY_FIELDS = ['_encKey', '_decipherKey', '_macKey'] as const;

/**
 * Without its native addon, ssh2 creates a cipher (AES-GCM) or HMAC object for every packet from a
 * raw Buffer key; Node 24 first probes such a Buffer as KeyObject and CryptoKey, throwing and
 * catching two errors each time, which costs more than the encryption itself. Handing ssh2 the same
 * keys as KeyObjects skips that. Runs after every key exchange; a layout it does not know is left alone.
 */
function usePreparedCipherKeys(client: ClientType): void {
  const protocol = (client as unknown as { _protocol?: Record<string, unknown> })._protocol;
  for (const side of [protocol?._cipher, protocol?._decipher]) {
    if (!side || typeof side !== 'object') continue;
    const fields = side as Record<string, unknown>;
    for (const field of PER_PACKET_KEY_FIELDS) {
      const key = fields[field];
      if (Buffer.isBuffer(key) && key.length > 0) fields[field] = createSecretKey(key);
    }
  }
}

/**
 * Key exchange preference. `curve25519` (default): curve25519-sha256 first, as OpenSSH and ssh2
 * order it. `ecdh-p256`: ecdh-sha2-nistp256 first — equally strong (128-bit security, in OpenSSH's
 * default set) and much cheaper for the node's sshd, whose curve25519 is portable reference C code
 * while its P-256 runs OpenSSL's optimised assembly (about 2 ms less sshd CPU per connection on
 * the lab). The other one stays in the list as a fallback; no SHA-1 exchange is offered either way.
 */
export type KeyExchangePreference = 'curve25519' | 'ecdh-p256';

const CURVE25519_KEX: KexAlgorithm[] = ['curve25519-sha256', 'curve25519-sha256@libssh.org'];
const OTHER_KEX: KexAlgorithm[] = [
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
];

export function keyExchangeList(preference: KeyExchangePreference): KexAlgorithm[] {
  return preference === 'ecdh-p256'
    ? ['ecdh-sha2-nistp256', ...CURVE25519_KEX, ...OTHER_KEX]
    : [...CURVE25519_KEX, 'ecdh-sha2-nistp256', ...OTHER_KEX];
}

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
  /** Default `curve25519`. */
  keyExchange?: KeyExchangePreference;
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
  const sock = new Socket();
  sock.setNoDelay(true);
  const config: ConnectConfig = {
    sock,
    host: endpoint.address,
    port: endpoint.port,
    username: params.user,
    readyTimeout: params.readyTimeoutMs,
    keepaliveInterval: params.keepaliveIntervalMs,
    keepaliveCountMax: params.keepaliveCountMax,
    algorithms: { kex: keyExchangeList(params.keyExchange ?? 'curve25519') },
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
    // publickey straight away: without an authHandler ssh2 first tries "none" (one more round trip)
    const key = params.auth.privateKey;
    const extra = params.auth.extraKeys ?? [];
    if (extra.length) {
      const parsed = [key, ...extra].map((k) =>
        typeof k === 'string' || Buffer.isBuffer(k) ? parsePrivateKey(k) : k,
      );
      config.authHandler = parsed.map((k): PublicKeyAuthMethod => ({
        type: 'publickey',
        username: params.user,
        key: k as ParsedKey,
      }));
    } else if (typeof key === 'string' || Buffer.isBuffer(key)) {
      config.privateKey = key;
      if (params.auth.passphrase !== undefined) config.passphrase = params.auth.passphrase;
      config.authHandler = ['publickey'];
    } else {
      const method: PublicKeyAuthMethod = { type: 'publickey', username: params.user, key };
      config.authHandler = [method];
    }
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    const { signal } = params;
    const onAbort = (): void => fail(new Error('connection attempt cancelled'));
    const settle = (): void => signal?.removeEventListener('abort', onAbort);
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      settle();
      client.destroy(); // nothing to flush; end() would leave a half-open TCP connect lingering for minutes
      sock.destroy();
      if (presented !== undefined && presented !== hostKeyFingerprint) {
        reject(new HostKeyMismatchError(endpoint.nodeId, hostKeyFingerprint, presented));
      } else {
        reject(new ConnectError(endpoint, classify(err), err.message, err));
      }
    };
    // An error listener stays attached for the client's whole life: ssh2 emits 'error' on
    // keepalive timeouts and socket resets, and an unhandled 'error' would crash the process.
    client.on('error', (err: Ssh2Error) => fail(err));
    // the signal (the pool's, shared by all its connects) must not keep a listener per connection
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    client.on('handshake', () => usePreparedCipherKeys(client));
    client.once('close', () => fail(new Error('connection closed during handshake')));
    client.once('ready', () => {
      settled = true;
      settle();
      resolve(client);
    });
    if (settled) return; // cancelled already
    // connecting first: ssh2 treats a socket that is not connecting as already connected
    sock.connect({ host: endpoint.address, port: endpoint.port });
    coalesceWrites(sock);
    try {
      client.connect(config);
    } catch (err) {
      settled = true; // e.g. a private key that does not parse: reported as ssh2 words it
      settle();
      sock.destroy();
      reject(err as Error);
    }
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
