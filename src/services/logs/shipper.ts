/**
 * Log shipping without an agent: for every node, a tailer runs scripts/node/logs-read.sh over the node's
 * pooled SSH connection about once a second with the files' cursors from grim's database, turns the lines
 * into Loki entries and hands them to the batcher, then waits until Loki has them before reading again.
 * A node that cannot be reached keeps its cursors and is read from there once it answers.
 *
 * start() returns the stop function, so the loop can run under a lease (one call to switch).
 */
import type { Db } from '../../store/db.ts';
import type { SshPool } from '../../ssh/index.ts';
import type { DriverSet } from '../../drivers/driver-set.ts';
import { assertSucceeded } from '../../ssh/index.ts';
import { listNodeRows, nodeGroups, type NodeRow } from '../../store/nodes-repo.ts';
import { loadCursors, type LogCursor } from '../../store/monitoring-repo.ts';
import { scriptCommand } from '../../scripts/loader.ts';
import { parseRead, type JournalChunk, type LogChunk } from '../../domain/logs/read-output.ts';
import { parseJournalLine } from '../../domain/logs/journal.ts';
import { limitLine } from '../../domain/logs/line-limit.ts';
import type { LogSource } from '../../domain/logs/streams.ts';
import { formatLabels, type LokiEntry } from '../../integrations/loki/push-proto.ts';
import type { ShipperOptions } from './shipper-types.ts';
import { targetOf } from '../nodes.ts';
import { LogBatcher, type Piece, type ShipperStats } from './batcher.ts';

export type { ShipperOptions } from './shipper-types.ts';
import { logSourcesOn, type NodeForLogs, type NodeLogSettings } from './sources.ts';

export interface ShipperDeps {
  db: Db;
  pool: SshPool;
  /** The runtime drivers: each instance's driver names its output file. */
  drivers: DriverSet;
  /** The files of a node (default: instance outputs and syslog, see sources.ts). */
  sources?: (node: NodeForLogs) => Promise<LogSource[]>;
}

/** Per-entry overhead in the encoded push besides the line (timestamp, tags, metadata). */
const ENTRY_OVERHEAD = 48;

export class LogShipper {
  readonly #d: ShipperDeps;
  readonly #o: Required<
    Omit<ShipperOptions, 'push' | 'log' | 'syslogPaths' | 'target' | 'stats' | 'journal' | 'journalDir'>
  >;
  readonly #log: (line: string) => void;
  readonly #nodeLogs: NodeLogSettings;
  /** Nodes whose journal was found: their syslog files are not read (they repeat the journal). */
  readonly #hasJournal = new Map<string, boolean>();
  readonly batcher: LogBatcher;
  readonly #tailers = new Map<string, { stop: () => void; done: Promise<void> }>();
  readonly #lastTs = new Map<string, bigint>();
  readonly #readErrors = new Map<string, string>();
  #stopped = false;

