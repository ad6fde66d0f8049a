import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO, 'src/cli/main.ts');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export interface GrimServer {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `grim server` as a real process and waits until /healthz answers (at most 30 s: a busy CI machine starts it slowly). */
export async function startGrimServer(
  env: Record<string, string> = {},
  opts: {
    scheme?: 'http' | 'https';
    listenHost?: string;
    dataDir?: string;
    readyMs?: number;
    /** The command that runs the CLI (default this checkout's src/cli/main.ts on this Node). */
    command?: string[];
  } = {},
): Promise<GrimServer> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'grim-srv-'));
  const [cmd, ...pre] = opts.command ?? [process.execPath, CLI];
  const proc = spawn(cmd, [...pre, 'server'], {
    env: {
      ...process.env,
      GRIM_DATA_DIR: dataDir,
      GRIM_LISTEN: `${opts.listenHost ?? '127.0.0.1'}:${port}`,
      GRIM_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `${opts.scheme ?? 'http'}://127.0.0.1:${port}`;
  const readyMs = opts.readyMs ?? 30_000;
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`grim server exited early:\n${out}`);
    if (/grim listening on/.test(out)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`grim server not listening within ${readyMs / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    dataDir,
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      // A process killed by a signal has exitCode null and signalCode set: it has exited already, and
      // waiting for its 'exit' again would hang the test's cleanup for ever.
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill(signal);
        await exited;
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI with its own config file. */
export function grim(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return new Promise((res) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });
}

export function cliEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'grim-cli-'));
  return { GRIM_CLI_CONFIG: join(dir, 'cli.json') };
}

/**
 * Logs in to a real grim server as admin through the CLI and makes an admin API token. `api` calls whichever
 * server `url()` names at the time (a test that restarts grim keeps its token), each call bounded by 20 s.
 */
export async function adminApi(url: () => string, password: string) {
  const cli = cliEnv();
  const login = await grim(
    ['login', '--server', url(), '--username', 'admin', '--password-stdin'],
    cli,
    password,
  );
  if (login.code !== 0) throw new Error(`grim login failed: ${login.stderr}`);
  const made = await grim(['token', 'create', '--name', 'test', '--role', 'admin', '--json'], cli);
  if (made.code !== 0) throw new Error(`grim token create failed: ${made.stderr}`);
  const token = JSON.parse(made.stdout).secret as string;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(url() + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  return { cli, token, api };
}
