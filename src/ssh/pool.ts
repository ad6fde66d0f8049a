// SshPool: one multiplexed connection per node, bounded channels per connection (below sshd's
// MaxSessions 10), a global channel limit, a bound on concurrent handshakes, idle close, keepalive,
// fail-fast connects and lazy reconnect after a drop. Host keys are always pinned.

import { setTimeout as delay } from 'node:timers/promises';
import type { Client, ClientChannel } from 'ssh2';
import {
  ChannelLostError,
  ChannelOpenError,
  runOnClient,
  type ExecOptions,
  type ExecResult,
} from './channel-exec.ts';
import { prepareCommand, prepareStreamCommand, type RemoteCommand, type ScriptCommand } from './command.ts';
import { openClient, parsePrivateKey, type KeyExchangePreference, type PrivateKeyInput } from './connect.ts';
import { ConnectError } from './errors.ts';
import { Semaphore } from './semaphore.ts';

const OPEN_RETRIES = 12;

export interface SshTarget {
  nodeId: string;
  address: string;
  port: number;
  user: string;
  /** Pinned host key, `SHA256:...` (from scanHostKey, confirmed by the admin). */
  hostKeyFingerprint: string;
}

export interface SshPoolOptions {
  /** grim's private key (OpenSSH format, unsealed). */
  privateKey: string | Buffer;
  /** Concurrent channels on one connection; must stay below sshd's MaxSessions (10). Default 8. */
  maxChannelsPerConnection?: number;
  /** Concurrent channels across all nodes. Default 256. */
  maxChannels?: number;
  /** Concurrent SSH handshakes across all nodes. Default 64 (a lower bound leaves cores idle while handshakes wait on round trips). */
  maxHandshakes?: number;
  /** Close a connection unused for this long. Default 60 000. */
  idleMs?: number;
  /** TCP connect + handshake + auth must finish within this. Default 10 000. */
  connectTimeoutMs?: number;
  /** After a failed connect, fail further commands to that node at once for this long. Default 2 000. */
  connectRetryMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Characters of stdout/stderr kept per command (the tail). Default 4 MiB. */
  maxOutputChars?: number;
  /** Key exchange preference (see KeyExchangePreference). Default `curve25519`. */
  keyExchange?: KeyExchangePreference;
}

export interface ShellOptions {
  cols: number;
  rows: number;
  term?: string;
}

export interface SshPoolStats {
  nodes: number;
  connectionsOpen: number;
  connectionsConnecting: number;
  channelsActive: number;
  channelsQueued: number;
  handshakesActive: number;
  handshakesQueued: number;
}

interface Entry {
  key: string;
  target: SshTarget;
  channels: Semaphore;
  users: number;
  client?: Client;
  connecting?: Promise<Client>;
  lastFailure?: { at: number; error: Error };
  idleTimer?: NodeJS.Timeout;
}

export class SshPool {
  #privateKey: PrivateKeyInput;
  #extraKeys: PrivateKeyInput[] = [];
  readonly #perConnection: number;
  readonly #idleMs: number;
  readonly #connectTimeoutMs: number;
  readonly #connectRetryMs: number;
  readonly #keepaliveIntervalMs: number;
  readonly #keepaliveCountMax: number;
  readonly #maxOutputChars: number;
  readonly #keyExchange: KeyExchangePreference;
  readonly #channels: Semaphore;
  readonly #handshakes: Semaphore;
  readonly #entries = new Map<string, Entry>();
  #closed = false;
  readonly #closing = new AbortController();