  constructor(deps: ShipperDeps, opts: ShipperOptions) {
    this.#d = deps;
    this.#o = {
      readIntervalMs: opts.readIntervalMs ?? 1000,
      batchBytes: opts.batchBytes ?? 1_000_000,
      batchWaitMs: opts.batchWaitMs ?? 1000,
      readTimeoutMs: opts.readTimeoutMs ?? 5000,
      maxBytesPerFile: opts.maxBytesPerFile ?? 512 * 1024,
      maxBytesPerRead: opts.maxBytesPerRead ?? 2 * 1024 * 1024,
      journalMaxEntries: opts.journalMaxEntries ?? 2000,
    };
    this.#log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.#nodeLogs = {
      ...(opts.syslogPaths ? { syslogPaths: opts.syslogPaths } : {}),
      ...(opts.journal === false ? { journal: false } : {}),
      ...(opts.journalDir ? { journalDir: opts.journalDir } : {}),
    };
    this.batcher = new LogBatcher(deps.db, {
      target: opts.target,
      batchBytes: this.#o.batchBytes,
      batchWaitMs: this.#o.batchWaitMs,
      push: opts.push,
      log: this.#log,
      stats: opts.stats,
    });
  }

  get stats(): ShipperStats {
    return this.batcher.stats;
  }

  /** Starts the tailers (kept in step with the node list) and the batcher; returns stop. */
  start(): () => Promise<void> {
    this.batcher.start();
    const sync = () => void this.#syncTailers().catch((e: Error) => this.#log(`logs: ${e.message}`));
    sync();
    const timer = setInterval(sync, 10_000);
    timer.unref();
    return async () => {
      clearInterval(timer);
      this.#stopped = true;
      for (const t of this.#tailers.values()) t.stop();
      await this.batcher.stop();
      await Promise.all([...this.#tailers.values()].map((t) => t.done));
      this.#tailers.clear();
    };
  }

  async #syncTailers(): Promise<void> {
    if (this.#stopped) return;
    const rows = (await listNodeRows(this.#d.db)).filter((r) => r.state !== 'host-key-mismatch');
    const names = new Set(rows.map((r) => r.name));
    for (const [name, t] of this.#tailers)
      if (!names.has(name)) {
        t.stop();
        this.#tailers.delete(name);
      }
    for (const row of rows)
      if (!this.#tailers.has(row.name)) this.#tailers.set(row.name, this.#tail(row.name));
  }

  #tail(node: string): { stop: () => void; done: Promise<void> } {
    let stopped = false;
    let wake: (() => void) | null = null;
    const done = (async () => {
      while (!stopped && !this.#stopped) {
        const started = Date.now();
        try {
          await this.readOnce(node);
          if (this.#readErrors.delete(node)) this.#log(`logs: ${node} answers again`);
        } catch (err) {
          const message = (err as Error).message;
          if (stopped || this.#stopped) break;
          this.stats.readFailures++;
          if (this.#readErrors.get(node) !== message) this.#log(`logs: cannot read ${node}: ${message}`);
          this.#readErrors.set(node, message);
        }
        const wait = this.#o.readIntervalMs - (Date.now() - started);
        if (wait > 0 && !stopped)
          await new Promise<void>((r) => {
            const timer = setTimeout(r, wait);
            wake = () => {
              clearTimeout(timer);
              r();
            };
          });
      }
    })();
    return {
      stop: () => {
        stopped = true;
        (wake as (() => void) | null)?.();
      },
      done,
    };
  }

  /** One read of a node's files, handed to the batcher; resolves when Loki has the lines and the cursors are stored. */
  async readOnce(node: string): Promise<number> {
    const row = (await listNodeRows(this.#d.db)).find((r) => r.name === node);
    if (!row) return 0;
    const groups = (await nodeGroups(this.#d.db)).get(node) ?? [];
    const identity = { name: row.name, environment: row.environment, groups };
    const all = await (
      this.#d.sources ?? ((n) => logSourcesOn(this.#d.db, this.#d.drivers, n, this.#nodeLogs))
    )(identity);
    const journal = all.find((s) => s.kind === 'journal') ?? null;
    const withJournal = journal !== null && this.#hasJournal.get(node) === true;
    const sources = all.filter(
      (s) => s.kind !== 'journal' && !(withJournal && s.key.startsWith(`node:${node}:syslog`)),
    );
    if (!sources.length && !journal) return 0;
    const cursors = await loadCursors(this.#d.db, node);
    const list = sources
      .map((s) => {
        const c = cursors.get(s.key);
        const start = c && c.path === s.path ? c : null;
        return `${start?.inode ?? 0} ${start ? start.offset : s.startAtEnd ? -1 : 0} ${start?.skip ? 1 : 0} ${s.path}`;
      })
      .join('\n');
    const journalAt = journal ? (cursors.get(journal.key)?.journal ?? '-') : '';
    this.batcher.reading++;
    let read: { files: LogChunk[]; journal: JournalChunk | null };
    try {
      read = await this.#read(row, list, journalAt, journal?.path ?? '');
    } finally {
      this.batcher.reading--;
      this.batcher.poke();
    }
    let pieces = this.#pieces(node, sources, cursors, read.files);
    if (journal && read.journal) {
      const found = read.journal.mode !== 'none';
      // the node's syslog files repeat its journal (rsyslog feeds them from it): only the journal is shipped
      if (found && !withJournal)
        pieces = pieces.filter((p) => !p.cursor.sourceKey.startsWith(`node:${node}:syslog`));
      this.#hasJournal.set(node, found);
      const piece = this.#journalPiece(node, journal, journalAt, read.journal);
      if (piece) pieces.push(piece);
    }
    if (!pieces.length) return 0;
    await this.batcher.submit(pieces);
    return pieces.reduce((a, p) => a + p.entries.length, 0);
  }

  /** The journal's new entries and the cursor after them (or, on a first read, only the cursor of its end). */
  #journalPiece(node: string, src: LogSource, at: string, chunk: JournalChunk): Piece | null {
    if (chunk.mode === 'none') return null;
    const parsed = chunk.entries.map(parseJournalLine).filter((e) => e !== null);
    const cursor = (journal: string): LogCursor => ({
      sourceKey: src.key,
      node,
      path: src.path,
      inode: '',
      offset: 0,
      skip: false,
      journal,
    });
    // a first read only finds where the journal ends ('^': it was empty, read it from its start later)
    if (chunk.mode === 'end')
      return { stream: '', entries: [], bytes: 0, cursor: cursor(parsed.at(-1)?.cursor ?? '^') };
    const last = parsed.at(-1);
    if (!last || last.cursor === at) return null;
    const stream = formatLabels(src.labels);
    let bytes = 0;
    const entries: LokiEntry[] = parsed.map((e) => {
      const l = limitLine(e.line);
      const metadata = [...e.metadata];
      if (l.truncated) {
        this.stats.truncatedLines++;
        metadata.push(['truncated', 'true'], ['original_bytes', String(l.bytes)]);
      }
      bytes += Math.min(l.bytes, 256_000) + ENTRY_OVERHEAD;
      return { tsNs: this.#nextTs(stream, e.tsNs), line: l.line, metadata };
    });
    return { stream, entries, bytes, cursor: cursor(last.cursor) };
  }

  async #read(row: NodeRow, list: string, journalAt: string, journalDir: string) {
    const res = await this.#d.pool.exec(
      targetOf(row),
      scriptCommand('logs-read', {
        LOG_FILES: list,
        LOG_MAX_BYTES: String(this.#o.maxBytesPerFile),
        LOG_BUDGET: String(this.#o.maxBytesPerRead),
        ...(journalAt
          ? {
              LOG_JOURNAL: journalAt,
              LOG_JOURNAL_MAX: String(this.#o.journalMaxEntries),
              ...(journalDir ? { LOG_JOURNAL_DIR: journalDir } : {}),
            }
          : {}),
      }),
      // the deadline covers opening the channel too: a node whose link is down fails the read, keeping its cursors
      { timeoutMs: this.#o.readTimeoutMs, signal: AbortSignal.timeout(this.#o.readTimeoutMs) },
    );
    assertSucceeded(row.name, 'logs-read', res);
    return parseRead(res.stdout);
  }

  #pieces(
    node: string,
    sources: readonly LogSource[],
    cursors: ReadonlyMap<string, LogCursor>,
    chunks: readonly LogChunk[],
  ): Piece[] {
    const out: Piece[] = [];
    for (const ch of chunks) {
      const src = sources[ch.key - 1];
      if (!src || ch.flags.includes('m')) continue;
      if (ch.flags.includes('l')) {
        this.stats.lostFiles++;
        this.#log(`logs: ${node}:${src.path} was rotated away before grim read its end`);
        continue;
      }
      const prev = cursors.get(src.key);
      const cursor: LogCursor = {
        sourceKey: src.key,
        node,
        path: src.path,
        inode: ch.inode,
        offset: ch.offset + ch.length,
        skip: ch.skip,
      };
      if (
        !ch.lines.length &&
        prev?.inode === cursor.inode &&
        prev.offset === cursor.offset &&
        prev.skip === cursor.skip &&
        prev.path === cursor.path
      )
        continue;
      const stream = formatLabels(src.labels);
      const file = src.path;
      const entries: LokiEntry[] = [];
      let bytes = 0;
      ch.lines.forEach((text, i) => {
        const cut = ch.flags.includes('t') && i === ch.lines.length - 1;
        const l = limitLine(text, undefined, cut);
        const metadata: [string, string][] = [['filename', file]];
        if (l.truncated) {
          this.stats.truncatedLines++;
          metadata.push(['truncated', 'true'], ['original_bytes', String(l.bytes)]);
        }
        entries.push({ tsNs: this.#nextTs(stream), line: l.line, metadata });
        bytes += Math.min(l.bytes, 256_000) + ENTRY_OVERHEAD + file.length;
      });
      out.push({ stream, entries, bytes, cursor });
    }
    return out;
  }

  /**
   * Strictly increasing nanosecond timestamps per stream, so order survives in Loki: the read time, or the
   * entry's own time when it has one (journal entries).
   */
  #nextTs(stream: string, own?: bigint): bigint {
    const now = own || BigInt(Date.now()) * 1_000_000n;
    const last = this.#lastTs.get(stream) ?? 0n;
    const ts = now > last ? now : last + 1n;
    this.#lastTs.set(stream, ts);
    return ts;
  }
}
