// Samples, medians, machine facts and the markdown table of bench/fanout.ts.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** One timed run of a tool: seconds, and how many nodes answered correctly. */
export interface Sample {
  seconds: number;
  ok: number;
  /** CPU time of the client itself meanwhile, when known. */
  cpuSeconds?: number;
  error?: string;
}

export interface Row {
  tool: string;
  /** How the time is measured: inside the process, or the whole process from start to exit. */
  scope: 'in-process' | 'whole process';
  hostKeys: string;
  samples: Map<number, Sample[]>;
  note?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median seconds when every sample answered on all nodes; undefined when any run failed. */
export function medianIfAllOk(row: Row, nodes: number): number | undefined {
  const samples = row.samples.get(nodes) ?? [];
  if (samples.length === 0 || samples.some((s) => s.ok !== nodes)) return undefined;
  return median(samples.map((s) => s.seconds));
}

function cell(row: Row, nodes: number): string {
  const samples = row.samples.get(nodes) ?? [];
  if (samples.length === 0) return 'n/a';
  const failed = samples.filter((s) => s.ok !== nodes);
  if (failed.length) return `FAILED (${failed.length}/${samples.length} runs; ${failed[0].ok}/${nodes} ok)`;
  const secs = samples.map((s) => s.seconds);
  return `${median(secs).toFixed(3)} s (${Math.min(...secs).toFixed(2)}–${Math.max(...secs).toFixed(2)})`;
}

function ratio(row: Row, fabric: Row | undefined, nodes: number): string {
  const mine = medianIfAllOk(row, nodes);
  const base = fabric && medianIfAllOk(fabric, nodes);
  return mine === undefined || base === undefined ? 'n/a' : `${(mine / base).toFixed(2)}×`;
}

/**
 * The result table. Ratios compare with Fabric measured the same way: in-process rows with
 * Fabric's in-process time, whole-process rows with Fabric's whole-process time.
 */
export function markdownTable(rows: Row[], sizes: number[]): string {
  const fabric = (scope: Row['scope']) => rows.find((r) => r.tool.startsWith('Fabric') && r.scope === scope);
  const head = [
    'tool',
    'measured',
    ...sizes.map((n) => `${n} nodes: median (min–max)`),
    ...sizes.map((n) => `vs Fabric, ${n}`),
    'host keys',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const base = fabric(row.scope);
    lines.push(
      `| ${[
        row.note ? `${row.tool} (${row.note})` : row.tool,
        row.scope,
        ...sizes.map((n) => cell(row, n)),
        ...sizes.map((n) => ratio(row, base, n)),
        row.hostKeys,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy over `ms` (other processes: the benchmark itself is idle meanwhile). */
export async function busyShare(ms: number): Promise<number> {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}

export function machineFacts(): string[] {
  const cpus = os.cpus();
  return [
    `cores: ${os.availableParallelism()} (${cpus[0]?.model.trim() ?? 'unknown'})`,
    `memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, kernel ${os.release()}, node ${process.version}`,
  ];
}
