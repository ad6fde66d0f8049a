// Runs one prepared command on an open connection: one session channel, both output streams
// always consumed, a per-command timeout that signals and closes the channel.

import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { killCommand, PID_LINE_PREFIX, type PreparedCommand } from './command.ts';
import { lastLineJson, OutputTail, PidLineFilter } from './output.ts';

export type OutputStream = 'stdout' | 'stderr';

export interface ExecOptions {
  /** Time allowed for the command once its channel is open. */
  timeoutMs: number;
  /** Aborting closes the channel and rejects with signal.reason. */
  signal?: AbortSignal;
  /** Live output, decoded as UTF-8, in arrival order per stream. */
  onData?(stream: OutputStream, chunk: string): void;
}

export interface ExecResult {
  /** null when the command did not report an exit status (killed by a signal, timed out). */
  exitCode: number | null;
  /** e.g. "SIGKILL" when the remote process died from a signal. */
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** The last stdout line parsed as JSON, when it is a JSON object or array. */
  json?: unknown;
  /** true when output beyond the capture limit was dropped (the tail is kept). */
  truncated?: boolean;
}

/** The server refused to open the channel, or the connection was already gone. */
export class ChannelOpenError extends Error {
  /** The server answered with an open failure (e.g. sshd "no more sessions"): safe to retry. */
  readonly refusedByServer: boolean;
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ChannelOpenError';
    this.refusedByServer = typeof (cause as { reason?: unknown } | undefined)?.reason === 'number';
  }
}

/** The channel closed with no exit status while nothing asked it to: the connection dropped. */
export class ChannelLostError extends Error {
  constructor() {
    super('connection lost while the command was running');
    this.name = 'ChannelLostError';
  }
}

const KILL_AFTER_MS = 1000;
const CLOSE_GRACE_MS = 2500;

/** How the remote command ended, as reported by the server (recorded from the moment the channel opens). */
interface ExitRecord {
  seen: boolean;
  code: number | null;
  signal?: string;
}

/**
 * Opens an exec channel. The exit listener is attached inside ssh2's callback, synchronously: the
 * server's exit-status often arrives in the same read as the channel confirmation (a fast command),
 * and ssh2 emits 'exit' right then, before any continuation of an awaiting caller would run.
 */
function openExec(client: Client, commandLine: string): Promise<{ stream: ClientChannel; exit: ExitRecord }> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(commandLine, (err, stream) => {
        if (err) return reject(new ChannelOpenError(err.message, err));
        const exit: ExitRecord = { seen: false, code: null };
        stream.on('exit', (code: number | null, signalName?: string) => {
          exit.seen = true;
          if (typeof code === 'number') exit.code = code;
          else if (signalName) exit.signal = `SIG${signalName}`;
        });
        resolve({ stream, exit });
      });
    } catch (err) {
      reject(new ChannelOpenError((err as Error).message, err));
    }
  });
}

export async function runOnClient(
  client: Client,
  prepared: PreparedCommand,
  opts: ExecOptions,
  maxOutputChars: number,
): Promise<ExecResult> {
  opts.signal?.throwIfAborted();
  const started = performance.now();
  const { stream, exit } = await openExec(client, prepared.commandLine);
  return new Promise<ExecResult>((resolve, reject) => {
    const out = new OutputTail(maxOutputChars);
    const err = new OutputTail(maxOutputChars);
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    let timedOut = false;
    let finished = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const pidLine = new PidLineFilter(PID_LINE_PREFIX);
    const take = (which: OutputStream, sink: OutputTail) => (chunk: Buffer) => {
      let text = decoders[which].write(chunk);
      if (which === 'stderr') text = pidLine.push(text);
      sink.push(text);
      if (text) opts.onData?.(which, text);
    };
    stream.on('data', take('stdout', out));
    stream.stderr.on('data', take('stderr', err));

    // Stop the remote command and its children: TERM its process group now (over a second channel),
    // KILL it and close the channel a second later; stop waiting after a grace period (the
    // connection may be dead).
    const killRemote = (signal: 'TERM' | 'KILL'): void => {
      if (pidLine.pid === undefined) return;
      runOnClient(client, killCommand(pidLine.pid, signal), { timeoutMs: CLOSE_GRACE_MS }, 4096).catch(
        () => {},
      );
    };
    const stop = (): void => {
      if (graceTimer) return;
      killRemote('TERM');
      killTimer = setTimeout(() => {
        killRemote('KILL');
        stream.close();
      }, KILL_AFTER_MS);
      graceTimer = setTimeout(finish, CLOSE_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = (): void => stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    function finish(): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      if (!exit.seen && !timedOut) return reject(new ChannelLostError());
      for (const [which, sink] of [
        ['stdout', out],
        ['stderr', err],
      ] as const) {
        const rest = decoders[which].end();
        sink.push(rest);
        if (rest) opts.onData?.(which, rest);
      }
      const stdout = out.toString();
      const result: ExecResult = {
        exitCode: timedOut ? null : exit.code,
        stdout,
        stderr: err.toString(),
        durationMs: Math.round(performance.now() - started),
        timedOut,
      };
      if (exit.signal && !timedOut) result.signal = exit.signal;
      const json = lastLineJson(stdout);
      if (json !== undefined) result.json = json;
      if (out.truncated || err.truncated) result.truncated = true;
      resolve(result);
    }
    stream.on('close', finish);
    stream.end(prepared.stdin);
  });
}
