// The benchmark's lab: a uniquely named lab that is always torn down (normal end, failure, SIGINT/SIGTERM).
import { execFileSync } from 'node:child_process';
import { labDown, labDownEnv, labUp } from '../../src/lab/lab.ts';
import { LAB_SCRIPTS_DIR } from '../../src/lab/run.ts';
import type { LabState } from '../../src/lab/state.ts';
import type { SshTarget } from '../../src/ssh/pool.ts';
import { uniqueLabName } from '../../test/helpers/lab.ts';

function labDownSync(name: string): void {
  try {
    execFileSync('sh', [LAB_SCRIPTS_DIR + 'lab-down.sh'], {
      env: { ...process.env, ...labDownEnv(name) },
      stdio: 'ignore',
    });
  } catch {
    // best effort while exiting
  }
}

/**
 * Runs `body` with a fresh lab of `nodes` Debian nodes. `onExitSync` runs first on every way out
 * (for the caller's own cleanup, e.g. ssh control masters), then the lab goes down.
 */
export async function withBenchLab<T>(
  nodes: number,
  onExitSync: () => void,
  body: (lab: LabState) => Promise<T>,
): Promise<T> {
  const name = uniqueLabName();
  const cleanupSync = (): void => {
    onExitSync();
    labDownSync(name);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: tearing down lab ${name}`);
    cleanupSync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', cleanupSync);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const lab = await labUp({ name, nodes, os: 'debian' });
    return await body(lab);
  } finally {
    onExitSync();
    await labDown(name);
    process.off('exit', cleanupSync);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function targetsOf(lab: LabState): SshTarget[] {
  return lab.nodes.map((n) => ({
    nodeId: n.name,
    address: n.address,
    port: n.port,
    user: n.user,
    hostKeyFingerprint: n.hostKeyFingerprint,
  }));
}
