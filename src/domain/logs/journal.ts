/**
 * systemd journal entries (one `journalctl -o json` line each) as log lines. journalctl's JSON gives every field
 * as a string, except binary or invalid-UTF-8 values (an array of byte values) and fields repeated in one entry
 * (an array of such values). The entry's message is the line; the few fields people filter on (unit,
 * identifier, priority, pid) go to structured metadata, never to labels: they are unbounded.
 */

export interface JournalLine {
  /** journald's cursor of this entry: reading resumes after it. */
  cursor: string;
  /** __REALTIME_TIMESTAMP in nanoseconds (0n when missing). */
  tsNs: bigint;
  line: string;
  metadata: [string, string][];
}

const METADATA_FIELDS: [string, string][] = [
  ['_SYSTEMD_UNIT', 'unit'],
  ['SYSLOG_IDENTIFIER', 'syslog_identifier'],
  ['PRIORITY', 'priority'],
  ['_PID', 'pid'],
];

/** A field's value as text: strings as they are, byte arrays decoded as UTF-8, repeated fields joined by newlines. */
export function journalFieldText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (!Array.isArray(v)) return null;
  if (v.every((b) => typeof b === 'number')) return Buffer.from(v as number[]).toString('utf8');
  const parts = v.map(journalFieldText).filter((t): t is string => t !== null);
  return parts.length ? parts.join('\n') : null;
}

/** One `journalctl -o json` line; null when it is not an entry with a cursor. */
export function parseJournalLine(json: string): JournalLine | null {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!e || typeof e !== 'object' || typeof e.__CURSOR !== 'string') return null;
  const realtime = typeof e.__REALTIME_TIMESTAMP === 'string' ? e.__REALTIME_TIMESTAMP : '';
  const metadata: [string, string][] = [];
  for (const [field, name] of METADATA_FIELDS) {
    const v = journalFieldText(e[field]);
    if (v !== null && v !== '') metadata.push([name, v]);
  }
  return {
    cursor: e.__CURSOR,
    tsNs: /^\d+$/.test(realtime) ? BigInt(realtime) * 1000n : 0n,
    line: journalFieldText(e.MESSAGE) ?? '',
    metadata,
  };
}
