import { createHash } from 'node:crypto';

/** One audit entry as hashed. Changing any field changes the hash; each hash covers the previous one. */
export interface AuditEntry {
  seq: number;
  ts: number;
  actor: string;
  actorKind: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
  ip: string;
  prevHash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export function hashEntry(e: AuditEntry): string {
  const canonical = JSON.stringify([
    e.seq,
    e.ts,
    e.actor,
    e.actorKind,
    e.action,
    e.target,
    e.outcome,
    e.details,
    e.ip,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface ChainBreak {
  seq: number;
  reason: string;
}

/**
 * Verifies entries in seq order. `expectedPrev` lets the caller verify in pages.
 * Returns the first break, or null when the chain is intact.
 */
export function verifyChain(
  entries: Array<AuditEntry & { hash: string }>,
  expectedPrev = GENESIS_HASH,
  expectedSeq = 1,
): ChainBreak | null {
  let prev = expectedPrev;
  let seq = expectedSeq;
  for (const e of entries) {
    if (e.seq !== seq) return { seq, reason: `entry ${seq} is missing (found ${e.seq} next)` };
    if (e.prevHash !== prev) return { seq: e.seq, reason: 'previous-hash link does not match' };
    if (hashEntry(e) !== e.hash) return { seq: e.seq, reason: 'contents do not match the stored hash' };
    prev = e.hash;
    seq++;
  }
  return null;
}
