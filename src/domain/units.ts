/**
 * Strict parsing and formatting of resource quantities.
 * CPU is held as millicores (1 CPU = 1000m); memory and disk are held as bytes.
 * Parsers never throw: they return a result whose error names the value and the accepted forms.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const CPU_FORMS =
  'millicores like "100m" or "250m", or cores with at most 3 decimals like "1" or "1.5"';
export const BYTE_FORMS =
  'plain bytes like "1048576", or a whole or decimal number with a unit: ' +
  'Ki, Mi, Gi, Ti, Pi (powers of 1024, e.g. "512Mi", "1Gi") or k, M, G, T, P (powers of 1000, e.g. "2G", "500M")';

const BINARY_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['Pi', 1024n ** 5n],
  ['Ti', 1024n ** 4n],
  ['Gi', 1024n ** 3n],
  ['Mi', 1024n ** 2n],
  ['Ki', 1024n],
];
const DECIMAL_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['P', 1000n ** 5n],
  ['T', 1000n ** 4n],
  ['G', 1000n ** 3n],
  ['M', 1000n ** 2n],
  ['k', 1000n],
];
const UNIT_FACTORS = new Map<string, bigint>([...BINARY_UNITS, ...DECIMAL_UNITS, ['', 1n]]);

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const CPU_MILLIS = /^([0-9]+)m$/;
const CPU_CORES = /^([0-9]+)(?:\.([0-9]+))?$/;
const QUANTITY = /^([0-9]+)(?:\.([0-9]+))?([A-Za-z]*)$/;

function fail<T>(what: string, input: unknown, reason: string, forms: string): Parsed<T> {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return { ok: false, error: `${what} value ${shown} ${reason}; accepted forms: ${forms}` };
}

/** "250m" -> 250, "1" -> 1000, "1.5" -> 1500. Zero, negatives, other units and more than 3 decimals are rejected. */
export function parseCpu(input: unknown): Parsed<number> {
  const bad = (reason: string) => fail<number>('CPU', input, reason, CPU_FORMS);
  if (typeof input !== 'string') return bad('is not a string');
  if (input === '') return bad('is empty');
  if (input.startsWith('-')) return bad('is negative');
  let millis: bigint;
  const m = CPU_MILLIS.exec(input);
  const c = m ? null : CPU_CORES.exec(input);
  if (m) {
    millis = BigInt(m[1]);
  } else if (c) {
    const decimals = c[2] ?? '';
    if (decimals.length > 3) return bad('has more than 3 decimals (the smallest step is 1m = 0.001 CPU)');
    millis = BigInt(c[1]) * 1000n + BigInt(decimals.padEnd(3, '0') || '0');
  } else {
    return bad('is not a CPU quantity');
  }
  if (millis === 0n) return bad('is zero (must be greater than zero)');
  if (millis > MAX) return bad('is too large');
  return { ok: true, value: Number(millis) };
}

/**
 * "128Mi" -> 134217728, "2G" -> 2000000000, "1048576" -> 1048576, "1.5Gi" -> 1610612736.
 * Units are case-sensitive; the result must be a whole, positive number of bytes within Number.MAX_SAFE_INTEGER.
 * `what` names the quantity in errors ("memory", "disk").
 */
export function parseBytes(input: unknown, what = 'byte'): Parsed<number> {
  const bad = (reason: string) => fail<number>(what, input, reason, BYTE_FORMS);
  if (typeof input !== 'string') return bad('is not a string');
  if (input === '') return bad('is empty');
  if (input.startsWith('-')) return bad('is negative');
  const q = QUANTITY.exec(input);
  if (!q) return bad('is not a number with an optional unit');
  const [, whole, decimals = '', unit] = q;
  const factor = UNIT_FACTORS.get(unit);
  if (factor === undefined) return bad(`has an unknown unit "${unit}" (units are case-sensitive)`);
  const scale = 10n ** BigInt(decimals.length);
  const scaled = BigInt(whole + decimals) * factor;
  if (scaled % scale !== 0n) return bad('is not a whole number of bytes');
  const bytes = scaled / scale;
  if (bytes === 0n) return bad('is zero (must be greater than zero)');
  if (bytes > MAX) return bad('is too large');
  return { ok: true, value: Number(bytes) };
}

/** 1500 -> "1500m", 2000 -> "2", 250 -> "250m". Output always parses back with parseCpu (except 0). */
export function formatCpu(millis: number): string {
  if (!Number.isSafeInteger(millis) || millis < 0) return String(millis);
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/**
 * Exact, shortest form: 1073741824 -> "1Gi", 2000000000 -> "2G", 1500 -> "1500" (binary preferred on ties).
 * Output always parses back with parseBytes to the same number (except 0).
 */
export function formatBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return String(bytes);
  const n = BigInt(bytes);
  let best = String(bytes);
  for (const [unit, factor] of [...BINARY_UNITS, ...DECIMAL_UNITS]) {
    if (n % factor !== 0n) continue;
    const candidate = `${n / factor}${unit}`;
    if (candidate.length < best.length) best = candidate;
  }
  return best;
}
