import { ApiError } from '../api/client.ts';

export interface OutputOpts {
  json?: boolean;
}

/** A plain text table: headers, then rows, columns padded. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '))
    .join('\n');
}

export function print(opts: OutputOpts, data: unknown, human: () => string) {
  process.stdout.write((opts.json ? JSON.stringify(data, null, 2) : human()) + '\n');
}

export const when = (ms: number | null | undefined) =>
  ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-';

/** Clear messages and non-zero exits for every failure. */
export function reportError(err: unknown): number {
  if (err instanceof ApiError) {
    process.stderr.write(`error: ${err.body.message} (HTTP ${err.status}, ${err.body.code})\n`);
    for (const d of err.body.details ?? []) process.stderr.write(`  - ${d.path}: ${d.message}\n`);
    return err.status === 401 ? 3 : err.status === 403 ? 4 : 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNREFUSED')
    process.stderr.write(`error: cannot reach the grim server (${e.message})\n`);
  else process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  return 1;
}

/** Commander's collector for a repeatable option: every value, in order. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];
