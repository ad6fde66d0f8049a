/** Backup schedules: an interval ("30m", "6h", "1d", "1w"), at least 5 minutes and at most 90 days. */
import type { Parsed } from '../units.ts';

const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86_400, w: 604_800 };
const FORM = /^([1-9][0-9]{0,4})([mhdw])$/;
export const MIN_INTERVAL_SEC = 300;
export const MAX_INTERVAL_SEC = 90 * 86_400;

export function parseBackupSchedule(input: unknown): Parsed<number> {
  const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 40)) : String(input);
  const forms = 'an interval like "30m", "6h", "1d" or "1w"';
  if (typeof input !== 'string')
    return { ok: false, error: `schedule ${shown} is not a string; use ${forms}` };
  const m = FORM.exec(input);
  if (!m) return { ok: false, error: `schedule ${shown} is not ${forms}` };
  const sec = Number(m[1]) * UNITS[m[2]];
  if (sec < MIN_INTERVAL_SEC || sec > MAX_INTERVAL_SEC)
    return { ok: false, error: `schedule ${shown} must be from 5m to 90d` };
  return { ok: true, value: sec };
}

/** When the next backup is due, given the last attempt (ms) and the interval. */
export const nextBackupAt = (lastAttemptMs: number | null, intervalSec: number, createdMs: number) =>
  (lastAttemptMs ?? createdMs) + intervalSec * 1000;
