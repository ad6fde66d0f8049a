/**
 * Leases for this grim instance: it acquires them, renews every one it holds every `renewMs`, and gives each
 * holder an AbortSignal that fires the moment the lease is lost (taken over, or not renewed in time because
 * the database was unreachable). `runUnderLease` is THE way to run a background loop in grim: the loop runs on
 * exactly one instance at a time, and the `db` it gets refuses writes once another instance has the lease.
 *
 *   const stop = services.leases.runUnderLease('loop:zfs-health', async ({ db, signal }) => {
 *     ... one round: read with db, write with db (every write checks the fencing token) ...
 *   }, { everyMs: 30_000 });
 *   // on shutdown: await stop();
 */
import { hostname } from 'node:os';
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { fencedDb } from '../store/fenced-db.ts';
import { LeaseLostError, liveInstanceIds, releaseLease, tryAcquireLease } from '../store/leases-repo.ts';
import { LEASE_NAME } from '../domain/lease.ts';

export const DEFAULT_LEASE_TTL_MS = 15_000;
export const DEFAULT_LEASE_RENEW_MS = 5_000;

export interface HeldLease {
  name: string;
  holder: string;
  token: number;
  /** Aborted when the lease is lost or released. */
  signal: AbortSignal;
  /** The database with every write fenced by this lease's token. */
  db: Db;
}

interface Holding extends HeldLease {
  controller: AbortController;
  /** Local monotonic deadline: the lease cannot be trusted after it without a renewal. */
  validUntil: number;
}

export interface LoopStats {
  name: string;
  held: boolean;
  token: number | null;
  runs: number;
  failures: number;
  lastError: string | null;
  lastRunAt: number | null;
}

export interface LoopOptions {
  /** Pause between two rounds while this instance holds the lease. */
  everyMs: number;
}

/** A fresh id per process: a restarted grim is a new instance, and its old jobs are orphans like any other's. */
export function newInstanceId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .slice(0, 40);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** What a round reported, for the round log: a report object's numbers, and the length of each list in it. */
function roundSummary(result: unknown): { result?: Record<string, number> } {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return {};
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(result))
    if (typeof v === 'number') counts[k] = v;
    else if (Array.isArray(v)) counts[k] = v.length;
  return { result: counts };
}

export class LeaseManager {
  readonly db: Db;
  readonly instanceId: string;
  readonly ttlMs: number;
  readonly renewMs: number;
  private readonly log: (line: string) => void;
  private readonly held = new Map<string, Holding>();
  private readonly loops = new Map<string, LoopStats>();
  private readonly stopLoops = new Set<() => Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  /** GRIM_LOOP_LOG: a file that gets one JSON line per loop round (which instance, token, start, end, what it reported). */
  private readonly roundLog = process.env.GRIM_LOOP_LOG || '';
  private renewing: Promise<void> | null = null;

  /** SQLite: the data-directory lock guarantees no other instance runs, so every other owner is dead. */
  readonly exclusive: boolean;
  constructor(
    db: Db,
    opts: {
      instanceId?: string;
      ttlMs?: number;
      renewMs?: number;
      log?: (line: string) => void;
      exclusive?: boolean;
    } = {},
  ) {
    this.db = db;
    this.exclusive = opts.exclusive ?? false;
    this.instanceId = opts.instanceId ?? newInstanceId();
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.renewMs = opts.renewMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
    if (!(this.renewMs < this.ttlMs))
      throw new RangeError('leases must be renewed more often than they expire');
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
  }

  /** Starts renewing; takes this instance's own `instance:<id>` lease, which marks it alive (job ownership). */
  async start(): Promise<void> {
    if (!this.timer) {
      this.timer = setInterval(() => void this.renewAll(), this.renewMs);
      this.timer.unref();
    }
    const own = await this.acquire(`instance:${this.instanceId}`);
    if (!own) throw new Error(`instance lease for ${this.instanceId} is held by someone else`);
  }

  /** Instances whose `instance:<id>` lease is valid: owners whose jobs must be left alone. */
  async liveInstances(): Promise<Set<string>> {
    if (this.exclusive) return new Set([this.instanceId]);
    return liveInstanceIds(this.db);
  }

  /** The lease if this instance holds it now. */
  current(name: string): HeldLease | null {
    const h = this.held.get(name);
    if (!h) return null;
    if (performance.now() > h.validUntil) {
      this.drop(name, 'not renewed in time');
      return null;
    }
    return h;
  }

  holds(name: string): boolean {
    return this.current(name) !== null;
  }

  /**
   * Acquire (or take over an expired) lease; null when another instance holds it. `holderGone` says which
   * holders are known dead: their leases are taken at once instead of after expiry.
   */
  async acquire(
    name: string,
    opts: { holderGone?: (holder: string) => boolean } = {},
  ): Promise<HeldLease | null> {
    if (!LEASE_NAME.test(name)) throw new Error(`bad lease name ${JSON.stringify(name)}`);
    const mine = this.current(name);
    if (mine) return mine;
    const sent = performance.now();
    const r = await tryAcquireLease(this.db, name, this.instanceId, this.ttlMs, opts.holderGone);
    if (!r.held) return null;
    const controller = new AbortController();
    const fence = { name, holder: this.instanceId, token: r.token };
    const h: Holding = {
      ...fence,
      controller,
      signal: controller.signal,
      db: fencedDb(this.db, fence),
      validUntil: sent + this.ttlMs,
    };
    this.held.set(name, h);
    return h;
  }

