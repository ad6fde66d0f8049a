// A cgroup-v1 cpuacct group for measuring the CPU time of a process tree to the nanosecond
// (processes moved in stay there with all their future children). Used by bench/sshd-cost.ts.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const CPUACCT = '/sys/fs/cgroup/cpuacct';

export function cpuacctAvailable(): boolean {
  return existsSync(path.join(CPUACCT, 'cpuacct.usage'));
}

export class CpuGroup {
  readonly dir: string;
  constructor(name: string) {
    this.dir = path.join(CPUACCT, name);
    mkdirSync(this.dir);
  }

  /** Moves a running process (and so its later children) into the group. */
  add(pid: number): void {
    writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** CPU milliseconds used by everything that ran in the group so far. */
  ms(): number {
    return Number(readFileSync(path.join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e6;
  }

  /** Moves whatever still runs in the group back to the root group and removes it. */
  remove(): void {
    const pids = readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        writeFileSync(path.join(CPUACCT, 'cgroup.procs'), pid);
      } catch {
        // exited meanwhile
      }
    }
    rmdirSync(this.dir);
  }
}
