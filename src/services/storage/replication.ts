// Replication of a dataset to another storage node: `zfs send` on the source, `zfs receive` on the
// target, the stream relayed by grim over its two pooled SSH connections (the nodes never need keys
// to each other). With `from`, the stream is incremental from an older snapshot both sides have.
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { DomainError, invalid, type ErrorDetail } from '../../domain/errors.ts';
import { datasetNameProblems, fullSnapshotNameProblems } from '../../domain/storage/names.ts';
import { scriptFor } from '../../scripts/loader.ts';
import type { StorageService } from './storage-service.ts';
import type { JobStore } from '../jobs.ts';
import { formatNicenum } from '../../domain/storage/zfs-numbers.ts';

export interface ReplicationRequest {
  sourceNode: string;
  snapshot: string;
  targetNode: string;
  targetDataset: string;
  /** Older snapshot of the same dataset for an incremental stream. */
  from?: string;
}

export interface ReplicationResult {
  /** The job that carries the progress (bytes sent and rate, a line a second) and the outcome. */
  jobId?: string;
  command: string;
  bytes: number;
  seconds: number;
  incremental: boolean;
  received: unknown;
  /** Answered before the stream ended (wait: false): the job carries bytes sent so far. */
  running?: boolean;
}

export function replicationProblems(r: ReplicationRequest): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  problems.push(...fullSnapshotNameProblems(r.snapshot).map((message) => ({ path: 'snapshot', message })));
  problems.push(
    ...datasetNameProblems(r.targetDataset).map((message) => ({ path: 'targetDataset', message })),
  );
  if (r.from !== undefined) {
    problems.push(...fullSnapshotNameProblems(r.from).map((message) => ({ path: 'from', message })));
    if (r.from.split('@')[0] !== r.snapshot.split('@')[0])
      problems.push({
        path: 'from',
        message: 'an incremental stream starts from a snapshot of the same dataset',
      });
    if (r.from === r.snapshot) problems.push({ path: 'from', message: 'from must be an older snapshot' });
  }
  if (r.sourceNode === r.targetNode && r.snapshot.split('@')[0] === r.targetDataset)
    problems.push({ path: 'targetDataset', message: 'cannot replicate a dataset onto itself' });
  return problems;
}

/** Where a transfer is: what `onProgress` is told about once a second and at the end. */
export interface ReplicationProgress {
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
}

/** One job line per progress report: "sent 12582912 bytes (12.0M) in 1.5 s, 8.00M/s". */
export const progressLine = (p: ReplicationProgress) =>
  `sent ${p.bytes} bytes (${formatNicenum(p.bytes)}) in ${p.seconds.toFixed(1)} s, ${formatNicenum(Math.round(p.bytesPerSecond))}/s\n`;

/**
 * Replication as a job (kind storage.replicate, one task "replication"): progress lines while the stream
 * runs, the outcome at the end. Returns the result with the job's id.
 */
export async function replicateAsJob(
  s: StorageService,
  jobs: JobStore,
  r: ReplicationRequest,
  createdBy: string,
  wait = true,
): Promise<ReplicationResult> {
  const problems = replicationProblems(r);
  if (problems.length) throw invalid(problems.map((p) => p.message).join('; '), problems);
  const jobId = await jobs.create('storage.replicate', { ...r }, createdBy, ['replication']);
  await jobs.taskStarted(jobId, 'replication');
  const running = runJob(s, jobs, r, jobId);
  if (wait) return running;
  running.catch(() => {}); // the job records the failure
  return {
    jobId,
    command: commandOf(r),
    bytes: 0,
    seconds: 0,
    incremental: r.from !== undefined,
    received: null,
    running: true,
  };
}

async function runJob(s: StorageService, jobs: JobStore, r: ReplicationRequest, jobId: string) {
  const started = Date.now();
  try {
    const result = await replicate(s, r, (p) => jobs.output(jobId, 'replication', 'stdout', progressLine(p)));
    const summary = `${result.incremental ? 'incremental ' : ''}${r.snapshot} -> ${r.targetNode}:${r.targetDataset}, ${result.bytes} bytes in ${result.seconds} s`;
    await jobs.taskFinished(jobId, 'replication', {
      status: 'succeeded',
      exitCode: 0,
      durationMs: Date.now() - started,
      result: { bytes: result.bytes, received: result.received },
    });
    await jobs.finish(jobId, 'succeeded', summary);
    return { jobId, ...result };
  } catch (err) {
    const message = (err as Error).message;
    await jobs.taskFinished(jobId, 'replication', {
      status: 'failed',
      durationMs: Date.now() - started,
      error: message,
    });
    await jobs.finish(jobId, 'failed', message);
    throw err;
  }
}

const commandOf = (r: ReplicationRequest) =>
  `${r.sourceNode}: zfs send ${r.from ? `-i ${r.from} ` : ''}${r.snapshot} | grim | ${r.targetNode}: zfs receive -F ${r.targetDataset}`;

export async function replicate(
  s: StorageService,
  r: ReplicationRequest,
  onProgress?: (p: ReplicationProgress) => void,
  everyMs = 1000,
): Promise<ReplicationResult> {
  const problems = replicationProblems(r);
  if (problems.length) throw invalid(problems.map((p) => p.message).join('; '), problems);
  const command = commandOf(r);
  const [sourceTarget, destTarget] = await Promise.all([
    s.nodes.target(r.sourceNode),
    s.nodes.target(r.targetNode),
  ]);
  const sendEnv: Record<string, string> = { SNAPSHOT: r.snapshot };
  if (r.from) sendEnv.FROM = r.from;
  const started = performance.now();
  const recv = await s.d.pool.stream(destTarget, {
    script: scriptFor('zfs-recv').body,
    env: { DATASET: r.targetDataset },
    name: 'zfs-recv',
  });
  let send;
  try {
    send = await s.d.pool.stream(sourceTarget, {
      script: scriptFor('zfs-send').body,
      env: sendEnv,
      name: 'zfs-send',
    });
  } catch (err) {
    recv.channel.end();
    throw err;
  }
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  let recvOut = '';
  recv.channel.on('data', (c: Buffer) => {
    recvOut += c.toString('utf8');
  });
  const report = () => {
    const seconds = (performance.now() - started) / 1000;
    onProgress?.({ bytes, seconds, bytesPerSecond: seconds > 0 ? bytes / seconds : 0 });
  };
  const ticker = setInterval(report, everyMs);
  ticker.unref();
  const relay = pipeline(send.channel, counter, recv.channel).catch((err: Error) => err);
  const [sent, received, relayErr] = await Promise.all([send.exit, recv.exit, relay]).finally(() =>
    clearInterval(ticker),
  );
  report();
  if (sent.code !== 0 || received.code !== 0) {
    const detail = [
      sent.code !== 0 ? `zfs send on ${r.sourceNode} failed: ${sent.stderr.trim()}` : '',
      received.code !== 0 ? `zfs receive on ${r.targetNode} failed: ${received.stderr.trim()}` : '',
    ].filter(Boolean);
    throw new DomainError(
      'remote_failed',
      detail.join('; ') || String(relayErr),
      detail.map((message) => ({ path: 'replication', message })),
    );
  }
  const last = recvOut.trim().split('\n').pop() ?? '';
  let parsed: unknown = last;
  try {
    parsed = JSON.parse(last);
  } catch {
    // keep the text
  }
  return {
    command,
    bytes,
    seconds: Math.round(performance.now() - started) / 1000,
    incremental: r.from !== undefined,
    received: parsed,
  };
}