  /** Give the lease back at once (expires it), so another instance can take it without waiting. */
  async release(name: string): Promise<void> {
    const h = this.held.get(name);
    if (h) this.drop(name, 'released');
    // Also when it was dropped locally (renewal late): whatever token the database shows for us, give it up.
    const r = await tryAcquireLease(this.db, name, this.instanceId, this.ttlMs).catch(() => null);
    if (r?.held && !this.held.has(name))
      await releaseLease(this.db, name, this.instanceId, r.token).catch(() => false);
  }

  private drop(name: string, why: string) {
    const h = this.held.get(name);
    if (!h) return;
    this.held.delete(name);
    h.controller.abort(new LeaseLostError(name, `lease ${name} lost: ${why}`));
  }

  /** Renew every lease held; one that cannot be renewed (taken over, or the database is gone) is dropped. */
  renewAll(): Promise<void> {
    this.renewing ??= (async () => {
      for (const [name, h] of [...this.held]) {
        const sent = performance.now();
        try {
          const r = await tryAcquireLease(this.db, name, this.instanceId, this.ttlMs);
          if (this.held.get(name) !== h) {
            // Released while this renewal was in flight: do not keep what the renewal just took.
            if (r.held && !this.held.has(name))
              await releaseLease(this.db, name, this.instanceId, r.token).catch(() => false);
            continue;
          }
          if (r.held && r.token === h.token) h.validUntil = sent + this.ttlMs;
          else if (r.held) {
            // It had expired and we took it again: whatever ran under the old token must stop.
            this.drop(name, 'expired before it was renewed');
            await releaseLease(this.db, name, this.instanceId, r.token).catch(() => false);
          } else this.drop(name, `taken over by ${r.holder}`);
        } catch (err) {
          if (performance.now() > h.validUntil) this.drop(name, `cannot renew: ${(err as Error).message}`);
        }
      }
    })().finally(() => (this.renewing = null));
    return this.renewing;
  }

  /**
   * Run `fn` every `everyMs` on whichever instance holds lease `name`. Instances that do not hold it retry
   * every renewal interval, so a dead holder's loop is taken over within ttl + renewMs. A round that throws
   * is logged and the loop goes on; a lost lease aborts the round's signal. Returns an async stop.
   */
  runUnderLease(
    name: string,
    fn: (lease: HeldLease) => Promise<unknown>,
    opts: LoopOptions,
  ): () => Promise<void> {
    const stats: LoopStats = {
      name,
      held: false,
      token: null,
      runs: 0,
      failures: 0,
      lastError: null,
      lastRunAt: null,
    };
    this.loops.set(name, stats);
    let stopped = false;
    let wake: (() => void) | null = null;
    const sleep = (ms: number) =>
      new Promise<void>((res) => {
        const t = setTimeout(res, ms);
        t.unref();
        wake = () => {
          clearTimeout(t);
          res();
        };
      });
    const done = (async () => {
      while (!stopped) {
        let lease: HeldLease | null = null;
        try {
          lease = await this.acquire(name);
        } catch (err) {
          stats.lastError = `acquire: ${(err as Error).message}`;
        }
        stats.held = !!lease;
        stats.token = lease?.token ?? null;
        if (lease && !stopped) {
          stats.lastRunAt = Date.now();
          const start = Date.now();
          let ok = true;
          let result: unknown;
          try {
            result = await fn(lease);
            stats.runs++;
          } catch (err) {
            ok = false;
            stats.failures++;
            stats.lastError = (err as Error).message;
            if (!(err instanceof LeaseLostError)) this.log(`${name}: ${(err as Error).message}`);
          }
          if (this.roundLog)
            appendFileSync(
              this.roundLog,
              JSON.stringify({
                instance: this.instanceId,
                loop: name,
                token: lease.token,
                start,
                end: Date.now(),
                ok,
                ...roundSummary(result),
              }) + '\n',
            );
        }
        if (!stopped) await sleep(lease ? opts.everyMs : Math.min(opts.everyMs, this.renewMs));
      }
      stats.held = false;
      await this.release(name);
    })();
    const stop = async () => {
      stopped = true;
      (wake as (() => void) | null)?.();
      await done;
      this.loops.delete(name);
      this.stopLoops.delete(stop);
    };
    this.stopLoops.add(stop);
    return stop;
  }

  /**
   * A Db for a long-lived component that runs inside a loop (a collector that keeps state between rounds):
   * its writes are fenced by whatever token this instance holds for `name` at that moment, and refused with
   * LeaseLostError while it holds none.
   */
  loopDb(name: string): Db {
    const fenced = (): Db => {
      const h = this.current(name);
      if (!h) throw new LeaseLostError(name);
      return h.db;
    };
    return {
      dialect: this.db.dialect,
      all: (sql, params) => this.db.all(sql, params),
      get: (sql, params) => this.db.get(sql, params),
      run: async (sql, params) => fenced().run(sql, params),
      transaction: async (fn) => fenced().transaction(fn),
      ping: () => this.db.ping(),
      poolStats: () => this.db.poolStats(),
      close: async () => undefined,
    };
  }

  /** What this instance runs and holds, for `grim status` and the UI. */
  status() {
    return {
      instanceId: this.instanceId,
      loops: [...this.loops.values()].map((l) => ({ ...l })),
      held: [...this.held.values()].map((h) => ({ name: h.name, token: h.token })),
    };
  }

  /** Stop every loop, release every lease (the instance lease last). */
  async stop(): Promise<void> {
    await Promise.all([...this.stopLoops].map((s) => s()));
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    for (const name of [...this.held.keys()]) await this.release(name);
  }
}
