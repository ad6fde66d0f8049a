import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { followEvents } from '../sse.ts';
import { print, table, when } from '../output.ts';

/** Streams a job's output prefixed per node; returns the exit code (0 when every node succeeded). */
export async function followJob(id: string, json: boolean): Promise<number> {
  const partial = new Map<string, string>();
  const emit = (node: string, stream: string, chunk: string) => {
    const text = (partial.get(node + stream) ?? '') + chunk;
    const lines = text.split('\n');
    partial.set(node + stream, lines.pop() ?? '');
    for (const l of lines) (stream === 'stderr' ? process.stderr : process.stdout).write(`${node}: ${l}\n`);
  };
  const finished = (t: {
    node: string;
    status: string;
    exitCode: number | null;
    durationMs: number | null;
    error: string;
  }) => {
    for (const st of ['stdout', 'stderr']) if (partial.get(t.node + st)) emit(t.node, st, '\n');
    const extra = [
      t.exitCode !== null ? `exit ${t.exitCode}` : '',
      t.durationMs !== null ? `${t.durationMs} ms` : '',
      t.error,
    ]
      .filter(Boolean)
      .join(', ');
    process.stderr.write(`[${t.node}] ${t.status}${extra ? ` (${extra})` : ''}\n`);
  };
  let seenSnapshot = false;
  if (!json)
    await followEvents(`/api/jobs/${encodeURIComponent(id)}/events`, (event, data) => {
      if (event === 'snapshot' && !seenSnapshot) {
        // The snapshot holds everything so far: output, and tasks that already finished.
        seenSnapshot = true;
        for (const t of data.tasks) {
          if (t.output) emit(t.node, 'stdout', t.output);
          if (t.status !== 'running' && t.status !== 'pending') finished(t);
        }
      } else if (event === 'output') emit(data.node, data.stream, data.chunk);
      else if (event === 'task' && data.status !== 'running') finished(data);
    });
  const { job } = await apiClient().call('getJob', { params: { id } });
  if (json) process.stdout.write(JSON.stringify(job, null, 2) + '\n');
  else process.stderr.write(`job ${job.id} ${job.status}: ${job.summary}\n`);
  return job.status === 'succeeded' ? 0 : 1;
}

export function registerJobCommands(program: Command) {
  const job = program.command('job').description('jobs: runs, updates, deploys');
  job
    .command('list')
    .option('--json')
    .option('--limit <n>', 'at most n', (v) => Number(v), 20)
    .action(async (o) => {
      const r = await apiClient().call('listJobs', { query: { limit: o.limit } });
      print(o, r, () =>
        table(
          ['ID', 'KIND', 'STATUS', 'BY', 'CREATED', 'SUMMARY'],
          r.jobs.map((j) => [j.id, j.kind, j.status, j.createdBy, when(j.createdAt), j.summary]),
        ),
      );
    });
  job
    .command('show <id>')
    .option('--follow', 'stream until it ends')
    .option('--json')
    .action(async (id, o) => {
      if (o.follow) {
        process.exitCode = await followJob(id, !!o.json);
        return;
      }
      const r = await apiClient().call('getJob', { params: { id } });
      print(o, r, () =>
        [
          `${r.job.kind} ${r.job.id}: ${r.job.status} ${r.job.summary}`,
          ...r.job.tasks.map(
            (t) =>
              `--- ${t.node}: ${t.status}${t.exitCode !== null ? ` exit ${t.exitCode}` : ''}${t.error ? ` (${t.error})` : ''}\n${t.output}`,
          ),
        ].join('\n'),
      );
    });
}