  constructor(options: SshPoolOptions) {
    this.#privateKey = parsePrivateKey(options.privateKey);
    this.#perConnection = options.maxChannelsPerConnection ?? 8;
    if (this.#perConnection > 9)
      throw new Error('maxChannelsPerConnection must stay below sshd MaxSessions (10)');
    this.#idleMs = options.idleMs ?? 60_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#connectRetryMs = options.connectRetryMs ?? 2_000;
    this.#keepaliveIntervalMs = options.keepaliveIntervalMs ?? 5_000;
    this.#keepaliveCountMax = options.keepaliveCountMax ?? 3;
    this.#maxOutputChars = options.maxOutputChars ?? 4 * 1024 * 1024;
    this.#keyExchange = options.keyExchange ?? 'curve25519';
    this.#channels = new Semaphore(options.maxChannels ?? 256);
    this.#handshakes = new Semaphore(options.maxHandshakes ?? 64);
  }

  /** Run a command on a node. Resolves with its result whatever the exit code; rejects on connect or transport failure. */
  exec(target: SshTarget, cmd: RemoteCommand, opts: ExecOptions): Promise<ExecResult> {
    const run = this.#exec(target, cmd, opts);
    const signal = opts.signal;
    if (!signal) return run;
    // An abort answers at once, whatever stage the command is in (waiting for a slot, connecting,
    // opening a channel on a connection that went silent); the slot is released when that stage ends.
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new Error('aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #exec(target: SshTarget, cmd: RemoteCommand, opts: ExecOptions): Promise<ExecResult> {
    const prepared = prepareCommand(cmd);
    const { entry, release } = await this.#acquire(target, opts.signal);
    try {
      for (let attempt = 0; ; attempt++) {
        const client = await this.#client(entry, opts.signal);
        try {
          return await runOnClient(client, prepared, opts, this.#maxOutputChars);
        } catch (err) {
          if (err instanceof ChannelOpenError && attempt === 0 && this.#dropIfStale(entry, client, err))
            continue;
          // sshd frees a session slot a little after the channel closes: wait and retry (nothing ran)
          if (err instanceof ChannelOpenError && err.refusedByServer && attempt < OPEN_RETRIES) {
            await delay(Math.min(25 * 2 ** attempt, 500), undefined, { signal: opts.signal });
            continue;
          }
          if (err instanceof ChannelOpenError)
            throw new ConnectError(target, 'protocol', `channel refused: ${err.message}`, err);
          if (err instanceof ChannelLostError) throw new ConnectError(target, 'closed', err.message, err);
          throw err;
        }
      }
    } finally {
      release();
    }
  }

  /**
   * A raw exec channel for a command that streams data (zfs send/receive): the caller writes stdin
   * and reads stdout itself. `exit` resolves with the exit code when the channel closes. The channel
   * slot is held until then.
   */
  async stream(
    target: SshTarget,
    cmd: ScriptCommand,
  ): Promise<{ channel: ClientChannel; exit: Promise<{ code: number | null; stderr: string }> }> {
    const prepared = prepareStreamCommand(cmd);
    const { entry, release } = await this.#acquire(target, undefined);
    try {
      const client = await this.#client(entry, undefined);
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        try {
          client.exec(prepared.commandLine, (err, s) =>
            err
              ? reject(new ConnectError(target, 'protocol', `exec refused: ${err.message}`, err))
              : resolve(s),
          );
        } catch (err) {
          reject(new ConnectError(target, 'closed', (err as Error).message, err));
        }
      });
      let stderr = '';
      let code: number | null = null;
      channel.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 65536) stderr += chunk.toString('utf8');
      });
      channel.on('exit', (c: number | null) => {
        code = typeof c === 'number' ? c : null;
      });
      const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
        channel.once('close', () => {
          release();
          resolve({ code, stderr: stderr.replace(/^grim-pid:[0-9]+\n/, '') });
        }),
      );
      return { channel, exit };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Copies a local file to the node over SFTP on the pooled connection (large binaries, which would take
   * thousands of base64 script calls). The remote path is created with `mode`; node scripts move it into place.
   */
  async putFile(target: SshTarget, localPath: string, remotePath: string, mode = 0o600): Promise<void> {
    const { entry, release } = await this.#acquire(target, undefined);
    try {
      const client = await this.#client(entry, undefined);
      const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) =>
        client.sftp((err, s) =>
          err
            ? reject(new ConnectError(target, 'protocol', `sftp refused: ${err.message}`, err))
            : resolve(s),
        ),
      );
      try {
        await new Promise<void>((resolve, reject) =>
          sftp.fastPut(localPath, remotePath, { mode, concurrency: 16, chunkSize: 256 * 1024 }, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
      } finally {
        sftp.end();
      }
    } finally {
      release();
    }
  }

  /** An interactive shell with a pty (for a web terminal). Its channel slot is held until the stream closes. */
  async shell(target: SshTarget, opts: ShellOptions): Promise<ClientChannel> {
    const { entry, release } = await this.#acquire(target, undefined);
    try {
      const client = await this.#client(entry, undefined);
      const stream = await new Promise<ClientChannel>((resolve, reject) => {
        try {
          client.shell({ cols: opts.cols, rows: opts.rows, term: opts.term ?? 'xterm-256color' }, (err, s) =>
            err
              ? reject(new ConnectError(target, 'protocol', `shell refused: ${err.message}`, err))
              : resolve(s),
          );
        } catch (err) {
          reject(new ConnectError(target, 'closed', (err as Error).message, err));
        }
      });
      stream.once('close', release);
      return stream;
    } catch (err) {
      release();
      throw err;
    }
  }

  stats(): SshPoolStats {
    let open = 0;
    let connecting = 0;
    let queued = this.#channels.queued;
    for (const entry of this.#entries.values()) {
      if (entry.client) open++;
      else if (entry.connecting) connecting++;
      queued += entry.channels.queued;
    }
    return {
      nodes: this.#entries.size,
      connectionsOpen: open,
      connectionsConnecting: connecting,
      channelsActive: this.#channels.active,
      channelsQueued: queued,
      handshakesActive: this.#handshakes.active,
      handshakesQueued: this.#handshakes.queued,
    };
  }

