// Run a node-side script (scripts/node/<name>.sh) through the pool and return its JSON result,
// throwing RemoteCommandError when it fails.

import { scriptCommand } from '../scripts/loader.ts';
import type { ExecOptions, ExecResult } from './channel-exec.ts';
import { RemoteCommandError } from './errors.ts';
import type { SshPool, SshTarget } from './pool.ts';

/** Throw RemoteCommandError unless the command exited 0. */
export function assertSucceeded(nodeId: string, script: string, result: ExecResult): ExecResult {
  if (result.timedOut || result.exitCode !== 0) throw new RemoteCommandError(nodeId, script, result);
  return result;
}

export async function runScript(
  pool: SshPool,
  target: SshTarget,
  name: string,
  env: Record<string, string>,
  opts: ExecOptions,
): Promise<{ json: unknown; result: ExecResult }> {
  const result = await pool.exec(target, scriptCommand(name, env), opts);
  assertSucceeded(target.nodeId, name, result);
  if (result.json === undefined) {
    throw new RemoteCommandError(target.nodeId, name, {
      ...result,
      stderr: `${result.stderr}\n(no JSON result on the last stdout line)`,
    });
  }
  return { json: result.json, result };
}
