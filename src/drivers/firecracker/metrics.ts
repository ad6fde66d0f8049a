// Reader for the Firecracker metrics file: one JSON object per line, appended on every flush
// (every 60 s and on a FlushMetrics action). See reference/firecracker/metrics.md.
import { open } from 'node:fs/promises';

export interface MetricsSample {
  utc_timestamp_ms: number;
  [group: string]: unknown; // "vcpu", "net", "net_eth0", "block_rootfs", "api_server", ...
}

export type MetricUnit = 'Bytes' | 'Milliseconds' | 'Microseconds' | 'Count';

export interface FlatMetric {
  key: string; // dotted path, e.g. "net_eth0.rx_bytes_count" or "vcpu.exit_io_in_agg.min_us"
  value: number;
  unit: MetricUnit;
}

export function parseMetricsLine(line: string): MetricsSample {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`metrics line is not JSON: ${line.slice(0, 120)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('metrics line is not a JSON object');
  }
  const sample = parsed as MetricsSample;
  if (typeof sample.utc_timestamp_ms !== 'number') throw new Error('metrics line has no utc_timestamp_ms');
  return sample;
}

/** Splits text into complete samples; an unterminated last line is left for the next read. */
export function parseMetricsText(text: string): { samples: MetricsSample[]; consumedBytes: number } {
  const end = text.lastIndexOf('\n');
  if (end < 0) return { samples: [], consumedBytes: 0 };
  const complete = text.slice(0, end + 1);
  const samples = complete
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map(parseMetricsLine);
  return { samples, consumedBytes: Buffer.byteLength(complete) };
}

/**
 * Reads the samples appended to a metrics file since byte `offset`. Returns the offset to pass next
 * time; a partly written last line is not consumed. A file shorter than `offset` (recreated) is
 * read from the start.
 */
export async function readMetricsFile(
  path: string,
  offset = 0,
): Promise<{ samples: MetricsSample[]; nextOffset: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const start = size < offset ? 0 : offset;
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const { samples, consumedBytes } = parseMetricsText(buffer.toString('utf8'));
    return { samples, nextOffset: start + consumedBytes };
  } finally {
    await handle.close();
  }
}

/** Unit from the metric name, by the rule in metrics.md ("_bytes" before "_ms" before "_us"). */
export function unitOf(key: string): MetricUnit {
  const parts = key.split('.');
  if (parts.some((p) => p.includes('_bytes'))) return 'Bytes';
  if (parts.some((p) => p.includes('_ms'))) return 'Milliseconds';
  if (parts.some((p) => p.includes('_us'))) return 'Microseconds';
  return 'Count';
}

/** All numeric leaves of a sample, except the timestamp, as dotted keys with their units. */
export function flattenMetrics(sample: MetricsSample): FlatMetric[] {
  const out: FlatMetric[] = [];
  const walk = (prefix: string, value: unknown): void => {
    if (typeof value === 'number') out.push({ key: prefix, value, unit: unitOf(prefix) });
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(prefix === '' ? k : `${prefix}.${k}`, v);
    }
  };
  for (const [group, value] of Object.entries(sample)) {
    if (group !== 'utc_timestamp_ms') walk(group, value);
  }
  return out;
}
