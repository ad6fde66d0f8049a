// grim's side of bench/fanout.ts: `uptime` on N nodes through SshPool, cold (new pool) or warm (pooled).
import { SshPool, type SshPoolOptions, type SshTarget } from '../../src/ssh/pool.ts';
import type { Sample } from './fanout-report.ts';

export const UPTIME_OK = /load average/;

/** Runs `uptime` on every target at once; counts the nodes that answered correctly. */
export async function uptimeOn(pool: SshPool, targets: SshTarget[]): Promise<Sample> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const results = await Promise.allSettled(
    targets.map((t) => pool.exec(t, { argv: ['uptime'], name: 'uptime' }, { timeoutMs: 60_000 })),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  let ok = 0;
  let error: string | undefined;
  for (const r of results) {
    if (r.status === 'fulfilled' && r.value.exitCode === 0 && UPTIME_OK.test(r.value.stdout)) ok++;
    else
      error ??=
        r.status === 'rejected'
          ? String((r.reason as Error).message)
          : `exit ${r.value.exitCode}: ${r.value.stderr.trim()}`;
  }
  return error ? { seconds, cpuSeconds, ok, error } : { seconds, cpuSeconds, ok };
}

/** A new pool, new connections: connect + authenticate + run (closing is not timed). */
export async function grimCold(
  privateKey: string,
  targets: SshTarget[],
  options: Omit<SshPoolOptions, 'privateKey'> = {},
): Promise<Sample> {
  const pool = new SshPool({ ...options, privateKey });
  try {
    return await uptimeOn(pool, targets);
  } finally {
    await pool.close();
  }
}