  /**
   * New connections authenticate with `privateKey`, then each of `extraKeys` (while `grim ssh rotate` runs:
   * the new key first, the old one for nodes not rotated yet). Open connections are kept.
   */
  setKeys(privateKey: string | Buffer, extraKeys: Array<string | Buffer> = []): void {
    this.#privateKey = parsePrivateKey(privateKey);
    this.#extraKeys = extraKeys.map((k) => parsePrivateKey(k));
  }

  /** Close the node's pooled connection(s) (after its key changed); the next command connects again. */
  async closeNode(nodeId: string): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.#entries)
      if (entry.target.nodeId === nodeId && entry.users === 0) {
        clearTimeout(entry.idleTimer);
        if (entry.client) closing.push(endClient(entry.client));
        entry.client = undefined;
        entry.lastFailure = undefined;
        this.#entries.delete(key);
      }
    await Promise.all(closing);
  }

  /** Close every connection; queued and later commands fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const reason = new Error('ssh pool closed');
    this.#closing.abort(reason);
    this.#channels.rejectWaiters(reason);
    this.#handshakes.rejectWaiters(reason);
    const closing: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.idleTimer);
      entry.channels.rejectWaiters(reason);
      if (entry.client) closing.push(endClient(entry.client));
    }
    this.#entries.clear();
    await Promise.all(closing);
  }

  /** Take a channel slot on the node's connection, then a global one (always in that order). */
  async #acquire(
    target: SshTarget,
    signal: AbortSignal | undefined,
  ): Promise<{ entry: Entry; release: () => void }> {
    if (this.#closed) throw new Error('ssh pool closed');
    const entry = this.#entry(target);
    entry.users++;
    clearTimeout(entry.idleTimer);
    const leave = (): void => {
      entry.users--;
      if (entry.users === 0) this.#scheduleIdleClose(entry);
    };
    let releaseConnectionSlot: (() => void) | undefined;
    try {
      releaseConnectionSlot = await entry.channels.acquire(signal);
      const releaseGlobalSlot = await this.#channels.acquire(signal);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        releaseGlobalSlot();
        releaseConnectionSlot?.();
        leave();
      };
      return { entry, release };
    } catch (err) {
      releaseConnectionSlot?.();
      leave();
      throw err;
    }
  }

  /** A channel failed to open: if the connection is (now) gone, forget it so the caller can reconnect. */
  #dropIfStale(entry: Entry, client: Client, err: ChannelOpenError): boolean {
    if (entry.client !== client) return true;
    if (!/not connected|no response/i.test(err.message)) return false;
    entry.client = undefined;
    void endClient(client);
    return true;
  }

  #entry(target: SshTarget): Entry {
    const key = [target.nodeId, target.user, target.address, target.port, target.hostKeyFingerprint].join(
      '|',
    );
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { key, target: { ...target }, channels: new Semaphore(this.#perConnection), users: 0 };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #scheduleIdleClose(entry: Entry): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (entry.users > 0 || this.#entries.get(entry.key) !== entry) return;
      this.#entries.delete(entry.key);
      if (entry.client) void endClient(entry.client);
    }, this.#idleMs);
    entry.idleTimer.unref();
  }

  async #client(entry: Entry, signal: AbortSignal | undefined): Promise<Client> {
    if (entry.client) return entry.client;
    const failure = entry.lastFailure;
    if (failure && Date.now() - failure.at < this.#connectRetryMs) throw failure.error;
    entry.connecting ??= this.#connect(entry).finally(() => {
      entry.connecting = undefined;
    });
    return abortable(entry.connecting, signal);
  }

  async #connect(entry: Entry): Promise<Client> {
    const release = await this.#handshakes.acquire();
    try {
      const { target } = entry;
      const client = await openClient({
        endpoint: target,
        user: target.user,
        auth: { privateKey: this.#privateKey, extraKeys: this.#extraKeys },
        hostKeyFingerprint: target.hostKeyFingerprint,
        readyTimeoutMs: this.#connectTimeoutMs,
        keepaliveIntervalMs: this.#keepaliveIntervalMs,
        keepaliveCountMax: this.#keepaliveCountMax,
        signal: this.#closing.signal,
        keyExchange: this.#keyExchange,
      });
      entry.lastFailure = undefined;
      entry.client = client;
      client.once('close', () => {
        if (entry.client === client) entry.client = undefined;
      });
      if (this.#closed) void endClient(client);
      return client;
    } catch (err) {
      entry.lastFailure = { at: Date.now(), error: err as Error };
      throw err;
    } finally {
      release();
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  // The shared promise may outlive every caller that gave up on it: it must never go unhandled.
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, 2000);
    timer.unref();
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
