import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.ts';
import { notFound } from '../domain/errors.ts';
import { newId } from './ids.ts';
import { appendJobEvents, jobEventsAfter } from '../store/job-events-repo.ts';

export type JobEvent =
  | { type: 'output'; node: string; stream: 'stdout' | 'stderr'; chunk: string }
  | {
      type: 'task';
      node: string;
      status: string;
      exitCode: number | null;
      durationMs: number | null;
      error: string;
    }
  | { type: 'done'; status: string; summary: string };

interface JobRow {
  id: string;
  kind: string;
  status: string;
  spec: string;
  created_by: string;
  owner: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  summary: string;
}
interface TaskRow {
  node_name: string;
  seq: number;
  status: string;
  exit_code: number | null;
  duration_ms: number | null;
  output: string;
  error: string;
  result: string;
}

const MAX_OUTPUT = 1024 * 1024;
/** Task writes land only while the job is running and still owned by this instance (params: job id, owner). */
const OWNED =
  "AND EXISTS (SELECT 1 FROM jobs WHERE jobs.id = ? AND jobs.owner = ? AND jobs.status = 'running')";
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Persisted jobs with per-node tasks, and a live event stream per job for the CLI and the UI. */
export class JobStore {
  private readonly db: Db;
  private readonly bus = new EventEmitter();
  private readonly live = new Map<string, Map<string, string>>(); // job -> node -> output so far
  /** Events not yet written to job_events, per job, and the last batch number written. */
  private readonly pending = new Map<string, { seq: number; events: JobEvent[]; flushing: Promise<void> }>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** The grim instance running this store's jobs (its `instance:<id>` lease says it is alive). */
  readonly owner: string;
  constructor(db: Db, owner = '') {
    this.db = db;
    this.owner = owner;
    this.bus.setMaxListeners(1000);
  }

  async create(kind: string, spec: Record<string, unknown>, createdBy: string, nodes: string[]) {
    const id = newId();
    await this.db.transaction(async (tx) => {
      await tx.run(
        "INSERT INTO jobs (id, kind, status, spec, created_by, owner, created_at, started_at) VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
        [id, kind, JSON.stringify(spec), createdBy, this.owner, Date.now(), Date.now()],
      );
      let seq = 0;
      for (const n of nodes)
        await tx.run("INSERT INTO job_tasks (job_id, node_name, seq, status) VALUES (?, ?, ?, 'pending')", [
          id,
          n,
          seq++,
        ]);
    });
    this.live.set(id, new Map());
    this.pending.set(id, { seq: 0, events: [], flushing: Promise.resolve() });
    return id;
  }

  /** Whether this instance runs the job (its events are on the local bus as they happen). */
  isLocal(jobId: string): boolean {
    return this.live.has(jobId);
  }

