/**
 * Datasets and snapshots: checking what the user asked for, the exact zfs commands it becomes, and
 * snapshot retention (keep the newest N of each policy). Pure.
 */
import type { ErrorDetail } from '../errors.ts';
import { parseBytes } from '../units.ts';
import { datasetNameProblems, fullSnapshotNameProblems } from './names.ts';
import type { ZfsCapabilities } from './pool-plan.ts';

export interface DatasetRequest {
  name: string;
  /** Byte quantities as grim parses them: "10Gi", "500M", "1073741824". */
  quota?: string;
  refquota?: string;
  reservation?: string;
  compression?: string;
  recordsize?: string;
}

export interface DatasetPlan {
  name: string;
  /** property=value, exact bytes. */
  props: string[];
  commandLine: string;
}

const RECORDSIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576];

export function planDataset(
  req: DatasetRequest,
  caps: ZfsCapabilities | null,
): { ok: true; plan: DatasetPlan } | { ok: false; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = datasetNameProblems(req.name).map((message) => ({ path: 'name', message }));
  if (!req.name.includes('/') && problems.length === 0)
    problems.push({ path: 'name', message: 'a dataset lives in a pool: write pool/name' });
  const props: string[] = [];
  for (const key of ['quota', 'refquota', 'reservation'] as const) {
    const value = req[key];
    if (value === undefined) continue;
    if (value === 'none') {
      props.push(`${key}=none`);
      continue;
    }
    const parsed = parseBytes(value, key);
    if (!parsed.ok) problems.push({ path: key, message: parsed.error });
    else props.push(`${key}=${parsed.value}`);
  }
  if (req.compression !== undefined) {
    const allowed = caps?.compression ?? ['on', 'off'];
    if (!allowed.includes(req.compression))
      problems.push({
        path: 'compression',
        message: `compression "${req.compression}" is not supported on this node; one of ${allowed.join(', ')}`,
      });
    else props.push(`compression=${req.compression}`);
  }
  if (req.recordsize !== undefined) {
    const parsed = parseBytes(req.recordsize, 'recordsize');
    const max = caps?.implementation === 'openzfs' ? 1048576 : 131072;
    if (!parsed.ok) problems.push({ path: 'recordsize', message: parsed.error });
    else if (!RECORDSIZES.includes(parsed.value) || parsed.value > max)
      problems.push({
        path: 'recordsize',
        message: `recordsize must be a power of two from 512 to ${max / 1024}K`,
      });
    else props.push(`recordsize=${parsed.value}`);
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    plan: {
      name: req.name,
      props,
      commandLine: ['zfs create -p', ...props.map((p) => `-o ${p}`), req.name].join(' '),
    },
  };
}

export function snapshotProblems(name: string, path = 'name'): ErrorDetail[] {
  return fullSnapshotNameProblems(name).map((message) => ({ path, message }));
}

export const SNAPSHOT_POLICIES = { hourly: 3600, daily: 86400, weekly: 604800 } as const;
export type SnapshotPolicy = keyof typeof SNAPSHOT_POLICIES;

/** grim-daily-20261206-101500: sortable, and tells retention which snapshots are its own. */
export function policySnapshotName(dataset: string, label: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${dataset}@grim-${label}-${stamp}`;
}

/** The snapshots of `dataset` made by policy `label` that retention removes (all but the newest `keep`). */
export function snapshotsToPrune(
  snapshots: string[],
  dataset: string,
  label: string,
  keep: number,
): string[] {
  const prefix = `${dataset}@grim-${label}-`;
  const own = snapshots.filter(
    (s) => s.startsWith(prefix) && /^[0-9]{8}-[0-9]{6}$/.test(s.slice(prefix.length)),
  );
  own.sort();
  return own.slice(0, Math.max(0, own.length - keep));
}

/** "30d", "12h", "15m", "90s" or plain seconds → seconds (at least 60). */
export function parseInterval(text: string): { ok: true; seconds: number } | { ok: false; error: string } {
  const m = /^([0-9]{1,6})([smhdw]?)$/.exec(text);
  if (!m) return { ok: false, error: `interval ${JSON.stringify(text)} must look like 30d, 12h, 15m or 90s` };
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]] ?? 1;
  const seconds = Number(m[1]) * mult;
  if (seconds < 60) return { ok: false, error: `interval ${text} is shorter than one minute` };
  return { ok: true, seconds };
}

/**
 * When a schedule should next run: "now" or an ISO 8601 date-time (with a time zone), not more than a year
 * ahead and not in the past (a minute of clock skew is allowed).
 */
export function parseNextRun(
  text: string,
  now: number,
): { ok: true; at: number } | { ok: false; error: string } {
  if (text === 'now') return { ok: true, at: now };
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text))
    return {
      ok: false,
      error: `next ${JSON.stringify(text)} must be "now" or a date-time like 2027-01-01T03:00Z`,
    };
  const at = Date.parse(text);
  if (Number.isNaN(at)) return { ok: false, error: `next ${text} is not a valid date-time` };
  if (at < now - 60_000) return { ok: false, error: `next ${text} is in the past` };
  if (at > now + 366 * 86400_000) return { ok: false, error: `next ${text} is more than a year ahead` };
  return { ok: true, at };
}
