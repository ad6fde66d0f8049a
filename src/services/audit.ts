import type { Db, Queryable } from '../store/db.ts';
import {
  GENESIS_HASH,
  hashEntry,
  verifyChain,
  type AuditEntry,
  type ChainBreak,
} from '../domain/audit-chain.ts';

export interface AuditEvent {
  actor: string; // username, or '-' when unknown
  actorKind: 'user' | 'token' | 'system' | 'anonymous';
  action: string; // e.g. 'createUser', 'login.failed', 'node.hostkey-mismatch'
  target?: string;
  outcome: 'success' | 'failure' | 'denied';
  details?: Record<string, unknown>;
  ip?: string;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: string;
  since?: number;
  until?: number;
  beforeSeq?: number;
  limit?: number;
}

interface AuditRow {
  seq: number;
  ts: number;
  actor: string;
  actor_kind: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
  ip: string;
  prev_hash: string;
  hash: string;
}

const toEntry = (r: AuditRow): AuditEntry & { hash: string } => ({
  seq: Number(r.seq),
  ts: Number(r.ts),
  actor: r.actor,
  actorKind: r.actor_kind,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  details: r.details,
  ip: r.ip,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/** Append-only, hash-chained audit log. Appends are serialised so the chain never forks. */
export class AuditLog {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async record(ev: AuditEvent): Promise<number> {
    return this.db.transaction((tx) => this.append(tx, ev));
  }

  /** Append inside a caller's transaction (so the audit row commits with the change it describes). */
  async append(tx: Queryable, ev: AuditEvent): Promise<number> {
    if (this.db.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(7324002)');
    const last = await tx.get<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    const entry: AuditEntry = {
      seq: last ? Number(last.seq) + 1 : 1,
      ts: Date.now(),
      actor: ev.actor,
      actorKind: ev.actorKind,
      action: ev.action,
      target: ev.target ?? '',
      outcome: ev.outcome,
      details: JSON.stringify(ev.details ?? {}),
      ip: ev.ip ?? '',
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = hashEntry(entry);
    await tx.run(
      `INSERT INTO audit_log (seq, ts, actor, actor_kind, action, target, outcome, details, ip, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        entry.seq,
        entry.ts,
        entry.actor,
        entry.actorKind,
        entry.action,
        entry.target,
        entry.outcome,
        entry.details,
        entry.ip,
        entry.prevHash,
        hash,
      ],
    );
    return entry.seq;
  }

  async list(f: AuditFilter) {
    const where: string[] = [];
    const params: Array<string | number> = [];
    const eq = (col: string, v: string | number | undefined) => {
      if (v !== undefined) {
        where.push(`${col} = ?`);
        params.push(v);
      }
    };
    eq('actor', f.actor);
    eq('action', f.action);
    eq('target', f.target);
    eq('outcome', f.outcome);
    if (f.since !== undefined) {
      where.push('ts >= ?');
      params.push(f.since);
    }
    if (f.until !== undefined) {
      where.push('ts <= ?');
      params.push(f.until);
    }
    if (f.beforeSeq !== undefined) {
      where.push('seq < ?');
      params.push(f.beforeSeq);
    }
    const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = await this.db.all<AuditRow>(sql, [...params, f.limit ?? 100]);
    return rows.map((r) => {
      const e = toEntry(r);
      let details: Record<string, unknown>;
      try {
        details = JSON.parse(e.details);
      } catch {
        details = { unparsable: e.details };
      }
      return {
        seq: e.seq,
        ts: e.ts,
        actor: e.actor,
        actorKind: e.actorKind,
        action: e.action,
        target: e.target,
        outcome: e.outcome,
        details,
        ip: e.ip,
        hash: e.hash,
      };
    });
  }

  /** Walks the whole chain in pages; returns the first broken entry. */
  async verify(pageSize = 5000): Promise<{ ok: boolean; checked: number; firstBroken?: ChainBreak }> {
    let prev = GENESIS_HASH;
    let nextSeq = 1;
    let checked = 0;
    for (;;) {
      const rows = await this.db.all<AuditRow>(
        'SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?',
        [nextSeq, pageSize],
      );
      if (rows.length === 0) break;
      const entries = rows.map(toEntry);
      const broken = verifyChain(entries, prev, nextSeq);
      if (broken) return { ok: false, checked: checked + (broken.seq - nextSeq), firstBroken: broken };
      checked += entries.length;
      prev = entries[entries.length - 1].hash;
      nextSeq = entries[entries.length - 1].seq + 1;
    }
    return { ok: true, checked };
  }
}