  /** Every event also goes to job_events, in batches every 100 ms, for instances that follow from the database. */
  private emit(jobId: string, e: JobEvent) {
    this.bus.emit(jobId, e);
    const p = this.pending.get(jobId);
    if (!p) return;
    p.events.push(e);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        for (const id of this.pending.keys()) void this.flush(id);
      }, 100);
      this.flushTimer.unref();
    }
  }

  private flush(jobId: string): Promise<void> {
    const p = this.pending.get(jobId);
    if (!p) return Promise.resolve();
    if (p.events.length) {
      const batch = p.events.splice(0);
      const seq = ++p.seq;
      p.flushing = p.flushing.then(() => appendJobEvents(this.db, jobId, seq, batch).catch(() => undefined));
    }
    return p.flushing;
  }

  /**
   * Follow a job from the database: calls `fn` with every event after batch `afterSeq`, polling every
   * `everyMs`, until a 'done' event or `signal` aborts. For jobs another instance runs.
   */
  async follow(
    jobId: string,
    afterSeq: number,
    fn: (e: JobEvent) => void,
    signal: AbortSignal,
    everyMs = 250,
  ) {
    let seq = afterSeq;
    while (!signal.aborted) {
      for (const batch of await jobEventsAfter(this.db, jobId, seq)) {
        seq = batch.seq;
        for (const e of batch.events as JobEvent[]) {
          fn(e);
          if (e.type === 'done') return;
        }
      }
      const j = await this.db.get<{ status: string; summary: string }>(
        'SELECT status, summary FROM jobs WHERE id = ?',
        [jobId],
      );
      if (j && j.status !== 'running') {
        // Finished without a 'done' event we could read (e.g. interrupted as an orphan).
        fn({ type: 'done', status: j.status, summary: j.summary });
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** The job's batches so far (the last batch number and the output per node), for a snapshot on another instance. */
  async storedProgress(jobId: string): Promise<{ seq: number; output: Map<string, string> }> {
    const output = new Map<string, string>();
    let seq = 0;
    for (const b of await jobEventsAfter(this.db, jobId, 0)) {
      seq = b.seq;
      for (const e of b.events as JobEvent[])
        if (e.type === 'output') output.set(e.node, (output.get(e.node) ?? '') + e.chunk);
    }
    return { seq, output };
  }

  output(jobId: string, node: string, stream: 'stdout' | 'stderr', chunk: string) {
    const m = this.live.get(jobId);
    if (m) {
      const cur = m.get(node) ?? '';
      if (cur.length < MAX_OUTPUT) m.set(node, cur + chunk);
    }
    this.emit(jobId, { type: 'output', node, stream, chunk } satisfies JobEvent);
  }

  async taskStarted(jobId: string, node: string) {
    await this.db.run(
      `UPDATE job_tasks SET status = 'running', started_at = ? WHERE job_id = ? AND node_name = ? ${OWNED}`,
      [Date.now(), jobId, node, jobId, this.owner],
    );
    this.emit(jobId, {
      type: 'task',
      node,
      status: 'running',
      exitCode: null,
      durationMs: null,
      error: '',
    } satisfies JobEvent);
  }

  async taskFinished(
    jobId: string,
    node: string,
    r: {
      status: string;
      exitCode?: number | null;
      durationMs?: number | null;
      error?: string;
      result?: unknown;
      output?: string;
    },
  ) {
    const output = (r.output ?? this.live.get(jobId)?.get(node) ?? '').slice(-MAX_OUTPUT);
    await this.db.run(
      `UPDATE job_tasks SET status = ?, exit_code = ?, duration_ms = ?, error = ?, result = ?, output = ?, finished_at = ? WHERE job_id = ? AND node_name = ? ${OWNED}`,
      [
        r.status,
        r.exitCode ?? null,
        r.durationMs ?? null,
        (r.error ?? '').slice(0, 4000),
        r.result === undefined ? '' : JSON.stringify(r.result),
        output,
        Date.now(),
        jobId,
        node,
        jobId,
        this.owner,
      ],
    );
    this.emit(jobId, {
      type: 'task',
      node,
      status: r.status,
      exitCode: r.exitCode ?? null,
      durationMs: r.durationMs ?? null,
      error: r.error ?? '',
    } satisfies JobEvent);
  }

  async finish(jobId: string, status: string, summary: string) {
    // Only the owner finishes a running job: one that was declared orphaned and interrupted stays so.
    await this.db.run(
      "UPDATE jobs SET status = ?, summary = ?, finished_at = ? WHERE id = ? AND owner = ? AND status = 'running'",
      [status, summary, Date.now(), jobId, this.owner],
    );
    this.emit(jobId, { type: 'done', status, summary } satisfies JobEvent);
    await this.flush(jobId);
    this.pending.delete(jobId);
    this.live.delete(jobId);
  }

  subscribe(jobId: string, fn: (e: JobEvent) => void): () => void {
    this.bus.on(jobId, fn);
    return () => this.bus.off(jobId, fn);
  }

  /**
   * Jobs whose owner is gone (its instance lease expired: killed, crashed, or restarted as a new instance) are
   * marked interrupted. Jobs of live instances are never touched. Rollouts are taken over separately, from
   * their persisted steps, under a new job. Returns the ids marked.
   */
  async markOrphansInterrupted(liveOwners: ReadonlySet<string>): Promise<string[]> {
    const running = await this.db.all<{ id: string; owner: string }>(
      "SELECT id, owner FROM jobs WHERE status = 'running'",
    );
    const orphans = running.filter((j) => j.owner !== this.owner && !liveOwners.has(j.owner));
    for (const j of orphans) {
      await this.db.transaction(async (tx) => {
        const r = await tx.run(
          "UPDATE jobs SET status = 'interrupted', finished_at = ?, summary = ? WHERE id = ? AND owner = ? AND status = 'running'",
          [Date.now(), `the grim instance running this job (${j.owner || 'unknown'}) stopped`, j.id, j.owner],
        );
        if (r.changes)
          await tx.run(
            "UPDATE job_tasks SET status = 'interrupted' WHERE job_id = ? AND status IN ('pending', 'running')",
            [j.id],
          );
      });
    }
    return orphans.map((j) => j.id);
  }

  /**
   * Take over a job whose owner is gone (not in `liveOwners`), running or already marked interrupted, so this
   * instance can finish it (a resumable job such as `ssh.rotate`). Compare-and-set on the old owner: of two
   * instances adopting at once, one wins. Interrupted tasks go back to pending.
   */
  async adopt(jobId: string, liveOwners: ReadonlySet<string>): Promise<boolean> {
    if (this.live.has(jobId)) return true;
    const j = await this.db.get<{ owner: string; status: string }>(
      'SELECT owner, status FROM jobs WHERE id = ?',
      [jobId],
    );
    if (!j || (j.owner !== this.owner && liveOwners.has(j.owner))) return false;
    const won = await this.db.transaction(async (tx) => {
      const r = await tx.run(
        "UPDATE jobs SET owner = ?, status = 'running', finished_at = NULL WHERE id = ? AND owner = ? AND status IN ('running', 'interrupted')",
        [this.owner, jobId, j.owner],
      );
      if (r.changes !== 1) return false;
      await tx.run("UPDATE job_tasks SET status = 'pending' WHERE job_id = ? AND status = 'interrupted'", [
        jobId,
      ]);
      return true;
    });
    if (!won) return false;
    const last = await this.db.get<{ seq: number | null }>(
      'SELECT MAX(seq) AS seq FROM job_events WHERE job_id = ?',
      [jobId],
    );
    this.live.set(jobId, new Map());
    this.pending.set(jobId, { seq: Number(last?.seq ?? 0), events: [], flushing: Promise.resolve() });
    return true;
  }

  async get(id: string) {
    const j = await this.db.get<JobRow>('SELECT * FROM jobs WHERE id = ?', [id]);
    if (!j) throw notFound(`job ${id}`);
    const tasks = await this.db.all<TaskRow>('SELECT * FROM job_tasks WHERE job_id = ? ORDER BY seq', [id]);
    // A job running on another instance: its output so far is in job_events.
    const remote =
      j.status === 'running' && !this.live.has(id) ? (await this.storedProgress(id)).output : undefined;
    return this.view(j, tasks, remote);
  }

  async list(limit = 50, kind?: string) {
    const rows = await this.db.all<JobRow>(
      `SELECT * FROM jobs ${kind ? 'WHERE kind = ?' : ''} ORDER BY created_at DESC LIMIT ?`,
      kind ? [kind, limit] : [limit],
    );
    return Promise.all(rows.map((j) => this.get(j.id)));
  }

  private view(j: JobRow, tasks: TaskRow[], remote?: Map<string, string>) {
    const live = this.live.get(j.id) ?? remote;
    return {
      id: j.id,
      kind: j.kind,
      status: j.status,
      spec: JSON.parse(j.spec) as Record<string, unknown>,
      createdBy: j.created_by,
      owner: j.owner,
      createdAt: Number(j.created_at),
      startedAt: num(j.started_at),
      finishedAt: num(j.finished_at),
      summary: j.summary,
      tasks: tasks.map((t) => ({
        node: t.node_name,
        seq: Number(t.seq),
        status: t.status,
        exitCode: num(t.exit_code),
        durationMs: num(t.duration_ms),
        output: t.output || live?.get(t.node_name) || '',
        error: t.error,
        result: t.result ? JSON.parse(t.result) : null,
      })),
    };
  }
}
