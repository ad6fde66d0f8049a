// A node's host-side processes: its supervisor (node-supervisor.sh), the unshare process of the
// current boot, and the node's init (PID 1 inside). Every PID is checked before use.
import { spawn } from 'node:child_process';
import { open, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { LAB_SCRIPTS_DIR } from './run.ts';
import type { LabNode, LabState } from './state.ts';

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when `pid` is alive and was started for the node in `nodeDir` (its environment says so). */
export async function isNodeProcess(pid: number, nodeDir: string): Promise<boolean> {
  const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return env.split('\0').includes(`LAB_NODE_DIR=${nodeDir}`);
}

export async function supervisorPid(node: LabNode): Promise<number | undefined> {
  const pid = await readPid(path.join(node.dir, 'supervisor.pid'));
  return pid && (await isNodeProcess(pid, node.dir)) ? pid : undefined;
}

async function parentOf(pid: string): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return afterComm.length > 1 ? Number(afterComm[1]) : undefined;
}

/**
 * Host PID of the node's init once it runs the node's own init script (after the boot mounts),
 * or undefined while the node is down or still booting.
 */
export async function nodeInitPid(node: LabNode): Promise<number | undefined> {
  const unsharePid = await readPid(path.join(node.dir, 'node.pid'));
  if (!unsharePid || !(await isNodeProcess(unsharePid, node.dir))) return undefined;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || (await parentOf(entry)) !== unsharePid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes('/run/grim-lab-init.sh')) return undefined;
    // never act on a process of the host's own pid namespace
    const [theirs, ours] = await Promise.all([
      readlink(`/proc/${entry}/ns/pid`).catch(() => ''),
      readlink('/proc/self/ns/pid'),
    ]);
    return theirs && theirs !== ours ? Number(entry) : undefined;
  }
  return undefined;
}

export async function bootCount(node: LabNode): Promise<number> {
  return Number((await readFile(path.join(node.dir, 'boots'), 'utf8').catch(() => '0')).trim()) || 0;
}

export async function powerState(node: LabNode): Promise<string> {
  return (await readFile(path.join(node.dir, 'power'), 'utf8').catch(() => 'off')).trim();
}

/** Starts the node's supervisor, detached from this process so that the node outlives it. */
export async function startSupervisor(state: LabState, node: LabNode): Promise<number> {
  const log = await open(path.join(node.dir, 'console.log'), 'a');
  try {
    const child = spawn('sh', [LAB_SCRIPTS_DIR + 'node-supervisor.sh'], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LAB_NODE_DIR: node.dir,
        LAB_NETNS: node.netns,
        LAB_BOOT: LAB_SCRIPTS_DIR + 'node-boot.sh',
        LAB_INIT: LAB_SCRIPTS_DIR + 'node-init.sh',
        LAB_ROOTFS: state.rootfs,
        LAB_OS: state.os,
        LAB_HOSTNAME: node.name,
      },
    });
    const pid = child.pid;
    if (!pid) throw new Error(`cannot start the supervisor of node ${node.name}`);
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}
