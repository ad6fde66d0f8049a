// Where the CPU goes in a cold fan-out: the nodes' sshd (all on this machine, in the lab's network
// namespaces) and the client. Gives the floor for the wall time on this machine's cores.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { LabState } from '../../src/lab/state.ts';
import { run } from '../../src/lab/run.ts';
import { median, type Sample } from './fanout-report.ts';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** PIDs of the listening sshd in every node (a connection's sshd processes are its children). */
export async function sshdListeners(lab: LabState): Promise<number[]> {
  const pids: number[] = [];
  for (const node of lab.nodes) {
    const r = await run('ip', ['netns', 'pids', node.netns], { allowFailure: true });
    for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
      if (comm.trim() === 'sshd') pids.push(pid);
    }
  }
  return pids;
}

/** CPU seconds of the listeners plus their reaped children (= every finished connection). */
export async function sshdCpuSeconds(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // fields after "(comm)": state is field 3, utime/stime/cutime/cstime are fields 14-17
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += fields.slice(11, 15).reduce((sum, f) => sum + Number(f || 0), 0);
  }
  return ticks / TICKS_PER_SECOND;
}

export interface CpuAccount {
  wall: number;
  client: number;
  sshd: number;
}

/** Runs `once` (which must close its connections) `runs` times, measuring sshd and client CPU (medians of the runs that succeeded). */
export async function accountCpu(
  pids: number[],
  runs: number,
  once: () => Promise<Sample>,
): Promise<CpuAccount | undefined> {
  const accounts: CpuAccount[] = [];
  for (let i = 0; i < runs; i++) {
    const before = await sshdCpuSeconds(pids);
    const s = await once();
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the listeners reap
    const sshd = (await sshdCpuSeconds(pids)) - before;
    if (s.cpuSeconds === undefined || s.error) {
      console.error(`  ! CPU accounting run skipped: ${s.error ?? 'no CPU time reported'}`);
      continue;
    }
    accounts.push({ wall: s.seconds, client: s.cpuSeconds, sshd });
  }
  if (accounts.length === 0) return undefined;
  return {
    wall: median(accounts.map((a) => a.wall)),
    client: median(accounts.map((a) => a.client)),
    sshd: median(accounts.map((a) => a.sshd)),
  };
}

/** One line of the CPU section. */
export function describeCpu(tool: string, nodes: number, a: CpuAccount): string {
  const cores = os.availableParallelism();
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  const perConn = (s: number) => `${((s * 1000) / nodes).toFixed(1)} ms`;
  return (
    `| ${tool} | ${a.wall.toFixed(3)} s | ${ms(a.client)} (${perConn(a.client)}/conn) | ` +
    `${ms(a.sshd)} (${perConn(a.sshd)}/conn) | ${((a.client + a.sshd) / cores).toFixed(3)} s |`
  );
}
