import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.ts';
import { notFound } from '../domain/errors.ts';
import { newId } from './ids.ts';

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
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Persisted jobs with per-node tasks, and a live event stream per job for the CLI and the UI. */
export class JobStore {
  private readonly db: Db;
  private readonly bus = new EventEmitter();
  private readonly live = new Map<string, Map<string, string>>(); // job -> node -> output so far
  constructor(db: Db) {
    this.db = db;
    this.bus.setMaxListeners(1000);
  }

  async create(kind: string, spec: Record<string, unknown>, createdBy: string, nodes: string[]) {
    const id = newId();
    await this.db.transaction(async (tx) => {
      await tx.run(
        "INSERT INTO jobs (id, kind, status, spec, created_by, created_at, started_at) VALUES (?, ?, 'running', ?, ?, ?, ?)",
        [id, kind, JSON.stringify(spec), createdBy, Date.now(), Date.now()],
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
    return id;
  }

  output(jobId: string, node: string, stream: 'stdout' | 'stderr', chunk: string) {
    const m = this.live.get(jobId);
    if (m) {
      const cur = m.get(node) ?? '';
      if (cur.length < MAX_OUTPUT) m.set(node, cur + chunk);
    }
    this.bus.emit(jobId, { type: 'output', node, stream, chunk } satisfies JobEvent);
  }

  async taskStarted(jobId: string, node: string) {
    await this.db.run(
      "UPDATE job_tasks SET status = 'running', started_at = ? WHERE job_id = ? AND node_name = ?",
      [Date.now(), jobId, node],
    );
    this.bus.emit(jobId, {
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
      'UPDATE job_tasks SET status = ?, exit_code = ?, duration_ms = ?, error = ?, result = ?, output = ?, finished_at = ? WHERE job_id = ? AND node_name = ?',
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
      ],
    );
    this.bus.emit(jobId, {
      type: 'task',
      node,
      status: r.status,
      exitCode: r.exitCode ?? null,
      durationMs: r.durationMs ?? null,
      error: r.error ?? '',
    } satisfies JobEvent);
  }

  async finish(jobId: string, status: string, summary: string) {
    await this.db.run('UPDATE jobs SET status = ?, summary = ?, finished_at = ? WHERE id = ?', [
      status,
      summary,
      Date.now(),
      jobId,
    ]);
    this.live.delete(jobId);
    this.bus.emit(jobId, { type: 'done', status, summary } satisfies JobEvent);
  }

  subscribe(jobId: string, fn: (e: JobEvent) => void): () => void {
    this.bus.on(jobId, fn);
    return () => this.bus.off(jobId, fn);
  }

  /** Jobs left running by a previous process (killed control node) are marked interrupted. */
  async markInterrupted() {
    await this.db.run(
      "UPDATE job_tasks SET status = 'interrupted' WHERE status IN ('pending', 'running') AND job_id IN (SELECT id FROM jobs WHERE status = 'running')",
    );
    await this.db.run(
      "UPDATE jobs SET status = 'interrupted', finished_at = ?, summary = 'grim restarted while this job ran' WHERE status = 'running'",
      [Date.now()],
    );
  }

  async get(id: string) {
    const j = await this.db.get<JobRow>('SELECT * FROM jobs WHERE id = ?', [id]);
    if (!j) throw notFound(`job ${id}`);
    const tasks = await this.db.all<TaskRow>('SELECT * FROM job_tasks WHERE job_id = ? ORDER BY seq', [id]);
    return this.view(j, tasks);
  }

  async list(limit = 50, kind?: string) {
    const rows = await this.db.all<JobRow>(
      `SELECT * FROM jobs ${kind ? 'WHERE kind = ?' : ''} ORDER BY created_at DESC LIMIT ?`,
      kind ? [kind, limit] : [limit],
    );
    return Promise.all(rows.map((j) => this.get(j.id)));
  }

  private view(j: JobRow, tasks: TaskRow[]) {
    const live = this.live.get(j.id);
    return {
      id: j.id,
      kind: j.kind,
      status: j.status,
      spec: JSON.parse(j.spec) as Record<string, unknown>,
      createdBy: j.created_by,
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
