/**
 * How `grim upgrade` stops and starts the control-plane server: through systemd or OpenRC when grim was
 * installed as a service (`grim install-service`), else as a plain process. The process manager finds the
 * running server through the data directory's lock holder (`pid N since ...`), remembers its command line,
 * environment and working directory from /proc, stops it with SIGTERM and later starts the newly installed
 * launcher with exactly the same arguments and environment, detached, its output appended to
 * <data>/grim-server.log.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, readlinkSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lab/run.ts';

export type ServiceManagerKind = 'systemd' | 'openrc' | 'process';

export interface ServiceManager {
  kind: ServiceManagerKind;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** What is running now (pid or unit), for messages. */
  describe(): string;
}

/** systemd when it runs and grim's unit is installed, OpenRC when its init script is, else a plain process. */
export function detectServiceManager(): ServiceManagerKind {
  if (existsSync('/run/systemd/system') && existsSync('/etc/systemd/system/grim.service')) return 'systemd';
  if (existsSync('/etc/init.d/grim') && existsSync('/sbin/openrc-run')) return 'openrc';
  return 'process';
}

/** A service run by an init system: stopped and started through its own command. */
function initManager(
  kind: 'systemd' | 'openrc',
  cmd: string,
  args: (verb: string) => string[],
): ServiceManager {
  return {
    kind,
    stop: async () => void (await run(cmd, args('stop'))),
    start: async () => void (await run(cmd, args('start'))),
    describe: () => `${kind} service grim`,
  };
}

export const systemdManager = () => initManager('systemd', 'systemctl', (verb) => [verb, 'grim.service']);
export const openrcManager = () => initManager('openrc', 'rc-service', (verb) => ['grim', verb]);

interface ServerProcess {
  pid: number;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

function nulList(path: string): string[] {
  return readFileSync(path, 'utf8').split('\0').filter(Boolean);
}

/** The server holding the data directory's lock, read from /proc (Linux). */
export function findServerProcess(dataDir: string): ServerProcess {
  const holder = existsSync(join(dataDir, 'grim.lock.holder'))
    ? readFileSync(join(dataDir, 'grim.lock.holder'), 'utf8')
    : '';
  const pid = Number(/pid (\d+)/.exec(holder)?.[1]);
  if (!pid || !existsSync(`/proc/${pid}`))
    throw new Error(`no running grim server on ${dataDir} (lock holder: ${holder.trim() || 'none'})`);
  const argv = nulList(`/proc/${pid}/cmdline`);
  const main = argv.findIndex((a) => /cli[/\\]main\.[jt]s$/.test(a));
  if (main < 0 || argv[main + 1] !== 'server')
    throw new Error(`pid ${pid} is not a grim server: ${argv.join(' ')}`);
  const env: Record<string, string> = {};
  for (const kv of nulList(`/proc/${pid}/environ`)) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { pid, args: argv.slice(main + 1), env, cwd: readlinkSync(`/proc/${pid}/cwd`) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // a zombie child of ours counts as gone
    if (!alive(pid) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/** A server started by hand (no service manager): restarted with the same arguments by the given launcher. */
export function processManager(dataDir: string, launcher: () => string): ServiceManager {
  const proc = findServerProcess(dataDir);
  let pid = proc.pid;
  return {
    kind: 'process',
    describe: () => `pid ${pid}`,
    stop: async () => {
      if (!alive(pid)) return;
      process.kill(pid, 'SIGTERM');
      if (!(await waitGone(pid, 30_000))) {
        process.kill(pid, 'SIGKILL');
        await waitGone(pid, 5_000);
      }
    },
    start: async () => {
      const log = openSync(join(dataDir, 'grim-server.log'), 'a', 0o600);
      try {
        const child = spawn(launcher(), proc.args, {
          cwd: proc.cwd,
          env: proc.env,
          detached: true,
          stdio: ['ignore', log, log],
        });
        await new Promise<void>((res, rej) => {
          child.once('spawn', () => res());
          child.once('error', rej);
        });
        child.unref();
        pid = child.pid!;
      } finally {
        closeSync(log);
      }
    },
  };
}
