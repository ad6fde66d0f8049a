/**
 * Leases with fencing tokens, as a pure state machine. A lease names one piece of work that must run on
 * exactly one grim instance at a time (a background loop, a rollout). Its holder renews it every few
 * seconds; once it has expired any instance may take it over, and every change of holder (or re-acquisition
 * after expiry) raises the fencing token. Writes made on behalf of the lease carry the token they were
 * granted; the store rejects them once the token has moved on, so a paused and revived old holder cannot write.
 *
 * The store reads the current record and the database clock, asks `decideLease`, and applies the decision
 * with a compare-and-set on the observed token, so two instances deciding at once cannot both win.
 */

export interface LeaseRecord {
  holder: string;
  token: number;
  /** Database clock, ms since the epoch; 0 after a release. */
  expiresAt: number;
}

export type LeaseDecision =
  /** Nobody ever held it: create it with token 1. */
  | { kind: 'acquire'; token: number; expiresAt: number }
  /** We hold it and it has not expired: extend, same token. */
  | { kind: 'renew'; token: number; expiresAt: number }
  /** Expired or released (by us or anyone else): take it with the next token. */
  | { kind: 'takeover'; token: number; expiresAt: number; from: string }
  /** Someone else holds it and it is still valid. */
  | { kind: 'held'; holder: string; expiresAt: number };

export function leaseExpired(rec: LeaseRecord, now: number): boolean {
  return rec.expiresAt <= now;
}

/**
 * What `holder` gets when it asks for the lease at `now` for `ttlMs`. `holderGone`: the current holder is
 * known to be dead (its instance lease expired, or SQLite's data-directory lock proves no other instance
 * runs), so its lease may be taken before it expires; fencing keeps that safe.
 */
export function decideLease(
  current: LeaseRecord | undefined,
  holder: string,
  now: number,
  ttlMs: number,
  holderGone = false,
): LeaseDecision {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl must be positive, got ${ttlMs}`);
  const expiresAt = now + ttlMs;
  if (!current) return { kind: 'acquire', token: 1, expiresAt };
  if (!leaseExpired(current, now) && !(holderGone && current.holder !== holder)) {
    if (current.holder === holder) return { kind: 'renew', token: current.token, expiresAt };
    return { kind: 'held', holder: current.holder, expiresAt: current.expiresAt };
  }
  return { kind: 'takeover', token: current.token + 1, expiresAt, from: current.holder };
}

/** Whether a write fenced with (holder, token) may go ahead against the current record at `now`. */
export function fenceAdmits(
  current: LeaseRecord | undefined,
  holder: string,
  token: number,
  now: number,
): boolean {
  return !!current && current.holder === holder && current.token === token && !leaseExpired(current, now);
}

/** A release only counts from the holder with the current token: it expires the lease at once, keeping the token. */
export function releaseAdmits(current: LeaseRecord | undefined, holder: string, token: number): boolean {
  return !!current && current.holder === holder && current.token === token;
}

/** Lease names are short and readable: `loop:reconciler`, `rollout:<id>`, `instance:<id>`. */
export const LEASE_NAME = /^[a-z][a-z0-9-]*:[A-Za-z0-9._-]{1,100}$/;
