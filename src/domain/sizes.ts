/**
 * Admin-defined T-shirt sizes and the resolver that turns an app's resource request into per-instance resources.
 * Validation collects every problem instead of stopping at the first.
 */
import { formatBytes, formatCpu, parseBytes, parseCpu } from './units.ts';
import type { Parsed } from './units.ts';

export type Resources = { cpuMillis: number; memoryBytes: number; diskBytes: number };
export type Size = { name: string } & Resources;

const GI = 1024 ** 3;
const MI = 1024 ** 2;

/** The built-in set; admins may replace it (see checkSizeSet). */
export const DEFAULT_SIZES: readonly Size[] = Object.freeze([
  { name: 'xs', cpuMillis: 100, memoryBytes: 128 * MI, diskBytes: 1 * GI },
  { name: 's', cpuMillis: 250, memoryBytes: 256 * MI, diskBytes: 2 * GI },
  { name: 'm', cpuMillis: 1000, memoryBytes: 1 * GI, diskBytes: 10 * GI },
  { name: 'l', cpuMillis: 2000, memoryBytes: 4 * GI, diskBytes: 20 * GI },
  { name: 'xl', cpuMillis: 4000, memoryBytes: 8 * GI, diskBytes: 40 * GI },
]);

export const SIZE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export type ResourceField = 'name' | 'size' | 'cpu' | 'memory' | 'disk';
export type ResourceProblem = { field: ResourceField; message: string };

/** Returns an error message, or undefined when the name is valid. */
export function checkSizeName(name: unknown): string | undefined {
  if (typeof name === 'string' && SIZE_NAME_PATTERN.test(name)) return undefined;
  const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
  return (
    `size name ${shown} is invalid: use 1 to 32 characters of lowercase letters, digits and "-", ` +
    'starting with a letter or digit'
  );
}

/** An app's request: a named size, explicit values, or both (explicit values override the size's fields). */
export type ResourceRequest = { size?: string; cpu?: string; memory?: string; disk?: string };

export type ResolvedResources =
  { ok: true; resources: Resources; size: string | null } | { ok: false; problems: ResourceProblem[] };

export function resolveResources(
  request: ResourceRequest,
  sizes: readonly Size[] = DEFAULT_SIZES,
): ResolvedResources {
  const problems: ResourceProblem[] = [];
  let base: Size | undefined;
  if (request.size !== undefined) {
    const nameError = checkSizeName(request.size);
    base = sizes.find((s) => s.name === request.size);
    if (nameError) problems.push({ field: 'size', message: nameError });
    else if (!base) {
      const known = sizes.map((s) => s.name).join(', ') || '(none defined)';
      problems.push({ field: 'size', message: `unknown size "${request.size}"; known sizes: ${known}` });
    }
  }
  const pick = (
    field: 'cpu' | 'memory' | 'disk',
    fromSize: number | undefined,
    parse: () => Parsed<number>,
  ) => {
    if (request[field] === undefined) {
      // A missing field is only a problem of its own when no size was asked for at all.
      if (fromSize === undefined && request.size === undefined)
        problems.push({ field, message: `${field} is required when no size is given` });
      return fromSize ?? 0;
    }
    const parsed = parse();
    if (parsed.ok) return parsed.value;
    problems.push({ field, message: parsed.error });
    return 0;
  };
  const cpuMillis = pick('cpu', base?.cpuMillis, () => parseCpu(request.cpu));
  const memoryBytes = pick('memory', base?.memoryBytes, () => parseBytes(request.memory, 'memory'));
  const diskBytes = pick('disk', base?.diskBytes, () => parseBytes(request.disk, 'disk'));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, resources: { cpuMillis, memoryBytes, diskBytes }, size: base ? base.name : null };
}

/** An admin's size definition in text form, as entered in the UI or CLI. */
export type SizeDefinition = { name: string; cpu: string; memory: string; disk: string };

export function defineSize(
  def: SizeDefinition,
): { ok: true; size: Size } | { ok: false; problems: ResourceProblem[] } {
  const problems: ResourceProblem[] = [];
  const nameError = checkSizeName(def.name);
  if (nameError) problems.push({ field: 'name', message: nameError });
  const cpu = parseCpu(def.cpu);
  const memory = parseBytes(def.memory, 'memory');
  const disk = parseBytes(def.disk, 'disk');
  if (!cpu.ok) problems.push({ field: 'cpu', message: cpu.error });
  if (!memory.ok) problems.push({ field: 'memory', message: memory.error });
  if (!disk.ok) problems.push({ field: 'disk', message: disk.error });
  if (!cpu.ok || !memory.ok || !disk.ok || nameError) return { ok: false, problems };
  return {
    ok: true,
    size: { name: def.name, cpuMillis: cpu.value, memoryBytes: memory.value, diskBytes: disk.value },
  };
}

/** Every problem in a whole size set: invalid names, duplicates, non-positive or non-integer values. */
export function checkSizeSet(sizes: readonly Size[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const size of sizes) {
    const nameError = checkSizeName(size.name);
    if (nameError) problems.push(nameError);
    else if (seen.has(size.name)) problems.push(`size "${size.name}" is defined more than once`);
    seen.add(size.name);
    for (const field of ['cpuMillis', 'memoryBytes', 'diskBytes'] as const) {
      const v = size[field];
      if (!Number.isSafeInteger(v) || v <= 0)
        problems.push(`size "${size.name}": ${field} must be a positive whole number, got ${v}`);
    }
  }
  return problems;
}

/** "m: 1 CPU, 1Gi memory, 10Gi disk" */
export function describeSize(size: Size): string {
  return `${size.name}: ${formatCpu(size.cpuMillis)} CPU, ${formatBytes(size.memoryBytes)} memory, ${formatBytes(size.diskBytes)} disk`;
}
