/**
 * Prometheus remote write 1.0 client: snappy(block)-compressed protobuf WriteRequest over HTTP POST.
 * Retries with exponential backoff on 5xx and network errors; 4xx responses are final (the receiver
 * rejected the data, sending it again cannot help).
 */
import { PROM_NAMES, pointLabels, type LabelledPoints } from './names.ts';
import { encodeWriteRequest, type Label, type TimeSeries } from './protobuf.ts';
import { snappyCompress } from './snappy.ts';

export const REMOTE_WRITE_HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
} as const;

/** One time series per point, labels sorted by name with __name__ included. */
export function toTimeSeries(entities: readonly LabelledPoints[], timestampMs: number): TimeSeries[] {
  const out: TimeSeries[] = [];
  for (const e of entities) {
    for (const p of e.points) {
      if (!Number.isFinite(p.value)) continue;
      const labels: Label[] = [
        { name: '__name__', value: PROM_NAMES[p.metric] },
        ...pointLabels(e.labels, p.metric, p.dim).map(([name, value]) => ({ name, value })),
      ];
      out.push({
        labels: sortLabels(labels),
        samples: [{ value: p.value, timestamp: Math.trunc(timestampMs) }],
      });
    }
  }
  return out;
}

export function sortLabels(labels: readonly Label[]): Label[] {
  return [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export class RemoteWriteError extends Error {
  readonly status: number | null;
  readonly attempts: number;
  constructor(message: string, status: number | null, attempts: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemoteWriteError';
    this.status = status;
    this.attempts = attempts;
  }
}

export interface RemoteWriteOptions {
  /** Total attempts including the first (default 5). */
  attempts?: number;
  /** First backoff delay; doubles per retry up to maxDelayMs (defaults 250 ms / 10 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Extra headers, e.g. Authorization. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends the series; resolves with the number of attempts used, throws RemoteWriteError when it gives up. */
export async function pushRemoteWrite(
  url: string,
  series: readonly TimeSeries[],
  opts: RemoteWriteOptions = {},
): Promise<{ attempts: number; bytes: number }> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const base = opts.baseDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? defaultSleep;
  const body = snappyCompress(encodeWriteRequest(series));
  let lastError: RemoteWriteError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(Math.min(maxDelay, base * 2 ** (attempt - 2)));
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { ...opts.headers, ...REMOTE_WRITE_HEADERS, 'User-Agent': 'grim-remote-write/0.1' },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      lastError = new RemoteWriteError(
        `remote write to ${url} failed: ${(err as Error).message}`,
        null,
        attempt,
        { cause: err },
      );
      continue;
    }
    if (res.ok) {
      await res.body?.cancel();
      return { attempts: attempt, bytes: body.length };
    }
    const text = (await res.text().catch(() => '')).slice(0, 500).trim();
    lastError = new RemoteWriteError(
      `remote write to ${url} rejected: HTTP ${res.status}${text ? ` ${text}` : ''}`,
      res.status,
      attempt,
    );
    if (res.status < 500) throw lastError;
  }
  throw lastError ?? new RemoteWriteError(`remote write to ${url} failed`, null, attempts);
}
