/**
 * Bucket quotas as SeaweedFS enforces them: `s3.bucket.quota.enforce -apply` compares each bucket's collection
 * size (as the master's topology reports it, every replica counted) with the bucket's quota and marks the
 * bucket's filer location `readOnly` when over (writable again when under). grim reads the result back from
 * `fs.configure` (the filer.conf it prints) and reports every read-only bucket with a quota as a problem.
 * Pure: parses the shell's output.
 */
import type { Problem } from './health.ts';

/** Buckets whose filer.conf location (`/buckets/<name>/`) is read-only, from `fs.configure`'s output. */
export function readOnlyBuckets(fsConfigureOutput: string, bucketsPath = '/buckets'): string[] {
  const out: string[] = [];
  for (const m of fsConfigureOutput.matchAll(/\{[^{}]*\}/g)) {
    const loc = /"locationPrefix"\s*:\s*"([^"]*)"/.exec(m[0])?.[1];
    if (!loc || !/"readOnly"\s*:\s*true/.test(m[0])) continue;
    const name = loc.startsWith(`${bucketsPath}/`)
      ? loc.slice(bucketsPath.length + 1).replace(/\/$/, '')
      : '';
    if (name && !name.includes('/')) out.push(name);
  }
  return [...new Set(out)].sort();
}

/** Sizes the enforcement printed for the buckets it changed: `  <name>\tsize:<bytes>\tquota:<bytes>\t...`. */
export function enforcedSizes(enforceOutput: string): Map<string, { size: number; quota: number }> {
  return new Map(
    [...enforceOutput.matchAll(/^\s*(\S+)\s+size:(\d+)\s+quota:(\d+)/gm)].map((m) => [
      m[1],
      { size: Number(m[2]), quota: Number(m[3]) },
    ]),
  );
}

export function quotaProblems(readOnly: string[], quotaMB: Map<string, number | null>): Problem[] {
  return readOnly
    .filter((b) => quotaMB.get(b))
    .map((b) => ({
      kind: 'bucket-over-quota' as const,
      subject: b,
      message: `bucket ${b} is over its quota of ${quotaMB.get(b)} MB: SeaweedFS made it read-only (deleting objects frees space once the volumes are vacuumed; or raise the quota)`,
    }));
}
