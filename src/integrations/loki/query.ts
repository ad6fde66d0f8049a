/**
 * Loki read client: GET /loki/api/v1/query_range for log streams (resultType "streams"). Values come back as
 * [nanosecond timestamp string, line] pairs; with direction=backward Loki returns the newest `limit` lines.
 */
import type { LokiTarget } from './push-client.ts';

export interface LokiLine {
  tsNs: bigint;
  line: string;
}

export interface LokiStreamResult {
  labels: Record<string, string>;
  values: LokiLine[];
}

export class LokiQueryError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'LokiQueryError';
    this.status = status;
  }
}

/** A LogQL stream selector from exact label matches (values escaped as Go string literals). */
export function selector(labels: Readonly<Record<string, string>>): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(', ')}}`;
}

interface QueryRangeBody {
  status?: string;
  data?: { resultType?: string; result?: { stream?: Record<string, string>; values?: [string, string][] }[] };
  error?: string;
}

export async function queryRange(
  target: LokiTarget,
  q: { query: string; startNs: bigint; endNs: bigint; limit: number; direction?: 'forward' | 'backward' },
  opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<LokiStreamResult[]> {
  const params = new URLSearchParams({
    query: q.query,
    start: String(q.startNs),
    end: String(q.endNs),
    limit: String(q.limit),
    direction: q.direction ?? 'backward',
  });
  const url = `${target.url.replace(/\/+$/, '')}/loki/api/v1/query_range?${params}`;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      headers: { ...target.headers, ...(target.tenant ? { 'X-Scope-OrgID': target.tenant } : {}) },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new LokiQueryError(`Loki query failed: ${(err as Error).message}`, null);
  }
  const text = await res.text();
  if (!res.ok)
    throw new LokiQueryError(`Loki query: HTTP ${res.status}: ${text.slice(0, 300).trim()}`, res.status);
  let body: QueryRangeBody;
  try {
    body = JSON.parse(text) as QueryRangeBody;
  } catch {
    throw new LokiQueryError('Loki query: the answer is not JSON', res.status);
  }
  if (body.status !== 'success' || body.data?.resultType !== 'streams')
    throw new LokiQueryError(
      `Loki query: unexpected answer (${body.status}, ${body.data?.resultType})`,
      res.status,
    );
  return (body.data.result ?? []).map((r) => ({
    labels: r.stream ?? {},
    values: (r.values ?? []).map(([ts, line]) => ({ tsNs: BigInt(ts), line })),
  }));
}
