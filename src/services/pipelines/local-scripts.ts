/**
 * Running grim's sh scripts on the control node itself (the Buildbot master, its local worker and the registry
 * live there): the same files and header convention as node scripts, parameters as environment variables
 * checked against the header, a clean environment (PATH only), the last stdout line parsed as JSON.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { paramProblems, scriptFor } from '../../scripts/loader.ts';
import { DomainError } from '../../domain/errors.ts';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LocalScriptResult {
  json: Record<string, unknown> | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/<name>.sh with `env`; rejects with the script's stderr tail when it fails. */
export function runLocalScript(
  name: string,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<LocalScriptResult> {
  const script = scriptFor(name);
  const problems = paramProblems(script, env);
  if (problems.length) return Promise.reject(new DomainError('invalid', problems.join('; ')));
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', script.body, `${name}.sh`], // the body as the loader gives it (its `# lib:` helpers inlined)
      { env: { PATH, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = stderr.trim().split('\n').slice(-20).join('\n');
          return reject(new DomainError('remote_failed', `${name}: ${tail || err.message}`));
        }
        const last = stdout.trim().split('\n').pop() ?? '';
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(last) as Record<string, unknown>;
        } catch {
          // not every script ends with JSON
        }
        resolve({ json, stdout, stderr });
      },
    );
  });
}

/**
 * A long-running control-node service kept alive by grim's node supervisor (scripts/node/supervisor.sh, the
 * same file that keeps app instances alive on nodes): `dir` holds `run`, `environment` (envFile), `log` and the pid files.
 */
export class SupervisedService {
  readonly id: string;
  readonly dir: string;
  /** The supervisor this process started (stop() finds it even when its directory is gone). */
  private startedPid: number | null = null;
  constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
  }

  private pidOf(file: string): number | null {
    try {
      const pid = Number(readFileSync(`${this.dir}/${file}`, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return null;
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  private alive(pid: number | null): number | null {
    if (pid === null) return null;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  running(): boolean {
    return this.pidOf('supervisor.pid') !== null;
  }

  /** The supervised process itself (the app.pid the supervisor writes). */
  appPid(): number | null {
    return this.pidOf('app.pid');
  }

  /** Starts the supervisor detached (its own session) unless one runs; it outlives grim. */
  start(): void {
    if (this.running()) return;
    const child = spawn('sh', ['-c', scriptFor('supervisor').body, 'supervisor.sh'], {
      cwd: this.dir,
      env: { PATH, GRIM_INSTANCE: this.id, GRIM_INSTANCE_DIR: this.dir },
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    this.startedPid = child.pid ?? null;
  }

  /** TERM to the supervisor (it stops its session, then exits); waits until it is gone. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const pid = this.pidOf('supervisor.pid') ?? this.alive(this.startedPid);
    this.startedPid = null;
    if (pid === null) return;
    this.signal(pid, 'SIGTERM');
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.signal(pid, 'SIGKILL');
  }

  private signal(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }

  log(): string {
    return existsSync(`${this.dir}/log`) ? readFileSync(`${this.dir}/log`, 'utf8') : '';
  }
}
