/**
 * The push side of log shipping. Tailers hand over pieces (the lines read from one file, with the cursor
 * after them); the batcher groups pieces into pushes of at most `batchBytes` that wait at most
 * `batchWaitMs` (earlier when no tailer is still reading), pushes them to Loki, and only after Loki
 * answered stores the cursors of exactly the pieces in that push. So a line is re-read after a crash or a
 * failed push, never lost; and pieces leave in the order they came, so lines stay in order per stream.
 */
import type { Db } from '../../store/db.ts';
import { saveCursors, type LogCursor } from '../../store/monitoring-repo.ts';
import { pushToLoki, type LokiTarget, type PushOptions } from '../../integrations/loki/push-client.ts';
import type { LokiEntry, LokiStream } from '../../integrations/loki/push-proto.ts';

export interface Piece {
  /** Formatted stream labels (formatLabels). */
  stream: string;
  entries: LokiEntry[];
  /** Approximate encoded size: line bytes plus per-entry overhead. */
  bytes: number;
  cursor: LogCursor;
}

export interface ShipperStats {
  batches: number;
  lines: number;
  bytes: number;
  /** Attempts answered 429 (rate or stream limits). */
  rateLimited: number;
  /** Other retried attempts (5xx, network, 401/403). */
  retried: number;
  /** Pushes Loki refused with a 400 (or another final 4xx): not retried, their lines are counted here. */
  rejectedBatches: number;
  rejectedLines: number;
  lastRejection: string | null;
  lastError: string | null;
  truncatedLines: number;
  /** Rotated files whose rest was gone before grim read it. */
  lostFiles: number;
  readFailures: number;
}

export function emptyStats(): ShipperStats {
  return {
    batches: 0,
    lines: 0,
    bytes: 0,
    rateLimited: 0,
    retried: 0,
    rejectedBatches: 0,
    rejectedLines: 0,
    lastRejection: null,
    lastError: null,
    truncatedLines: 0,
    lostFiles: 0,
    readFailures: 0,
  };
}

interface Waiting {
  piece: Piece;
  queuedAt: number;
  done: () => void;
  fail: (err: unknown) => void;
}

export interface BatcherOptions {
  target: LokiTarget;
  batchBytes: number;
  batchWaitMs: number;
  push?: PushOptions;
  log: (line: string) => void;
  stats?: ShipperStats;
}

export class LogBatcher {
  readonly #db: Db;
  readonly #o: BatcherOptions;
  readonly #queue: Waiting[] = [];
  readonly #abort = new AbortController();
  readonly stats: ShipperStats;
  /** Tailers in the middle of a read: while none is, there is no reason to wait for more lines. */
  reading = 0;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(db: Db, opts: BatcherOptions) {
    this.#db = db;
    this.#o = opts;
    this.stats = opts.stats ?? emptyStats();
  }

  /** Resolves when every piece is pushed (or finally rejected) and its cursor stored. */
  submit(pieces: readonly Piece[]): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.reject(new Error('log shipper stopped'));
    const now = Date.now();
    const all = pieces.map(
      (piece) => new Promise<void>((done, fail) => this.#queue.push({ piece, queuedAt: now, done, fail })),
    );
    this.#wake?.();
    return Promise.all(all).then(() => undefined);
  }

  /** Signals the loop that a tailer finished reading. */
  poke(): void {
    this.#wake?.();
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error('log shipper stopped'));
    this.#wake?.();
    await this.#loop;
    for (const w of this.#queue.splice(0)) w.fail(new Error('log shipper stopped'));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      this.#wake = finish;
      function finish() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => (this.#wake = null));
  }

  #queuedBytes(): number {
    return this.#queue.reduce((a, w) => a + w.piece.bytes, 0);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      if (this.#queue.length === 0) {
        await this.#sleep(this.#o.batchWaitMs);
        continue;
      }
      const age = Date.now() - this.#queue[0].queuedAt;
      if (this.#queuedBytes() < this.#o.batchBytes && age < this.#o.batchWaitMs && this.reading > 0) {
        await this.#sleep(this.#o.batchWaitMs - age);
        continue;
      }
      const batch = this.#take();
      try {
        await this.#pushBatch(
          batch.map((w) => w.piece),
          signal,
        );
        for (const w of batch) w.done();
      } catch (err) {
        for (const w of batch) w.fail(err);
      }
    }
  }

  /** The oldest pieces up to batchBytes (always at least one). */
  #take(): Waiting[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n].piece.bytes <= this.#o.batchBytes)) {
      bytes += this.#queue[n].piece.bytes;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #pushBatch(pieces: readonly Piece[], signal: AbortSignal): Promise<void> {
    const byStream = new Map<string, LokiEntry[]>();
    let lines = 0;
    for (const p of pieces) {
      if (!p.entries.length) continue;
      const list = byStream.get(p.stream) ?? [];
      list.push(...p.entries);
      byStream.set(p.stream, list);
      lines += p.entries.length;
    }
    if (lines > 0) {
      const streams: LokiStream[] = [...byStream].map(([labels, entries]) => ({ labels, entries }));
      const res = await pushToLoki(this.#o.target, streams, {
        ...this.#o.push,
        signal,
        onRetry: (status, message, delay) => {
          if (status === 429) this.stats.rateLimited++;
          else this.stats.retried++;
          if (this.stats.lastError !== message) this.#o.log(`logs: push retried in ${delay} ms: ${message}`);
          this.stats.lastError = message;
        },
      });
      if (res.outcome === 'rejected') {
        this.stats.rejectedBatches++;
        this.stats.rejectedLines += lines;
        this.stats.lastRejection = res.message;
        this.#o.log(`logs: Loki rejected a push of ${lines} lines (not retried): ${res.message}`);
      } else {
        this.stats.batches++;
        this.stats.lines += lines;
        this.stats.bytes += res.bytes;
        this.stats.lastError = null;
      }
    }
    await saveCursors(
      this.#db,
      pieces.map((p) => p.cursor),
    );
  }
}
