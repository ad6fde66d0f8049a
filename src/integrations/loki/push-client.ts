/**
 * Loki push client (POST /loki/api/v1/push, snappy-block protobuf). Loki's answers decide what happens:
 *  - 2xx: written.
 *  - 429 (rate or stream limits), 5xx, 408, network errors: sent again after a backoff (doubling from
 *    `baseDelayMs` up to `maxDelayMs`, or the server's Retry-After when it gives one), until it is written
 *    or the signal aborts. Nothing is dropped for these.
 *  - 401/403 (tenant or auth misconfigured): also held and retried, since fixing the config makes it succeed.
 *  - 400 and any other 4xx: never retried. A 400 can be a partial success (valid streams of the request were
 *    written), so sending it again would duplicate lines; the caller counts and shows it.
 */
import { snappyCompress } from '../prometheus/snappy.ts';
import { encodePushRequest, type LokiStream } from './push-proto.ts';

export const LOKI_PUSH_PATH = '/loki/api/v1/push';

export interface LokiTarget {
  /** Base URL, e.g. http://loki:3100 (the push path is appended). */
  url: string;
  /** X-Scope-OrgID; required when Loki runs with auth_enabled. */
  tenant?: string;
  headers?: Record<string, string>;
}

export type PushResult =
  | { outcome: 'written'; status: number; attempts: number; bytes: number }
  | { outcome: 'rejected'; status: number; attempts: number; bytes: number; message: string };

export interface PushOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told about every attempt that will be retried (status null: network error). */
  onRetry?: (status: number | null, message: string, delayMs: number) => void;
}

export function pushUrl(base: string): string {
  return base.replace(/\/+$/, '') + LOKI_PUSH_PATH;
}

const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function retryable(status: number): boolean {
  return status === 429 || status === 408 || status === 401 || status === 403 || status >= 500;
}

/** Pushes the streams; resolves when Loki wrote or finally rejected them, rejects only when aborted. */
export async function pushToLoki(
  target: LokiTarget,
  streams: readonly LokiStream[],
  opts: PushOptions = {},
): Promise<PushResult> {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? abortableSleep;
  const base = opts.baseDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const body = snappyCompress(encodePushRequest(streams));
  const headers: Record<string, string> = {
    ...target.headers,
    'Content-Type': 'application/x-protobuf',
    'User-Agent': 'grim-log-shipper/0.1',
    ...(target.tenant ? { 'X-Scope-OrgID': target.tenant } : {}),
  };
  const url = pushUrl(target.url);
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    let status: number | null = null;
    let message: string;
    let hinted: number | undefined;
    try {
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
      const res = await doFetch(url, {
        method: 'POST',
        headers,
        body,
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
      status = res.status;
      const text = (await res.text().catch(() => '')).trim();
      if (res.ok) return { outcome: 'written', status, attempts: attempt, bytes: body.length };
      message = `HTTP ${status}${text ? `: ${text.slice(0, 500)}` : ''}`;
      if (!retryable(status))
        return { outcome: 'rejected', status, attempts: attempt, bytes: body.length, message };
      hinted = retryAfterMs(res.headers.get('retry-after'));
    } catch (err) {
      opts.signal?.throwIfAborted();
      message = (err as Error).message;
    }
    const delay = Math.min(maxDelay, hinted ?? base * 2 ** Math.min(attempt - 1, 20));
    opts.onRetry?.(status, message, delay);
    await sleep(delay, opts.signal);
  }
}
