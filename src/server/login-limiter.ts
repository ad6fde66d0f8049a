/**
 * Login rate limiting: a sliding window per client address and per username.
 * Per instance (in memory); behind a load balancer each instance limits on its own.
 */
export class LoginLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly perIp: number;
  private readonly perUser: number;
  private readonly windowMs: number;
  constructor(opts: { perIp?: number; perUser?: number; windowMs?: number } = {}) {
    this.perIp = opts.perIp ?? 20;
    this.perUser = opts.perUser ?? 5;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
  }

  private recent(key: string, now: number) {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    this.hits.set(key, list);
    return list;
  }

  /** Seconds to wait, or 0 when the attempt may go ahead. */
  retryAfter(ip: string, username: string, now = Date.now()): number {
    const a = this.recent(`ip:${ip}`, now);
    const u = this.recent(`user:${username}`, now);
    const wait = (l: number[], max: number) =>
      l.length >= max ? Math.ceil((l[0] + this.windowMs - now) / 1000) : 0;
    return Math.max(wait(a, this.perIp), wait(u, this.perUser));
  }

  /** Every attempt counts toward the address; failures count toward the username. */
  note(ip: string, username: string, ok: boolean, now = Date.now()) {
    this.recent(`ip:${ip}`, now).push(now);
    if (!ok) this.recent(`user:${username}`, now).push(now);
    else this.hits.delete(`user:${username}`);
    if (this.hits.size > 100_000) this.hits.clear();
  }
}
