// withLab: a uniquely named lab of simulated nodes for one test, always torn down afterwards.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { checkLabPrerequisites, labDown, labDownEnv, labUp, type LabUpOptions } from '../../src/lab/lab.ts';
import type { LabState } from '../../src/lab/state.ts';
import { LAB_SCRIPTS_DIR } from '../../src/lab/run.ts';

export type WithLabOptions = Omit<LabUpOptions, 'name'> & { name?: string };

/** A fresh lab name: 't' + 5 random characters from [a-z0-9]. */
export function uniqueLabName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return 't' + [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** CI (any non-empty CI other than "false"/"0") must run the lab: a missing prerequisite fails the test there. */
export function labMustRun(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function downSync(name: string): void {
  try {
    execFileSync('sh', [LAB_SCRIPTS_DIR + 'lab-down.sh'], {
      env: { ...process.env, ...labDownEnv(name) },
      stdio: 'ignore',
    });
  } catch {
    // best effort at exit time
  }
}

/**
 * Brings a lab up for the test `t` and registers its teardown (t.after, plus process exit and
 * SIGINT/SIGTERM handlers). Returns undefined, after skipping `t` with the printed reason, when
 * the lab cannot run here (not root, prerequisites missing). In CI (CI set) that is a failure instead.
 */
export async function withLab(t: TestContext, opts: WithLabOptions): Promise<LabState | undefined> {
  const missing = await checkLabPrerequisites();
  if (missing.length) {
    const reason = `lab not available: ${missing.join('; ')}`;
    if (labMustRun(process.env)) throw new Error(`CI must run the lab tests: ${reason}`);
    console.log(`# skip: ${reason}`);
    t.skip(reason);
    return undefined;
  }
  const name = opts.name ?? uniqueLabName();
  const onExit = () => downSync(name);
  const onSignal = (signal: NodeJS.Signals) => {
    downSync(name);
    process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  t.after(async () => {
    try {
      await labDown(name);
    } finally {
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
  return labUp({ ...opts, name });
}
