/**
 * Login rate limiting: a sliding window per client address and per username. With a database (what the
 * server uses) the attempts are rows shared by every grim instance, so a load balancer spreading attempts over
 * several instances does not multiply the allowance; without one (unit tests) they are kept in memory.
 */
import type { Db } from '../store/db.ts';
import {
  forgetAttempts,
  pruneAttempts,
  recentAttempts,
  recordAttempt,
} from '../store/login-attempts-repo.ts';

export class LoginLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly perIp: number;
  private readonly perUser: number;
  private readonly windowMs: number;
  private readonly db: Db | null;
  private lastPrune = 0;
  constructor(opts: { perIp?: number; perUser?: number; windowMs?: number; db?: Db } = {}) {
    this.perIp = opts.perIp ?? 20;
    this.perUser = opts.perUser ?? 5;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
    this.db = opts.db ?? null;
  }

  private async recent(key: string, now: number): Promise<number[]> {
    if (this.db)
      return (await recentAttempts(this.db, key, now - this.windowMs, false)).map((r) => Number(r.at));
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    this.hits.set(key, list);
    return list;
  }

  /** Seconds to wait, or 0 when the attempt may go ahead. */
  async retryAfter(ip: string, username: string, now = Date.now()): Promise<number> {
    const a = await this.recent(`ip:${ip}`, now);
    const u = await this.recent(`user:${username}`, now);
    const wait = (l: number[], max: number) =>
      l.length >= max ? Math.ceil((l[l.length - max] + this.windowMs - now) / 1000) : 0;
    return Math.max(wait(a, this.perIp), wait(u, this.perUser));
  }

  /** Every attempt counts toward the address; failures count toward the username. */
  async note(ip: string, username: string, ok: boolean, now = Date.now()): Promise<void> {
    if (this.db) {
      await recordAttempt(this.db, `ip:${ip}`, now, !ok);
      if (!ok) await recordAttempt(this.db, `user:${username}`, now, true);
      else await forgetAttempts(this.db, `user:${username}`);
      if (now - this.lastPrune > 60_000) {
        this.lastPrune = now;
        await pruneAttempts(this.db, now - this.windowMs);
      }
      return;
    }
    (await this.recent(`ip:${ip}`, now)).push(now);
    if (!ok) (await this.recent(`user:${username}`, now)).push(now);
    else this.hits.delete(`user:${username}`);
    if (this.hits.size > 100_000) this.hits.clear();
  }
}
