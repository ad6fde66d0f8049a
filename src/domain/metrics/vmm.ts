/**
 * Instance metrics from a VMM's own metrics file (Firecracker: one JSON object per line, written every 60 s
 * and on FlushMetrics; see reference/firecracker/metrics.md). Firecracker's counters are written as the
 * increase since the previous line, so a rate is the sum of the counters of the new lines divided by the
 * time they cover (from the line before the first of them). Pure.
 */
import type { MetricPoint } from './catalog.ts';
import type { RawVmmChunk } from './raw-sample.ts';

/** Complete lines of a chunk, and the offset to ask for next time. */
export function vmmChunkLines(
  chunk: Extract<RawVmmChunk, { found: true }>,
  askedOffset: number,
): { lines: string[]; nextOffset: number } {
  let text = chunk.text;
  let start = chunk.from;
  // The node skipped ahead (more than it returns) or the file was recreated: the first line may be a tail.
  if (chunk.from !== askedOffset && chunk.from > 0) {
    const nl = text.indexOf('\n');
    if (nl < 0) return { lines: [], nextOffset: chunk.from };
    start += Buffer.byteLength(text.slice(0, nl + 1));
    text = text.slice(nl + 1);
  }
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], nextOffset: start };
  const complete = text.slice(0, end + 1);
  return {
    lines: complete.split('\n').filter((l) => l.trim() !== ''),
    nextOffset: start + Buffer.byteLength(complete),
  };
}

interface VmmLine {
  ts: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
}

function counter(group: unknown, key: string): number {
  const v = (group as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

/** A Firecracker metrics line, or null when it is not one (a torn or foreign line is skipped). */
export function parseVmmLine(line: string): VmmLine | null {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const r = o as Record<string, unknown>;
  if (typeof r.utc_timestamp_ms !== 'number') return null;
  return {
    ts: r.utc_timestamp_ms,
    netRx: counter(r.net, 'rx_bytes_count'),
    netTx: counter(r.net, 'tx_bytes_count'),
    blockRead: counter(r.block, 'read_bytes'),
    blockWrite: counter(r.block, 'write_bytes'),
  };
}

/**
 * Rates over the new lines. `prevTs` is the timestamp of the last line seen before (undefined: the first
 * new line only starts the clock). Returns no points when no interval is known.
 */
export function vmmPoints(
  prevTs: number | undefined,
  lines: readonly string[],
): { points: MetricPoint[]; lastTs: number | undefined } {
  let last = prevTs;
  let seconds = 0;
  const sum = { netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0 };
  for (const line of lines) {
    const l = parseVmmLine(line);
    if (l === null) continue;
    if (last !== undefined && l.ts > last) {
      seconds += (l.ts - last) / 1000;
      sum.netRx += l.netRx;
      sum.netTx += l.netTx;
      sum.blockRead += l.blockRead;
      sum.blockWrite += l.blockWrite;
    }
    if (last === undefined || l.ts > last) last = l.ts;
  }
  if (seconds <= 0) return { points: [], lastTs: last };
  return {
    points: [
      { metric: 'instance_net_rx_bytes_per_s', dim: '', value: sum.netRx / seconds },
      { metric: 'instance_net_tx_bytes_per_s', dim: '', value: sum.netTx / seconds },
      { metric: 'instance_disk_read_bytes_per_s', dim: '', value: sum.blockRead / seconds },
      { metric: 'instance_disk_write_bytes_per_s', dim: '', value: sum.blockWrite / seconds },
    ],
    lastTs: last,
  };
}
