import type { SshPool } from '../ssh/index.ts';
import { runScript } from '../ssh/index.ts';
import { scriptFor } from '../scripts/loader.ts';
import { runnable } from '../domain/nodes.ts';
import { targetOf, type NodeService, type NodeTargetSpec } from './nodes.ts';
import type { JobStore } from './jobs.ts';
import type { NodeRow } from '../store/nodes-repo.ts';
import { NO_TRACING, step, type Span, type Tracer } from './tracing/tracer.ts';

export interface UpdateOptions {
  parallel?: number;
  refresh?: boolean;
  reboot?: boolean;
  /** How long a rebooting node may take to answer SSH again. */
  rebootTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Rolling OS updates: nodes in name order, `parallel` at a time (default 1), stop at the first
 * failure, reboot when the node says so and wait for SSH to come back before going on.
 */
export class UpdateService {
  private readonly nodes: NodeService;
  private readonly jobs: JobStore;
  private readonly pool: SshPool;
  private readonly tracer: Tracer;
  constructor(nodes: NodeService, jobs: JobStore, pool: SshPool, tracer: Tracer = NO_TRACING) {
    this.nodes = nodes;
    this.jobs = jobs;
    this.pool = pool;
    this.tracer = tracer;
  }

  async plan(target: NodeTargetSpec, o: UpdateOptions) {
    const rows = await this.nodes.resolveTarget(target);
    return {
      nodes: rows.map((r) => ({
        name: r.name,
        os: String((JSON.parse(r.facts) as { os?: { id?: string } }).os?.id ?? 'unknown'),
      })),
      parallel: o.parallel ?? 1,
      script: scriptFor('os-update').body,
      env: { REFRESH: o.refresh === false ? '0' : '1' },
    };
  }

  async start(target: NodeTargetSpec, o: UpdateOptions, createdBy: string) {
    const rows = await this.nodes.resolveTarget(target);
    const env = { REFRESH: o.refresh === false ? '0' : '1' };
    const id = await this.jobs.create(
      'update',
      { target, parallel: o.parallel ?? 1, ...env, reboot: o.reboot !== false },
      createdBy,
      rows.map((r) => r.name),
    );
    const done = this.roll(id, rows, env, o);
    return { id, done };
  }

  private async roll(id: string, rows: NodeRow[], env: Record<string, string>, o: UpdateOptions) {
    const parallel = o.parallel ?? 1;
    const span = this.tracer.start('os update', {
      'grim.job.id': id,
      'grim.nodes': rows.map((r) => r.name).join(','),
      'grim.parallel': parallel,
    });
    let failed: string | null = null;
    let i = 0;
    for (; i < rows.length && !failed; i += parallel) {
      const batch = rows.slice(i, i + parallel);
      const results = await Promise.all(
        batch.map((n) =>
          step(span, `update ${n.name}`, { 'grim.node': n.name }, async (s) => {
            const ok = await this.updateOne(id, n, env, o, s);
            if (!ok) throw new Error(`${n.name} failed`);
            return ok;
          }).catch(() => false),
        ),
      );
      const bad = batch.find((_, k) => !results[k]);
      if (bad) failed = bad.name;
    }
    for (const n of rows.slice(i))
      await this.jobs.taskFinished(id, n.name, {
        status: 'skipped',
        error: `not started: ${failed} failed first`,
      });
    span.end(failed ? `stopped: ${failed} failed` : undefined);
    await this.jobs.finish(
      id,
      failed ? 'failed' : 'succeeded',
      failed
        ? `stopped: ${failed} failed; ${rows.length - i} node(s) not updated`
        : `${rows.length} node(s) updated`,
    );
  }

  private async updateOne(
    id: string,
    n: NodeRow,
    env: Record<string, string>,
    o: UpdateOptions,
    span: Span,
  ): Promise<boolean> {
    if (!runnable(n.state)) {
      await this.jobs.taskFinished(id, n.name, {
        status: 'failed',
        error: 'host key mismatch: re-pin first',
      });
      return false;
    }
    await this.jobs.taskStarted(id, n.name);
    const t0 = Date.now();
    const target = targetOf(n);
    const onData = (stream: 'stdout' | 'stderr', chunk: string) =>
      this.jobs.output(id, n.name, stream, chunk);
    try {
      const { json, result } = await step(span, 'os-update.sh', { 'grim.refresh': env.REFRESH === '1' }, () =>
        runScript(this.pool, target, 'os-update', env, { timeoutMs: 30 * 60_000, onData }),
      );
      const r = json as { rebootRequired?: boolean };
      span.set({ 'grim.reboot_required': r.rebootRequired === true });
      if (r.rebootRequired && o.reboot !== false) {
        this.jobs.output(id, n.name, 'stdout', '\n[grim] reboot required: rebooting and waiting for SSH\n');
        await step(span, 'reboot.sh', {}, () =>
          runScript(this.pool, target, 'reboot', {}, { timeoutMs: 30_000 }),
        );
        await step(span, 'wait for SSH', {}, () => this.waitForReboot(n, o.rebootTimeoutMs ?? 300_000));
        this.jobs.output(id, n.name, 'stdout', '[grim] node is back\n');
      }
      await this.jobs.taskFinished(id, n.name, {
        status: 'succeeded',
        exitCode: result.exitCode,
        durationMs: Date.now() - t0,
        result: json,
      });
      return true;
    } catch (err) {
      const e = err as Error & { exitCode?: number | null };
      await this.jobs.taskFinished(id, n.name, {
        status: 'failed',
        exitCode: e.exitCode ?? null,
        durationMs: Date.now() - t0,
        error: e.message,
      });
      return false;
    }
  }

  /** The node is back from its reboot when SSH answers and reboot.sh's marker in /run is gone. */
  private async waitForReboot(n: NodeRow, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const { json } = await runScript(
          this.pool,
          targetOf(n),
          'heartbeat',
          {},
          { timeoutMs: 3000, signal: AbortSignal.timeout(4000) },
        );
        if ((json as { rebootPending?: boolean }).rebootPending === false) return;
      } catch {
        // down, as expected while it reboots
      }
      await sleep(500);
    }
    throw new Error(`did not come back from the reboot within ${timeoutMs / 1000} s`);
  }
}
