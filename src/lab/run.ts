// Running host commands for the lab (always argument vectors, never shell strings).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LAB_SCRIPTS_DIR = fileURLToPath(new URL('../../scripts/lab/', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Resolve with the result instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const result = { code: code ?? 128, stdout, stderr };
      if (result.code !== 0 && !opts.allowFailure) {
        const why = signal ? `signal ${signal}` : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(' ')} failed (${why}): ${stderr.trim() || stdout.trim()}`));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs one of the lab's host-side scripts and parses the JSON object on its last stdout line. */
export async function runLabScript(
  script: string,
  env: Record<string, string>,
  wrapper: string[] = [],
): Promise<Record<string, unknown>> {
  const path = LAB_SCRIPTS_DIR + script;
  const [cmd, ...args] = wrapper.length ? [...wrapper, 'sh', path] : ['sh', path];
  const { stdout } = await run(cmd, args, { env });
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`${script} printed no JSON result: ${stdout.trim()}`);
  }
}
