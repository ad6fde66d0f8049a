// The stop plan: ask the guest to shut down (SendCtrlAltDel; Firecracker exits when the guest
// resets), wait a grace period, then SIGKILL, then clean up the host resources. Modelled as data;
// `runStopPlan` walks it through ports supplied by the caller, which owns the process.
import type { ApiRequest } from './api-types.ts';
import type { HostCommand } from './host-command.ts';
import { actionRequest } from './requests.ts';

export type StopStep =
  | { kind: 'request'; request: ApiRequest }
  | { kind: 'wait-exit'; timeoutMs: number }
  | { kind: 'signal'; signal: 'SIGKILL' }
  | { kind: 'cleanup'; commands: HostCommand[] };

export interface StopPlanOptions {
  gracePeriodMs?: number; // default 10 s: time for the guest to shut down after Ctrl+Alt+Del
  killWaitMs?: number; // default 5 s: time for the process to disappear after SIGKILL
  cleanup: HostCommand[]; // see jailCleanupPlan
}

export function stopPlan(options: StopPlanOptions): StopStep[] {
  return [
    { kind: 'request', request: actionRequest('SendCtrlAltDel') },
    { kind: 'wait-exit', timeoutMs: options.gracePeriodMs ?? 10_000 },
    { kind: 'signal', signal: 'SIGKILL' },
    { kind: 'wait-exit', timeoutMs: options.killWaitMs ?? 5_000 },
    { kind: 'cleanup', commands: options.cleanup },
  ];
}

export interface StopPorts {
  send(request: ApiRequest): Promise<unknown>;
  /** Resolves true once the Firecracker process is gone, false if it is still there after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<boolean>;
  signal(signal: 'SIGKILL'): Promise<void>;
  runCleanup(commands: HostCommand[]): Promise<void>;
}

export interface StopOutcome {
  graceful: boolean; // exited after Ctrl+Alt+Del, without SIGKILL
  killed: boolean;
  /** Why the shutdown request failed, if it did (e.g. VM never started, socket already gone). */
  requestError?: string;
}

export async function runStopPlan(plan: readonly StopStep[], ports: StopPorts): Promise<StopOutcome> {
  const outcome: StopOutcome = { graceful: false, killed: false };
  let exited = false;
  for (const step of plan) {
    if (step.kind === 'request') {
      if (exited) continue;
      try {
        await ports.send(step.request);
      } catch (err) {
        outcome.requestError = (err as Error).message;
      }
    } else if (step.kind === 'wait-exit') {
      if (exited) continue;
      exited = await ports.waitForExit(step.timeoutMs);
      if (exited && !outcome.killed) outcome.graceful = true;
    } else if (step.kind === 'signal') {
      if (exited) continue;
      await ports.signal(step.signal);
      outcome.killed = true;
    } else {
      if (!exited) throw new Error('Firecracker process still running after SIGKILL; cleanup skipped');
      await ports.runCleanup(step.commands);
    }
  }
  return outcome;
}
