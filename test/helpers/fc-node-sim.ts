// A firecracker instance directory on this host, run by the real node scripts the supervisor runs
// (scripts/node/vm-fc-run.sh and vm-fc-stop.sh) under dash or busybox sh, with the Firecracker double
// as the VMM process: run.sh (the real vm-fc-vmm.sh) execs firecracker-double-main.ts from vmm-argv, which
// serves the API on the instance's socket, checks every request against the spec, records them, and exits on
// SendCtrlAltDel; cleanup.sh (the real vm-fc-cleanup.sh) runs a cleanup-plan that counts its runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argvFile, planFile } from '../../src/drivers/firecracker/vm-layout.ts';
import { scriptFor } from '../../src/scripts/loader.ts';
import type { RecordedRequest } from './firecracker-double.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOUBLE_MAIN = path.join(REPO, 'test/helpers/firecracker-double-main.ts');
export const FC_RUN = path.join(REPO, 'scripts/node/vm-fc-run.sh');
export const FC_STOP = path.join(REPO, 'scripts/node/vm-fc-stop.sh');

export type Shell = readonly [string, readonly string[]];

export class FcInstanceDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'grim-fcnode-'));
  readonly apiSocket = path.join(this.dir, 'api.sock');
  readonly shell: Shell;
  run: ChildProcess | undefined;
  exit: Promise<{ code: number | null; stderr: string }> | undefined;

  /** `bootPlan` may depend on the directory (e.g. a metrics file in it). */
  constructor(
    shell: Shell,
    bootPlan: string | ((dir: string) => string),
    opts: { ignoreCtrlAltDel?: boolean } = {},
  ) {
    this.shell = shell;
    const plan = typeof bootPlan === 'string' ? bootPlan : bootPlan(this.dir);
    writeFileSync(path.join(this.dir, 'boot-plan'), plan, { mode: 0o600 });
    const vmm = [process.execPath, DOUBLE_MAIN, '--api-sock', this.apiSocket, '--record', 'requests.ndjson'];
    if (opts.ignoreCtrlAltDel) vmm.push('--ignore-ctrl-alt-del');
    writeFileSync(path.join(this.dir, 'vmm-argv'), argvFile(vmm));
    writeFileSync(path.join(this.dir, 'run.sh'), scriptFor('vm-fc-vmm').body);
    const count = { description: 'count cleanups', argv: ['mkdir', '-p', 'cleanups'] };
    writeFileSync(
      path.join(this.dir, 'cleanup-plan'),
      planFile([count, { description: 'one more', argv: ['mktemp', '-p', 'cleanups'] }]),
    );
    writeFileSync(path.join(this.dir, 'cleanup.sh'), scriptFor('vm-fc-cleanup').body);
  }

  /** Starts vm-fc-run.sh as the supervisor would: its own process group, the env it sets. */
  start(): void {
    const [cmd, pre] = this.shell;
    const child = spawn(cmd, [...pre, FC_RUN], {
      env: {
        PATH: process.env.PATH,
        GRIM_SHARED_DIR: process.env.GRIM_SHARED_DIR, // the double checks requests against the spec there
        GRIM_VM_DIR: this.dir,
        GRIM_VM_API_SOCKET: this.apiSocket,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    this.run = child;
    this.exit = new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  }

  /** Runs vm-fc-stop.sh as the supervisor's stop command. */
  async stop(): Promise<number | null> {
    const [cmd, pre] = this.shell;
    const child = spawn(cmd, [...pre, FC_STOP], {
      env: {
        PATH: process.env.PATH,
        GRIM_SHARED_DIR: process.env.GRIM_SHARED_DIR, // the double checks requests against the spec there
        GRIM_VM_DIR: this.dir,
        GRIM_VM_API_SOCKET: this.apiSocket,
      },
      stdio: 'ignore',
    });
    return new Promise((resolve) => child.on('close', resolve));
  }

  requests(): RecordedRequest[] {
    const file = path.join(this.dir, 'requests.ndjson');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as RecordedRequest);
  }

  cleanups(): number {
    const dir = path.join(this.dir, 'cleanups');
    return existsSync(dir) ? readdirSync(dir).length : 0;
  }

  vmmPid(): number | null {
    const file = path.join(this.dir, 'vmm.pid');
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, 'utf8').trim());
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills whatever is left (by the pids this object started) and removes the directory. */
  dispose(): void {
    if (this.run?.pid !== undefined && this.run.exitCode === null) {
      try {
        process.kill(-this.run.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const vmm = this.vmmPid();
    if (vmm !== null) process.kill(vmm, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
