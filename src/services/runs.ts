import type { SshPool } from '../ssh/index.ts';
import { runnable } from '../domain/nodes.ts';
import { targetOf, type NodeService, type NodeTargetSpec } from './nodes.ts';
import type { JobStore } from './jobs.ts';

/**
 * Ad-hoc commands across nodes: every node at once (the pool bounds channels per node and in
 * total), live output per node, exit code and duration each, a per-command timeout.
 */
export class RunService {
  private readonly nodes: NodeService;
  private readonly jobs: JobStore;
  private readonly pool: SshPool;
  constructor(nodes: NodeService, jobs: JobStore, pool: SshPool) {
    this.nodes = nodes;
    this.jobs = jobs;
    this.pool = pool;
  }

  async start(target: NodeTargetSpec, command: string, timeoutSec: number, createdBy: string) {
    const rows = await this.nodes.resolveTarget(target);
    const id = await this.jobs.create(
      'run',
      { target, command, timeoutSec },
      createdBy,
      rows.map((r) => r.name),
    );
    const done = Promise.all(
      rows.map(async (n) => {
        if (!runnable(n.state)) {
          await this.jobs.taskFinished(id, n.name, {
            status: 'failed',
            error: `host key mismatch: re-pin ${n.name} before running anything on it`,
          });
          return false;
        }
        await this.jobs.taskStarted(id, n.name);
        try {
          const r = await this.pool.exec(
            targetOf(n),
            { argv: ['sh', '-c', command], name: 'run' },
            {
              timeoutMs: timeoutSec * 1000,
              // The timeout bounds the whole attempt, connecting included: a dead node must not stall.
              signal: AbortSignal.timeout(timeoutSec * 1000 + 1000),
              onData: (stream, chunk) => this.jobs.output(id, n.name, stream, chunk),
            },
          );
          const ok = r.exitCode === 0 && !r.timedOut;
          await this.jobs.taskFinished(id, n.name, {
            status: ok ? 'succeeded' : r.timedOut ? 'timed-out' : 'failed',
            exitCode: r.exitCode,
            durationMs: Math.round(r.durationMs),
            error: r.timedOut ? `timed out after ${timeoutSec} s` : r.signal ? `killed by ${r.signal}` : '',
          });
          return ok;
        } catch (err) {
          await this.jobs.taskFinished(id, n.name, { status: 'failed', error: (err as Error).message });
          return false;
        }
      }),
    ).then(async (oks) => {
      const failed = oks.filter((o) => !o).length;
      await this.jobs.finish(
        id,
        failed ? 'failed' : 'succeeded',
        `${oks.length - failed}/${oks.length} nodes succeeded`,
      );
    });
    return { id, done };
  }
}
